"""Sync reads: descriptors, item data, paging with an inclusive From, replay, access."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from sync_support import BASE, SyncReader

from chinwag import errors
from chinwag.clock import SystemClock
from chinwag.domain import policy
from chinwag.domain.policy import Standing
from chinwag.realtime.sync import access, endpoints, objects, paging
from chinwag.realtime.sync.objects import ObjectType
from chinwag.realtime.sync.subscriptions import SyncHub, SyncSettings
from chinwag.storage.database import Database
from chinwag.storage.engines import create_engine
from chinwag.testing import ThreadedServer

pytestmark = pytest.mark.server


def test_object_sids_and_names_resolve_to_the_same_object() -> None:
    channel = "CH" + "ab" * 16
    for obj in objects.channel_objects(channel) + objects.user_objects("US" + "cd" * 16):
        assert objects.resolve(obj.kind, obj.sid) == obj
        assert objects.resolve(obj.kind, obj.unique_name) == obj
        assert objects.from_sid(obj.sid) == obj
    assert objects.channel_document(channel).unique_name == f"{channel}.channel"
    assert objects.resolve("map", f"{channel}.channel") is None  # a document, not a map
    assert objects.resolve("document", "general") is None


def _standing(**where: bool) -> Standing:
    return Standing(frozenset(), **{"public": False, **where})


@pytest.mark.parametrize(
    ("object_type", "standing", "own", "allowed"),
    [
        (ObjectType.USER_INFO, _standing(), False, True),
        (ObjectType.USER_CHANNELS, _standing(), True, True),
        (ObjectType.USER_CHANNELS, _standing(), False, False),
        (ObjectType.CHANNEL, _standing(public=True), False, True),
        (ObjectType.CHANNEL, _standing(invited=True), False, True),
        (ObjectType.CHANNEL, _standing(member=True), False, True),
        (ObjectType.CHANNEL, _standing(creator=True), False, True),
        (ObjectType.CHANNEL, _standing(), False, False),
        # who may see a channel may see who is in it, as through the user descriptors
        (ObjectType.ROSTER, _standing(public=True), False, True),
        (ObjectType.ROSTER, _standing(invited=True), False, True),
        (ObjectType.ROSTER, _standing(), False, False),
        (ObjectType.MESSAGES, _standing(public=True, invited=True), False, False),
        (ObjectType.MESSAGES, _standing(member=True), False, True),
    ],
)
def test_sync_asks_the_policy(
    object_type: ObjectType, standing: Standing, own: bool, allowed: bool
) -> None:
    assert policy.may_see(standing, access.ACTIONS[object_type], own=own) is allowed


@pytest.fixture
def room(service: Any) -> dict[str, Any]:
    channel = service.channels.create(
        unique_name="general", friendly_name="General", attributes='{"topic":"x"}'
    )
    ann = service.channels("general").members.create(identity="ann")
    bob = service.channels("general").members.create(identity="bob")
    for n in range(12):
        service.channels("general").messages.create(body=f"m{n}", from_="ann")
    service.users("ann").update(friendly_name="Ann")
    service.users.create(identity="cid")
    service.channels.create(unique_name="secret", type="private")
    service.channels("secret").invites.create(identity="cid")
    return {"service": service, "channel": channel, "ann": ann, "bob": bob}


def test_descriptors_and_item_data(server: ThreadedServer, room: dict[str, Any]) -> None:
    reader = SyncReader(server)
    ch = room["channel"].sid
    doc = reader.open(objects.channel_document(ch))
    assert doc["unique_name"] == f"{ch}.channel"
    assert doc["url"] == f"{BASE}/v3/Documents/{doc['sid']}"
    assert doc["last_event_id"] == int(doc["revision"]) > 0
    data = doc["data"]
    assert data["friendlyName"] == "General" and data["uniqueName"] == "general"
    assert json.loads(data["attributes"]) == {"topic": "x"}
    assert data["messages"] == f"{ch}.messages" and data["roster"] == f"{ch}.roster"
    assert data["lastMessage"]["index"] == 11

    roster = reader.open(objects.roster_map(ch), include_items=True)
    assert roster["links"]["items"] == f"{BASE}/v3/Maps/{roster['sid']}/Items"
    by_identity = {i["data"]["identity"]: i for i in roster["items"]}
    assert by_identity["ann"]["key"] == room["ann"].sid
    ann_user = room["service"].users("ann").fetch()
    assert by_identity["ann"]["data"]["userInfo"] == f"{ann_user.sid}.info"

    info = reader.open(objects.user_info_map(ann_user.sid), include_items=True)
    values = {i["key"]: i["data"] for i in info["items"]}
    assert values == {
        "attributes": {"value": "{}"},
        "friendlyName": {"value": "Ann"},
        "reachability": {"online": False, "notifiable": False},
    }

    cid = room["service"].users("cid").fetch()
    mine = reader.open(objects.user_channels_map(cid.sid), include_items=True)
    [item] = mine["items"]
    assert item["data"]["status"] == "invited"
    assert item["data"]["channel"] == f"{item['key']}.channel"
    assert item["data"]["type"] == "private"


def test_list_items_page_with_an_inclusive_from(
    server: ThreadedServer, room: dict[str, Any]
) -> None:
    reader = SyncReader(server)
    messages = objects.messages_list(room["channel"].sid)
    first = reader.items(messages, paging.ItemQuery(page_size=5))
    assert [i["index"] for i in first["items"]] == [0, 1, 2, 3, 4]
    assert first["meta"]["previous_token"] is None and first["meta"]["next_token"]
    assert first["items"][0]["data"]["text"] == "m0"
    following = reader.items(messages, paging.ItemQuery(start=4, page_size=6))
    assert [i["index"] for i in following["items"]] == [4, 5, 6, 7, 8, 9]
    assert following["meta"]["previous_token"] and following["meta"]["next_token"]
    last = reader.items(messages, paging.ItemQuery(start=11, descending=True, page_size=3))
    assert [i["index"] for i in last["items"]] == [11, 10, 9]
    assert last["meta"]["previous_token"] is None and last["meta"]["next_token"]
    one = reader.items(messages, paging.ItemQuery(key=3))
    assert [i["index"] for i in one["items"]] == [3]
    assert reader.items(messages, paging.ItemQuery(key=99))["items"] == []


def _follow(reader: SyncReader, obj: Any, token: str | None, kind: type[Any]) -> Any:
    assert token
    return reader.items(obj, paging.decode(token, kind, 1000))


@pytest.mark.parametrize("descending", [False, True])
def test_page_tokens_name_the_next_and_previous_pages(
    server: ThreadedServer, room: dict[str, Any], descending: bool
) -> None:
    """Sync clients before twilio-sync 3 page with ``?PageToken=`` alone: each token reads
    the page it points to, in the order of the page it came from, both ways."""
    reader = SyncReader(server)
    messages = objects.messages_list(room["channel"].sid)
    order = list(range(12))[:: -1 if descending else 1]
    page = reader.items(messages, paging.ItemQuery(descending=descending, page_size=5))
    pages = [[i["index"] for i in page["items"]]]
    while page["meta"]["next_token"]:
        page = _follow(reader, messages, page["meta"]["next_token"], int)
        pages.append([i["index"] for i in page["items"]])
    assert pages == [order[0:5], order[5:10], order[10:12]]
    back = [pages[-1]]
    while page["meta"]["previous_token"]:
        page = _follow(reader, messages, page["meta"]["previous_token"], int)
        back.append([i["index"] for i in page["items"]])
    assert back == pages[::-1]

    roster = objects.roster_map(room["channel"].sid)
    members = reader.items(roster, paging.ItemQuery(page_size=1))
    keys = [i["key"] for i in members["items"]]
    following = _follow(reader, roster, members["meta"]["next_token"], str)
    assert keys + [i["key"] for i in following["items"]] == sorted(
        [room["ann"].sid, room["bob"].sid]
    )
    assert following["meta"]["next_token"] is None
    assert (
        _follow(reader, roster, following["meta"]["previous_token"], str)["items"]
        == members["items"]
    )


@pytest.mark.parametrize(
    "token", ["!", "W10", paging.encode(paging.ItemQuery(start="a")), "x" * 600]
)
def test_a_bad_page_token_is_invalid(token: str) -> None:
    with pytest.raises(errors.InvalidPageTokenError):
        paging.decode(token, int, 1000)


def _state(reader: SyncReader, obj: Any) -> tuple[int, dict[Any, Any]]:
    """What a client holds after opening ``obj`` and loading all its items."""
    position = reader.position(obj)
    assert position is not None
    page = reader.items(obj, paging.ItemQuery(page_size=1000))
    return position, {i.get("key", i.get("index")): i["data"] for i in page["items"]}


def _apply(state: dict[Any, Any], events: list[dict[str, Any]]) -> dict[Any, Any]:
    state = dict(state)
    for event in events:
        body = event["event"]
        key = body.get("item_key", body.get("item_index"))
        if event["event_type"].endswith("_item_removed"):
            state.pop(key, None)
        else:
            state[key] = body["item_data"]
    return state


def test_replay_from_any_point_reaches_the_current_state(
    server: ThreadedServer, room: dict[str, Any]
) -> None:
    """A client that loaded an object at any point of its history and replays from there
    holds exactly what a fresh load shows now."""
    reader = SyncReader(server)
    service, ch = room["service"], room["channel"].sid
    watched = [objects.messages_list(ch), objects.roster_map(ch)]
    msgs = service.channels(ch).messages.list()
    steps = [
        lambda: service.channels(ch).messages(msgs[3].sid).update(body="edited"),
        lambda: service.channels(ch).messages.create(body="new"),
        lambda: service.channels(ch).messages(msgs[5].sid).delete(),
        lambda: service.channels(ch).members.create(identity="dee"),
        lambda: service.channels(ch).members("bob").update(last_consumed_message_index=4),
        lambda: service.channels(ch).messages(msgs[3].sid).update(body="again"),
        lambda: service.channels(ch).members("ann").delete(),
        lambda: service.channels(ch).messages.create(body="newer"),
    ]
    history = {obj.sid: [_state(reader, obj)] for obj in watched}
    for step in steps:
        step()
        for obj in watched:
            history[obj.sid].append(_state(reader, obj))
    for obj in watched:
        final = history[obj.sid][-1][1]
        for position, seen in history[obj.sid]:
            replay = reader.replay(obj, position)
            assert not replay.more
            assert _apply(seen, replay.events) == final, (obj.type, position)
    added = reader.replay(watched[0], history[watched[0].sid][0][0]).events
    kinds = [(e["event_type"], e["event"]["item_index"]) for e in added]
    assert kinds == [
        ("list_item_added", 12),
        ("list_item_removed", 5),
        ("list_item_updated", 3),
        ("list_item_added", 13),
    ]


def test_access_answers_forbidden_or_not_found(
    server: ThreadedServer, room: dict[str, Any]
) -> None:
    service = room["service"]
    ann = service.users("ann").fetch()
    cid = service.users("cid").fetch()
    secret = service.channels("secret").fetch()
    general = room["channel"].sid
    service_sid = room["channel"].service_sid

    async def run() -> dict[str, Any]:
        db = Database(create_engine(server.app.api.settings.database))
        await db.open()
        hub = SyncHub(db, SystemClock(), SyncSettings(base_url=BASE))
        outcomes: dict[str, Any] = {}
        cases = {
            "own channels": ("ann", "map", f"{ann.sid}.channels"),
            "other's channels": ("ann", "map", f"{cid.sid}.channels"),
            "other's info": ("cid", "map", f"{ann.sid}.info"),
            "public document": ("cid", "document", f"{general}.channel"),
            "private, invited": ("cid", "document", f"{secret.sid}.channel"),
            "private, outsider": ("ann", "document", f"{secret.sid}.channel"),
            "roster, joined": ("ann", "map", f"{general}.roster"),
            "public roster, not joined": ("cid", "map", f"{general}.roster"),
            "private roster, outsider": ("ann", "map", f"{secret.sid}.roster"),
            "messages, not joined": ("cid", "list", f"{general}.messages"),
            "no such channel": ("ann", "document", "CH" + "0" * 32 + ".channel"),
            "not a name": ("ann", "list", "whatever"),
        }
        try:
            for name, (identity, kind, ident) in cases.items():
                try:
                    await endpoints.open_object(hub, BASE, service_sid, identity, kind, ident, {})
                    outcomes[name] = "ok"
                except errors.ChinwagError as error:
                    outcomes[name] = (error.status, error.code)
        finally:
            await db.close()
        return outcomes

    assert asyncio.run(run()) == {
        "own channels": "ok",
        "other's channels": (403, 54007),
        "other's info": "ok",
        "public document": "ok",
        "private, invited": "ok",
        "private, outsider": (403, 54007),
        "roster, joined": "ok",
        "public roster, not joined": "ok",
        "private roster, outsider": (403, 54007),
        "messages, not joined": (403, 54007),
        "no such channel": (404, 54100),
        "not a name": (404, 54150),
    }
