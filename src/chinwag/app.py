"""``create_app``: wires storage, domain, routes, middleware and lifespan into one ASGI app.

The returned app is ``BasicAuth(falcon_app)``; the database opens and the account is resolved
in the ASGI lifespan startup, before the server accepts requests.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import falcon
import falcon.asgi

from chinwag import errors
from chinwag.clock import Clock, SystemClock
from chinwag.config import Settings
from chinwag.domain.accounts import ensure_account
from chinwag.domain.deps import Caller, Deps
from chinwag.domain.events import API_ACTOR
from chinwag.domain.models import Account
from chinwag.events.bus import EventBus
from chinwag.http.auth import BasicAuth
from chinwag.http.context import Api
from chinwag.http.errors import handle_chinwag_error, handle_http_error, handle_unexpected
from chinwag.http.routes import add_routes
from chinwag.sids import SidGenerator
from chinwag.storage.database import Database
from chinwag.storage.engine import create_engine

log = logging.getLogger(__name__)

AccountCreated = Callable[[Account], None]


class _Health:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.media = {"status": "ok"}


class _Lifespan:
    """Falcon lifespan middleware: open the database and resolve the account on startup."""

    def __init__(self, chinwag: ChinwagApp, on_account_created: AccountCreated | None) -> None:
        self.chinwag = chinwag
        self.on_account_created = on_account_created

    async def process_startup(self, scope: Any, event: Any) -> None:
        app = self.chinwag
        await app.deps.db.open()
        settings = app.api.settings
        configured = None
        if settings.account_sid and settings.auth_token:
            configured = Account(settings.account_sid, settings.auth_token)
        account, created = await ensure_account(app.deps, configured)
        if created and self.on_account_created is not None:
            self.on_account_created(account)
        app.account = account
        app.api.caller = Caller(account.sid, API_ACTOR)
        app.auth.set_account(account.sid, account.auth_token)

    async def process_shutdown(self, scope: Any, event: Any) -> None:
        await self.chinwag.deps.db.close()


class ChinwagApp:
    """The ASGI application, with its state reachable for tests and the CLI."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        sids: SidGenerator | None = None,
        on_account_created: AccountCreated | None = None,
    ) -> None:
        engine = create_engine(settings.database, sqlite_synchronous=settings.sqlite_synchronous)
        self.deps = Deps(
            Database(engine), clock or SystemClock(), sids or SidGenerator(), EventBus()
        )
        self.api = Api(self.deps, settings)
        self.account: Account | None = None
        falcon_app = falcon.asgi.App(middleware=[_Lifespan(self, on_account_created)])
        falcon_app.add_error_handler(Exception, handle_unexpected)
        falcon_app.add_error_handler(falcon.HTTPError, handle_http_error)
        falcon_app.add_error_handler(errors.ChinwagError, handle_chinwag_error)
        falcon_app.add_route("/healthz", _Health())
        add_routes(falcon_app, self.api)
        self.auth = BasicAuth(falcon_app)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.auth(scope, receive, send)


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    sids: SidGenerator | None = None,
    on_account_created: AccountCreated | None = None,
) -> ChinwagApp:
    return ChinwagApp(settings, clock=clock, sids=sids, on_account_created=on_account_created)
