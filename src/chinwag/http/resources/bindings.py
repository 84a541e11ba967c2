"""v2 ``…/Bindings`` and ``…/Users/{US|identity}/Bindings``: the devices chat clients
registered for push notifications (List/Fetch/Delete; clients create them through the SDK).

A Binding is a push registration as chinwag stores it (``domain/push_registrations.py``):
``binding_type`` is its push channel, ``endpoint`` the platform the SDK named,
``credential_sid`` the credential the client's access token named.
"""

from __future__ import annotations

from falcon.asgi import Request, Response

from chinwag.api.paging import envelope, parse_list_query
from chinwag.domain import push_registrations as domain
from chinwag.http import render
from chinwag.http.context import Api
from chinwag.http.forms import read_query


async def list_bindings(api: Api, req: Request, resp: Response, service: str) -> None:
    query = read_query(req)
    q = parse_list_query(query, filters=("BindingType", "Identity"))
    page = await domain.list_bindings(
        api.deps,
        api.caller,
        service,
        query.all("Identity"),
        query.all("BindingType"),
        q.request,
    )
    base = api.base_url(req)
    rows = [render.binding(r, base) for r in page.items]
    render.respond(resp, 200, envelope("bindings", rows, page, q, api.list_url(req)))


async def fetch_binding(api: Api, req: Request, resp: Response, service: str, sid: str) -> None:
    found = await domain.get_registration(api.deps, api.caller, service, sid)
    render.respond(resp, 200, render.binding(found, api.base_url(req)))


async def delete_binding(api: Api, req: Request, resp: Response, service: str, sid: str) -> None:
    await domain.remove_registration(api.deps, api.caller, service, sid)
    render.no_content(resp)


async def list_user_bindings(
    api: Api, req: Request, resp: Response, service: str, user: str
) -> None:
    query = read_query(req)
    q = parse_list_query(query, filters=("BindingType",))
    found = await domain.binding_user(api.deps, api.caller, service, user)
    page = await domain.list_bindings(
        api.deps, api.caller, service, [found.identity], query.all("BindingType"), q.request
    )
    base = api.base_url(req)
    rows = [render.user_binding(r, found.sid, base) for r in page.items]
    render.respond(resp, 200, envelope("bindings", rows, page, q, api.list_url(req)))


async def fetch_user_binding(
    api: Api, req: Request, resp: Response, service: str, user: str, sid: str
) -> None:
    found = await domain.binding_user(api.deps, api.caller, service, user)
    binding = await domain.get_registration(api.deps, api.caller, service, sid, found.identity)
    render.respond(resp, 200, render.user_binding(binding, found.sid, api.base_url(req)))


async def delete_user_binding(
    api: Api, req: Request, resp: Response, service: str, user: str, sid: str
) -> None:
    found = await domain.binding_user(api.deps, api.caller, service, user)
    await domain.remove_registration(api.deps, api.caller, service, sid, found.identity)
    render.no_content(resp)
