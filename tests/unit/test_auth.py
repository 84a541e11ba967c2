"""Basic credentials: what the checker asks and answers, and what the HTTP door sends for it."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import falcon.asgi
import orjson
import pytest

from chinwag import errors
from chinwag.api.routing import Route, RouteTable
from chinwag.http.auth import BasicAuth, KeyCheck
from chinwag.http.metrics import Metrics
from chinwag.http.observe import Observe
from chinwag.http.routes import Access, Endpoint
from chinwag.http.server import HttpDoor
from chinwag.storage.engines import create_engine

pytestmark = pytest.mark.unit

ACCOUNT = "AC" + "1" * 32
KEY = "SK" + "2" * 32


async def _ok(req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
    resp.data = b"ok"


def _door(check_key: KeyCheck) -> HttpDoor:
    auth = BasicAuth(check_key)
    auth.set_account(ACCOUNT, "token")
    table = RouteTable([Route("GET", "/v1/Services", "ListService", Endpoint(_ok, Access.ACCOUNT))])
    metrics = Metrics(create_engine("sqlite:///:memory:"))
    return HttpDoor(table, Observe(metrics), auth)


def call(door: HttpDoor, user: str, password: str) -> tuple[int, bytes]:
    header = b"Basic " + base64.b64encode(f"{user}:{password}".encode())
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/v1/Services",
        "raw_path": b"/v1/Services",
        "query_string": b"",
        "headers": [(b"authorization", header), (b"host", b"chinwag.test")],
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(door(scope, receive, send))
    return sent[0]["status"], sent[1]["body"]


def test_a_key_is_checked_only_for_sk_users_and_the_account_never_asks() -> None:
    asked: list[tuple[str, bytes]] = []

    async def check_key(sid: str, secret: bytes) -> bool:
        asked.append((sid, secret))
        return secret == b"right"

    door = _door(check_key)
    assert call(door, ACCOUNT, "token") == (200, b"ok")
    assert call(door, ACCOUNT, "wrong")[0] == 401
    assert call(door, "US" + "2" * 32, "right")[0] == 401
    assert asked == []
    assert call(door, KEY, "right") == (200, b"ok")
    assert call(door, KEY, "wrong")[0] == 401
    assert asked == [(KEY, b"right"), (KEY, b"wrong")]


def test_a_database_outage_during_the_key_lookup_is_a_503_not_a_401() -> None:
    async def check_key(sid: str, secret: bytes) -> bool:
        raise errors.DatabaseUnavailableError()

    door = _door(check_key)
    status, body = call(door, KEY, "secret")
    assert status == 503
    assert orjson.loads(body)["code"] == 20503
    assert call(door, ACCOUNT, "token")[0] == 200  # the account still gets in
