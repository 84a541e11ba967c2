"""``create_app``: wires storage, domain, the two doors and lifespan into one ASGI app.

HTTP requests reach the HTTP door (``chinwag.http.server``), which serves one route table:
``/healthz``, ``/metrics``, the REST API, media, the console and (when on) the control API.
WebSocket scopes go to the Twilsock gateway, since clients authenticate with an access token
inside the socket, not with Basic auth. The database opens and the account is resolved in
the ASGI lifespan startup, before the server accepts requests. ``chinwag serve`` resolves the
account once, before any worker starts (:func:`resolve_account`), so workers never race to
generate one; :func:`create_app_from_environment` is the factory each worker calls.
"""

from __future__ import annotations

import dataclasses
import functools
import gc
import logging
import multiprocessing
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import falcon
import falcon.asgi

from chinwag import config, errors, lifeline, logs
from chinwag.admin.clients import ClientDirectory
from chinwag.api.routing import Route, RouteTable
from chinwag.clock import Clock, ControllableClock, SystemClock
from chinwag.config import Settings, load_settings
from chinwag.domain import access_tokens
from chinwag.domain.accounts import ensure_account, find_stored_account, other_account_sids
from chinwag.domain.api_keys import ensure_api_key, key_secret_matches
from chinwag.domain.deps import Caller, Deps, NoPushes, PushQueue
from chinwag.domain.media import MediaExpiry
from chinwag.domain.rate_limits import RateLimits
from chinwag.domain.reachability import reachability_changed_txn
from chinwag.events.local import LocalBus
from chinwag.events.metrics import BusCollector
from chinwag.http.auth import BasicAuth
from chinwag.http.console import console_routes
from chinwag.http.context import Api
from chinwag.http.control import CONTROL_ROUTES
from chinwag.http.home import home_routes
from chinwag.http.media import media_routes
from chinwag.http.metrics import Metrics
from chinwag.http.observe import LogFormat, Observe
from chinwag.http.render_v2 import V2Renderer
from chinwag.http.routes import V1, V2, V3, Access, Endpoint, bind, resource_routes
from chinwag.http.server import HttpDoor
from chinwag.model.ephemeral import TypingStarted
from chinwag.model.events import API_ACTOR
from chinwag.model.records import Account
from chinwag.model.topics import Topic
from chinwag.push.dispatcher import PushDispatcher, PushDispatchSettings
from chinwag.push.outbox import PushOutbox
from chinwag.push.providers import Providers, provider_settings
from chinwag.realtime.fanout import RedisCollector, RedisFanout
from chinwag.realtime.presence import Presence
from chinwag.realtime.routes import Router
from chinwag.realtime.sync.projection import SyncProjection
from chinwag.realtime.sync.subscriptions import SyncHub, SyncSettings
from chinwag.realtime.twilsock.gateway import Connections, Gateway
from chinwag.realtime.twilsock.session import Limits, SessionEnv
from chinwag.realtime.typing_indicator import TypingFanout
from chinwag.sids import SidGenerator
from chinwag.storage.database import Database, Txn
from chinwag.storage.engines import create_engine
from chinwag.webhooks.dispatcher import Dispatcher, DispatchSettings
from chinwag.webhooks.gate import Gate
from chinwag.webhooks.sender import Sender

log = logging.getLogger(__name__)


def _database(settings: Settings) -> Database:
    return Database(
        create_engine(
            settings.database,
            sqlite_synchronous=settings.sqlite_synchronous,
            pool_size=settings.pool_size,
        )
    )


def configured_account(settings: Settings) -> Account | None:
    if settings.account_sid and settings.auth_token:
        return Account(settings.account_sid, settings.auth_token)
    return None


@asynccontextmanager
async def open_deps(settings: Settings) -> AsyncIterator[Deps]:
    """The domain's dependencies on an open database, for one-shot work outside a server
    (``serve``'s start-up, CLI commands): no webhooks are sent from here. Sync events are
    recorded as always; servers' feeds find them on their next read."""
    db = _database(settings)
    await db.open()
    try:
        projection = SyncProjection(lambda owners: None)
        yield Deps(db, SystemClock(), SidGenerator(), LocalBus(), projection=projection)
    finally:
        await db.close()


async def resolve_account(settings: Settings) -> tuple[Account, bool]:
    """The account to serve, generating and storing one if none is configured or stored.

    Returns the account and whether it was just generated (so its token can be shown once).
    """
    async with open_deps(settings) as deps:
        return await ensure_account(deps, configured_account(settings))


async def stored_account(settings: Settings) -> Account | None:
    """The account stored in the database, for ``chinwag account show``."""
    async with open_deps(settings) as deps:
        return await find_stored_account(deps)


async def hidden_accounts(settings: Settings, account_sid: str) -> list[str]:
    """Other accounts whose data the database holds and serving ``account_sid`` hides."""
    async with open_deps(settings) as deps:
        return await other_account_sids(deps, account_sid)


def _clock(settings: Settings) -> Clock:
    return ControllableClock() if settings.clock == "controllable" else SystemClock()


class _Health:
    """``GET /healthz``: 200 once the process serves requests and its database answers, with
    the state of each dependency: ``database`` and ``redis`` (``off`` when none is set).

    An unreachable database, or writes failing in the last few seconds (a full disk), is a 503
    in Twilio's error format (the same answer API requests get), so a load balancer stops
    sending traffic until it returns. Redis away is a 200 with ``"status": "degraded"``: the
    process still serves everything but typing and wake-ups between processes.
    """

    def __init__(self, db: Database, fanout: RedisFanout | None) -> None:
        self.db = db
        self.fanout = fanout

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        if self.db.writes_failing():  # e.g. a full disk: reads still work, writes do not
            raise errors.DatabaseUnavailableError()
        await self.db.run_read("healthz", _ping)
        redis = "off"
        if self.fanout is not None:
            redis = "ok" if self.fanout.connected else "unreachable"
        status = "degraded" if redis == "unreachable" else "ok"
        resp.media = {"status": status, "database": "ok", "redis": redis}

    on_head = on_get  # load balancers probe with HEAD; Falcon drops the body


class _MetricsEndpoint:
    """``GET /metrics`` in Prometheus text format (no credentials, like ``/healthz``)."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.content_type = "text/plain; version=0.0.4; charset=utf-8"
        resp.data = self.metrics.render()

    on_head = on_get


async def _ping(txn: Txn) -> None:
    await txn.fetchone("SELECT 1")


class _Lifespan:
    """The ASGI lifespan: open the database, resolve the account and make the configured API
    key exist on startup (every worker does; the key's upsert is idempotent); stop the
    background work and close the database on shutdown. A failed startup is reported to the
    server, which then exits instead of serving."""

    def __init__(self, chinwag: ChinwagApp) -> None:
        self.chinwag = chinwag

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:
                    log.exception("start-up failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                try:
                    await self.shutdown()
                except Exception as exc:
                    log.exception("shutdown failed")
                    await send({"type": "lifespan.shutdown.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def startup(self) -> None:
        app = self.chinwag
        await app.deps.db.open()
        settings = app.api.settings
        account, _ = await ensure_account(app.deps, configured_account(settings))
        if settings.api_key_sid and settings.api_key_secret:
            await ensure_api_key(
                app.deps, account.sid, settings.api_key_sid, settings.api_key_secret
            )
        app.account = account
        app.api.caller = Caller(account.sid, API_ACTOR)
        app.auth.set_account(account.sid, account.auth_token)
        app.dispatcher.start()
        if settings.push_enabled:
            app.push.start()
        app.media_expiry.start()
        app.gateway.start()
        app.presence.start()
        if app.fanout is not None:
            app.fanout.start()

    async def shutdown(self) -> None:
        await self.chinwag.gateway.stop()
        await self.chinwag.presence.stop()
        await self.chinwag.dispatcher.stop()
        await self.chinwag.push.stop()
        await self.chinwag.media_expiry.stop()
        if self.chinwag.fanout is not None:
            await self.chinwag.fanout.stop()
        await self.chinwag.sync.close()
        await self.chinwag.deps.bus.close()
        await self.chinwag.deps.db.close()


class ChinwagApp:
    """The ASGI application, with its state reachable for tests and the CLI."""

    def __init__(
        self, settings: Settings, *, clock: Clock | None = None, sids: SidGenerator | None = None
    ) -> None:
        db, clock = _database(settings), clock or _clock(settings)
        self.account: Account | None = None
        self.metrics = Metrics(db.engine)
        sender = Sender(
            timeout=settings.webhook_timeout, block_private=settings.webhook_block_private
        )
        self.dispatcher = Dispatcher(
            db,
            clock,
            sender,
            self._auth_token,
            DispatchSettings(
                retries=settings.webhook_retries,
                retry_base=settings.webhook_retry_base,
                retention=settings.webhook_log_retention,
                grace=settings.webhook_timeout + 1,
                lease=2 * settings.webhook_timeout + 5,
            ),
            self.metrics.registry,
        )
        webhooks = Gate(
            db,
            clock,
            sender,
            self._auth_token,
            self.dispatcher.wake,
            rest_pre_events=settings.webhook_rest_pre_events,
        )
        self.sync = SyncHub(
            db, clock, SyncSettings(poll_interval=config.sync_poll_interval(settings))
        )
        self.fanout: RedisFanout | None = None
        if settings.redis_url is not None:
            self.fanout = RedisFanout(settings.redis_url, self.sync.wake_local, self.sync.wake_all)
            self.sync.set_publisher(self.fanout.publish)
            self.metrics.registry.register(RedisCollector(self.fanout))
        bus = LocalBus(self.fanout)
        self.metrics.registry.register(BusCollector(bus))
        #: sends the push outbox (started only when ``push_enabled``): never in a request
        self.push = PushDispatcher(
            db,
            clock,
            Providers(provider_settings(settings)),
            PushDispatchSettings(),
            registration_removed=self._registration_removed,
            registry=self.metrics.registry,
        )
        pushes: PushQueue = (
            PushOutbox(clock, self.push.wake) if settings.push_enabled else NoPushes()
        )
        limits = RateLimits(
            settings.rate_limit_channel, settings.rate_limit_service, settings.typing_throttle
        )
        self.deps = Deps(
            db,
            clock,
            sids or SidGenerator(),
            bus,
            webhooks,
            limits,
            projection=SyncProjection(self.sync.wake),
            pushes=pushes,
        )
        self.api = Api(self.deps, settings)
        self.media_expiry = MediaExpiry(self.deps, int(settings.media_unsent_ttl * 1000))
        self.presence = Presence(self.deps, settings.reachability_heartbeat)
        self.gateway = _gateway(settings, self.deps, self.metrics, self.sync, self.presence)
        bus.subscribe(
            TypingFanout(self.gateway.connections.notifiers), topic=Topic((TypingStarted,))
        )
        #: connected chat clients, for the console: this process's gateway connections
        self.clients: ClientDirectory = self.gateway.connections
        routes: list[Route[Endpoint]] = [
            *resource_routes("/healthz", _Health(self.deps.db, self.fanout), Access.OPEN),
            *resource_routes("/metrics", _MetricsEndpoint(self.metrics), Access.OPEN),
            *home_routes(settings.admin_console),
            *bind(self.api, V1),
            *bind(self.api, (*V2, *V3), shapes=V2Renderer(settings.media_max_bytes)),
            *media_routes(self.api, self._auth_token),
        ]
        if settings.admin_console:
            routes += console_routes(self.api, self.dispatcher, lambda: self.clients)
        if config.control_api_on(settings):
            routes += bind(self.api, CONTROL_ROUTES, Access.ACCOUNT_ONLY)
        self.auth = BasicAuth(self._check_key, public_url=settings.public_url)
        self.observe = Observe(self.metrics, log_format=cast(LogFormat, settings.log_format))
        self.http = HttpDoor(RouteTable(routes), self.observe, self.auth)
        self.lifespan = _Lifespan(self)

    def _auth_token(self, account_sid: str) -> str:
        """The key webhook signatures are made with: the served account's auth token."""
        assert self.account is not None  # set at startup, before any request or delivery
        return self.account.auth_token

    async def _registration_removed(self, txn: Txn, service_sid: str, identity: str) -> None:
        """A provider called a device dead and its registration went: the user may no longer
        be notifiable (reachability), in the same transaction."""
        await reachability_changed_txn(self.deps, txn, service_sid, identity)

    async def _check_key(self, key_sid: str, secret: bytes) -> bool:
        """REST credentials of an API key: a live key of the served account."""
        assert self.account is not None  # set at startup, before any request
        return await key_secret_matches(self.deps, self.account.sid, key_sid, secret)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind == "http":
            await self.http(scope, receive, send)
        elif kind == "websocket":
            await self.gateway(scope, receive, send)
        elif kind == "lifespan":
            await self.lifespan(scope, receive, send)


def _gateway(
    settings: Settings, deps: Deps, metrics: Metrics, sync: SyncHub, presence: Presence
) -> Gateway:
    limits = Limits(
        max_body_bytes=settings.max_body_bytes,
        upstream_rate=settings.gateway_upstream_rate,
        upstream_concurrency=settings.gateway_upstream_concurrency,
        init_timeout=settings.gateway_init_timeout,
        token_warning=settings.gateway_token_warning,
        write_timeout=settings.gateway_write_timeout,
        max_buffered_bytes=settings.gateway_max_buffered_bytes,
        max_failed_inits=settings.gateway_max_failed_inits,
    )
    connections = Connections(
        settings.gateway_max_connections,
        settings.gateway_max_connections_per_identity,
        presence,
        max_pending=settings.gateway_max_pending,
        max_pending_per_address=settings.gateway_max_pending_per_address,
    )
    env = SessionEnv(
        deps,
        limits,
        functools.partial(access_tokens.authenticate, deps),
        Router(),
        connections,
        metrics.gateway,
        sync,
    )
    return Gateway(
        env,
        connections,
        functools.partial(access_tokens.key_is_live, deps),
        key_check_interval=settings.gateway_key_check_interval,
        public_url=settings.public_url,
    )


def create_app(
    settings: Settings, *, clock: Clock | None = None, sids: SidGenerator | None = None
) -> ChinwagApp:
    return ChinwagApp(settings, clock=clock, sids=sids)


def create_app_from_environment() -> ChinwagApp:
    """The app factory worker processes call (settings come from ``CHINWAG_*``).

    A worker ends (SIGTERM: a graceful stop) when its supervisor dies: killed with ``kill -9``
    or by the OOM killer, the supervisor could not stop it, and nothing would restart it.
    """
    supervisor = multiprocessing.parent_process()
    if supervisor is not None and supervisor.pid is not None:
        lifeline.die_with_parent(signal.SIGTERM, supervisor.pid)
    settings = load_settings()
    logs.configure(settings)
    app = create_app(settings)
    freeze_startup_objects()
    return app


def freeze_startup_objects() -> None:
    """Move everything alive at start-up (modules, the app) out of the garbage collector's view.

    Under load, requests waiting for their commit group live long enough to trigger full
    collections several times a second, and each one walked every imported module's objects:
    pauses that set the create p99 (docs/performance.md). Called once per server
    process, never by tests that start many apps in one process.
    """
    gc.collect()
    gc.freeze()


def with_account(settings: Settings, account: Account) -> Settings:
    return dataclasses.replace(settings, account_sid=account.sid, auth_token=account.auth_token)
