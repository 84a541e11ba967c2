"""Reading the Sync objects: descriptors, item pages, and the events after an event id.

Every read first takes the owner's counter (``sync_event_id``), then the data. All events up
to that counter have committed (ids are claimed under the owner's row lock, so they commit in
order), and the data read afterwards reflects at least them. That counter is what a
descriptor or item reports as ``last_event_id``; the SDK then ignores replayed events it
already holds, and any later event carries a higher id. Events found beyond the counter are
left for the next read, so a reader never skips an event that had not yet committed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chinwag.domain.reachability import online_txn
from chinwag.realtime.sync import paging, shapes
from chinwag.realtime.sync.objects import ObjectType, SyncObject
from chinwag.realtime.sync.paging import ItemQuery
from chinwag.realtime.sync.shapes import Data
from chinwag.storage.database import Txn
from chinwag.storage.stores import sync as store
from chinwag.storage.stores.sync import ChannelView, KeyWindow, UserView

#: events read per query when replaying; a longer replay continues in further reads
REPLAY_BATCH = 500


@dataclass(frozen=True, slots=True)
class Replay:
    """Events after a client's event id, in id order, up to ``position``."""

    events: list[Data]
    position: int
    removed: bool = False
    more: bool = False


Owner = ChannelView | UserView


async def _owner(txn: Txn, obj: SyncObject) -> Owner | None:
    if obj.type in (ObjectType.USER_CHANNELS, ObjectType.USER_INFO):
        return await store.user_view_txn(txn, obj.owner_sid)
    return await store.channel_view_txn(txn, obj.owner_sid)


async def position_txn(txn: Txn, obj: SyncObject) -> int | None:
    """The object's current event id (see the module docstring); None if it is gone."""
    owner = await _owner(txn, obj)
    return None if owner is None else owner.sync_event_id


async def open_txn(txn: Txn, base: str, obj: SyncObject, include_items: bool) -> Data | None:
    """S1-S3: the object's descriptor (with its first items if asked); None if it is gone."""
    owner = await _owner(txn, obj)
    if owner is None:
        return None
    data = shapes.channel_data(owner) if isinstance(owner, ChannelView) else None
    body = shapes.descriptor(base, obj, owner.sync_event_id, owner.date_updated, data)
    if include_items and obj.kind != "document":
        body["items"] = (await _page(txn, base, obj, owner, ItemQuery()))[0]
    return body


async def items_txn(txn: Txn, base: str, obj: SyncObject, query: ItemQuery) -> Data | None:
    """S4/S5: a page of items with Sync's ``meta`` tokens; None if the object is gone.

    ``previous_token`` is set when there are items before the page in the order it is shown,
    ``next_token`` when there are items after it (protocol 2.3: descending, the roles follow
    the walk). Each token is the query of the page it points to (``paging.py``): twilio-sync 3
    only tests them for truth and pages by ``From``; older Sync clients send them back.
    """
    owner = await _owner(txn, obj)
    if owner is None:
        return None
    items, beyond = await _page(txn, base, obj, owner, query)
    tokens: dict[str, str | None] = {"previous_token": None, "next_token": None}
    if query.key is not None:
        return {"items": items, "meta": tokens}
    keys = [i.get("key", i.get("index")) for i in items]
    first, last = (keys[0], keys[-1]) if keys else (query.start, query.start)
    if query.before:
        earlier = beyond
        later = last is not None and await _any_after(txn, obj, owner, last, query.descending)
    else:
        later = beyond
        earlier = (
            query.start is not None
            and first is not None
            and await _any_after(txn, obj, owner, first, not query.descending)
        )
    order, size = query.descending, query.page_size
    if earlier:
        before = ItemQuery(None, first, order, size, exclusive=True, before=True)
        tokens["previous_token"] = paging.encode(before)
    if later:
        tokens["next_token"] = paging.encode(ItemQuery(None, last, order, size, exclusive=True))
    return {"items": items, "meta": tokens}


async def _any_after(
    txn: Txn, obj: SyncObject, owner: Owner, key: str | int, descending: bool
) -> bool:
    """Whether an item follows ``key`` walking in that order (``key`` itself excluded)."""
    found = await _items(txn, obj, owner, None, KeyWindow(key, descending, 2))
    return any(k != key for k, _, _ in found)


async def _page(
    txn: Txn, base: str, obj: SyncObject, owner: Owner, q: ItemQuery
) -> tuple[list[Data], bool]:
    """The page's items in the order shown, and whether more lie beyond it in the order read
    (after it, or before it for a ``before`` page)."""
    keys = None if q.key is None else [q.key]
    skip = q.exclusive and q.start is not None
    window = KeyWindow(q.start, q.descending != q.before, q.page_size + 1 + skip)
    found = await _items(txn, obj, owner, keys, window)
    if skip and found and found[0][0] == q.start:
        found = found[1:]
    page = found[: q.page_size]
    if q.before:
        page.reverse()
    items = [
        shapes.item(base, obj, key, owner.sync_event_id, date, data) for key, date, data in page
    ]
    return items, len(found) > q.page_size


async def _items(
    txn: Txn, obj: SyncObject, owner: Owner, keys: Sequence[str | int] | None, w: KeyWindow
) -> list[tuple[str | int, int, Data]]:
    """``(key, date updated, data)`` of the object's items, from the chat tables."""
    if isinstance(owner, UserView):
        if obj.type is ObjectType.USER_INFO:
            return await _user_info(txn, owner, keys, w)
        entries = await store.user_channels_txn(
            txn, owner.service_sid, owner.identity, _text(keys), w
        )
        return [(e.channel_sid, e.date_updated, shapes.user_channel_data(e)) for e in entries]
    if obj.type is ObjectType.ROSTER:
        members = await store.roster_txn(txn, owner.sid, _text(keys), w)
        return [(m.sid, m.date_updated, shapes.member_data(m)) for m in members]
    indexes = None if keys is None else [int(k) for k in keys]
    messages = await store.messages_window_txn(txn, owner.sid, indexes, w)
    return [(m.index, m.date_updated, shapes.message_data(m)) for m in messages]


def _text(keys: Sequence[str | int] | None) -> list[str] | None:
    return None if keys is None else [str(k) for k in keys]


async def _user_info(
    txn: Txn, user: UserView, keys: Sequence[str | int] | None, w: KeyWindow
) -> list[tuple[str | int, int, Data]]:
    chosen = [
        k
        for k in (reversed(shapes.USER_INFO_KEYS) if w.descending else shapes.USER_INFO_KEYS)
        if (keys is None or k in keys)
        and (w.start is None or (k <= str(w.start) if w.descending else k >= str(w.start)))
    ][: w.limit]
    reachability = (False, False)
    if user.reachability_enabled and "reachability" in chosen:
        reachability = await online_txn(txn, user.service_sid, user.identity)
    return [(k, user.date_updated, shapes.user_info_data(user, k, reachability)) for k in chosen]


async def events_after_txn(
    txn: Txn, base: str, obj: SyncObject, after: int, now_ms: int, limit: int = REPLAY_BATCH
) -> Replay:
    """The events of ``obj`` after event ``after``, rebuilt from the change index.

    Each changed item yields one event with its current data: ``*_item_added`` if the item was
    added after ``after``, ``*_item_updated`` otherwise, ``*_item_removed`` for a tombstone
    (skipped if the item came and went unseen). A document yields one ``document_updated``.
    A removed object yields its ``*_removed`` event.
    """
    owner = await _owner(txn, obj)
    if owner is None:
        return Replay([shapes.object_removed(obj)], after, removed=True)
    position = owner.sync_event_id
    if isinstance(owner, ChannelView) and obj.type is ObjectType.CHANNEL:
        if after < owner.document_event_id <= position:
            data = shapes.channel_data(owner)
            event = shapes.document_updated(obj, owner.document_event_id, owner.date_updated, data)
            return Replay([event], position)
        return Replay([], max(position, after))
    found: list[tuple[int, Data]] = []
    cut = position
    changes = await store.changes_after_txn(txn, obj.sid, after, limit)
    if len(changes) == limit:
        cut = min(cut, changes[-1].event_id)
    if obj.type is ObjectType.MESSAGES:
        added = await store.messages_added_after_txn(txn, owner.sid, after, limit)
        if len(added) == limit:
            cut = min(cut, added[-1][0])
        for event_id, m in added:
            data = shapes.message_data(m)
            found.append(
                (
                    event_id,
                    shapes.item_event(base, obj, "added", m.index, event_id, m.date_created, data),
                )
            )
    live = [c.key for c in changes if not c.removed and c.event_id <= cut]
    current = (
        {
            key: (date, data)
            for key, date, data in await _items(
                txn, obj, owner, live, KeyWindow(limit=len(live) + 1)
            )
        }
        if live
        else {}
    )
    for c in changes:
        key: str | int = int(c.key) if obj.kind == "list" else c.key
        if c.removed:
            if c.added_event_id <= after:
                event = shapes.item_event(base, obj, "removed", key, c.event_id, now_ms, {})
                found.append((c.event_id, event))
        elif key in current:
            date, data = current[key]
            # additions to the messages list come from the messages table, above
            fresh = c.added_event_id > after and obj.type is not ObjectType.MESSAGES
            change = "added" if fresh else "updated"
            found.append(
                (c.event_id, shapes.item_event(base, obj, change, key, c.event_id, date, data))
            )
    found.sort(key=lambda pair: pair[0])
    events = [event for event_id, event in found if event_id <= cut]
    return Replay(events, max(cut, after), more=cut < position)
