"""A real ``chinwag serve`` process for the client door's hostile-client tests.

The server runs with a fixed API key (so tests mint tokens as a back end does) and writes its
log to a file, which :meth:`GatewayProcess.stop` returns: a test can check that no input made
the server log a traceback.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from client_support import frame, mint_token
from raw_socket import RawWebSocket

from chinwag.realtime.sync import objects
from conftest import ACCOUNT_SID, AUTH_TOKEN, Databases, server_env, spawn_server

KEY_SID = "SK" + "4b" * 16
KEY_SECRET = "k" * 32


class GatewayProcess:
    """``chinwag serve`` with ``flags``, on a fresh database."""

    def __init__(self, databases: Databases, log: Path, *flags: str) -> None:
        env = server_env(
            CHINWAG_ACCOUNT_SID=ACCOUNT_SID,
            CHINWAG_AUTH_TOKEN=AUTH_TOKEN,
            CHINWAG_API_KEY_SID=KEY_SID,
            CHINWAG_API_KEY_SECRET=KEY_SECRET,
        )
        self.log = log
        self.database = databases.new()
        self.proc, self.url = spawn_server(self.database, *flags, env=env, log=log)
        host, _, port = self.url.removeprefix("http://").partition(":")
        self.address = (host, int(port))
        self.http = httpx.Client(base_url=self.url, auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=30)

    def service(self) -> str:
        answer = self.http.post("/v1/Services", data={"FriendlyName": "door"})
        assert answer.status_code == 201, answer.text
        return str(answer.json()["sid"])

    def token(self, service: str, identity: str) -> str:
        return mint_token(ACCOUNT_SID, KEY_SID, KEY_SECRET, service, identity)

    def metric(self, name: str) -> float:
        """A sample of ``/metrics`` by its name and labels as printed, 0 if absent."""
        text = httpx.get(f"{self.url}/metrics").text
        found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
        return float(found[1]) if found else 0.0

    def connect_tcp(self) -> socket.socket:
        return socket.create_connection(self.address, timeout=10)

    def connect(self, *, source: str | None = None, **options: Any) -> RawWebSocket:
        return RawWebSocket(self.address, source=source, **options).open()

    def session(self, service: str, identity: str, **options: Any) -> RawWebSocket:
        """A raw connection that completed init."""
        ws = self.connect(**options)
        ws.send(frame("init", "TMinit", token=self.token(service, identity), registrations=[]))
        reply = ws.recv()
        assert reply.header["status"]["code"] == 200, reply.header
        return ws

    def channel_with_messages(self, service: str, member: str, count: int, size: int) -> str:
        """A channel ``member`` belongs to, holding ``count`` messages of ``size`` characters;
        returns the unique name of its messages list (a Sync list a client pages)."""
        base = f"/v1/Services/{service}/Channels"
        channel = self.http.post(base, data={"FriendlyName": "big"}).json()["sid"]
        assert self.http.post(f"{base}/{channel}/Members", data={"Identity": member}).is_success
        for n in range(count):
            body = f"{n:04d}" + "x" * (size - 4)
            assert self.http.post(f"{base}/{channel}/Messages", data={"Body": body}).is_success
        return objects.messages_list(channel).unique_name

    def stop(self) -> str:
        """Stop the server; returns what it logged."""
        self.http.close()
        self.proc.terminate()
        self.proc.wait(timeout=30)
        return self.log.read_text()


Start = Callable[..., GatewayProcess]


@pytest.fixture
def start(databases: Databases, tmp_path: Path) -> Iterator[Start]:
    """Start a server with the given flags; each is stopped, and its log checked for
    tracebacks, at the end of the test."""
    started: list[GatewayProcess] = []

    def make(*flags: str) -> GatewayProcess:
        started.append(GatewayProcess(databases, tmp_path / f"server{len(started)}.log", *flags))
        return started[-1]

    yield make
    for server in started:
        log = server.stop()
        assert "Traceback" not in log, log


def page_request(list_name: str, request_id: str, size: int = 50) -> bytes:
    """A request for a page of a Sync list's items (one large reply for big messages)."""
    http = {
        "host": "cds.example.test",
        "path": f"/v3/Lists/{list_name}/Items",
        "method": "GET",
        "params": {"PageSize": str(size)},
        "headers": {},
    }
    return frame("message", request_id, http_request=http)
