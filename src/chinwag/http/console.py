"""The live admin console's routes: its page and assets, and the ``/_chinwag/`` JSON it needs.

========================  ================================================================
``GET /_chinwag/ui[/]``   the page (no credentials: it holds none; its login form asks)
``GET /_chinwag/ui/…``    its script, style and icon, shipped in the package
``GET /_chinwag/events``  server-sent events: messages, members, channels and typing, live
``GET /_chinwag/webhooks``                 the webhook delivery log, newest first
``POST /_chinwag/webhooks/{id}/retry``     re-queue a failed delivery through the outbox
``GET /_chinwag/pushes``  the push log (``?state=``), newest first: to whom, how it went, why
                          a push failed (``chinwag push log`` shows the same)
``GET /_chinwag/clients`` chat clients connected to this process (see
                          :mod:`chinwag.admin.clients`), and who is online on any process
``GET /_chinwag/media``   ``?service=IS…&channel=CH…``: what the channel's media messages
                          carry (the v1 REST message has no media field)
========================  ================================================================

Everything but the page and its assets needs the same credentials as the REST API (the
``BasicAuth`` middleware checks them before any of this runs). Browsing, search, posting a
message and adding a member go through the public REST API from the browser: no rule here.

**The event stream** is fed by an async subscriber on the event bus: the bus gives it a bounded
queue (:data:`QUEUE_SIZE` events), so a slow or stalled browser only ever loses its own newest
events (counted in ``chinwag_bus_events_dropped``), never slows a request. Each event is the
bus codec's JSON (``chinwag.events.codec``) with its tag as the SSE event name. The stream shows
the events of the process the browser is connected to, and the other processes' too when the
bus has a cross-process transport.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable
from typing import cast, get_args

import falcon
import falcon.asgi

from chinwag import errors
from chinwag.admin import STATIC, TEMPLATES
from chinwag.admin.clients import ClientDirectory
from chinwag.api.routing import Route
from chinwag.domain import messages, reachability
from chinwag.events.codec import TAGS, encode
from chinwag.http.context import Api
from chinwag.http.routes import Access, Endpoint, resource_routes
from chinwag.model import events as ev
from chinwag.model.ephemeral import TypingStarted
from chinwag.model.records import DeliveryState, PageRequest
from chinwag.model.topics import BusEvent, Topic
from chinwag.push import log as push_log
from chinwag.storage.stores import push_outbox as push_store
from chinwag.storage.stores import webhooks as webhook_store
from chinwag.webhooks.dispatcher import Dispatcher
from chinwag.webhooks.log import as_dict
from chinwag.webhooks.retry import retry_failed

#: the events the live feed shows: conversation activity, never credentials or keys
LIVE_KINDS: tuple[type[BusEvent], ...] = (
    ev.MessageAdded,
    ev.MessageUpdated,
    ev.MessageRemoved,
    ev.MemberAdded,
    ev.MemberUpdated,
    ev.MemberRemoved,
    ev.ChannelAdded,
    ev.ChannelUpdated,
    ev.ChannelRemoved,
    TypingStarted,
)
#: events one browser may have waiting before the bus drops new ones for it
QUEUE_SIZE = 256
#: seconds between keep-alive comments on an idle stream (they also notice a closed browser)
KEEPALIVE = 15.0
DELIVERY_STATES: tuple[str, ...] = get_args(DeliveryState)
MAX_DELIVERIES = 500
#: the online users one answer lists, and the messages it looks through for media: the
#: console's lists load at most this many rows too
MAX_ROWS = 1000

#: the page may load only its own script and style, call only its own origin, never be framed
_PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class _Page:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.content_type = falcon.MEDIA_HTML
        resp.set_headers(_PAGE_HEADERS)
        resp.data = (TEMPLATES / "console.html").read_bytes()


class _Events:
    def __init__(self, api: Api) -> None:
        self.api = api

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        service_sid = req.get_param("service") or None
        resp.set_header("Cache-Control", "no-store")
        resp.set_header("X-Accel-Buffering", "no")  # a proxy must pass events on at once
        resp.sse = self._stream(Topic(LIVE_KINDS, service_sid=service_sid))

    async def _stream(self, topic: Topic[BusEvent]) -> AsyncIterator[falcon.asgi.SSEvent | None]:
        """The stream's events, from a bounded hand-over queue the bus subscriber fills."""
        handover: asyncio.Queue[BusEvent] = asyncio.Queue(maxsize=1)

        async def forward(event: BusEvent) -> None:
            await handover.put(event)  # waits while the browser is behind: the bus queues

        unsubscribe = self.api.deps.bus.subscribe(forward, topic=topic, queue_size=QUEUE_SIZE)
        try:
            yield falcon.asgi.SSEvent(event="ready", data=b"{}")
            while True:
                try:
                    event = await asyncio.wait_for(handover.get(), KEEPALIVE)
                except TimeoutError:
                    yield None  # a comment line: keeps proxies open, detects a gone browser
                    continue
                yield falcon.asgi.SSEvent(event=TAGS[type(event)], data=encode(event))
        finally:
            unsubscribe()


class _Deliveries:
    def __init__(self, api: Api) -> None:
        self.api = api

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        param = req.get_param("state") or None
        if param is not None and param not in DELIVERY_STATES:
            raise errors.InvalidParameterError(
                name="state", expected=errors.one_of(DELIVERY_STATES)
            )
        state = cast(DeliveryState | None, param)
        limit = req.get_param_as_int("limit", min_value=1, max_value=MAX_DELIVERIES) or 100
        rows = await self.api.deps.db.run_read(
            "console_webhook_log", webhook_store.list_deliveries_txn, state, limit
        )
        resp.media = {"deliveries": [as_dict(d) for d in rows]}


class _Pushes:
    """The push log of the served account."""

    def __init__(self, api: Api) -> None:
        self.api = api

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        param = req.get_param("state") or None
        if param is not None and param not in push_log.STATES:
            raise errors.InvalidParameterError(
                name="state", expected=errors.one_of(push_log.STATES)
            )
        state = cast(push_store.PushState | None, param)
        limit = req.get_param_as_int("limit", min_value=1, max_value=MAX_DELIVERIES) or 100
        rows = await self.api.deps.db.run_read(
            "console_push_log",
            push_store.list_deliveries_txn,
            self.api.caller.account_sid,
            state,
            limit,
        )
        resp.media = {"pushes": [push_log.as_dict(d) for d in rows]}


class _Retry:
    def __init__(self, api: Api, dispatcher: Dispatcher) -> None:
        self.api = api
        self.dispatcher = dispatcher

    async def on_post(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, delivery: str
    ) -> None:
        if not delivery.isdigit() or len(delivery) > 18:
            raise errors.NotFoundError(req.path)
        deps = self.api.deps
        state = await retry_failed(deps.db, deps.clock, self.dispatcher.wake, int(delivery))
        if state is None:
            raise errors.NotFoundError(req.path)
        if state != "failed":
            raise errors.MalformedRequestError(
                detail=f"Delivery {delivery} is {state}: only a failed delivery can be retried"
            )
        resp.media = {"id": int(delivery), "state": "pending"}


class _Clients:
    """This process's connections (only it knows their details), and who is online on any
    process: each process records its users in the database (``domain/reachability.py``), so
    the count does not depend on which process the browser reached."""

    def __init__(self, api: Api, directory: Callable[[], ClientDirectory]) -> None:
        self.api = api
        self.directory = directory

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        clients = self.directory().connected_clients()
        online = await reachability.online_users(
            self.api.deps, self.api.caller.account_sid, MAX_ROWS
        )
        # this process's own connections count at once, before their rows are written
        here = {(c.service_sid, c.identity) for c in clients}
        resp.media = {
            "clients": [dataclasses.asdict(c) for c in clients],
            "online": sorted(here.union(online.users))[:MAX_ROWS],
            "processes": online.processes,
        }


class _Media:
    """The media of a channel's messages, by message index: what the console shows in place
    of a media message's empty body."""

    def __init__(self, api: Api) -> None:
        self.api = api

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        service, channel = req.get_param("service"), req.get_param("channel")
        if not service or not channel:
            raise errors.MalformedRequestError(detail="service and channel are required")
        page = await messages.list_messages(
            self.api.deps, self.api.caller, service, channel, PageRequest(size=MAX_ROWS)
        )
        resp.media = {
            "media": [
                {"index": m.index, "message_sid": m.sid, **dataclasses.asdict(m.media)}
                for m in page.items
                if m.media is not None
            ]
        }


_STATIC_TYPES = {".js": "text/javascript", ".css": "text/css"}


class _Static:
    """The console's script and style sheet, from the package (no directory listing, no
    path outside it: a name is one path segment, looked up among the files shipped)."""

    def __init__(self) -> None:
        self.files = {
            path.name: (path, _STATIC_TYPES[path.suffix])
            for path in STATIC.iterdir()
            if path.suffix in _STATIC_TYPES
        }

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, name: str) -> None:
        found = self.files.get(name)
        if found is None:
            raise errors.NotFoundError()
        path, content_type = found
        resp.content_type = content_type
        resp.set_header("X-Content-Type-Options", "nosniff")
        resp.data = path.read_bytes()


def console_routes(
    api: Api,
    dispatcher: Dispatcher,
    clients: Callable[[], ClientDirectory],
) -> list[Route[Endpoint]]:
    """The console's routes: its page and assets are public; everything else needs the API's
    credentials.

    ``clients`` is asked on every request, so a gateway that registers later is seen at once.
    """
    return [
        *resource_routes("/_chinwag/ui", _Page(), Access.OPEN),
        *resource_routes("/_chinwag/ui/", _Page(), Access.OPEN),
        *resource_routes("/_chinwag/ui/static/{name}", _Static(), Access.OPEN),
        *resource_routes("/_chinwag/events", _Events(api), Access.ACCOUNT),
        *resource_routes("/_chinwag/webhooks", _Deliveries(api), Access.ACCOUNT),
        *resource_routes(
            "/_chinwag/webhooks/{delivery}/retry", _Retry(api, dispatcher), Access.ACCOUNT
        ),
        *resource_routes("/_chinwag/pushes", _Pushes(api), Access.ACCOUNT),
        *resource_routes("/_chinwag/clients", _Clients(api, clients), Access.ACCOUNT),
        *resource_routes("/_chinwag/media", _Media(api), Access.ACCOUNT),
    ]
