"""``ws://HOST:PORT/v3/wsconnect``: the ASGI WebSocket endpoint chat clients connect to.

The gateway accepts the socket, feeds each binary message to the connection's
:class:`~chinwag.realtime.twilsock.session.Session`, and keeps the process-wide view: how many
connections each identity and the process hold (the limits checked at init), which API keys
they were signed with (a deleted key ends its connections within
``gateway_key_check_interval``), and, on SIGTERM, a ``close`` 308 to every connection so
clients reconnect to another process before uvicorn's own shutdown drops the sockets.

Dead peers are uvicorn's to notice: it pings every ``gateway_ping_interval`` seconds and drops
a connection whose pong is ``gateway_ping_timeout`` late.
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

from chinwag import errors
from chinwag.admin.clients import ConnectedClient
from chinwag.domain.access_tokens import ClientGrant
from chinwag.realtime.presence import Presence
from chinwag.realtime.twilsock.session import Session, SessionEnv

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
    def __init__(self, send: Send) -> None:
        self._send = send

    async def send(self, data: bytes) -> None:
        await self._send({"type": "websocket.send", "bytes": data})

    async def close(self, code: int) -> None:
        with contextlib.suppress(OSError, RuntimeError):  # the peer may be gone already
            await self._send({"type": "websocket.close", "code": code})


class Connections:
    """Every session of this process, by identity and by API key (the session's Admission)."""

    def __init__(
        self, max_total: int, max_per_identity: int, presence: Presence | None = None
    ) -> None:
        self.max_total = max_total
        self.max_per_identity = max_per_identity
        #: told when a user's first connection here opens and their last one closes
        self.presence = presence
        self.sessions: set[Session] = set()
        self._by_identity: dict[_IdentityKey, set[Session]] = {}
        self._by_key: dict[_ApiKey, set[Session]] = {}

    def admit(self, session: Session, grant: ClientGrant) -> errors.ChinwagError | None:
        identity = (grant.account_sid, grant.service_sid, grant.identity)
        if len(self.sessions) > self.max_total:
            return errors.TooManyRequestsError(message="Too many connections to this server")
        if len(self._by_identity.get(identity, ())) >= self.max_per_identity:
            return errors.TooManyRequestsError(message="Too many connections for this identity")
        self._by_identity.setdefault(identity, set()).add(session)
        self._by_key.setdefault((grant.account_sid, grant.key_sid), set()).add(session)
        if self.presence is not None:
            self.presence.opened(grant.service_sid, grant.identity)
        return None

    def regrant(self, session: Session, old: ClientGrant, new: ClientGrant) -> None:
        self._remove(self._by_key, (old.account_sid, old.key_sid), session)
        self._by_key.setdefault((new.account_sid, new.key_sid), set()).add(session)

    def opened(self, session: Session) -> None:
        self.sessions.add(session)

    def closed(self, session: Session) -> None:
        self.sessions.discard(session)
        grant = session.grant
        if grant is not None:
            identity = (grant.account_sid, grant.service_sid, grant.identity)
            admitted = session in self._by_identity.get(identity, ())
            self._remove(self._by_identity, identity, session)
            if admitted and self.presence is not None:
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
        self._key_checker: asyncio.Task[None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        if scope["path"] != PATH or self.closing:
            # closing before accepting answers the handshake with HTTP 403
            code = 1012 if self.closing else 1008
            await send({"type": "websocket.close", "code": code})
            return
        await send({"type": "websocket.accept"})
        peer = scope.get("client")
        address = f"{peer[0]}:{peer[1]}" if peer else None
        session = Session(self.env, _AsgiTransport(send), self._public_url(scope), address)
        self.connections.opened(session)
        self.env.counters.connections += 1
        session.start()
        try:
            await self._serve(session, receive)
        finally:
            session.disconnected()
            self.connections.closed(session)
            self.env.counters.connections -= 1

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
        """Start the key checker and, in a server's main thread, the SIGTERM offload."""
        self._key_checker = asyncio.get_running_loop().create_task(self._check_keys_forever())
        if threading.current_thread() is threading.main_thread():
            self._offload_on_sigterm()

    async def stop(self) -> None:
        if self._key_checker is not None:
            self._key_checker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._key_checker

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


def _chain(previous: Any, signum: int, frame: FrameType | None) -> None:
    if callable(previous):
        previous(signum, frame)
    elif previous == signal.SIG_DFL:
        signal.raise_signal(signum)
