"""``authenticate`` on a real database (SQLite, or PostgreSQL with CHINWAG_TEST_DATABASE_URL).

Tokens are minted by twilio-python's ``AccessToken`` and by twilio-node's (``tests/tokens_node``,
pinned by its lock file), as a customer's back end makes them.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import ChatGrant

from chinwag import errors
from chinwag.clock import FakeClock
from chinwag.domain import api_keys, services, users
from chinwag.domain.access_tokens import ClientGrant, authenticate, key_is_live
from chinwag.domain.deps import Caller, Deps
from chinwag.events.local import LocalBus
from chinwag.model.events import API_ACTOR, Event, UserAdded
from chinwag.model.records import ApiKey, PageRequest, Service
from chinwag.sids import SidGenerator
from chinwag.storage.database import Database
from chinwag.storage.engines import create_engine
from conftest import ACCOUNT_SID, Databases
from tokens_node_support import tokens_node

pytestmark = pytest.mark.sdk

OTHER_ACCOUNT = "AC" + "9" * 32
ADMIN = Caller(ACCOUNT_SID, API_ACTOR)


class World:
    """An open database with one service and one key of the test account."""

    def __init__(self, deps: Deps, service: Service, key: ApiKey, clock: FakeClock) -> None:
        self.deps, self.service, self.key, self.clock = deps, service, key, clock
        self.start_s = clock.now_ms() // 1000

    def token(
        self,
        identity: str = "alice",
        *,
        key: ApiKey | None = None,
        account_sid: str = ACCOUNT_SID,
        service_sid: str | None = None,
        secret: str | None = None,
    ) -> str:
        key = key or self.key
        token = AccessToken(
            account_sid,
            key.sid,
            secret or key.secret,
            identity=identity,
            nbf=self.start_s,
            valid_until=self.start_s + 3600,
        )
        token.add_grant(ChatGrant(service_sid=service_sid or self.service.sid))
        return str(token.to_jwt())


@asynccontextmanager
async def world(url: str) -> AsyncIterator[World]:
    # twilio-node stamps its tokens with the real time, so the fake clock starts there
    clock = FakeClock(int(time.time()) * 1000)
    deps = Deps(Database(create_engine(url)), clock, SidGenerator(), LocalBus())
    await deps.db.open()
    try:
        service = await services.create_service(deps, ADMIN, services.CreateService("chat"))
        key = await api_keys.create_api_key(deps, ACCOUNT_SID, "back end")
        yield World(deps, service, key, clock)
    finally:
        await deps.db.close()


def run(databases: Databases, scenario: Callable[[World], Awaitable[None]]) -> None:
    url = databases.new()  # before the loop starts: PostgreSQL clones it with asyncio.run

    async def main() -> None:
        async with world(url) as w:
            await scenario(w)

    asyncio.run(main())


def test_first_connect_creates_the_user_with_the_default_service_role(
    databases: Databases,
) -> None:
    async def scenario(w: World) -> None:
        published: list[Event] = []
        w.deps.bus.subscribe(published.append)
        grant = await authenticate(w.deps, w.token("alice"))
        assert grant == ClientGrant(
            account_sid=ACCOUNT_SID,
            key_sid=w.key.sid,
            identity="alice",
            service_sid=w.service.sid,
            expires_at_ms=(w.start_s + 3600) * 1000,
            endpoint_id=None,
        )
        user = await users.fetch_user(w.deps, ADMIN, w.service.sid, "alice")
        assert user.role_sid == w.service.default_service_role_sid
        assert [(type(e), e.actor.source, e.actor.identity) for e in published] == [
            (UserAdded, "SDK", "alice")
        ]
        await authenticate(w.deps, w.token("alice"))  # the second connect changes nothing
        assert len(published) == 1

    run(databases, scenario)


def test_an_existing_user_is_kept_as_it_is(databases: Databases) -> None:
    async def scenario(w: World) -> None:
        before = await users.create_user(
            w.deps, ADMIN, w.service.sid, users.CreateUser("bob", friendly_name="Bob")
        )
        await authenticate(w.deps, w.token("bob"))
        assert await users.fetch_user(w.deps, ADMIN, w.service.sid, "bob") == before

    run(databases, scenario)


def test_concurrent_first_connects_of_one_identity_make_one_user(databases: Databases) -> None:
    async def scenario(w: World) -> None:
        grants = await asyncio.gather(*(authenticate(w.deps, w.token("carol")) for _ in range(8)))
        assert {g.identity for g in grants} == {"carol"}
        page = await users.list_users(w.deps, ADMIN, w.service.sid, PageRequest(size=50))
        assert [u.identity for u in page.items] == ["carol"]

    run(databases, scenario)


@pytest.mark.parametrize("algorithm", ["HS256", "HS384", "HS512"])
def test_twilio_node_tokens_verify(databases: Databases, algorithm: str) -> None:
    async def scenario(w: World) -> None:
        args = [ACCOUNT_SID, w.key.sid, w.key.secret, w.service.sid, "dora", algorithm, "600"]
        minted = subprocess.run(
            ["node", str(tokens_node() / "mint.js"), *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        grant = await authenticate(w.deps, minted.stdout.strip())
        assert (grant.identity, grant.service_sid, grant.endpoint_id) == (
            "dora",
            w.service.sid,
            "node:dora",
        )
        assert w.start_s * 1000 < grant.expires_at_ms <= (w.start_s + 660) * 1000

    run(databases, scenario)


def test_an_unknown_or_foreign_or_deleted_key_is_20103(databases: Databases) -> None:
    async def scenario(w: World) -> None:
        stranger = ApiKey("SK" + "7" * 32, ACCOUNT_SID, None, w.key.secret, 0, 0)
        with pytest.raises(errors.InvalidAccessTokenIssuerError):
            await authenticate(w.deps, w.token(key=stranger))
        with pytest.raises(errors.InvalidAccessTokenIssuerError):
            await authenticate(w.deps, w.token(account_sid=OTHER_ACCOUNT))
        assert await key_is_live(w.deps, ACCOUNT_SID, w.key.sid)
        assert not await key_is_live(w.deps, OTHER_ACCOUNT, w.key.sid)
        token = w.token()
        await api_keys.delete_api_key(w.deps, ACCOUNT_SID, w.key.sid)
        assert not await key_is_live(w.deps, ACCOUNT_SID, w.key.sid)
        with pytest.raises(errors.InvalidAccessTokenIssuerError) as info:
            await authenticate(w.deps, token)
        assert info.value.to_dict()["code"] == 20103

    run(databases, scenario)


def test_a_wrong_secret_is_20107(databases: Databases) -> None:
    async def scenario(w: World) -> None:
        with pytest.raises(errors.InvalidAccessTokenSignatureError):
            await authenticate(w.deps, w.token(secret="0" * 32))

    run(databases, scenario)


def test_a_service_the_account_does_not_have_is_20106(databases: Databases) -> None:
    async def scenario(w: World) -> None:
        with pytest.raises(errors.InvalidAccessTokenGrantsError):
            await authenticate(w.deps, w.token(service_sid="IS" + "5" * 32))
        await services.delete_service(w.deps, ADMIN, w.service.sid)
        with pytest.raises(errors.InvalidAccessTokenGrantsError):
            await authenticate(w.deps, w.token())

    run(databases, scenario)


def test_the_token_expires_by_the_clock(databases: Databases) -> None:
    async def scenario(w: World) -> None:
        token = w.token()
        await authenticate(w.deps, token)
        w.clock.advance(3600)
        with pytest.raises(errors.AccessTokenExpiredError):
            await authenticate(w.deps, token)

    run(databases, scenario)
