"""``/v1/Services/{IS}/Channels``: ListChannel, CreateChannel, Fetch/Update/DeleteChannel.

Channel path segments are a CH SID or a unique name; meta URLs echo the path as requested.
"""

from __future__ import annotations

from falcon.asgi import Request, Response

from chinwag.api.paging import envelope, parse_list_query
from chinwag.domain import channels as domain
from chinwag.http import commands, render
from chinwag.http.context import Api
from chinwag.http.forms import read_form, read_query


async def list_channels(api: Api, req: Request, resp: Response, service: str) -> None:
    query = read_query(req)
    types = commands.channel_types(query)
    q = parse_list_query(query, filters=("Type",))
    page = await domain.list_channels(api.deps, api.caller, service, types, q.request)
    base = api.base_url(req)
    rows = [api.render.channel(c, base, in_list=True) for c in page.items]
    render.respond(resp, 200, envelope("channels", rows, page, q, api.list_url(req)))


async def create_channel(api: Api, req: Request, resp: Response, service: str) -> None:
    cmd = commands.create_channel(await read_form(req, api.settings.max_body_bytes))
    channel = await domain.create_channel(api.deps, api.caller, service, cmd)
    render.respond(resp, 201, api.render.channel(channel, api.base_url(req)))


async def fetch_channel(api: Api, req: Request, resp: Response, service: str, channel: str) -> None:
    found = await domain.fetch_channel(api.deps, api.caller, service, channel)
    render.respond(resp, 200, api.render.channel(found, api.base_url(req)))


async def update_channel(
    api: Api, req: Request, resp: Response, service: str, channel: str
) -> None:
    cmd = commands.update_channel(await read_form(req, api.settings.max_body_bytes))
    updated = await domain.update_channel(api.deps, api.caller, service, channel, cmd)
    render.respond(resp, 200, api.render.channel(updated, api.base_url(req)))


async def delete_channel(
    api: Api, req: Request, resp: Response, service: str, channel: str
) -> None:
    await domain.delete_channel(api.deps, api.caller, service, channel)
    render.no_content(resp)
