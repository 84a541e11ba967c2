"""A page of messages holds the same messages a fetch by SID returns, on both engines.

The list reads fewer columns than a fetch (the SIDs every message of a channel shares come from
the channel), so this pins that both reads build equal messages: edited ones, media ones, ones
with null attributes, in both orders and on pages reached by a token either way.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest

from chinwag.model.records import (
    Channel,
    Cursor,
    Message,
    MessageMedia,
    NewMessage,
    Page,
    PageRequest,
)
from chinwag.storage.database import Database, Txn
from chinwag.storage.engines import create_engine
from chinwag.storage.stores import channels, messages
from conftest import ACCOUNT_SID, Databases

pytestmark = pytest.mark.unit

SERVICE = "IS" + "1" * 32
CHANNEL = Channel(
    sid="CH" + "2" * 32,
    account_sid=ACCOUNT_SID,
    service_sid=SERVICE,
    friendly_name=None,
    unique_name="general",
    attributes=None,
    type="public",
    created_by="system",
    members_count=0,
    messages_count=0,
    last_message_sid=None,
    date_created=1_700_000_000_000,
    date_updated=1_700_000_000_000,
)
MEDIA = MessageMedia("ME" + "3" * 32, "cat.png", "image/png", 1234)
COUNT = 7


def _new(i: int) -> NewMessage:
    return NewMessage(
        sid=f"IM{i:032x}",
        account_sid=ACCOUNT_SID,
        service_sid=SERVICE,
        author="alice" if i % 2 else "system",
        body=f"body {i} ünï",
        attributes=None if i % 3 else f'{{"i": {i}}}',
        date_created=1_700_000_000_000 + i * 700,
        media=MEDIA if i == 4 else None,
    )


async def _seed(txn: Txn) -> None:
    await channels.insert_channel_txn(txn, CHANNEL)
    for i in range(COUNT):
        await messages.append_message_txn(txn, "sid", CHANNEL.sid, _new(i))


async def _edit(txn: Txn, m: Message) -> None:
    edited = dataclasses.replace(
        m, body="edited", was_edited=True, date_updated=m.date_updated + 5_000
    )
    await messages.update_message_txn(txn, edited)


async def _fetch(txn: Txn, sid: str) -> Message | None:
    return await messages.find_channel_message_txn(
        txn, ACCOUNT_SID, SERVICE, "sid", CHANNEL.sid, sid
    )


async def _page(txn: Txn, req: PageRequest) -> Page[Message]:
    return await messages.list_messages_txn(txn, CHANNEL, req)


def _run(databases: Databases, requests: list[PageRequest]) -> list[tuple[Page[Message], Any]]:
    url = databases.new()

    async def scenario() -> list[tuple[Page[Message], Any]]:
        database = Database(create_engine(url))
        await database.open()
        try:
            await database.run_in_txn("seed", _seed)
            edited = await database.run_read("fetch", _fetch, f"IM{2:032x}")
            assert edited is not None
            await database.run_in_txn("edit", _edit, edited)
            out = []
            for req in requests:
                page = await database.run_read("list", _page, req)
                fetched = [await database.run_read("fetch", _fetch, m.sid) for m in page.items]
                out.append((page, fetched))
            return out
        finally:
            await database.close()

    return asyncio.run(scenario())


def test_listed_messages_equal_fetched_ones_in_every_order_and_direction(
    databases: Databases,
) -> None:
    requests = [
        PageRequest(size=50),
        PageRequest(size=50, descending=True),
        PageRequest(size=3, cursor=Cursor(1)),
        PageRequest(size=3, cursor=Cursor(5, backwards=True)),
        PageRequest(size=3, cursor=Cursor(5), descending=True),
        PageRequest(size=3, cursor=Cursor(1, backwards=True), descending=True),
        PageRequest(size=2, offset=2),
    ]
    results = _run(databases, requests)

    for page, fetched in results:
        assert page.items == fetched
    pages = [[m.index for m in page.items] for page, _ in results]
    assert pages == [
        [0, 1, 2, 3, 4, 5, 6],
        [6, 5, 4, 3, 2, 1, 0],
        [2, 3, 4],
        [2, 3, 4],
        [4, 3, 2],
        [4, 3, 2],
        [2, 3],
    ]
    keys = [(page.prev_key, page.next_key) for page, _ in results]
    assert keys == [(None, None), (None, None), (2, 4), (2, 4), (4, 2), (4, 2), (2, 3)]
    everything = {m.index: m for m in results[0][0].items}
    assert everything[4].media == MEDIA
    assert (everything[2].body, everything[2].was_edited) == ("edited", True)
    assert everything[2].date_updated == everything[2].date_created + 5_000
    assert (everything[0].attributes, everything[1].attributes) == ('{"i": 0}', None)
    assert {(m.account_sid, m.service_sid, m.channel_sid) for m in everything.values()} == {
        (ACCOUNT_SID, SERVICE, CHANNEL.sid)
    }
