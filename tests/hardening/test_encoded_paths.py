"""No percent-encoded character can change which resource a path addresses.

chinwag routes on the path as sent (``raw_path``) and decodes each segment once, after routing.
Requests whose paths an HTTP client would normalise go over a raw socket.
"""

from __future__ import annotations

import base64
import socket
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
import pytest

from chinwag.testing import ThreadedServer
from conftest import ACCOUNT_SID, AUTH_TOKEN

pytestmark = pytest.mark.server

AUTH = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()


def raw_request(base_url: str, method: str, path: str) -> tuple[int, Any]:
    """Send ``path`` byte for byte; return the status and the decoded JSON body (or None)."""
    parts = urlsplit(base_url)
    assert parts.hostname is not None and parts.port is not None
    request = (
        f"{method} {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAuthorization: Basic {AUTH}\r\n"
        "Content-Length: 0\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(request.encode())
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, orjson.loads(body) if body else None


def _sid(resource: Any) -> str:
    return str(resource._solution["sid"])


def test_encoded_slash_in_a_unique_name_addresses_that_channel_only(
    server: ThreadedServer, http: httpx.Client, service: Any
) -> None:
    service.channels.create(unique_name="room")
    service.channels("room").members.create(identity="bob")
    tricky = service.channels.create(unique_name="room/Members/bob")
    base = f"/v1/Services/{_sid(service)}/Channels"

    status, body = raw_request(server.url, "GET", f"{base}/room%2FMembers%2Fbob")
    assert (status, body["sid"]) == (200, tricky.sid)
    status, _ = raw_request(server.url, "DELETE", f"{base}/room%2FMembers%2Fbob")
    assert status == 204

    assert [m.identity for m in service.channels("room").members.list()] == ["bob"]
    assert http.get(f"{base}/room%2FMembers%2Fbob").status_code == 404


def test_identity_with_a_slash_is_addressable(server: ThreadedServer, service: Any) -> None:
    user = service.users.create(identity="dept/alice")
    service.channels.create(unique_name="dept")
    service.channels("dept").members.create(identity="dept/alice")
    base = f"/v1/Services/{_sid(service)}"

    status, body = raw_request(server.url, "GET", f"{base}/Users/dept%2Falice")
    assert (status, body["sid"]) == (200, user.sid)
    status, body = raw_request(server.url, "GET", f"{base}/Users/dept%2Falice/Channels")
    assert status == 200
    assert [row["channel_sid"] for row in body["channels"]] == [
        service.channels("dept").fetch().sid
    ]
    status, body = raw_request(server.url, "GET", f"{base}/Channels/dept/Members/dept%2Falice")
    assert (status, body["identity"]) == (200, "dept/alice")
    # The list URL echoes the path as it was sent, still encoded.
    status, body = raw_request(server.url, "GET", f"{base}/Users/dept%2Falice/Channels")
    assert body["meta"]["url"].startswith(f"{server.url}{base}/Users/dept%2Falice/Channels?")


def test_double_encoding_is_decoded_once(server: ThreadedServer, service: Any) -> None:
    slash = service.channels.create(unique_name="a/b")
    literal = service.channels.create(unique_name="a%2Fb")
    base = f"/v1/Services/{_sid(service)}/Channels"
    assert raw_request(server.url, "GET", f"{base}/a%2Fb")[1]["sid"] == slash.sid
    assert raw_request(server.url, "GET", f"{base}/a%252Fb")[1]["sid"] == literal.sid


@pytest.mark.parametrize(
    "suffix",
    [
        "/Channels/{channel}%2FMembers",  # %2F inside a SID
        "%2FChannels",
        "/Channels/{channel}%2F..%2F..",
        "/Channels/{channel}/Members/..",
        "/Channels/{channel}/Members/%2E%2E",
        "/Channels/{channel}/Members/bob%00",
        "/Channels/%00",
        "/Channels/%ff",
    ],
)
def test_encoded_separators_dots_and_nul_name_nothing(
    server: ThreadedServer, service: Any, suffix: str
) -> None:
    channel = service.channels.create(unique_name="dots")
    service.channels("dots").members.create(identity="bob")
    path = f"/v1/Services/{_sid(service)}" + suffix.format(channel=channel.sid)
    for method in ("GET", "DELETE"):
        status, body = raw_request(server.url, method, path)
        assert status == 404, (method, path, body)
        assert body["code"] == 20404
    assert [m.identity for m in service.channels("dots").members.list()] == ["bob"]
