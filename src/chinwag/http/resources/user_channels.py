"""``/v1/Services/{IS}/Users/{US|identity}/Channels``: ListUserChannel (read-only in v1)."""

from __future__ import annotations

from falcon.asgi import Request, Response

from chinwag.api.paging import envelope, parse_list_query
from chinwag.domain import user_channels as domain
from chinwag.http import render
from chinwag.http.context import Api
from chinwag.http.forms import read_query


async def list_user_channels(
    api: Api, req: Request, resp: Response, service: str, user: str
) -> None:
    q = parse_list_query(read_query(req))
    page = await domain.list_user_channels(api.deps, api.caller, service, user, q.request)
    base = api.base_url(req)
    rows = [api.render.user_channel(uc, base) for uc in page.items]
    render.respond(resp, 200, envelope("channels", rows, page, q, api.list_url(req)))
