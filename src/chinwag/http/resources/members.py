"""``…/Channels/{CH|unique_name}/Members``: List/Create/Fetch/Update/DeleteMember.

Member segments are an MB SID or an identity.
"""

from __future__ import annotations

from falcon.asgi import Request, Response

from chinwag.api.paging import envelope, parse_list_query
from chinwag.domain import members as domain
from chinwag.http import commands, render
from chinwag.http.context import Api
from chinwag.http.forms import read_form, read_query


async def list_members(api: Api, req: Request, resp: Response, service: str, channel: str) -> None:
    query = read_query(req)
    q = parse_list_query(query, filters=("Identity",))
    page = await domain.list_members(
        api.deps, api.caller, service, channel, query.all("Identity"), q.request
    )
    base = api.base_url(req)
    rows = [api.render.member(m, base) for m in page.items]
    render.respond(resp, 200, envelope("members", rows, page, q, api.list_url(req)))


async def create_member(api: Api, req: Request, resp: Response, service: str, channel: str) -> None:
    cmd = commands.create_member(await read_form(req, api.settings.max_body_bytes))
    member = await domain.create_member(api.deps, api.caller, service, channel, cmd)
    render.respond(resp, 201, api.render.member(member, api.base_url(req)))


async def fetch_member(
    api: Api, req: Request, resp: Response, service: str, channel: str, member: str
) -> None:
    found = await domain.fetch_member(api.deps, api.caller, service, channel, member)
    render.respond(resp, 200, api.render.member(found, api.base_url(req)))


async def update_member(
    api: Api, req: Request, resp: Response, service: str, channel: str, member: str
) -> None:
    cmd = commands.update_member(await read_form(req, api.settings.max_body_bytes))
    updated = await domain.update_member(api.deps, api.caller, service, channel, member, cmd)
    render.respond(resp, 200, api.render.member(updated, api.base_url(req)))


async def delete_member(
    api: Api, req: Request, resp: Response, service: str, channel: str, member: str
) -> None:
    await domain.delete_member(api.deps, api.caller, service, channel, member)
    render.no_content(resp)
