"""The Basic-auth middleware's API-key door, driven as ASGI: what it asks and what it answers."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import orjson

from chinwag import errors
from chinwag.http.auth import BasicAuth

ACCOUNT = "AC" + "1" * 32
KEY = "SK" + "2" * 32


async def _app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def call(auth: BasicAuth, user: str, password: str) -> tuple[int, bytes]:
    header = b"Basic " + base64.b64encode(f"{user}:{password}".encode())
    scope = {"type": "http", "path": "/v1/Services", "headers": [(b"authorization", header)]}
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(auth(scope, None, send))
    return sent[0]["status"], sent[1]["body"]


def test_a_key_is_checked_only_for_sk_users_and_the_account_never_asks() -> None:
    asked: list[tuple[str, bytes]] = []

    async def check_key(sid: str, secret: bytes) -> bool:
        asked.append((sid, secret))
        return secret == b"right"

    auth = BasicAuth(_app, check_key)
    auth.set_account(ACCOUNT, "token")
    assert call(auth, ACCOUNT, "token") == (200, b"ok")
    assert call(auth, ACCOUNT, "wrong")[0] == 401
    assert call(auth, "US" + "2" * 32, "right")[0] == 401
    assert asked == []
    assert call(auth, KEY, "right") == (200, b"ok")
    assert call(auth, KEY, "wrong")[0] == 401
    assert asked == [(KEY, b"right"), (KEY, b"wrong")]


def test_a_database_outage_during_the_key_lookup_is_a_503_not_a_401() -> None:
    async def check_key(sid: str, secret: bytes) -> bool:
        raise errors.DatabaseUnavailableError()

    auth = BasicAuth(_app, check_key)
    auth.set_account(ACCOUNT, "token")
    status, body = call(auth, KEY, "secret")
    assert status == 503
    assert orjson.loads(body)["code"] == 20503
    assert call(auth, ACCOUNT, "token")[0] == 200  # the account still gets in
