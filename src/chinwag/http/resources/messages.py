"""``…/Channels/{CH|unique_name}/Messages``: List/Create/Fetch/Update/DeleteMessage."""

from __future__ import annotations

from falcon.asgi import Request, Response

from chinwag import errors
from chinwag.api.paging import envelope, parse_list_query
from chinwag.domain import messages as domain
from chinwag.http import commands, render
from chinwag.http.context import Api
from chinwag.http.forms import read_form, read_query


async def list_messages(api: Api, req: Request, resp: Response, service: str, channel: str) -> None:
    query = read_query(req)
    q = parse_list_query(
        query,
        filters=("Order",),
        descending=commands.descending(query),
        negative_token_error=errors.NegativeMessagePageTokenError,
    )
    page = await domain.list_messages(api.deps, api.caller, service, channel, q.request)
    base = api.base_url(req)
    rows = [api.render.message(m, base) for m in page.items]
    render.respond(resp, 200, envelope("messages", rows, page, q, api.list_url(req)))


async def create_message(
    api: Api, req: Request, resp: Response, service: str, channel: str
) -> None:
    cmd = commands.create_message(await read_form(req, api.settings.max_body_bytes))
    message = await domain.send_message(api.deps, api.caller, service, channel, cmd)
    render.respond(resp, 201, api.render.message(message, api.base_url(req)))


async def fetch_message(
    api: Api, req: Request, resp: Response, service: str, channel: str, message: str
) -> None:
    found = await domain.fetch_message(api.deps, api.caller, service, channel, message)
    render.respond(resp, 200, api.render.message(found, api.base_url(req)))


async def update_message(
    api: Api, req: Request, resp: Response, service: str, channel: str, message: str
) -> None:
    cmd = commands.update_message(await read_form(req, api.settings.max_body_bytes))
    updated = await domain.update_message(api.deps, api.caller, service, channel, message, cmd)
    render.respond(resp, 200, api.render.message(updated, api.base_url(req)))


async def delete_message(
    api: Api, req: Request, resp: Response, service: str, channel: str, message: str
) -> None:
    await domain.delete_message(api.deps, api.caller, service, channel, message)
    render.no_content(resp)
