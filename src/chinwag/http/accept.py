"""The event loop ``chinwag serve`` runs on: uvloop, accepting every waiting connection at once.

uvloop's listening sockets (libuv) accept one connection per turn of the event loop. A loop
that is saturated spends each turn answering every request that is ready, so when many clients
connect together, the k-th of them is accepted only k turns later, while its first request
already waits in the kernel. Under many new connections those first requests made the whole
tail of the list benchmark, while no accepted connection ever waited more than one turn
between two of its requests (docs/performance.md, "The list tail").

:class:`EagerAcceptLoop` serves TCP listeners with :class:`EagerAcceptServer`, which accepts
what is waiting (up to the listen backlog) in one turn, as asyncio's own loop does, and hands
each socket to uvloop's transport unchanged. Everything else is uvloop.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import struct
from collections.abc import Callable
from typing import Any

import uvloop

log = logging.getLogger(__name__)

#: Out of descriptors or memory: stop accepting for this long instead of spinning on ``accept``
#: (the kernel keeps the connections queued meanwhile).
RETRY_AFTER_SECONDS = 1.0

_RESOURCE_ERRORS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})

ProtocolFactory = Callable[[], asyncio.BaseProtocol]

#: uvicorn's ``loop`` option naming :class:`EagerAcceptLoop`: an import string, so worker
#: processes build the same loop.
UVICORN_LOOP = "chinwag.http.accept:EagerAcceptLoop"


class EagerAcceptServer:
    """The part of :class:`asyncio.Server` that uvicorn uses, over already-bound sockets."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        sockets: list[socket.socket],
        factory: ProtocolFactory,
        backlog: int,
    ) -> None:
        self._loop = loop
        self._sockets = sockets
        self._factory = factory
        self._backlog = backlog
        self._opening: set[asyncio.Task[Any]] = set()
        self._closed = asyncio.Event()
        for sock in sockets:
            sock.setblocking(False)
            sock.listen(backlog)
            self._serve(sock)

    @property
    def sockets(self) -> tuple[socket.socket, ...]:
        return tuple(self._sockets)

    def _serve(self, sock: socket.socket) -> None:
        if not self._closed.is_set():
            self._loop.add_reader(sock.fileno(), self._accept, sock)

    def _accept(self, sock: socket.socket) -> None:
        """Accept what is waiting, up to the backlog, in this one turn of the loop."""
        for _ in range(self._backlog):
            try:
                conn, _ = sock.accept()
            except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                return
            except OSError as exc:
                if exc.errno not in _RESOURCE_ERRORS:
                    raise
                log.warning("cannot accept connections (%s): retrying in 1 s", exc.strerror)
                self._loop.remove_reader(sock.fileno())
                self._loop.call_later(RETRY_AFTER_SECONDS, self._serve, sock)
                return
            conn.setblocking(False)
            if conn.family in (socket.AF_INET, socket.AF_INET6):
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            task = self._loop.create_task(self._open(conn))
            self._opening.add(task)
            task.add_done_callback(self._opening.discard)

    async def _open(self, conn: socket.socket) -> None:
        """Hand ``conn`` to uvloop's transport, in the turn after it was accepted.

        A server closed meanwhile must not start serving it: uvicorn has already told its
        connections to finish (``shutdown()``) and would never tell this one. Not yet opened,
        it is reset, as the kernel resets connections still queued on a closed listener;
        opened while closing, it is told to shut down like the others.
        """
        if self._closed.is_set():
            _reset(conn)
            return
        try:
            _, protocol = await self._loop.connect_accepted_socket(self._factory, conn)
        except OSError:  # the client left before its transport was ready
            conn.close()
            return
        shutdown = getattr(protocol, "shutdown", None)
        if self._closed.is_set() and shutdown is not None:
            shutdown()

    def close(self) -> None:
        """Stop accepting and close the listening sockets; open connections stay open."""
        if self._closed.is_set():
            return
        self._closed.set()
        for sock in self._sockets:
            self._loop.remove_reader(sock.fileno())
            sock.close()

    async def wait_closed(self) -> None:
        """Closed, and no accepted connection is still opening."""
        await self._closed.wait()
        while self._opening:
            await asyncio.gather(*self._opening, return_exceptions=True)

    def get_loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def is_serving(self) -> bool:
        return not self._closed.is_set()


def _reset(conn: socket.socket) -> None:
    """Close with a reset (``SO_LINGER`` 0), so the client sees a refused connection."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def _bind(host: str | None, port: int, backlog: int) -> list[socket.socket]:
    """Listening sockets for every address ``host`` resolves to, as asyncio binds them."""
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    sockets: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(infos):
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(backlog)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


class EagerAcceptLoop(uvloop.Loop):
    """uvloop, with TCP servers that accept every waiting connection in one turn."""

    async def create_server(  # type: ignore[override]
        self,
        protocol_factory: ProtocolFactory,
        host: str | None = None,
        port: int | None = None,
        *,
        sock: socket.socket | None = None,
        backlog: int = 100,
        ssl: Any = None,
        **kwargs: Any,
    ) -> Any:
        tcp = sock is None or sock.family in (socket.AF_INET, socket.AF_INET6)
        if ssl is not None or kwargs or not tcp or (sock is None and port is None):
            uvloop_create: Any = super().create_server  # TLS, Unix sockets: uvloop's own
            return await uvloop_create(
                protocol_factory, host, port, sock=sock, backlog=backlog, ssl=ssl, **kwargs
            )
        sockets = [sock] if sock is not None else _bind(host, port or 0, backlog)
        return EagerAcceptServer(self, sockets, protocol_factory, backlog)
