"""deploy/nginx/chinwag.conf as shipped, in front of a real ``chinwag serve``: Debian's nginx
terminates TLS (a certificate made here) and upgrades the chat clients' WebSockets; the
official twilio-chat SDK and twilio-python talk to chinwag only through it.

The test changes only the listening ports, the upstream's port and the certificate paths.
"""

from __future__ import annotations

import os
import re
import shutil
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from client_support import NodeClient, create_key, mint_token
from sdk_versions_support import call, require_sdk, seen
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from chinwag.testing.processes import lifeline
from conftest import ACCOUNT_SID, AUTH_TOKEN, Databases, free_port, server_env, spawn_server

pytestmark = [pytest.mark.server, pytest.mark.sdk]

CONFIG = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "chinwag.conf"


def _nginx() -> str:
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None
    )
    if found is None:
        pytest.fail("nginx is not installed: scripts/test installs it (apt-get install nginx)")
    return found


def _certificate(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "fullchain.pem", directory / "privkey.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def site_config(upstream: int, https: int, http: int, cert: Path, key: Path) -> str:
    """The shipped file with this test's ports and certificate, and nothing else changed."""
    text = CONFIG.read_text()
    changes = [
        (r"\n\s*listen \[::\]:(443|80) ssl;|\n\s*listen \[::\]:80;", ""),  # no IPv6 needed
        (r"listen 443 ssl;", f"listen 127.0.0.1:{https} ssl;"),
        (r"listen 80;", f"listen 127.0.0.1:{http};"),
        (r"server 127\.0\.0\.1:8080;", f"server 127.0.0.1:{upstream};"),
        (r"/etc/ssl/chinwag/fullchain\.pem", str(cert)),
        (r"/etc/ssl/chinwag/privkey\.pem", str(key)),
    ]
    for pattern, replacement in changes:
        text, count = re.subn(pattern, replacement, text)
        assert count, f"deploy/nginx/chinwag.conf no longer has {pattern}"
    return text


class Nginx:
    """Debian's nginx with the site config, in a folder of its own, in the foreground."""

    def __init__(self, directory: Path, site: str) -> None:
        directory.mkdir()
        (directory / "chinwag.conf").write_text(site)
        temp = "".join(
            f"{kind}_temp_path {directory}/{kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        user = "user root;" if os.geteuid() == 0 else ""
        (directory / "nginx.conf").write_text(
            f"{user} worker_processes 1; pid {directory}/nginx.pid; "
            f"error_log {directory}/error.log; events {{}} "
            f"http {{ access_log {directory}/access.log; {temp} "
            f"include {directory}/chinwag.conf; }}"
        )
        command = [_nginx(), "-p", str(directory), "-e", str(directory / "error.log")]
        command += ["-c", str(directory / "nginx.conf")]
        checked = subprocess.run([*command, "-t"], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr
        self.directory = directory
        self.proc = subprocess.Popen(
            [*command, "-g", "daemon off;"], stderr=subprocess.DEVNULL, preexec_fn=lifeline()
        )

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture
def behind_nginx(databases: Databases, tmp_path: Path) -> Iterator[tuple[str, int, str, Path]]:
    """(the HTTPS URL nginx serves, its plain-HTTP port, an API key "SID:secret", the
    certificate to trust)."""
    database = databases.new()
    key = create_key(database, ACCOUNT_SID)
    env = server_env(CHINWAG_ACCOUNT_SID=ACCOUNT_SID, CHINWAG_AUTH_TOKEN=AUTH_TOKEN)
    proc, url = spawn_server(database, env=env)
    cert, private = _certificate(tmp_path)
    https, http = free_port(), free_port()
    site = site_config(int(url.rsplit(":", 1)[1]), https, http, cert, private)
    nginx = Nginx(tmp_path / "nginx", site)
    base = f"https://127.0.0.1:{https}"
    deadline = time.monotonic() + 20
    while True:
        try:
            trusted = ssl.create_default_context(cafile=str(cert))
            if httpx.get(f"{base}/healthz", verify=trusted).status_code == 200:
                break
        except httpx.TransportError:
            assert nginx.proc.poll() is None, (nginx.directory / "error.log").read_text()
        assert time.monotonic() < deadline, "nginx did not answer"
        time.sleep(0.1)
    try:
        yield base, http, f"{key.sid}:{key.secret}", cert
    finally:
        nginx.stop()
        proc.terminate()
        proc.wait(timeout=30)


def test_the_sdk_and_rest_work_through_the_nginx_recipe(
    behind_nginx: tuple[str, int, str, Path],
) -> None:
    base, http, key, cert = behind_nginx
    key_sid, _, secret = key.partition(":")
    http_client = TwilioHttpClient()
    assert http_client.session is not None
    http_client.session.verify = str(cert)  # the certificate made for this test, and no
    http_client.session.trust_env = False  # CA bundle from the environment instead of it
    rest = Client(ACCOUNT_SID, AUTH_TOKEN, http_client=http_client)
    rest.chat.base_url = base
    service = rest.chat.v1.services.create(friendly_name="proxied")
    assert service.url.startswith(f"{base}/v1/Services/")  # forwarded scheme and host
    channel = rest.chat.v1.services(service.sid).channels.create(unique_name="general")
    rest.chat.v1.services(service.sid).channels(channel.sid).members.create(identity="alice")

    # plain HTTP is sent to HTTPS
    plain = httpx.get(f"http://127.0.0.1:{http}/v1/Services", timeout=5)
    assert plain.status_code == 301
    assert plain.headers["location"] == "https://127.0.0.1/v1/Services"

    ws = base.replace("https://", "wss://") + "/v3/wsconnect"
    token = mint_token(ACCOUNT_SID, key_sid, secret, service.sid, "alice")
    folder = require_sdk("6.0.0")
    env = {"NODE_EXTRA_CA_CERTS": str(cert)}
    with NodeClient("sdk_chat.js", str(folder), ws, token, env=env) as alice:
        alice.wait_for(lambda e: e.get("event") in ("initialized", "createFailed"), timeout=30)
        assert alice.events[-1]["event"] == "initialized", alice.events
        call(alice, "open", channel=channel.sid)
        sent = call(alice, "send", channel=channel.sid, body="through nginx")
        assert sent["index"] == 0
        rest.chat.v1.services(service.sid).channels(channel.sid).messages.create(
            body="and back", from_="bob"
        )
        added = seen(alice, "messageAdded", index=1)
        assert (added["body"], added["author"]) == ("and back", "bob")
        call(alice, "typing", channel=channel.sid)
    messages = rest.chat.v1.services(service.sid).channels(channel.sid).messages.list()
    assert [(m.body, m._from) for m in messages] == [
        ("through nginx", "alice"),
        ("and back", "bob"),
    ]
