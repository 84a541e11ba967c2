"""The chat clients' list reads cost a constant number of statements per page, whatever the
page holds: the user's channels (with each channel) and a channel's users (the SDK's
``getUserDescriptors``). Counted on the real database (SQLite, or PostgreSQL with
CHINWAG_TEST_DATABASE_URL) at the one place every statement passes, ``Txn._statement``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from chinwag.clock import FakeClock
from chinwag.domain import channels, members, services, user_channels
from chinwag.domain.deps import Caller, Deps
from chinwag.events.local import LocalBus
from chinwag.model.events import API_ACTOR, Actor
from chinwag.model.records import PageRequest
from chinwag.sids import SidGenerator
from chinwag.storage.database import Database, Txn
from chinwag.storage.engines import Engine, create_engine
from conftest import ACCOUNT_SID, Databases

pytestmark = pytest.mark.unit

ADMIN = Caller(ACCOUNT_SID, API_ACTOR)
ALICE = Caller(ACCOUNT_SID, Actor("SDK", "alice"))


class Counter:
    """Counts the statements this test's database runs while it is on.

    Only ``engine``'s: the patch is on the class, and in a serial run another test's
    in-process server may still be polling its own database from another thread."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, engine: Engine) -> None:
        self.count = 0
        original = Txn._statement

        def counted(txn: Txn) -> Any:
            if txn.engine is engine:
                self.count += 1
            return original(txn)

        monkeypatch.setattr(Txn, "_statement", counted)

    async def measure(self, read: Callable[[], Awaitable[Any]]) -> tuple[int, Any]:
        self.count = 0
        result = await read()
        return self.count, result


def _run(databases: Databases, scenario: Callable[[Deps, str], Awaitable[None]]) -> None:
    url = databases.new()

    async def main() -> None:
        deps = Deps(Database(create_engine(url)), FakeClock(1_000_000), SidGenerator(), LocalBus())
        await deps.db.open()
        try:
            service = await services.create_service(deps, ADMIN, services.CreateService("chat"))
            await scenario(deps, service.sid)
        finally:
            await deps.db.close()

    asyncio.run(main())


async def _channels_of_alice(deps: Deps, service: str, count: int) -> list[str]:
    """``count`` channels alice is a member of, each with ``bob`` too."""
    made = []
    for _ in range(count):
        channel = await channels.create_channel(deps, ADMIN, service, channels.CreateChannel())
        for identity in ("alice", "bob"):
            await members.create_member(
                deps, ADMIN, service, channel.sid, members.CreateMember(identity)
            )
        made.append(channel.sid)
    return made


def test_my_channels_page_costs_the_same_for_2_or_40_rows(
    databases: Databases, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def scenario(deps: Deps, service: str) -> None:
        counter = Counter(monkeypatch, deps.db.engine)
        page = PageRequest(size=50)

        def read() -> Awaitable[Any]:
            return user_channels.list_user_channels_with_channels(
                deps, ALICE, service, "alice", page
            )

        made = await _channels_of_alice(deps, service, 2)
        small, first = await counter.measure(read)
        made += await _channels_of_alice(deps, service, 38)
        large, second = await counter.measure(read)
        assert [c.sid for _, c in first.items] == made[:2]
        assert [(mine.channel_sid, c.sid) for mine, c in second.items] == [(s, s) for s in made]
        assert small == large

    _run(databases, scenario)


def test_channel_users_page_costs_the_same_for_2_or_40_members(
    databases: Databases, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def scenario(deps: Deps, service: str) -> None:
        counter = Counter(monkeypatch, deps.db.engine)
        [channel] = await _channels_of_alice(deps, service, 1)
        page = PageRequest(size=50)

        def read() -> Awaitable[Any]:
            return members.list_member_users(deps, ALICE, service, channel, page)

        small, first = await counter.measure(read)
        for i in range(38):
            await members.create_member(
                deps, ADMIN, service, channel, members.CreateMember(f"user-{i:02}")
            )
        large, second = await counter.measure(read)
        assert [u.identity for u in first.items] == ["alice", "bob"]
        assert [u.identity for u in second.items] == [
            "alice",
            "bob",
            *(f"user-{i:02}" for i in range(38)),
        ]
        assert small == large

    _run(databases, scenario)
