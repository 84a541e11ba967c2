"""What one chat user can make the server keep through media is bounded, against a real
``chinwag serve`` process: bytes per user, uploads per minute, how long an unsent upload lives,
and the memory an upload takes while it is received."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import orjson
import process_support
import pytest
from client_support import frame, on_database
from process_support import GatewayProcess, Start

from chinwag.domain.deps import Deps

pytestmark = pytest.mark.server

start = process_support.start  # the fixture: a chinwag serve with flags


def media_url(server: GatewayProcess, service: str) -> str:
    return f"{server.url}/mcs/v1/Services/{service}/Media"


def upload(server: GatewayProcess, service: str, token: str, size: int) -> httpx.Response:
    headers = {"X-Twilio-Token": token, "Content-Type": "application/octet-stream"}
    return httpx.post(media_url(server, service), content=b"m" * size, headers=headers, timeout=60)


def stored_chunks(server: GatewayProcess) -> int:
    async def count(deps: Deps) -> int:
        row = await deps.db.run_read(
            "count", lambda txn: txn.fetchone("SELECT COUNT(*) AS n FROM media_chunks")
        )
        assert row is not None
        return int(row["n"])

    return on_database(server.database, count)


def test_a_user_stores_at_most_the_quota_and_deleting_a_message_frees_it(start: Start) -> None:
    server = start("--media-quota-bytes", "100000", "--media-max-bytes", "60000")
    service = server.service()
    base = f"/v1/Services/{service}"
    roles = server.http.get(f"{base}/Roles").json()["roles"]
    member_role = next(r for r in roles if r["friendly_name"] == "channel user")
    permissions = [*member_role["permissions"], "sendMediaMessage"]
    server.http.post(f"{base}/Roles/{member_role['sid']}", data={"Permission": permissions})
    channel = server.http.post(f"{base}/Channels", data={"FriendlyName": "m"}).json()["sid"]
    server.http.post(f"{base}/Channels/{channel}/Members", data={"Identity": "alice"})
    token = server.token(service, "alice")
    first = upload(server, service, token, 60_000)
    assert first.status_code == 201, first.text
    refused = upload(server, service, token, 60_000)
    assert refused.status_code == 413 and refused.json()["code"] == 20001, refused.text
    assert "quota of 100000 bytes" in refused.json()["message"]
    other = upload(server, service, server.token(service, "bob"), 60_000)
    assert other.status_code == 201  # the quota is per user
    with server.session(service, "alice") as ws:
        body = orjson.dumps({"media_sid": first.json()["sid"]})
        http = {
            "host": "aim.example.test",
            "path": f"/Client/v1/Services/{service}/Channels/{channel}/Messages",
            "method": "POST",
            "params": {},
            "headers": {"Content-Type": "application/json"},
        }
        ws.send(frame("message", "TMsend", body, http_request=http))
        sent = ws.recv()
        assert sent.header["http_status"]["code"] == 201, sent.payload
    assert upload(server, service, token, 60_000).status_code == 413  # sent media counts
    message = orjson.loads(sent.payload)["sid"]
    assert server.http.delete(f"{base}/Channels/{channel}/Messages/{message}").status_code == 204
    headers = {"X-Twilio-Token": token}
    gone = httpx.get(f"{media_url(server, service)}/{first.json()['sid']}", headers=headers)
    assert gone.status_code == 404  # the message took its media with it
    assert upload(server, service, token, 60_000).status_code == 201


def test_uploads_past_the_rate_are_refused_before_their_body_is_read(start: Start) -> None:
    server = start("--media-upload-rate", "3")
    service = server.service()
    token = server.token(service, "alice")
    for _ in range(3):
        assert upload(server, service, token, 100).status_code == 201
    with server.connect_tcp() as sock:  # a 10 MB upload of which only 64 KiB ever come
        sock.sendall(
            f"POST /mcs/v1/Services/{service}/Media HTTP/1.1\r\nHost: x\r\n"
            f"X-Twilio-Token: {token}\r\nContent-Type: image/png\r\n"
            "Content-Length: 10000000\r\n\r\n".encode()
            + b"p" * 65536
        )
        answer = b""
        while b"20429" not in answer:  # the head and its body may come in separate writes
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 429"), answer
    assert b'"code":20429' in answer or b'"code": 20429' in answer


def test_an_upload_no_message_carries_expires_with_its_bytes(start: Start) -> None:
    server = start("--media-unsent-ttl", "1")
    service = server.service()
    token = server.token(service, "alice")
    created = upload(server, service, token, 300_000)  # two chunks
    assert created.status_code == 201
    assert stored_chunks(server) == 2
    url = f"{media_url(server, service)}/{created.json()['sid']}"
    content = httpx.get(f"{url}/Content", headers={"X-Twilio-Token": token})
    assert content.content == b"m" * 300_000
    assert content.headers["content-length"] == "300000"
    deadline = time.monotonic() + 10
    while httpx.get(url, headers={"X-Twilio-Token": token}).status_code != 404:
        assert time.monotonic() < deadline, "the unsent upload did not expire"
        time.sleep(0.2)
    assert stored_chunks(server) == 0


def peak_rss(server: GatewayProcess) -> int:
    """The server process's peak resident memory so far, in bytes (``VmHWM``)."""
    for line in Path(f"/proc/{server.proc.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def test_an_upload_is_held_in_memory_at_most_once(start: Start) -> None:
    size = 48 << 20
    server = start("--media-max-bytes", str(size), "--media-quota-bytes", str(4 * size))
    service = server.service()
    token = server.token(service, "alice")
    assert upload(server, service, token, 1000).status_code == 201  # warm up the paths
    before = peak_rss(server)
    created = upload(server, service, token, size)
    assert created.status_code == 201, created.text
    grown = peak_rss(server) - before
    assert grown < 1.5 * size, f"peak RSS grew {grown / size:.2f} times the upload"
    url = f"{media_url(server, service)}/{created.json()['sid']}/Content"
    with httpx.stream("GET", url, headers={"X-Twilio-Token": token}, timeout=60) as answer:
        assert sum(len(chunk) for chunk in answer.iter_bytes()) == size
    grown = peak_rss(server) - before
    assert grown < 1.5 * size, f"peak RSS grew {grown / size:.2f} times the upload"
