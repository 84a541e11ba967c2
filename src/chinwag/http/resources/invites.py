"""``…/Channels/{CH|unique_name}/Invites``: List/Create/Fetch/DeleteInvite (no update in v1)."""

from __future__ import annotations

from falcon.asgi import Request, Response

from chinwag.api.paging import envelope, parse_list_query
from chinwag.domain import invites as domain
from chinwag.http import commands, render
from chinwag.http.context import Api
from chinwag.http.forms import read_form, read_query


async def list_invites(api: Api, req: Request, resp: Response, service: str, channel: str) -> None:
    query = read_query(req)
    q = parse_list_query(query, filters=("Identity",))
    page = await domain.list_invites(
        api.deps, api.caller, service, channel, query.all("Identity"), q.request
    )
    base = api.base_url(req)
    rows = [api.render.invite(i, base) for i in page.items]
    render.respond(resp, 200, envelope("invites", rows, page, q, api.list_url(req)))


async def create_invite(api: Api, req: Request, resp: Response, service: str, channel: str) -> None:
    cmd = commands.create_invite(await read_form(req, api.settings.max_body_bytes))
    invite = await domain.create_invite(api.deps, api.caller, service, channel, cmd)
    render.respond(resp, 201, api.render.invite(invite, api.base_url(req)))


async def fetch_invite(
    api: Api, req: Request, resp: Response, service: str, channel: str, invite: str
) -> None:
    found = await domain.fetch_invite(api.deps, api.caller, service, channel, invite)
    render.respond(resp, 200, api.render.invite(found, api.base_url(req)))


async def delete_invite(
    api: Api, req: Request, resp: Response, service: str, channel: str, invite: str
) -> None:
    await domain.delete_invite(api.deps, api.caller, service, channel, invite)
    render.no_content(resp)
