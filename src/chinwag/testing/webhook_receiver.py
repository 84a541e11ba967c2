"""A real HTTP endpoint on loopback that records the webhooks chinwag sends it.

Tests point webhook URLs at ``receiver.url("/hook")``, then read ``receiver.wait_for(n)``.
Replies are set per path (status, JSON body, delay), so one receiver can play a healthy, a
failing and a slow endpoint. ``stop()`` and ``start()`` again keep the port, so a test can take
the endpoint down and bring it back at the same URL. Stdlib only: no part of chinwag's own
HTTP stack is involved in receiving.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Record:
    """One request as the receiver saw it.

    Attributes:
        method: "GET" or "POST".
        path: The path, without the query string.
        url: The full URL as requested: ``http://`` + Host header + request target.
        headers: Header names in lower case; the last value wins for repeated names.
        params: The form body of a POST, or the query string of a GET (blank values kept).
        body: The raw request body.
        arrived: ``time.monotonic()`` when the request was read.
    """

    method: str
    path: str
    url: str
    headers: dict[str, str]
    params: dict[str, str]
    body: bytes
    arrived: float


@dataclass(frozen=True)
class Reply:
    """What the receiver answers on one path: a status, an optional JSON body, after a delay."""

    status: int = 200
    json: Any = None
    delay: float = 0.0

    def encoded(self) -> bytes:
        """The JSON body as bytes (empty when there is none)."""
        return b"" if self.json is None else json.dumps(self.json).encode()


@dataclass
class _State:
    """What the request handler threads share with the test, behind one condition."""

    replies: dict[str, Reply] = field(default_factory=dict)
    records: list[Record] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)
    stopping: threading.Event = field(default_factory=threading.Event)


class WebhookReceiver:
    """A threaded loopback HTTP server recording every request; a context manager."""

    def __init__(self) -> None:
        self._state = _State()
        self._port = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> WebhookReceiver:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port; the first ``start()`` picks a free one, later starts reuse it."""
        return self._port

    def url(self, path: str = "/hook") -> str:
        """The URL of ``path`` on this receiver."""
        return f"http://{HOST}:{self._port}{path}"

    def start(self) -> None:
        """Listen (again) on the receiver's port."""
        self._state.stopping.clear()
        self._server = _Server((HOST, self._port), _handler_class(self._state))
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop listening: new connections are refused. Delayed replies are abandoned."""
        if self._server is None or self._thread is None:
            return
        self._state.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        self._server = self._thread = None

    def reply(self, path: str, status: int = 200, json: Any = None, delay: float = 0.0) -> None:
        """Answer requests to ``path`` like this from now on (default: 200, empty body)."""
        with self._state.changed:
            self._state.replies[path] = Reply(status, json, delay)

    @property
    def records(self) -> list[Record]:
        """A snapshot of every request received so far, in arrival order."""
        with self._state.changed:
            return list(self._state.records)

    def wait_for(
        self, count: int, timeout: float = 5.0, *, path: str | None = None
    ) -> list[Record]:
        """Wait until at least ``count`` requests arrived (on ``path`` only, when given) and
        return them; fail the test after ``timeout`` s."""

        def matching() -> list[Record]:
            return [r for r in self._state.records if path is None or r.path == path]

        with self._state.changed:
            arrived = self._state.changed.wait_for(lambda: len(matching()) >= count, timeout)
            records = matching()
        where = "" if path is None else f" on {path}"
        assert arrived, (
            f"expected {count} webhook requests{where} within {timeout} s, got {len(records)}"
        )
        return records


def validate_signature(record: Record, auth_token: str) -> bool:
    """Whether twilio-python's own validator accepts the request's ``X-Twilio-Signature``.

    twilio is imported here, not at the top: chinwag itself does not depend on it.
    """
    from twilio.request_validator import RequestValidator

    params = record.params if record.method == "POST" else {}
    signature = record.headers.get("x-twilio-signature", "")
    return bool(RequestValidator(auth_token).validate(record.url, params, signature))


class _Server(ThreadingHTTPServer):
    """Daemon handler threads (a slow reply never blocks ``stop``), quiet about hang-ups."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A sender that gave up before the reply (a timeout test) is expected, not an error."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _handler_class(state: _State) -> type[BaseHTTPRequestHandler]:
    """A request handler class bound to ``state`` (http.server instantiates it per request)."""

    class Handler(BaseHTTPRequestHandler):
        # NOTE: HTTP/1.0 closes every connection after its response, so a stopped receiver
        # is really gone: no kept-alive connection keeps serving.
        protocol_version = "HTTP/1.0"

        def do_GET(self) -> None:
            self._record_and_reply()

        def do_POST(self) -> None:
            self._record_and_reply()

        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output clean."""

        def _record_and_reply(self) -> None:
            record = self._record()
            with state.changed:
                state.records.append(record)
                reply = state.replies.get(record.path, Reply())
                state.changed.notify_all()
            if reply.delay and state.stopping.wait(reply.delay):
                return
            body = reply.encoded()
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _record(self) -> Record:
            split = urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            form = body.decode() if self.command == "POST" else split.query
            return Record(
                method=self.command,
                path=split.path,
                url=f"http://{self.headers.get('Host', HOST)}{self.path}",
                headers={name.lower(): value for name, value in self.headers.items()},
                params=dict(parse_qsl(form, keep_blank_values=True)),
                body=body,
                arrived=time.monotonic(),
            )

    return Handler
