"""The Sync endpoints the chat SDK calls over the gateway (client protocol 2.2), transport-free.

S1-S3 open an object by SID or unique name, S4/S5 page its items, S6 establishes or cancels
subscriptions. Each function takes the connected identity and answers a JSON body or raises a
:class:`~chinwag.errors.ChinwagError` (the gateway renders it as the Sync error the SDK reads:
``message``, ``code``, ``status``). Query parameters arrive as the SDK sent them, not
percent-decoded.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import unquote

from chinwag import errors
from chinwag.api.paging import MAX_PAGE_SIZE
from chinwag.domain import validation
from chinwag.realtime.context import Client, Request, Response, json_response
from chinwag.realtime.sync import access, objects, paging, views
from chinwag.realtime.sync.objects import Kind, SyncObject
from chinwag.realtime.sync.shapes import Data
from chinwag.realtime.sync.subscriptions import SyncConnection, SyncHub, failed, not_found
from chinwag.storage.database import Txn

log = logging.getLogger(__name__)

Params = Mapping[str, "str | list[str]"]

#: items per page when the client names no PageSize, and the sizes it may ask for (the REST
#: API's maximum)
DEFAULT_PAGE_SIZE = 50
PAGE_SIZES = range(1, MAX_PAGE_SIZE + 1)

#: what the subscription response promises (protocol 2.4): the client re-sends an establish
#: that produced no notification within this time
ESTIMATED_DELIVERY_MS = 5000
MAX_BATCH_SIZE = 100
#: subscriptions one connection may have being established (replayed) at once; a batch that
#: would pass it is answered 429, which the SDK retries with backoff
MAX_ESTABLISHING = MAX_BATCH_SIZE
#: event ids a client may name (a 64-bit column holds them)
EVENT_IDS = range(2**63)


def _param(params: Params, name: str) -> str | None:
    value = params.get(name)
    if isinstance(value, list):
        value = value[-1] if value else None
    return None if value is None else validation.check_text(unquote(value), name)


def _int(params: Params, name: str, allowed: range) -> int | None:
    """An integer parameter inside ``allowed``; anything else is a 400 naming it."""
    value = _param(params, name)
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        raise errors.InvalidParameterError(name=name, expected="an integer") from None
    if number not in allowed:
        raise errors.InvalidParameterError(name=name, expected=errors.in_range(allowed))
    return number


async def _read(
    hub: SyncHub,
    base: str,
    service_sid: str,
    identity: str,
    kind: Kind,
    sid_or_name: str,
    view: Callable[[Txn, str, SyncObject], Awaitable[Data | None]],
) -> Data:
    """Resolve the object, check the identity may see it, and read ``view`` of it."""
    obj = objects.resolve(kind, sid_or_name)
    if obj is None:
        raise not_found(kind)

    async def read(txn: Txn) -> Data | None:
        await access.check_txn(txn, service_sid, identity, obj, not_found(kind))
        return await view(txn, base, obj)

    body = await hub.db.run_read("sync_read", read)
    if body is None:
        raise not_found(kind)
    return body


async def open_object(
    hub: SyncHub,
    base: str,
    service_sid: str,
    identity: str,
    kind: Kind,
    sid_or_name: str,
    params: Params,
) -> Data:
    """S1-S3: ``GET /v3/{Documents|Maps|Lists}/{sid or unique name}[?Include=items]``."""
    include = _param(params, "Include") == "items"

    async def view(txn: Txn, base: str, obj: SyncObject) -> Data | None:
        return await views.open_txn(txn, base, obj, include)

    return await _read(hub, base, service_sid, identity, kind, sid_or_name, view)


async def list_items(
    hub: SyncHub,
    base: str,
    service_sid: str,
    identity: str,
    kind: Kind,
    sid_or_name: str,
    params: Params,
) -> Data:
    """S4/S5: ``GET …/Items?[Key|Index]&From&PageSize&Order`` (``From`` is inclusive), or
    ``?PageToken=`` alone (a token from a previous page: ``paging.py``)."""
    if kind == "document":
        raise not_found(kind)
    token = _param(params, "PageToken")
    if token is not None:
        query = paging.decode(token, int if kind == "list" else str, MAX_PAGE_SIZE)
    else:
        query = _query(kind, params)

    async def view(txn: Txn, base: str, obj: SyncObject) -> Data | None:
        return await views.items_txn(txn, base, obj, query)

    return await _read(hub, base, service_sid, identity, kind, sid_or_name, view)


def _query(kind: Kind, params: Params) -> paging.ItemQuery:
    order = _param(params, "Order") or "asc"
    if order not in ("asc", "desc"):
        raise errors.InvalidParameterError(name="Order", expected=errors.one_of(("asc", "desc")))
    size = _int(params, "PageSize", PAGE_SIZES) or DEFAULT_PAGE_SIZE
    key: str | int | None
    start: str | int | None
    if kind == "list":
        key = _int(params, "Index", validation.MESSAGE_INDEX_RANGE)
        start = _int(params, "From", validation.MESSAGE_INDEX_RANGE)
    else:
        key, start = _param(params, "Key"), _param(params, "From")
    return paging.ItemQuery(key, start, order == "desc", size)


async def subscriptions(hub: SyncHub, connection: SyncConnection, body: Any) -> Data:
    """S6: ``POST /v4/Subscriptions``, establish or cancel a batch (protocol 2.4).

    The reply only acknowledges the batch. Each object then gets its notifications, carrying
    the request's ``correlation_id``: the replay and ``subscription_established``, or
    ``subscription_failed`` (403 for an object the identity may not see, 404 for a missing
    one); a cancel gets ``subscription_canceled``.
    """
    if not isinstance(body, dict) or body.get("action") not in ("establish", "cancel"):
        raise errors.InvalidParameterError(
            name="action", expected=errors.one_of(("establish", "cancel"))
        )
    requests = body.get("requests")
    if not isinstance(requests, list) or not all(isinstance(r, dict) for r in requests):
        raise errors.InvalidParameterError(name="requests", expected="a list of objects")
    if len(requests) > MAX_BATCH_SIZE:
        raise errors.InvalidParameterError(
            message=f"A subscription batch holds at most {MAX_BATCH_SIZE} requests"
        )
    extra: Data = {"correlation_id": body.get("correlation_id")}
    if body["action"] == "cancel":
        for request in requests:
            sid = str(request.get("object_sid"))
            hub.cancel(connection, sid)
            hub.sessions.cancel(connection, sid)
            event = {"object_sid": sid, "object_type": request.get("object_type")}
            connection.push({"event_type": "subscription_canceled", "event": event, **extra})
        return {"max_batch_size": MAX_BATCH_SIZE}
    if connection.establishing + len(requests) > MAX_ESTABLISHING:
        raise errors.TooManyRequestsError(message="Too many subscriptions being established")
    for request in requests:
        sid, last = request.get("object_sid"), request.get("last_event_id")
        if hub.sessions.owns(sid) and (last is None or isinstance(last, int)):
            hub.sessions.establish(  # a 3.x/4.x command list
                connection, str(sid), last, extra, hub.settings.base_url
            )
        else:
            connection.establishing += 1
            hub.spawn(_establish(hub, connection, request, extra))
    return {"estimated_delivery_in_ms": ESTIMATED_DELIVERY_MS, "max_batch_size": MAX_BATCH_SIZE}


async def _establish(hub: SyncHub, connection: SyncConnection, request: Data, extra: Data) -> None:
    try:
        await _establish_one(hub, connection, request, extra)
    finally:
        connection.establishing -= 1


async def _establish_one(
    hub: SyncHub, connection: SyncConnection, request: Data, extra: Data
) -> None:
    sid = str(request.get("object_sid"))
    last = request.get("last_event_id")
    obj = objects.from_sid(sid)
    if obj is None or (last is not None and (type(last) is not int or last not in EVENT_IDS)):
        error = not_found(request.get("object_type") if obj is None else obj.kind)
        detail = {"status": error.status, "code": error.code, "message": error.message}
        event = {"object_sid": sid, "object_type": request.get("object_type"), "error": detail}
        connection.push({"event_type": "subscription_failed", "event": event, **extra})
        return
    try:
        await hub.db.run_read(
            "sync_access",
            access.check_txn,
            connection.service_sid,
            connection.identity,
            obj,
            not_found(obj.kind),
        )
    except errors.ChinwagError as error:
        connection.push(failed(obj, error, extra))
        return
    await hub.establish(connection, obj, last, extra)


# --- the gateway's routes for requests inside the socket (``realtime/routes.py``) ------------


def _connection(client: Client) -> SyncConnection:
    assert client.sync is not None  # set at init, before any upstream request is accepted
    return client.sync


def _base(client: Client, request: Request) -> str:
    """The Sync URLs' scheme and host: the ones the SDK used for this request."""
    return f"https://{request.host}" if request.host else _connection(client).hub.settings.base_url


def _object_route(kind: Kind, items: bool) -> Callable[..., Awaitable[Response]]:
    read = list_items if items else open_object

    async def handler(client: Client, request: Request, sid: str) -> Response:
        connection = _connection(client)
        base = _base(client, request)
        body = await read(
            connection.hub, base, client.service_sid, client.identity, kind, sid, request.params
        )
        opened = None if items else objects.from_sid(body["sid"])
        if opened is not None:
            connection.note_open(opened, body["last_event_id"])
        return json_response(body)

    return handler


fetch_document = _object_route("document", items=False)
fetch_map = _object_route("map", items=False)
fetch_list = _object_route("list", items=False)
list_map_items = _object_route("map", items=True)
list_list_items = _object_route("list", items=True)


async def update_subscriptions(client: Client, request: Request) -> Response:
    connection = _connection(client)
    return json_response(await subscriptions(connection.hub, connection, request.json()))
