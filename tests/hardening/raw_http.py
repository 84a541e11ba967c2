"""Raw-socket HTTP for requests no client library would send, and a server to send them to.

``hardened_server`` is a real ``chinwag serve`` process with short read timeouts and a small
connection limit, so tests prove each bound in about a second and with few sockets.
"""

from __future__ import annotations

import base64
import contextlib
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
import pytest

from conftest import ACCOUNT_SID, AUTH_TOKEN, Databases, server_env, spawn_server

AUTH = (ACCOUNT_SID, AUTH_TOKEN)
AUTH_HEADER = b"Authorization: Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode())
TIMEOUT = 1.0  # --header-timeout and --body-timeout of the hardened server
MAX_CONNECTIONS = 20


@dataclass
class Server:
    proc: subprocess.Popen[str]
    base: str

    @property
    def address(self) -> tuple[str, int]:
        parts = urlsplit(self.base)
        assert parts.hostname and parts.port
        return parts.hostname, parts.port

    def connect(self) -> socket.socket:
        return socket.create_connection(self.address, timeout=10)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, auth=AUTH, timeout=10)


def start(databases: Databases, *args: str) -> Server:
    env = server_env(CHINWAG_ACCOUNT_SID=ACCOUNT_SID, CHINWAG_AUTH_TOKEN=AUTH_TOKEN)
    proc, base = spawn_server(databases.new(), *args, env=env)
    return Server(proc, base)


def stop(server: Server) -> None:
    server.proc.terminate()
    server.proc.wait(timeout=20)


@pytest.fixture(scope="module")
def hardened(databases: Databases) -> Iterator[Server]:
    server = start(
        databases,
        "--header-timeout",
        str(TIMEOUT),
        "--body-timeout",
        str(TIMEOUT),
        "--max-connections",
        str(MAX_CONNECTIONS),
    )
    yield server
    stop(server)


def read_all(sock: socket.socket, timeout: float = 10) -> bytes:
    """Everything the server sends until it closes the connection (a reset counts as a close)."""
    sock.settimeout(timeout)
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except ConnectionResetError:
        pass
    return b"".join(chunks)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)


def parse(raw: bytes) -> Answer:
    """The first response in ``raw``."""
    head, _, rest = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    return Answer(status, headers, rest[:length])


def read_response(sock: socket.socket, timeout: float = 10) -> Answer:
    """One whole response from a connection the server keeps open."""
    sock.settimeout(timeout)
    raw = b""
    while b"\r\n\r\n" not in raw:
        raw += sock.recv(65536)
    answer = parse(raw)
    while len(answer.body) < int(answer.headers.get("content-length", "0")):
        raw += sock.recv(65536)
        answer = parse(raw)
    return answer


def exchange(server: Server, data: bytes) -> Answer:
    """Send ``data`` on a new connection and parse what comes back before it closes."""
    with server.connect() as sock:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)  # the server may answer and close before reading it all
        return parse(read_all(sock))


def assert_twilio_error(answer: Answer, status: int, code: int = 20001) -> None:
    assert answer.status == status, answer
    assert answer.headers["content-type"] == "application/json"
    error = answer.json()
    assert set(error) == {"code", "message", "more_info", "status"}
    assert (error["status"], error["code"]) == (status, code)


def wait_for_close(sock: socket.socket, seconds: float) -> tuple[bytes, float]:
    """What the server sent before closing ``sock``, and how long that took."""
    start = time.monotonic()
    raw = read_all(sock, timeout=seconds)
    return raw, time.monotonic() - start


def new_channel(server: Server) -> str:
    """A fresh service and channel; returns the channel's path."""
    with server.client() as http:
        service = http.post("/v1/Services", data={"FriendlyName": "s"}).json()["sid"]
        channel = http.post(f"/v1/Services/{service}/Channels", data={"FriendlyName": "c"})
        return f"/v1/Services/{service}/Channels/{channel.json()['sid']}"
