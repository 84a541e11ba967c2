"""``/v1/Services/{IS}/Users``: ListUser, CreateUser, Fetch/Update/DeleteUser (SID or identity)."""

from __future__ import annotations

from falcon.asgi import Request, Response

from chinwag.api.paging import envelope, parse_list_query
from chinwag.domain import users as domain
from chinwag.http import commands, render
from chinwag.http.context import Api
from chinwag.http.forms import read_form, read_query


async def list_users(api: Api, req: Request, resp: Response, service: str) -> None:
    q = parse_list_query(read_query(req))
    page = await domain.list_users(api.deps, api.caller, service, q.request)
    base = api.base_url(req)
    rows = [api.render.user(u, base, in_list=True) for u in page.items]
    render.respond(resp, 200, envelope("users", rows, page, q, api.list_url(req)))


async def create_user(api: Api, req: Request, resp: Response, service: str) -> None:
    cmd = commands.create_user(await read_form(req, api.settings.max_body_bytes))
    user = await domain.create_user(api.deps, api.caller, service, cmd)
    render.respond(resp, 201, api.render.user(user, api.base_url(req)))


async def fetch_user(api: Api, req: Request, resp: Response, service: str, user: str) -> None:
    found = await domain.fetch_user(api.deps, api.caller, service, user)
    render.respond(resp, 200, api.render.user(found, api.base_url(req)))


async def update_user(api: Api, req: Request, resp: Response, service: str, user: str) -> None:
    cmd = commands.update_user(await read_form(req, api.settings.max_body_bytes))
    updated = await domain.update_user(api.deps, api.caller, service, user, cmd)
    render.respond(resp, 200, api.render.user(updated, api.base_url(req)))


async def delete_user(api: Api, req: Request, resp: Response, service: str, user: str) -> None:
    await domain.delete_user(api.deps, api.caller, service, user)
    render.no_content(resp)
