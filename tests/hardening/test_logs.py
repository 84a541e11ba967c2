"""Access logs cannot be forged, JSON lines carry a time, the token banner stays out of stdout."""

from __future__ import annotations

import base64
import re
import socket
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest
from cli_process import serving

from conftest import ACCOUNT_SID, AUTH_TOKEN, Databases, server_env

pytestmark = pytest.mark.server

ENV = server_env(CHINWAG_ACCOUNT_SID=ACCOUNT_SID, CHINWAG_AUTH_TOKEN=AUTH_TOKEN)
AUTH = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()

FORGED = "/v1/x%0AINFO%20chinwag.access:%20GET%20/forged%20200%201.000ms%20RQ0%0D%1B[2J%1B]0;pwn%07"


def _send(url: str, target: bytes, auth: bool) -> int:
    parts = urlsplit(url)
    assert parts.hostname and parts.port
    head = b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
    if auth:
        head += f"Authorization: Basic {AUTH}\r\n".encode()
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(head + b"\r\n")
        response = b""
        while chunk := sock.recv(65536):
            response += chunk
    return int(response.split(b" ", 2)[1])


def test_text_access_log_escapes_what_the_path_carries(databases: Databases) -> None:
    with serving("--database", databases.new(), env=ENV) as (url, output):
        assert _send(url, FORGED.encode(), auth=False) == 401
        assert _send(url, FORGED.encode(), auth=True) == 404
        assert _send(url, b"/v1/Services/a%09b%20c", auth=True) == 404
    access = [line for line in output.lines if "chinwag.access" in line and "/healthz" not in line]
    assert len(access) == 3, output.lines
    assert all(line.startswith("INFO chinwag.access: GET /v1/") for line in access)
    assert all(re.fullmatch(r"[\x21-\x7e ]+", line) for line in access), access
    assert access[0].startswith("INFO chinwag.access: GET /v1/x%0AINFO%20chinwag.access:%20GET")
    assert " 401 " in access[0] and " 404 " in access[1]
    assert access[2].startswith("INFO chinwag.access: GET /v1/Services/a%09b%20c 404 ")


def test_json_lines_have_a_time_and_the_banner_goes_to_stderr(databases: Databases) -> None:
    # No account configured: the first start generates one and prints its token once.
    with serving("--database", databases.empty(), "--log-format", "json") as (url, output):
        assert _send(url, FORGED.encode(), auth=False) == 401
    assert "CHINWAG_AUTH_TOKEN=" in output.stderr
    assert "CHINWAG_AUTH_TOKEN=" not in output.stdout
    records: list[dict[str, Any]] = [orjson.loads(line) for line in output.stdout.splitlines()]
    records = [r for r in records if r["path"] != "/healthz"]
    assert [(r["method"], r["status"]) for r in records] == [("GET", 401)]
    assert records[0]["path"] == FORGED.replace("[", "%5B").replace("]", "%5D")
    logged = datetime.fromisoformat(records[0]["time"])
    assert records[0]["time"].endswith("Z")
    assert abs(datetime.now(UTC) - logged) < timedelta(minutes=1)
