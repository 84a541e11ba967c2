"""``/v1/Services``: ListService, CreateService, Fetch/Update/DeleteService."""

from __future__ import annotations

from falcon.asgi import Request, Response

from chinwag.api.paging import envelope, parse_list_query
from chinwag.domain import services as domain
from chinwag.http import commands, render
from chinwag.http.context import Api
from chinwag.http.forms import read_form, read_query

#: The newer Twilio spec caps Services pages at 100 (others 1000); either is SDK-safe.
MAX_SERVICES_PAGE = 100


async def list_services(api: Api, req: Request, resp: Response) -> None:
    q = parse_list_query(read_query(req), max_size=MAX_SERVICES_PAGE)
    page = await domain.list_services(api.deps, api.caller, q.request)
    base = api.base_url(req)
    rows = [api.render.service(s, base) for s in page.items]
    render.respond(resp, 200, envelope("services", rows, page, q, api.list_url(req)))


async def create_service(api: Api, req: Request, resp: Response) -> None:
    cmd = commands.create_service(await read_form(req, api.settings.max_body_bytes))
    service = await domain.create_service(api.deps, api.caller, cmd)
    render.respond(resp, 201, api.render.service(service, api.base_url(req)))


async def fetch_service(api: Api, req: Request, resp: Response, service: str) -> None:
    found = await domain.fetch_service(api.deps, api.caller, service)
    render.respond(resp, 200, api.render.service(found, api.base_url(req)))


async def update_service(api: Api, req: Request, resp: Response, service: str) -> None:
    cmd = commands.update_service(await read_form(req, api.settings.max_body_bytes))
    updated = await domain.update_service(api.deps, api.caller, service, cmd)
    render.respond(resp, 200, api.render.service(updated, api.base_url(req)))


async def delete_service(api: Api, req: Request, resp: Response, service: str) -> None:
    await domain.delete_service(api.deps, api.caller, service)
    render.no_content(resp)
