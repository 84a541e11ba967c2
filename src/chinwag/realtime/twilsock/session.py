"""One client connection's Twilsock state machine.

::

        WebSocket accepted
               |
               v
      +-----------------+  init refused (401/403: bad token; 429: too many
      |  AWAITING_INIT  |<-- connections; 5xx) -> error reply, stays here;
      +-----------------+    the gateway_max_failed_inits-th refusal: close 401
        |        |   \\____ no successful init within gateway_init_timeout: closed (1008)
        | init   | message/update before init: error reply 401 (20003)
        | ok     v
        |   (reply only)
        v
      +-----------------+  update ok -> reply 200, new expiry, same state
      |    CONNECTED    |  update refused -> error reply (the SDK goes `denied`)
      +-----------------+  message -> upstream request (a task) -> reply + http_status
        |                  (a command's reply after its own events: ordering.py)
        |                  put/delete_notification_ctx -> notification types (revisions.py)
        |  exp - gateway_token_warning: client_update token_about_to_expire
        |
        |  exp reached ............... close 410 (token expired)       WS 1000
        |  API key deleted ........... close 401 (auth failure)        WS 1000
        |  SIGTERM ................... close 308 (offload: reconnect)  WS 1001
        |  outbound bytes over budget  close 308 (reconnect, replay)   WS 1013
        |  broken frame (any state) .. close 406 (can't parse)         WS 1002/1003
        |  a write waits too long .... dropped (reset), nothing sent
        |  client close / socket lost
        v
      +-----------------+
      |     CLOSED      |  timers and upstream tasks cancelled; nothing more is queued
      +-----------------+

Frames leave through one queue per connection (``outbound.py``: written in batches, one write
for whatever waited), so replies, notifications and the final ``close`` keep their order and a
slow client never blocks anyone else. The queue is bounded in bytes
(``gateway_max_buffered_bytes``, counting what the socket has not sent yet): past it the client
is closed with 308 and reconnects (Sync replays what it missed). One frame larger than the
budget still goes out when nothing else waits: it is a reply the client asked for, held to the
REST API's page sizes. Nothing waits on the client for long: a write that has not gone out
within ``gateway_write_timeout`` drops the connection, and so does a close whose frames the
client has not taken by then, so a client that stops reading is gone within that time. Each
upstream request runs as its own task, at most ``gateway_upstream_concurrency`` at once and
``gateway_upstream_rate`` per second (token updates count too); more answer ``http_status`` 429.
A message over ``gateway_max_frame_bytes`` (before init, ``gateway_init_max_frame_bytes``) never
reaches the session: the WebSocket layer closes the connection with 1009."""

from __future__ import annotations

import asyncio
import enum
import itertools
import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from chinwag import errors
from chinwag.api.counters import GatewayCounters
from chinwag.domain.access_tokens import ClientGrant
from chinwag.domain.deps import Caller, Deps
from chinwag.model.events import Actor
from chinwag.realtime.context import Client, Request, Response, error_response
from chinwag.realtime.routes import Router
from chinwag.realtime.sync.subscriptions import SyncConnection, SyncHub
from chinwag.realtime.twilsock.batching import accepts_batches
from chinwag.realtime.twilsock.codec import Frame, FrameError, Notification, decode, encode
from chinwag.realtime.twilsock.ordering import SETTLE_SECONDS, Acks, frame_number, is_command
from chinwag.realtime.twilsock.outbound import Flusher, Outbox, Transport, Unshared
from chinwag.realtime.twilsock.revisions import Registrations

log = logging.getLogger(__name__)

#: capabilities chinwag confirms in the init reply (the SDK also offers offline_storage and
#: telemetry.v1; without them it skips session storage and sends no telemetry frames)
CAPABILITIES = ("client_update",)

_OK = {"code": 200, "status": "OK"}
_ids = itertools.count(1)


Authenticate = Callable[[str], Awaitable[ClientGrant]]


class State(enum.Enum):
    AWAITING_INIT = "awaiting_init"
    CONNECTED = "connected"
    CLOSED = "closed"


class Admission(Protocol):
    """Who else is connected: limits at init, bookkeeping as sessions come and go."""

    def admit(self, session: Session, grant: ClientGrant) -> errors.ChinwagError | None: ...

    def regrant(self, session: Session, old: ClientGrant, new: ClientGrant) -> None: ...


@dataclass(frozen=True, slots=True)
class Limits:
    max_body_bytes: int
    upstream_rate: int
    upstream_concurrency: int
    init_timeout: float
    token_warning: float
    write_timeout: float
    max_buffered_bytes: int
    max_failed_inits: int


@dataclass(frozen=True, slots=True)
class SessionEnv:
    """What every session of one gateway shares."""

    deps: Deps
    limits: Limits
    authenticate: Authenticate
    router: Router
    admission: Admission
    counters: GatewayCounters
    sync: SyncHub
    #: writes every connection's waiting frames, once per turn of the event loop
    flusher: Flusher = field(default_factory=Flusher)


def server_id() -> str:
    """An id for a server-initiated frame; the client echoes it in its ack."""
    return f"TS{next(_ids)}"


def reply_status(error: errors.ChinwagError) -> dict[str, Any]:
    """A reply's transport ``status`` for an error: the SDK reads ``code`` (the HTTP-like
    status) to decide whether to retry and ``errorCode`` (the Twilio code), e.g. 20104, to emit
    ``tokenExpired`` (client-protocol 1.4)."""
    return {
        "code": error.status,
        "status": error.message,
        "errorCode": error.code,
        "description": error.message,
    }


class _RateBucket:
    """Token bucket: ``rate`` requests per second, in bursts of up to ``rate``."""

    __slots__ = ("_at", "_rate", "_tokens")

    def __init__(self, rate: int) -> None:
        self._rate = float(rate)
        self._tokens = float(rate)
        self._at = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self._tokens = min(self._rate, self._tokens + (now - self._at) * self._rate)
        self._at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


class Session:
    """One connection: parses frames, answers them, and keeps the token's timers."""

    def __init__(
        self, env: SessionEnv, transport: Transport, public_url: str, address: str | None = None
    ) -> None:
        self.env = env
        self.transport = transport
        self.public_url = public_url
        #: the peer's address, for the admin console's list of connected clients
        self.address = address
        #: when init succeeded (ms since the epoch, on the app's clock); 0 before that
        self.connected_at = 0
        self.state = State.AWAITING_INIT
        self.grant: ClientGrant | None = None
        #: notification ``message_type``s the client registered (in its init, or as
        #: notification contexts: ``revisions.py``)
        self.message_types: frozenset[str] = frozenset()
        self._registrations = Registrations()
        self._acks = Acks()
        self._counters = env.counters
        self._client: Client | None = None
        self._sync: SyncConnection | None = None
        limits = env.limits
        self._out = Outbox(transport, env.flusher, env.counters, limits.write_timeout, self._drop)
        self._failed_inits = 0
        self._timers: list[asyncio.TimerHandle] = []
        self._upstream: set[asyncio.Task[None]] = set()
        self._bucket = _RateBucket(env.limits.upstream_rate)

    # --- life cycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Give the client ``init_timeout`` seconds to send a good init."""
        self._later(self.env.limits.init_timeout, self._init_timed_out)

    def disconnected(self) -> None:
        """The socket is gone: stop everything, send nothing more, and let go of what refers
        back to this session (its writer, its Sync connection), so that it is freed at once
        rather than by a garbage collection."""
        self.state = State.CLOSED
        self._stop_work()
        self._out.stop()  # the frames it held go now
        self._sync = self._client = None

    async def wait_flushed(self) -> None:
        """Until every queued frame (the final ``close`` included) has been written."""
        await self._out.flushed()

    def close(
        self,
        code: int,
        status: str,
        reason: str,
        *,
        ws_code: int,
        payload: Mapping[str, Any] | None = None,
    ) -> None:
        """Send a Twilsock ``close`` with ``code``, then close the WebSocket with ``ws_code``.

        ``reason`` labels the close in metrics. Closing twice does nothing.
        """
        if self.state is State.CLOSED:
            return
        self.state = State.CLOSED
        self._stop_work()
        self.env.counters.count_close(reason)
        body = b"" if payload is None else _json(payload)
        header: dict[str, Any] = {"method": "close", "id": server_id()}
        header["status"] = {"code": code, "status": status}
        if payload is not None:
            header["payload_type"] = "application/json"
        frame = encode(header, body)
        self._out.put(frame, len(frame))  # past the budget: a close always goes in
        self._out.close_after(ws_code)
        # what is queued goes out first, but a client that does not take it is not waited for
        self._later(self.env.limits.write_timeout, self._close_timed_out)

    def protocol_error(self, reason: str, *, ws_code: int = 1002) -> None:
        """The client does not speak Twilsock v3: close 406 (the SDK stops: ``unsupported``)."""
        log.info("closing a client connection: %s", reason)
        self.close(406, f"Not Acceptable: {reason}", "protocol", ws_code=ws_code)

    def _stop_work(self) -> None:
        if self._sync is not None:
            self.env.sync.detach(self._sync)
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        for task in self._upstream:
            task.cancel()

    def _later(self, delay: float, callback: Callable[[], None]) -> None:
        self._timers.append(asyncio.get_running_loop().call_later(max(delay, 0), callback))

    def _init_timed_out(self) -> None:
        if self.state is State.AWAITING_INIT:
            self.close(408, "Request Timeout: no init", "init_timeout", ws_code=1008)

    def _close_timed_out(self) -> None:
        self.transport.abort("close_timeout")

    def _drop(self, reason: str) -> None:
        """End the connection without a goodbye: the client is not taking what it is sent."""
        if self.state is not State.CLOSED:
            self.state = State.CLOSED
            self._stop_work()
            self.env.counters.count_close(reason)
        self.transport.abort(reason)

    # --- sending ----------------------------------------------------------------------------

    def _over(self, backlog: int, size: int) -> bool:
        """Whether ``size`` more bytes on a ``backlog`` the client has not taken exceed its
        budget; such a client is closed."""
        if backlog and backlog + size > self.env.limits.max_buffered_bytes:
            self.close(308, "Slow consumer: reconnect", "slow_consumer", ws_code=1013)
            return True
        return False

    def _enqueue(self, item: bytes | Notification | Unshared, size: int) -> bool:
        """Queue a frame of ``size`` bytes, unless the client is that far behind already."""
        if self.state is State.CLOSED or self._over(self._out.backlog(), size):
            return False
        self._out.put(item, size)
        return True

    def _reply(self, request_id: str, **fields: Any) -> None:
        self._send(encode({"method": "reply", "id": request_id, "status": _OK, **fields}))

    def _reply_error(
        self, request_id: str, error: errors.ChinwagError, body: Mapping[str, Any] | None = None
    ) -> None:
        header = {"method": "reply", "id": request_id, "status": reply_status(error)}
        if body is None:
            self._send(encode(header))
        else:
            self._send(encode({**header, "payload_type": "application/json"}, _json(body)))

    def _send(self, frame: bytes) -> None:
        self._enqueue(frame, len(frame))

    def notify(self, message_type: str, payload: bytes) -> None:
        """Queue a ``notification`` (JSON ``payload``) if the client registered its type."""
        if message_type in self.message_types:
            self.send_notifications((Notification(message_type, payload),))

    def send_notifications(self, notifications: Sequence[Notification]) -> None:
        """Queue ``notifications`` in order, those of types the client registered. One event
        fanned out to many connections is one :class:`Notification`: only the frame id is per
        connection. A feed hands a connection all of a read's events in one call."""
        if self.state is not State.CONNECTED:
            return
        out, types = self._out, self.message_types
        backlog = out.backlog()
        for notification in notifications:
            if notification.message_type not in types:
                continue
            parts = notification.batchable
            if parts is not None and out.joining:  # into a queued one (batching.py)
                size = len(parts[1]) + 1
                if self._over(backlog, size):
                    return
                if out.join(notification, size):
                    backlog += size
                    continue
            number = notification.number
            if not number:
                number = next(_ids)
                notification.share(f"TS{number}", number)
            item: Notification | Unshared = notification
            size = len(notification.shared)
            if not self._acks.follows(number):  # ids grow on each connection (ordering.py)
                number = next(_ids)
                item = Unshared(notification, f"TS{number}")
                size = notification.size(item.frame_id)
            if self._over(backlog, size):
                return
            out.put(item, size)
            backlog += size
            self._acks.sent(number)

    # --- receiving --------------------------------------------------------------------------

    def acknowledged(self, number: int, count: int) -> None:
        """``count`` acknowledgements read by the socket, the newest of ``TS<number>``: the
        SDK acknowledges every notification, in order (``websocket.Taker``)."""
        if self.state is not State.CLOSED:
            self._counters.frames_in += count
            self._acks.acknowledged(number)

    def receive_quickly(self, data: bytes) -> bool:
        """Handle ``data`` now if it is an acknowledgement in another form than the SDK's (a
        ``reply`` from the client), which needs no task; anything else is left to
        :meth:`receive`."""
        if data.find(b'"reply"', 0, 256) < 0:
            return False
        try:
            frame = decode(data)
        except FrameError:
            return False
        if frame.method != "reply":
            return False
        self.acknowledged(frame_number(frame.id), 1)
        return True

    async def receive(self, data: bytes) -> None:
        """Handle one binary WebSocket message from the client."""
        if self.state is State.CLOSED:
            return
        self.env.counters.frames_in += 1
        try:
            frame = decode(data)
        except FrameError as exc:
            self.protocol_error(exc.reason)
            return
        method, request_id = frame.method, frame.id
        if method is None or request_id is None:
            self.protocol_error("frame header needs a string method and id")
            return
        if method == "init":
            await self._init(request_id, frame)
        elif method == "reply":
            self._acks.acknowledged(frame_number(request_id))  # acks need no answer
        elif method == "telemetry.v1":
            return  # telemetry is not collected
        elif method == "close":
            self.close(200, "OK", "client", ws_code=1000)
        elif self.state is not State.CONNECTED:
            self._reply_error(request_id, errors.AuthenticationError())
        elif method == "message":
            self._message(request_id, frame)
        elif method == "update":
            await self._update(request_id, frame)
        elif method in ("put_notification_ctx", "delete_notification_ctx"):
            self._notification_context(request_id, method, frame)
        else:
            self._reply_error(
                request_id, errors.MalformedRequestError(detail=f"Unknown method {method[:64]}")
            )

    async def _verify(self, request_id: str, token: Any) -> ClientGrant | None:
        try:
            return await self.env.authenticate(token if isinstance(token, str) else "")
        except errors.ChinwagError as error:
            if error.status in (401, 403):
                self.env.counters.count_auth_failure(error.code)
            self._reply_error(request_id, error)
        except Exception:
            log.exception("verifying a client token failed")
            self._reply_error(request_id, errors.InternalError())
        return None

    async def _init(self, request_id: str, frame: Frame) -> None:
        if self.state is State.CONNECTED:
            self._reply_error(
                request_id, errors.MalformedRequestError(detail="Already initialized")
            )
            return
        grant = await self._verify(request_id, frame.header.get("token"))
        if self.state is not State.AWAITING_INIT:
            return
        if grant is None:
            self._init_failed()
            return
        refusal = self.env.admission.admit(self, grant)
        if refusal is not None:
            backoff = {"backoff_policy": {"reconnect_min_ms": 5000}}
            self._reply_error(request_id, refusal, backoff)
            self._init_failed()
            return
        self.state = State.CONNECTED
        self.transport.authenticated()
        self.connected_at = self.env.deps.clock.now_ms()
        self._registrations.from_init(frame.header.get("registrations"))
        if accepts_batches(frame.header.get("metadata")):
            self._out.batch_events()
        self.message_types = self._registrations.types
        sync = self.env.sync
        self._sync = sync.connect(grant.identity, grant.service_sid, self.send_notifications)
        self._use(grant)
        self._reply(
            request_id,
            continuation_token="CT" + os.urandom(16).hex(),
            continuation_token_status={"reused": False},
            capabilities=list(CAPABILITIES),
        )

    def _notification_context(self, request_id: str, method: str, frame: Frame) -> None:
        """The notification types of twilio-chat 3 to 5, registered after init."""
        context_id = frame.header.get("notification_ctx_id")
        try:
            if method == "put_notification_ctx":
                self._registrations.put(context_id, frame.payload)
            else:
                self._registrations.delete(context_id)
        except errors.ChinwagError as error:
            self._reply_error(request_id, error)
            return
        self.message_types = self._registrations.types
        self._reply(request_id)

    def _init_failed(self) -> None:
        """Each refused init costs a token check (a database read); the SDK sends one init per
        socket, so a socket that keeps sending them is closed."""
        self._failed_inits += 1
        if self._failed_inits >= self.env.limits.max_failed_inits:
            self.close(401, "Too many failed inits", "failed_inits", ws_code=1008)

    async def _update(self, request_id: str, frame: Frame) -> None:
        if not self._bucket.take():
            self._reply_error(request_id, errors.TooManyRequestsError())
            return
        grant = await self._verify(request_id, frame.header.get("token"))
        old = self.grant
        if grant is None or old is None or self.state is not State.CONNECTED:
            return
        if (grant.account_sid, grant.service_sid, grant.identity) != (
            old.account_sid,
            old.service_sid,
            old.identity,
        ):
            self.env.counters.count_auth_failure(errors.InvalidAccessTokenGrantsError.code)
            self._reply_error(
                request_id,
                errors.InvalidAccessTokenGrantsError(
                    message="The new token names another identity or service than this connection"
                ),
            )
            return
        self.env.admission.regrant(self, old, grant)
        self._use(grant)
        self._reply(request_id)

    def _use(self, grant: ClientGrant) -> None:
        """Bind the connection to ``grant`` and (re)arm its expiry timers."""
        self.grant = grant
        self._client = Client(
            self.env.deps,
            Caller(grant.account_sid, Actor("SDK", grant.identity)),
            grant.service_sid,
            grant.identity,
            self.public_url,
            self._sync,
            self.env.router.dispatch,
            grant.push_credential_sid,
        )
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        left = (grant.expires_at_ms - self.env.deps.clock.now_ms()) / 1000
        self._later(left - self.env.limits.token_warning, self._warn_expiry)
        self._later(left, self._expired)

    def _warn_expiry(self) -> None:
        if self.state is State.CONNECTED:
            number = next(_ids)
            header = {
                "method": "client_update",
                "id": f"TS{number}",
                "client_update_type": "token_about_to_expire",
            }
            self._send(encode(header))
            self._acks.other(number)

    def _expired(self) -> None:
        self.close(410, "Token expired", "token_expired", ws_code=1000)

    # --- upstream requests ------------------------------------------------------------------

    def _message(self, request_id: str, frame: Frame) -> None:
        request = Request.of(frame.header.get("http_request"), frame.payload)
        if request is None:
            self._reply_error(
                request_id, errors.MalformedRequestError(detail="Invalid http_request")
            )
            return
        too_many = len(self._upstream) >= self.env.limits.upstream_concurrency
        if too_many or not self._bucket.take():
            self._answer(request_id, "throttled", error_response(errors.TooManyRequestsError()))
            return
        if len(request.body) > self.env.limits.max_body_bytes:
            error = errors.PayloadTooLargeError(limit=self.env.limits.max_body_bytes)
            self._answer(request_id, "too_large", error_response(error))
            return
        task = asyncio.get_running_loop().create_task(self._run_upstream(request_id, request))
        self._upstream.add(task)
        task.add_done_callback(self._upstream.discard)

    async def _run_upstream(self, request_id: str, request: Request) -> None:
        assert self._client is not None  # set with the grant, before any message is accepted
        mark = self._acks.queued
        command = is_command(request)
        self._out.commands += command
        try:
            name, response = await self.env.router.dispatch(self._client, request)
            if command:
                await self._own_writes_first(mark)
            self._answer(request_id, name, response)
        finally:
            self._out.commands -= command

    async def _own_writes_first(self, mark: int) -> None:
        """Read your own writes (``ordering.py``): the command's own Sync events are queued,
        and handed to the SDK, before its reply. ``mark`` is ``Acks.queued`` from before the
        command ran."""
        if self._sync is not None:
            await self._sync.settle(SETTLE_SECONDS)
        await self._acks.handed_over(mark)

    def _answer(self, request_id: str, route: str, response: Response) -> None:
        self.env.counters.count_upstream(route, response.status)
        header = {
            "method": "reply",
            "id": request_id,
            "status": _OK,
            "http_status": {"code": response.status, "status": response.reason},
            "http_headers": {"Content-Type": "application/json"},
            "payload_type": "application/json",
        }
        self._send(encode(header, response.body))


def _json(value: Mapping[str, Any]) -> bytes:
    return orjson.dumps(value)
