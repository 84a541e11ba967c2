"""``ws://HOST:PORT/v3/wsconnect``: the ASGI WebSocket endpoint chat clients connect to.

The gateway accepts the socket, feeds each binary message to the connection's
:class:`~chinwag.realtime.twilsock.session.Session`, and keeps the process-wide view: how many
connections each identity and the process hold (the limits checked at init), which API keys
they were signed with (a deleted key ends its connections within
``gateway_key_check_interval``), and, on SIGTERM, a ``close`` 308 to every connection so
clients reconnect to another process before uvicorn's own shutdown drops the sockets.

**Sockets that have not authenticated** never take an authenticated client's place: only
admitted sessions count toward ``gateway_max_connections``. Pending ones (accepted, no
successful ``init`` yet) have their own bounds: ``gateway_max_pending_per_address`` per client
address (past it the handshake is answered 429 with Twilio's error JSON) and
``gateway_max_pending`` per process (past it the pending socket that has waited longest is
dropped to make room, as the HTTP layer does with stalled requests). Each lasts at most
``gateway_init_timeout``, and each may fail ``gateway_max_failed_inits`` inits.

Dead peers are the socket's to notice (``realtime/twilsock/websocket.py``): it pings every
``gateway_ping_interval`` seconds and drops a connection whose pong is ``gateway_ping_timeout``
late.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Awaitable, Callable
from types import FrameType
from typing import Any

import orjson

from chinwag import errors, memory
from chinwag.admin.clients import ConnectedClient
from chinwag.domain.access_tokens import ClientGrant
from chinwag.realtime.presence import Presence
from chinwag.realtime.twilsock.codec import Notification
from chinwag.realtime.twilsock.session import Session, SessionEnv, State
from chinwag.realtime.twilsock.websocket import EXTENSION, Socket

log = logging.getLogger(__name__)

PATH = "/v3/wsconnect"
#: how long SIGTERM waits for the 308 frames to be written before uvicorn shuts down
OFFLOAD_FLUSH_SECONDS = 2.0

KeyIsLive = Callable[[str, str], Awaitable[bool]]
Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_IdentityKey = tuple[str, str, str]  # account, service, identity
_ApiKey = tuple[str, str]  # account, key SID


class _AsgiTransport:
    """A session's transport: the socket for frames, ASGI ``send`` for the close."""

    def __init__(self, send: Send, socket: Socket) -> None:
        self._send = send
        self._socket = socket

    def send_frames(self, frames: list[bytes | Notification], *, one: bool = True) -> None:
        self._socket.send_frames(frames, one=one)

    def paused(self) -> bool:
        return self._socket.paused()

    async def drained(self) -> None:
        await self._socket.drained()

    async def close(self, code: int) -> None:
        with contextlib.suppress(OSError, RuntimeError):  # the peer may be gone already
            await self._send({"type": "websocket.close", "code": code})

    def buffered(self) -> int:
        return self._socket.buffered()

    def abort(self, reason: str) -> None:
        self._socket.abort(reason)

    def authenticated(self) -> None:
        self._socket.authenticated()


class Connections:
    """Every session of this process, by identity and by API key (the session's Admission)."""

    def __init__(
        self,
        max_total: int,
        max_per_identity: int,
        presence: Presence | None = None,
        *,
        max_pending: int,
        max_pending_per_address: int,
    ) -> None:
        self.max_total = max_total
        self.max_per_identity = max_per_identity
        self.max_pending = max_pending
        self.max_pending_per_address = max_pending_per_address
        #: told when a user's first connection here opens and their last one closes
        self.presence = presence
        self.sessions: set[Session] = set()
        #: sessions that have not completed init, oldest first, with their socket
        self.pending: dict[Session, Socket] = {}
        self._pending_by_address: dict[str, int] = {}
        self._admitted = 0
        self._by_identity: dict[_IdentityKey, set[Session]] = {}
        self._by_key: dict[_ApiKey, set[Session]] = {}

    def may_open(self, host: str | None) -> bool:
        """Whether a new socket from ``host`` may wait for its init (the per-address cap)."""
        return self._pending_by_address.get(host or "", 0) < self.max_pending_per_address

    def admit(self, session: Session, grant: ClientGrant) -> errors.ChinwagError | None:
        identity = (grant.account_sid, grant.service_sid, grant.identity)
        if self._admitted >= self.max_total:
            return errors.TooManyRequestsError(message="Too many connections to this server")
        if len(self._by_identity.get(identity, ())) >= self.max_per_identity:
            return errors.TooManyRequestsError(message="Too many connections for this identity")
        self._unpend(session)
        self._admitted += 1
        self._by_identity.setdefault(identity, set()).add(session)
        self._by_key.setdefault((grant.account_sid, grant.key_sid), set()).add(session)
        if self.presence is not None:
            self.presence.opened(grant.service_sid, grant.identity)
        return None

    def regrant(self, session: Session, old: ClientGrant, new: ClientGrant) -> None:
        self._remove(self._by_key, (old.account_sid, old.key_sid), session)
        self._by_key.setdefault((new.account_sid, new.key_sid), set()).add(session)

    def opened(self, session: Session, socket: Socket) -> None:
        """A socket was accepted: it waits for its init, and may make room for itself."""
        self.sessions.add(session)
        if len(self.pending) >= self.max_pending:
            oldest = next(iter(self.pending))
            log.warning("pending client connection limit (%d) reached", self.max_pending)
            self.pending[oldest].abort("pending_limit")
            self._unpend(oldest)
        self.pending[session] = socket
        host = _host(session)
        self._pending_by_address[host] = self._pending_by_address.get(host, 0) + 1

    def _unpend(self, session: Session) -> None:
        if self.pending.pop(session, None) is not None:
            host = _host(session)
            left = self._pending_by_address[host] - 1
            if left:
                self._pending_by_address[host] = left
            else:
                del self._pending_by_address[host]

    def closed(self, session: Session) -> None:
        self.sessions.discard(session)
        self._unpend(session)
        grant = session.grant
        if grant is not None:
            identity = (grant.account_sid, grant.service_sid, grant.identity)
            admitted = session in self._by_identity.get(identity, ())
            self._remove(self._by_identity, identity, session)
            if admitted:
                self._admitted -= 1
                if self.presence is not None:
                    self.presence.closed(grant.service_sid, grant.identity)
            self._remove(self._by_key, (grant.account_sid, grant.key_sid), session)

    def connected_clients(self) -> list[ConnectedClient]:
        """The console's list: every session that completed init (never its token)."""
        return [
            ConnectedClient(s.grant.identity, s.grant.service_sid, s.connected_at, s.address)
            for s in self.sessions
            if s.grant is not None
        ]

    def notifiers(
        self, account_sid: str, service_sid: str, identity: str
    ) -> list[Callable[[str, bytes], None]]:
        """How to notify each connection of one identity (typing fan-out)."""
        return [s.notify for s in self._by_identity.get((account_sid, service_sid, identity), ())]

    def api_keys(self) -> list[_ApiKey]:
        return list(self._by_key)

    def signed_with(self, key: _ApiKey) -> list[Session]:
        return list(self._by_key.get(key, ()))

    @staticmethod
    def _remove(index: dict[Any, set[Session]], key: Any, session: Session) -> None:
        members = index.get(key)
        if members is not None:
            members.discard(session)
            if not members:
                del index[key]


class Gateway:
    """The ASGI app for WebSocket scopes, and the process's connections."""

    def __init__(
        self,
        env: SessionEnv,
        connections: Connections,
        key_is_live: KeyIsLive,
        *,
        key_check_interval: float,
        public_url: str | None,
    ) -> None:
        self.env = env
        self.connections = connections
        self.key_is_live = key_is_live
        self.key_check_interval = key_check_interval
        self.public_url = public_url
        self.closing = False
        self._tasks: list[asyncio.Task[None]] = []
        #: connections closed since the last memory trim
        self._closed_since_trim = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        socket: Socket | None = scope.get("extensions", {}).get(EXTENSION)
        if scope["path"] != PATH or self.closing or socket is None:
            # closing before accepting answers the handshake with HTTP 403
            if socket is None:
                log.error("client connections need chinwag's WebSocket protocol (chinwag serve)")
            code = 1012 if self.closing else 1008
            await send({"type": "websocket.close", "code": code})
            return
        peer = scope.get("client")
        if not self.connections.may_open(peer[0] if peer else None):
            await _refuse(send, errors.TooManyRequestsError(message="Too many connections"))
            return
        await send({"type": "websocket.accept"})
        address = f"{peer[0]}:{peer[1]}" if peer else None
        transport = _AsgiTransport(send, socket)
        session = Session(self.env, transport, self._public_url(scope), address)
        self.connections.opened(session, socket)
        self.env.counters.connections += 1
        socket.take_quickly(session)
        session.start()
        try:
            await self._serve(session, receive)
        finally:
            if socket.aborted is not None and session.state is not State.CLOSED:
                self.env.counters.count_close(socket.aborted)  # ping_timeout, pending_limit
            socket.take_quickly(None)
            session.disconnected()
            self.connections.closed(session)
            self.env.counters.connections -= 1
            self._closed_since_trim += 1

    async def _serve(self, session: Session, receive: Receive) -> None:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            data = message.get("bytes")
            if data is None:  # a text frame: the SDK sends and reads binary frames only
                session.protocol_error("text frame", ws_code=1003)
            else:
                await session.receive(data)

    def _public_url(self, scope: Scope) -> str:
        """This server's plain HTTP base, for links that bypass the socket (media)."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), None)
        if host is None:
            server = scope.get("server") or ("localhost", 80)
            host = f"{server[0]}:{server[1]}"
        return f"{'https' if scope.get('scheme') == 'wss' else 'http'}://{host}"

    # --- background work --------------------------------------------------------------------

    def start(self) -> None:
        """Start the key checker, the memory trim and, in a server's main thread, the SIGTERM
        offload."""
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._check_keys_forever()),
            loop.create_task(self._trim_forever()),
        ]
        if threading.current_thread() is threading.main_thread():
            self._offload_on_sigterm()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _trim_forever(self) -> None:
        """Give closed connections' memory back to the system (``chinwag.memory``)."""
        while True:
            await asyncio.sleep(memory.INTERVAL)
            if self._closed_since_trim:
                self._closed_since_trim = 0
                memory.release_free_memory()

    async def _check_keys_forever(self) -> None:
        while True:
            await asyncio.sleep(self.key_check_interval)
            try:
                await self.check_keys()
            except Exception:  # a database outage: keep the connections, try again later
                log.warning("could not check the API keys of client connections", exc_info=True)

    async def check_keys(self) -> None:
        """Close (401) every connection whose token was signed with a key deleted since."""
        for account_sid, key_sid in self.connections.api_keys():
            if not await self.key_is_live(account_sid, key_sid):
                for session in self.connections.signed_with((account_sid, key_sid)):
                    session.close(401, "API key deleted", "key_deleted", ws_code=1000)

    async def offload(self) -> None:
        """Close every connection with 308 so its client reconnects (to another process)."""
        self.closing = True
        sessions = list(self.connections.sessions)
        for session in sessions:
            session.close(308, "Offload: reconnect", "offload", ws_code=1001)
        flushed = [asyncio.ensure_future(session.wait_flushed()) for session in sessions]
        if flushed:
            await asyncio.wait(flushed, timeout=OFFLOAD_FLUSH_SECONDS)
        log.info("offloaded %d client connections", len(sessions))

    def _offload_on_sigterm(self) -> None:
        """Run :meth:`offload` before the server's own SIGTERM handling.

        uvicorn's shutdown closes WebSockets with 1012 at once, which the SDK treats as a lost
        socket (backoff from 1 s); a Twilsock 308 is the protocol's "reconnect elsewhere". The
        handler wraps whatever handler is installed (uvicorn's) and calls it once the 308
        frames are written, so the REST side's graceful shutdown runs unchanged after.
        """
        loop = asyncio.get_running_loop()
        previous = signal.getsignal(signal.SIGTERM)

        def start_offload(signum: int, frame: FrameType | None) -> None:
            task = loop.create_task(self.offload())
            task.add_done_callback(lambda _: _chain(previous, signum, frame))

        def handle(signum: int, frame: FrameType | None) -> None:
            if self.closing:  # a second SIGTERM: do not wait for the offload
                _chain(previous, signum, frame)
                return
            self.closing = True
            loop.call_soon_threadsafe(start_offload, signum, frame)

        signal.signal(signal.SIGTERM, handle)


def _host(session: Session) -> str:
    """The client's address without its port (the per-address cap counts hosts)."""
    return (session.address or "").rpartition(":")[0]


async def _refuse(send: Send, error: errors.ChinwagError) -> None:
    """Answer the WebSocket handshake with an HTTP error in Twilio's JSON (the SDK retries a
    failed handshake with backoff)."""
    body = orjson.dumps(error.to_dict())
    headers = [(b"content-type", b"application/json"), (b"retry-after", b"5")]
    await send(
        {"type": "websocket.http.response.start", "status": error.status, "headers": headers}
    )
    await send({"type": "websocket.http.response.body", "body": body})


def _chain(previous: Any, signum: int, frame: FrameType | None) -> None:
    if callable(previous):
        previous(signum, frame)
    elif previous == signal.SIG_DFL:
        signal.raise_signal(signum)
