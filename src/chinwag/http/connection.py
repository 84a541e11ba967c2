"""One HTTP/1.1 connection: uvicorn's httptools protocol, bounded in time, size and number.

uvicorn parses requests with httptools, which has no limits of its own: a client could hold a
connection open forever by sending half a request, send headers of any size, or open sockets
until the process runs out of file descriptors. :class:`HttpProtocol` adds the limits of
:class:`HttpLimits` and answers every refusal in Twilio's error JSON, never in uvicorn's plain
text. Everything else (request cycles, pipelining, the WebSocket upgrade) stays uvicorn's.

A connection's phases, and what ends each one::

    connected ──first byte──▶ head ──headers complete──▶ body ──body complete──▶ app works
        │                      │                          │                        │
     header_timeout:        header_timeout: 408,       body_timeout without a     response sent
     closed, no answer      or head too large: 431     read: 408 (client gone:    (keep-alive:
                            or unparseable: 400        nothing is committed)      back to head)

Timers are armed only when a phase outlives the chunk of bytes that started it, so a request
that arrives in one read costs no timer of its own; between requests, uvicorn's keep-alive timer
closes a connection left idle.

At ``max_connections`` open connections, a new one closes the connection that has waited longest
on its client (idle, in its head or in its body; never one whose request the app is working on),
so clients that stall cannot lock others out. If every connection has a request in progress, the
newcomer gets 503 and is closed. A connection upgraded to a WebSocket leaves the count (the
client gateway bounds those with ``gateway_max_connections``) and is never closed to make room.

On shutdown (SIGTERM), uvicorn stops accepting, lets requests in progress finish with
``Connection: close``, and closes idle connections. A client may have sent a request on an idle
keep-alive connection a moment before: instead of closing such a connection at once, it stays
open for :data:`DRAIN_SECONDS`, so a request already on its way is answered (and closes it).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from chinwag import errors
from chinwag.config import Settings
from chinwag.http.errors import error_body

log = logging.getLogger(__name__)

Headers = list[tuple[bytes, bytes]]

#: How long an idle keep-alive connection stays open after shutdown starts, to answer a request
#: the client sent before it could see the connection close.
DRAIN_SECONDS = 1.0

#: Descriptors kept free beside client sockets: listening socket, database files or
#: connections, logs, webhook calls.
FILE_HEADROOM = 128


@dataclass
class OpenCount:
    """This server's HTTP connections not upgraded to a WebSocket: what ``max_connections``
    bounds. A counter shared by the connections, so admitting one costs no scan."""

    value: int = 0


@dataclass(frozen=True)
class HttpLimits:
    """The bounds of every connection; built from :class:`chinwag.config.Settings`."""

    header_timeout: float
    body_timeout: float
    max_header_bytes: int
    max_connections: int
    open: OpenCount = field(default_factory=OpenCount, compare=False)


class HttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with timeouts, a head size limit and a connection limit."""

    def __init__(self, *args: Any, limits: HttpLimits, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits
        self._in_head = False  # some bytes of a request line or headers came, not all
        self._in_body = False  # the headers came, not all of the body
        self._head_bytes = 0
        self._head_too_large = False
        self._last_read = 0.0
        self._waiting_since = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._draining = False
        self._counted = False  # in limits.open: an HTTP connection, not (yet) a WebSocket

    # Connection life

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._waiting_since = self.loop.time()
        self._arm(self.limits.header_timeout, self._on_header_timeout)
        self._count(True)
        if self.limits.open.value > self.limits.max_connections and not self._make_room():
            log.warning("connection limit (%d) reached", self.limits.max_connections)
            self._refuse(errors.ServiceUnavailableError())

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self._unset_keepalive_if_required()
        self._count(False)
        super().connection_lost(exc)

    def handle_websocket_upgrade(self) -> None:
        """The socket now belongs to uvicorn's WebSocket protocol: no HTTP timer may fire, it
        leaves the HTTP count (the gateway's own limits bound client connections), and this
        protocol object is freed."""
        self._disarm()
        self._unset_keepalive_if_required()
        self._count(False)
        self._in_head = self._in_body = False
        super().handle_websocket_upgrade()
        # this object is done: its parser refers back to it, a cycle the garbage collector
        # would have to find for every client connection
        self.parser = None  # type: ignore[assignment]

    def _count(self, counted: bool) -> None:
        if counted != self._counted:
            self.limits.open.value += 1 if counted else -1
            self._counted = counted

    def _make_room(self) -> bool:
        """Close the connection that has waited longest on its client; False if none can go."""
        waiting = [
            c
            for c in self.connections
            if isinstance(c, HttpProtocol) and c is not self and c._waiting_on_client()
        ]
        if not waiting:
            return False
        log.info("connection limit reached: closing the connection that waited longest")
        min(waiting, key=lambda c: c._waiting_since).transport.close()
        return True

    def _idle(self) -> bool:
        """No request of this connection is in the app's hands."""
        return not self._in_body and (self.cycle is None or self.cycle.response_complete)

    def _waiting_on_client(self) -> bool:
        return not self.transport.is_closing() and (self._in_body or self._idle())

    # Reading

    def data_received(self, data: bytes) -> None:
        if self._in_body:
            self._last_read = self.loop.time()
        else:
            self._head_bytes += len(data)
        super().data_received(data)
        if self.transport.is_closing() or self.parser is None:
            return
        if not self._in_body and self._head_bytes > self.limits.max_header_bytes:
            self._refuse(errors.HeadersTooLargeError(limit=self.limits.max_header_bytes))
        elif self._timer is None:
            if self._in_body:
                self._last_read = self.loop.time()
                self._arm(self.limits.body_timeout, self._on_body_timeout)
            elif self._in_head:
                self._arm(self.limits.header_timeout, self._on_header_timeout)

    def send_400_response(self, msg: str) -> None:
        """The parser refused the request (method, Content-Length, header bytes...): JSON."""
        if self._head_too_large:
            self._refuse(errors.HeadersTooLargeError(limit=self.limits.max_header_bytes))
        else:
            self._refuse(errors.MalformedRequestError(detail="Malformed HTTP request"))

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True

    def on_headers_complete(self) -> None:
        if self._head_bytes > self.limits.max_header_bytes and self._head_size() > (
            self.limits.max_header_bytes
        ):  # it came in one read, with more bytes after it
            self._head_too_large = True
            raise ValueError("request head too large")  # the parser reports it as its error
        self._disarm()
        self._in_head, self._in_body, self._head_bytes = False, True, 0
        self._waiting_since = self.loop.time()
        super().on_headers_complete()
        if self.cycle is not None and self._draining:
            self.cycle.keep_alive = False

    def _head_size(self) -> int:
        return len(self.url) + sum(len(n) + len(v) + 4 for n, v in self.headers)

    def on_message_complete(self) -> None:
        self._disarm()
        self._in_body = False
        super().on_message_complete()

    def on_response_complete(self) -> None:
        """uvicorn's; from now on the connection waits on its client (see :meth:`_make_room`)."""
        self._waiting_since = self.loop.time()
        super().on_response_complete()

    # Timers

    def _arm(self, seconds: float, callback: Callable[[], None]) -> None:
        self._disarm()
        self._timer = self.loop.call_later(seconds, callback)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _on_header_timeout(self) -> None:
        self._timer = None
        if self.transport.is_closing() or self._in_body:
            return
        if not self._idle():
            self._arm(self.limits.header_timeout, self._on_header_timeout)  # a response is due
        elif self._in_head:
            self._refuse(errors.RequestTimeoutError())
        else:
            self.transport.close()  # nothing was asked: nothing to answer

    def _on_body_timeout(self) -> None:
        self._timer = None
        if self.transport.is_closing() or not self._in_body:
            return
        quiet = self.loop.time() - self._last_read
        if self.flow.read_paused or quiet < self.limits.body_timeout:
            # Bytes came lately, or the app has not read what came (not the client's fault).
            self._arm(max(self.limits.body_timeout - quiet, 0.01), self._on_body_timeout)
        else:
            self._refuse(errors.RequestTimeoutError())

    # Answers

    def _refuse(self, error: errors.ChinwagError) -> None:
        """Answer ``error`` unless this request's response has started, then close.

        A request whose body never completed is cut off from the app, which sees the client
        as gone (``http.disconnect``), so nothing of it is committed.
        """
        self._disarm()
        log.info("%s: %d %s", _peer(self.client), error.status, error.to_dict()["message"])
        cycle = self.cycle
        if cycle is None or not cycle.response_started or self._idle():
            self.transport.write(_error_response(error, self.server_state.default_headers))
        if cycle is not None and not cycle.response_complete:
            cycle.disconnected = True
            cycle.message_event.set()
        self.transport.close()

    # Shutdown

    def shutdown(self) -> None:
        """Called by uvicorn once it stops accepting: finish what was asked, then close."""
        self._draining = True
        if not self._idle():
            if self.cycle is not None:
                self.cycle.keep_alive = False
        elif not self._in_head:
            self._arm(DRAIN_SECONDS, self._on_drained)
        # else a request is arriving: it is answered with Connection: close

    def _on_drained(self) -> None:
        self._timer = None
        if self._idle() and not self._in_head:
            self.transport.close()
        elif self._in_head:
            self._arm(self.limits.header_timeout, self._on_header_timeout)


def _peer(client: tuple[str, int] | None) -> str:
    return f"{client[0]}:{client[1]}" if client else "unknown client"


def _error_response(error: errors.ChinwagError, default_headers: Headers) -> bytes:
    body = error_body(error)
    lines = [STATUS_LINE[error.status]]
    lines += [name + b": " + value + b"\r\n" for name, value in default_headers]
    lines += [
        b"content-type: application/json\r\n",
        b"content-length: " + str(len(body)).encode() + b"\r\n",
        b"connection: close\r\n\r\n",
        body,
    ]
    return b"".join(lines)


def http_protocol(settings: Settings) -> Any:
    """uvicorn's ``http`` option: builds an :class:`HttpProtocol` per connection.

    A ``functools.partial`` of a module-level class, so it pickles into worker processes.
    """
    limits = HttpLimits(
        header_timeout=settings.header_timeout,
        body_timeout=settings.body_timeout,
        max_header_bytes=settings.max_header_bytes,
        max_connections=settings.max_connections,
    )
    return functools.partial(HttpProtocol, limits=limits)


def fit_open_file_limit(
    max_connections: int, gateway_max_connections: int, *, gateway_default: bool
) -> int:
    """Raise this process's soft open-file limit so the HTTP connections and the client
    gateway's fit; the number of client connections to allow.

    The common default soft limit is 1024 descriptors; past it ``accept`` fails and even
    ``/healthz`` goes unanswered. The hard limit is the ceiling. Left at its default, the
    gateway's limit shrinks to what the hard limit leaves room for (an info line): defaults
    must never warn. A value the operator chose is kept, and a warning names the setting to
    lower and by how much, or the hard limit to raise.
    """
    try:
        import resource
    except ImportError:  # Windows has no descriptor limit of this kind
        return gateway_max_connections
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = max_connections + gateway_max_connections + FILE_HEADROOM
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return gateway_max_connections
    new = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    if new == wanted:
        return gateway_max_connections
    room = new - FILE_HEADROOM - max_connections
    raise_hint = f"or raise the hard open-file limit ({hard}) to {wanted}"
    if room < 1:
        log.warning(
            "the hard open-file limit (%d) leaves no room for client connections beside "
            "max_connections=%d: lower max_connections by at least %d, %s (ulimit -Hn; "
            "LimitNOFILE= under systemd)",
            hard,
            max_connections,
            1 - room,
            raise_hint,
        )
        return gateway_max_connections
    if gateway_default:
        log.info(
            "client connections per process: %d, what the hard open-file limit (%d) leaves "
            "beside max_connections=%d (raise it to %d for the default %d)",
            room,
            hard,
            max_connections,
            wanted,
            gateway_max_connections,
        )
        return room
    log.warning(
        "the hard open-file limit (%d) holds %d client connections beside max_connections=%d, "
        "not gateway_max_connections=%d: lower gateway_max_connections by %d (or "
        "max_connections), %s (ulimit -Hn; LimitNOFILE= under systemd)",
        hard,
        room,
        max_connections,
        gateway_max_connections,
        gateway_max_connections - room,
        raise_hint,
    )
    return gateway_max_connections
