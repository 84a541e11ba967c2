"""``/_chinwag/``: the control API for test suites (reset, snapshot, seed, clock).

Bodies are JSON both ways (these are chinwag's own endpoints, not Twilio's forms); errors are
Twilio JSON like everywhere else. The routes exist only while ``control_api`` is on (off by
default; ``development`` mode and the pytest plugin turn it on) and answer only the account's
own credentials (``BasicAuth``'s ``account_only``). Every request that changes state must send
``Content-Type: application/json`` and a JSON body (``{}`` for a reset): a form another site
makes a browser post can carry neither, so cached credentials cannot wipe the account.
``spec/control.yaml`` describes them.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import orjson
from falcon.asgi import Request, Response

from chinwag import errors
from chinwag.api.routing import Route
from chinwag.domain import control as domain
from chinwag.http import render
from chinwag.http.context import Api
from chinwag.http.forms import read_body
from chinwag.http.routes import Handler

#: Snapshots and seed files are larger than any REST request; still bounded.
BODY_LIMIT = 64 * 1024 * 1024

PREFIX = "/_chinwag"
JSON = "application/json"


async def _read_json(req: Request) -> Any:
    media_type = (req.content_type or "").partition(";")[0].strip().lower()
    if media_type != JSON:
        raise errors.MalformedRequestError(
            detail=f"A control request that changes state needs Content-Type: {JSON} "
            "and a JSON body"
        )
    body = await read_body(req, BODY_LIMIT)
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise errors.MalformedRequestError(detail="The body must be a JSON document") from None


async def reset(api: Api, req: Request, resp: Response) -> None:
    if not isinstance(await _read_json(req), dict):
        raise errors.MalformedRequestError(detail="A reset's body is a JSON object: {}")
    deleted = await domain.reset(api.deps, api.caller)
    render.respond(resp, 200, {"deleted_rows": deleted})


async def export_snapshot(api: Api, req: Request, resp: Response) -> None:
    render.respond(resp, 200, await domain.export_snapshot(api.deps, api.caller))


async def import_snapshot(api: Api, req: Request, resp: Response) -> None:
    imported = await domain.import_snapshot(api.deps, api.caller, await _read_json(req))
    render.respond(resp, 200, {"imported_rows": imported})


async def seed(api: Api, req: Request, resp: Response) -> None:
    created = await domain.seed(api.deps, api.caller, await _read_json(req))
    render.respond(resp, 201, {"services": [asdict(s) for s in created]})


def _clock_body(api: Api) -> dict[str, Any]:
    now, controllable = domain.clock_now(api.deps)
    return {"now_ms": now, "controllable": controllable}


async def fetch_clock(api: Api, req: Request, resp: Response) -> None:
    render.respond(resp, 200, _clock_body(api))


async def move_clock(api: Api, req: Request, resp: Response) -> None:
    domain.move_clock(api.deps, await _read_json(req))
    render.respond(resp, 200, _clock_body(api))


CONTROL_ROUTES: tuple[Route[Handler], ...] = (
    Route("POST", f"{PREFIX}/reset", "ControlReset", reset),
    Route("GET", f"{PREFIX}/snapshot", "ControlExportSnapshot", export_snapshot),
    Route("POST", f"{PREFIX}/snapshot", "ControlImportSnapshot", import_snapshot),
    Route("POST", f"{PREFIX}/seed", "ControlSeed", seed),
    Route("GET", f"{PREFIX}/clock", "ControlFetchClock", fetch_clock),
    Route("POST", f"{PREFIX}/clock", "ControlMoveClock", move_clock),
)
