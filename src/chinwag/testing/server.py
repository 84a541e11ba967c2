"""``ThreadedServer``: a real chinwag on an ephemeral loopback port, in a background thread.

Tests talk to it over real HTTP (the official twilio SDK included) while still reaching the
app object, e.g. to subscribe to its event bus.
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Callable
from types import TracebackType

import uvicorn

from chinwag.app import ChinwagApp
from chinwag.http.connection import http_protocol
from chinwag.realtime.twilsock.websocket import websocket_options


class ThreadedServer:
    def __init__(self, app: ChinwagApp, host: str = "127.0.0.1") -> None:
        self.app = app
        self.host = host
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, 0))
        self.port: int = self._sock.getsockname()[1]
        settings = app.api.settings
        loop = "auto"
        if sys.platform != "win32":  # the loop chinwag serve runs on (uvloop: not on Windows)
            from chinwag.http.accept import UVICORN_LOOP

            loop = UVICORN_LOOP
        config = uvicorn.Config(
            app,
            loop=loop,
            lifespan="on",
            log_level="warning",
            access_log=False,
            http=http_protocol(settings),
            **websocket_options(settings),
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> ThreadedServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("chinwag test server did not start")
            time.sleep(0.01)
        return self

    def call_soon(self, callback: Callable[[], object]) -> None:
        """Run ``callback`` on the server's event loop thread (where the app's state lives)."""
        self._server.servers[0].get_loop().call_soon_threadsafe(callback)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self) -> ThreadedServer:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
