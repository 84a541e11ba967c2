"""The bounded HTTP protocol keeps uvicorn's WebSocket upgrade working, timers and all.

A WebSocket endpoint shares chinwag's port: the upgrade goes through :class:`HttpProtocol`,
whose read timeouts must stop applying once the socket belongs to the WebSocket protocol, and
whose connection limit (HTTP connections) neither counts nor closes a WebSocket: the client
gateway bounds those with its own limit.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from websockets.sync.client import connect

from chinwag.app import create_app
from chinwag.config import Settings
from chinwag.http.connection import http_protocol
from conftest import ACCOUNT_SID, AUTH_TOKEN, Databases

pytestmark = pytest.mark.unit

TIMEOUT = 0.5


class EchoBeside:
    """chinwag for HTTP, and an echo WebSocket endpoint on the same port."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        while (event := await receive())["type"] == "websocket.receive":
            await send({"type": "websocket.send", "text": event["text"]})


@pytest.fixture
def base(databases: Databases) -> Iterator[str]:
    settings = Settings(
        database=databases.new(),
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        header_timeout=TIMEOUT,
        body_timeout=TIMEOUT,
        max_connections=2,
    )
    app = EchoBeside(create_app(settings))
    sock = socket.create_server(("127.0.0.1", 0))
    config = uvicorn.Config(app, lifespan="on", log_level="warning", http=http_protocol(settings))
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    yield f"127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


def test_websocket_outlives_the_http_timeouts_and_the_connection_limit(base: str) -> None:
    with connect(f"ws://{base}/echo") as first, connect(f"ws://{base}/echo") as second:
        time.sleep(4 * TIMEOUT)  # past the header and body timeouts
        for ws in (first, second):
            ws.send("still here")
            assert ws.recv(timeout=5) == "still here"
        # Two WebSockets at max_connections=2: upgraded sockets leave the HTTP count, so HTTP
        # is still served, and no WebSocket is closed to make room.
        assert httpx.get(f"http://{base}/healthz", timeout=5).status_code == 200
        first.send("and now")
        assert first.recv(timeout=5) == "and now"
    assert httpx.get(f"http://{base}/healthz", timeout=5).status_code == 200
