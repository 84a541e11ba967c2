"""``/v1/Credentials``: ListCredential, CreateCredential, Fetch/Update/DeleteCredential."""

from __future__ import annotations

from falcon.asgi import Request, Response

from chinwag.api.paging import envelope, parse_list_query
from chinwag.domain import credentials as domain
from chinwag.http import commands, render
from chinwag.http.context import Api
from chinwag.http.forms import read_form, read_query


async def list_credentials(api: Api, req: Request, resp: Response) -> None:
    q = parse_list_query(read_query(req))
    page = await domain.list_credentials(api.deps, api.caller, q.request)
    base = api.base_url(req)
    rows = [api.render.credential(c, base) for c in page.items]
    render.respond(resp, 200, envelope("credentials", rows, page, q, api.list_url(req)))


async def create_credential(api: Api, req: Request, resp: Response) -> None:
    cmd = commands.create_credential(await read_form(req, api.settings.max_body_bytes))
    credential = await domain.create_credential(api.deps, api.caller, cmd)
    render.respond(resp, 201, api.render.credential(credential, api.base_url(req)))


async def fetch_credential(api: Api, req: Request, resp: Response, sid: str) -> None:
    credential = await domain.fetch_credential(api.deps, api.caller, sid)
    render.respond(resp, 200, api.render.credential(credential, api.base_url(req)))


async def update_credential(api: Api, req: Request, resp: Response, sid: str) -> None:
    cmd = commands.update_credential(await read_form(req, api.settings.max_body_bytes))
    credential = await domain.update_credential(api.deps, api.caller, sid, cmd)
    render.respond(resp, 200, api.render.credential(credential, api.base_url(req)))


async def delete_credential(api: Api, req: Request, resp: Response, sid: str) -> None:
    await domain.delete_credential(api.deps, api.caller, sid)
    render.no_content(resp)
