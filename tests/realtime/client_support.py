"""Real chat clients for tests: the official npm ``twilsock``/``twilio-chat`` driven from pytest,
access tokens from twilio-python's ``AccessToken``, and raw WebSocket helpers for bad input.

The Node scripts live in ``tests/client/`` (``npm ci --prefix tests/client`` installs the SDK
versions pinned by its lock file). Each prints one JSON object per line for every event; a
:class:`NodeClient` collects them on a thread so tests can wait for one.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import ChatGrant

from chinwag.app import create_app
from chinwag.clock import SystemClock
from chinwag.config import Settings
from chinwag.domain.api_keys import create_api_key, delete_api_key
from chinwag.domain.deps import Deps
from chinwag.events.local import LocalBus
from chinwag.model.records import ApiKey
from chinwag.realtime.twilsock.codec import Frame, decode, encode
from chinwag.sids import SidGenerator
from chinwag.storage.database import Database
from chinwag.storage.engines import create_engine
from chinwag.testing import ThreadedServer
from conftest import ACCOUNT_SID, AUTH_TOKEN, Databases

T = TypeVar("T")

CLIENT_DIR = Path(__file__).parent.parent / "client"

Event = dict[str, Any]


def require_node_client() -> None:
    """Fail loudly (not skip) when the SDK is not installed: CI installs it with npm."""
    if shutil.which("node") is None or not (CLIENT_DIR / "node_modules" / "twilio-chat").is_dir():
        pytest.fail("the client SDK is missing: run `npm ci --prefix tests/client`")


def ws_url(http_url: str) -> str:
    return http_url.replace("http://", "ws://", 1) + "/v3/wsconnect"


def mint_token(
    account_sid: str,
    key_sid: str,
    secret: str,
    service_sid: str,
    identity: str,
    ttl: int = 3600,
) -> str:
    """An access token as a chat back end makes it with twilio-python."""
    token = AccessToken(account_sid, key_sid, secret, identity=identity, ttl=ttl)
    token.add_grant(ChatGrant(service_sid=service_sid))
    return str(token.to_jwt())


class NodeClient:
    """One Node script run: its events as they arrive, and commands on its stdin."""

    def __init__(self, script: str, *args: str, env: dict[str, str] | None = None) -> None:
        require_node_client()
        self.events: list[Event] = []
        self._queue: queue.Queue[Event] = queue.Queue()
        self.proc = subprocess.Popen(
            ["node", str(CLIENT_DIR / script), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=None if env is None else {**os.environ, **env},
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                event = {"event": "output", "line": line.rstrip()}
            self._queue.put(event)

    def send(self, **command: Any) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()

    def wait_for(self, match: Callable[[Event], bool] | str, timeout: float = 15) -> Event:
        """The first event (seen before or arriving within ``timeout``) that matches."""
        test = (lambda e: e.get("event") == match) if isinstance(match, str) else match
        for event in self.events:
            if test(event):
                return event
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no matching event within {timeout}s; saw {self.events}")
            try:
                event = self._queue.get(timeout=left)
            except queue.Empty:
                continue
            self.events.append(event)
            if test(event):
                return event

    def drain(self, seconds: float) -> list[Event]:
        """Every event that arrives within ``seconds`` (added to :attr:`events`)."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                self.events.append(self._queue.get(timeout=left))
            except queue.Empty:
                break
        return self.events

    def request(self, cmd: str, url: str, tag: str, **fields: Any) -> Event:
        self.send(cmd=cmd, url=url, tag=tag, **fields)
        return self.wait_for(lambda e: e.get("tag") == tag)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        self._reader.join(timeout=10)
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()

    def __enter__(self) -> NodeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def frame(method: str, request_id: str = "TM1", payload: bytes = b"", **header: Any) -> bytes:
    return encode({"method": method, "id": request_id, **header}, payload)


def upstream(path: str, request_id: str, method: str = "GET", body: bytes = b"") -> bytes:
    http = {"host": "aim.example.test", "path": path, "method": method, "params": {}}
    return frame("message", request_id, body, http_request={**http, "headers": {}})


def read(data: bytes | str) -> Frame:
    assert isinstance(data, bytes), "the gateway sends binary frames only"
    return decode(data)


async def _with_deps(database: str, action: Callable[[Deps], Awaitable[T]]) -> T:
    db = Database(create_engine(database))
    await db.open()
    try:
        return await action(Deps(db, SystemClock(), SidGenerator(), LocalBus()))
    finally:
        await db.close()


def on_database(database: str, action: Callable[[Deps], Awaitable[T]]) -> T:
    """Run a domain operation on a server's database from the test, over its own connection
    (as another process would)."""
    return asyncio.run(_with_deps(database, action))


def create_key(database: str, account_sid: str) -> ApiKey:
    return on_database(database, lambda deps: create_api_key(deps, account_sid, "test"))


def delete_key(database: str, account_sid: str, key_sid: str) -> None:
    on_database(database, lambda deps: delete_api_key(deps, account_sid, key_sid))


#: seconds before expiry that clients are warned: short, so token tests take seconds
TOKEN_WARNING = 2.0


class GatewayServer:
    """A running server, its database URL and an API key of its account."""

    def __init__(self, databases: Databases, **overrides: Any) -> None:
        self.database = databases.new()
        settings = Settings(
            database=self.database,
            account_sid=ACCOUNT_SID,
            auth_token=AUTH_TOKEN,
            gateway_token_warning=TOKEN_WARNING,
            gateway_key_check_interval=0.5,
            **overrides,
        )
        self.key: ApiKey = create_key(self.database, ACCOUNT_SID)
        self.server = ThreadedServer(create_app(settings)).start()
        self.url = self.server.url
        self.ws = self.url.replace("http://", "ws://", 1) + "/v3/wsconnect"
        self.http = httpx.Client(base_url=self.url, auth=(ACCOUNT_SID, AUTH_TOKEN))

    def service(self) -> str:
        response = self.http.post("/v1/Services", data={"FriendlyName": "clients"})
        assert response.status_code == 201, response.text
        return str(response.json()["sid"])

    def token(self, service_sid: str, identity: str, ttl: int = 3600) -> str:
        return mint_token(ACCOUNT_SID, self.key.sid, self.key.secret, service_sid, identity, ttl)

    def metrics(self) -> str:
        return httpx.get(f"{self.url}/metrics").text

    def stop(self) -> None:
        self.http.close()
        self.server.stop()

    def __enter__(self) -> GatewayServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
