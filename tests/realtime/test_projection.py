"""Every REST mutation -> the exact Sync objects, items and events it produces.

Each row sets a scene through the official twilio SDK, notes every object's event id, runs one
mutation, and then replays each object from the noted id: what a subscribed client would
receive. Objects not named in a row must produce nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sync_support import SyncReader

from chinwag.realtime.sync import objects
from chinwag.realtime.sync.objects import SyncObject
from chinwag.testing import ThreadedServer

pytestmark = pytest.mark.server

Scene = dict[str, Any]


@dataclass(frozen=True)
class Row:
    name: str
    act: Callable[[Any, Scene], None]
    #: object label -> [(event_type, item key or None)]
    expect: dict[str, list[tuple[str, Any]]]
    setup: Callable[[Any, Scene], None] = field(default=lambda svc, scene: None)


def _member(svc: Any, scene: Scene, identity: str = "ann") -> None:
    scene[f"member:{identity}"] = svc.channels(scene["ch"]).members.create(identity=identity).sid


def _message(svc: Any, scene: Scene) -> None:
    svc.channels(scene["ch"]).messages.create(body="first", from_="ann")


def _invite(svc: Any, scene: Scene) -> None:
    svc.users.create(identity="bob")
    scene["invite"] = svc.channels(scene["ch"]).invites.create(identity="bob").sid


def _both(*steps: Callable[[Any, Scene], None]) -> Callable[[Any, Scene], None]:
    def run(svc: Any, scene: Scene) -> None:
        for step in steps:
            step(svc, scene)

    return run


ROWS = [
    Row(
        "message create",
        lambda svc, s: svc.channels(s["ch"]).messages.create(body="hi"),
        {"messages": [("list_item_added", 0)], "channel": [("document_updated", None)]},
    ),
    Row(
        "message update",
        lambda svc, s: (
            svc.channels(s["ch"])
            .messages(svc.channels(s["ch"]).messages.list()[0].sid)
            .update(body="edited")
        ),
        {"messages": [("list_item_updated", 0)]},
        setup=_message,
    ),
    Row(
        "message delete",
        lambda svc, s: (
            svc.channels(s["ch"]).messages(svc.channels(s["ch"]).messages.list()[0].sid).delete()
        ),
        {"messages": [("list_item_removed", 0)], "channel": [("document_updated", None)]},
        setup=_message,
    ),
    Row(
        "channel update",
        lambda svc, s: svc.channels(s["ch"]).update(friendly_name="renamed"),
        {"channel": [("document_updated", None)]},
    ),
    Row(
        "member add (creates the user)",
        lambda svc, s: _member(svc, s, "cat"),
        {"roster": [("map_item_added", "member:cat")], "cat.channels": [("map_item_added", "CH")]},
        setup=lambda svc, s: None,
    ),
    Row(
        "member update",
        lambda svc, s: (
            svc.channels(s["ch"]).members(s["member:ann"]).update(last_consumed_message_index=0)
        ),
        {
            "roster": [("map_item_updated", "member:ann")],
            "ann.channels": [("map_item_updated", "CH")],
        },
        setup=_member,
    ),
    Row(
        "member delete",
        lambda svc, s: svc.channels(s["ch"]).members(s["member:ann"]).delete(),
        {
            "roster": [("map_item_removed", "member:ann")],
            "ann.channels": [("map_item_removed", "CH")],
        },
        setup=_member,
    ),
    Row(
        "invite create",
        lambda svc, s: svc.channels(s["ch"]).invites.create(identity="dan"),
        {"dan.channels": [("map_item_added", "CH")]},
        setup=lambda svc, s: svc.users.create(identity="dan"),
    ),
    Row(
        "invite delete",
        lambda svc, s: svc.channels(s["ch"]).invites(s["invite"]).delete(),
        {"bob.channels": [("map_item_removed", "CH")]},
        setup=_invite,
    ),
    Row(
        "invitee joins",
        lambda svc, s: _member(svc, s, "bob"),
        {
            "roster": [("map_item_added", "member:bob")],
            "bob.channels": [("map_item_updated", "CH")],
        },
        setup=_invite,
    ),
    Row(
        "user update",
        lambda svc, s: svc.users("ann").update(friendly_name="Ann", attributes='{"a":1}'),
        {"ann.info": [("map_item_updated", "friendlyName"), ("map_item_updated", "attributes")]},
        setup=_member,
    ),
    Row(
        "channel delete",
        lambda svc, s: svc.channels(s["ch"]).delete(),
        {
            "ann.channels": [("map_item_removed", "CH")],
            "bob.channels": [("map_item_removed", "CH")],
            "channel": [("document_removed", None)],
            "roster": [("map_removed", None)],
            "messages": [("list_removed", None)],
        },
        setup=_both(_member, _invite, _message),
    ),
    Row(
        "user delete",
        lambda svc, s: svc.users("ann").delete(),
        {
            "roster": [("map_item_removed", "member:ann")],
            "ann.channels": [("map_removed", None)],
            "ann.info": [("map_removed", None)],
        },
        setup=_member,
    ),
    Row(
        "service delete",
        lambda svc, s: svc.delete(),
        {
            label: [(f"{kind}_removed", None)]
            for label, kind in (
                ("channel", "document"),
                ("roster", "map"),
                ("messages", "list"),
                ("ann.channels", "map"),
                ("ann.info", "map"),
            )
        },
        setup=_member,
    ),
    Row("user create", lambda svc, s: svc.users.create(identity="eve"), {}, setup=_member),
    Row(
        "role create",
        lambda svc, s: svc.roles.create(
            friendly_name="r", type="channel", permission=["sendMessage"]
        ),
        {},
    ),
]


def _objects(svc: Any, scene: Scene) -> dict[str, SyncObject]:
    ch = scene["ch"]
    found = {
        "channel": objects.channel_document(ch),
        "roster": objects.roster_map(ch),
        "messages": objects.messages_list(ch),
    }
    for user in svc.users.list():
        found[f"{user.identity}.channels"] = objects.user_channels_map(user.sid)
        found[f"{user.identity}.info"] = objects.user_info_map(user.sid)
    return found


def _key(scene: Scene, key: Any) -> Any:
    if key == "CH":
        return scene["ch"]
    if isinstance(key, str) and key.startswith("member:"):
        return scene[key]
    return key


def _summary(event: dict[str, Any]) -> tuple[str, Any]:
    body = event["event"]
    return event["event_type"], body.get("item_key", body.get("item_index"))


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_rest_mutation_produces_exactly_its_sync_events(
    server: ThreadedServer, service: Any, row: Row
) -> None:
    reader = SyncReader(server)
    scene: Scene = {"ch": service.channels.create(unique_name="room").sid}
    row.setup(service, scene)
    existing = _objects(service, scene)
    before = {label: reader.position(obj) or 0 for label, obj in existing.items()}
    row.act(service, scene)
    watched = {**existing, **(_objects(service, scene) if row.name != "service delete" else {})}
    seen = {}
    for label, obj in watched.items():
        replay = reader.replay(obj, before.get(label, 0))
        seen[label] = [_summary(e) for e in replay.events]
        ids = [e["event"]["id"] for e in replay.events if "id" in e["event"]]
        assert ids == sorted(set(ids)), f"{label}: event ids must grow strictly"
        if not replay.removed:
            assert replay.position >= max(ids, default=0)
    expected = {
        label: [(kind, _key(scene, key)) for kind, key in events]
        for label, events in row.expect.items()
    }
    assert {k: v for k, v in seen.items() if v} == expected
