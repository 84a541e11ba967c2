"""``/v1/Services/{IS}/Roles``: ListRole, CreateRole, Fetch/Update/DeleteRole."""

from __future__ import annotations

from falcon.asgi import Request, Response

from chinwag.api.paging import envelope, parse_list_query
from chinwag.domain import roles as domain
from chinwag.http import commands, render
from chinwag.http.context import Api
from chinwag.http.forms import read_form, read_query


async def list_roles(api: Api, req: Request, resp: Response, service: str) -> None:
    q = parse_list_query(read_query(req))
    page = await domain.list_roles(api.deps, api.caller, service, q.request)
    base = api.base_url(req)
    rows = [api.render.role(r, base) for r in page.items]
    render.respond(resp, 200, envelope("roles", rows, page, q, api.list_url(req)))


async def create_role(api: Api, req: Request, resp: Response, service: str) -> None:
    cmd = commands.create_role(await read_form(req, api.settings.max_body_bytes))
    role = await domain.create_role(api.deps, api.caller, service, cmd)
    render.respond(resp, 201, api.render.role(role, api.base_url(req)))


async def fetch_role(api: Api, req: Request, resp: Response, service: str, role: str) -> None:
    found = await domain.fetch_role(api.deps, api.caller, service, role)
    render.respond(resp, 200, api.render.role(found, api.base_url(req)))


async def update_role(api: Api, req: Request, resp: Response, service: str, role: str) -> None:
    cmd = commands.update_role(await read_form(req, api.settings.max_body_bytes))
    updated = await domain.update_role(api.deps, api.caller, service, role, cmd)
    render.respond(resp, 200, api.render.role(updated, api.base_url(req)))


async def delete_role(api: Api, req: Request, resp: Response, service: str, role: str) -> None:
    await domain.delete_role(api.deps, api.caller, service, role)
    render.no_content(resp)
