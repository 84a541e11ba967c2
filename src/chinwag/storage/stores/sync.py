"""Sync event ids and the change index (``sync_changes``), written in the change's transaction.

Event ids come from counters in the owner rows: an UPDATE that adds to ``sync_event_id`` both
claims the ids and, on PostgreSQL, takes the row lock that makes ids commit in order, so a
reader never sees event N+1 without event N. The Sync views (``realtime/sync``) read what
changed after a client's event id from here and the item data from the chat tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chinwag.model.records import Message
from chinwag.storage.database import Txn
from chinwag.storage.placeholders import placeholders
from chinwag.storage.stores.messages import COLUMNS as MESSAGE_COLUMNS
from chinwag.storage.stores.messages import message_from_row


@dataclass(frozen=True, slots=True)
class Change:
    """The last event that touched one item of one object."""

    key: str
    event_id: int
    added_event_id: int
    removed: bool


async def claim_channel_ids_txn(
    txn: Txn, channel_sid: str, count: int, *, document: bool = False
) -> int | None:
    """Claim ``count`` event ids of a channel's objects; returns the highest (None: no channel).

    With ``document`` the highest id is also recorded as the channel document's last event.
    """
    also = ", document_event_id = sync_event_id + $2" if document else ""
    row = await txn.fetchone(
        f"UPDATE channels SET sync_event_id = sync_event_id + $2{also} WHERE sid = $1 "
        "RETURNING sync_event_id",
        channel_sid,
        count,
    )
    return None if row is None else int(row["sync_event_id"])


async def claim_user_ids_txn(
    txn: Txn, service_sid: str, identity: str, count: int
) -> tuple[str, int] | None:
    """Claim ``count`` event ids of a user's objects: ``(user sid, highest id)`` or None."""
    row = await txn.fetchone(
        "UPDATE users SET sync_event_id = sync_event_id + $3 "
        "WHERE service_sid = $1 AND identity = $2 RETURNING sid, sync_event_id",
        service_sid,
        identity,
        count,
    )
    return None if row is None else (row["sid"], int(row["sync_event_id"]))


async def claim_user_ids_by_sid_txn(txn: Txn, user_sid: str, count: int) -> int | None:
    row = await txn.fetchone(
        "UPDATE users SET sync_event_id = sync_event_id + $2 WHERE sid = $1 "
        "RETURNING sync_event_id",
        user_sid,
        count,
    )
    return None if row is None else int(row["sync_event_id"])


async def record_txn(
    txn: Txn,
    service_sid: str,
    object_sid: str,
    key: str,
    event_id: int,
    *,
    added_event_id: int | None = None,
    removed: bool = False,
    ref: str | None = None,
) -> None:
    """Record that event ``event_id`` added, updated or removed item ``key``.

    ``added_event_id`` is the event that added the item when it is new here (its own event for
    an addition; 0 for an item older than the index). An item already present keeps the event
    that added it, unless it was a tombstone: then it is added anew.
    """
    added = event_id if added_event_id is None else added_event_id
    await txn.execute(
        "INSERT INTO sync_changes (object_sid, item_key, service_sid, event_id, added_event_id, "
        "removed, ref) VALUES ($1, $2, $3, $4, $5, $6, $7) "
        "ON CONFLICT (object_sid, item_key) DO UPDATE SET event_id = excluded.event_id, "
        "removed = excluded.removed, ref = excluded.ref, added_event_id = CASE "
        "WHEN sync_changes.removed THEN excluded.added_event_id "
        "ELSE sync_changes.added_event_id END",
        object_sid,
        key,
        service_sid,
        event_id,
        added,
        removed,
        ref,
    )


async def holders_of_key_txn(txn: Txn, key: str, object_prefix: str) -> list[str]:
    """Objects (SIDs starting with ``object_prefix``) holding a live item ``key``."""
    rows = await txn.fetchall(
        "SELECT object_sid FROM sync_changes WHERE item_key = $1 AND removed = FALSE "
        "AND substr(object_sid, 1, 2) = $2",
        key,
        object_prefix,
    )
    return [row["object_sid"] for row in rows]


async def live_refs_txn(txn: Txn, object_sid: str) -> list[tuple[str, str]]:
    """``(key, ref)`` of the object's live items that carry a ref."""
    rows = await txn.fetchall(
        "SELECT item_key, ref FROM sync_changes WHERE object_sid = $1 AND removed = FALSE "
        "AND ref IS NOT NULL",
        object_sid,
    )
    return [(row["item_key"], row["ref"]) for row in rows]


async def forget_objects_txn(txn: Txn, object_sids: Sequence[str]) -> None:
    """Drop the change index of deleted objects (their subscribers learn of the removal)."""
    for sid in object_sids:
        await txn.execute("DELETE FROM sync_changes WHERE object_sid = $1", sid)


async def forget_service_txn(txn: Txn, service_sid: str) -> None:
    await txn.execute("DELETE FROM sync_changes WHERE service_sid = $1", service_sid)


async def changes_after_txn(txn: Txn, object_sid: str, after: int, limit: int) -> list[Change]:
    rows = await txn.fetchall(
        "SELECT item_key, event_id, added_event_id, removed FROM sync_changes "
        "WHERE object_sid = $1 AND event_id > $2 ORDER BY event_id LIMIT $3",
        object_sid,
        after,
        limit,
    )
    return [
        Change(r["item_key"], int(r["event_id"]), int(r["added_event_id"]), bool(r["removed"]))
        for r in rows
    ]


async def messages_added_after_txn(
    txn: Txn, channel_sid: str, after: int, limit: int
) -> list[tuple[int, Message]]:
    """``(added event id, message)`` of the messages added after event ``after``, by index.

    Ids are claimed with indexes under the channel row lock, so they grow with the index: the
    scan starts after the newest message added at or before ``after`` and reads only the new
    ones, through the ``(channel_sid, idx)`` index.
    """
    rows = await txn.fetchall(
        f"SELECT added_event_id, {MESSAGE_COLUMNS} FROM messages WHERE channel_sid = $1 "
        "AND added_event_id > $2 AND idx > COALESCE((SELECT idx FROM messages "
        "WHERE channel_sid = $1 AND added_event_id <= $2 ORDER BY idx DESC LIMIT 1), -1) "
        "ORDER BY idx LIMIT $3",
        channel_sid,
        after,
        limit,
    )
    return [(int(row[0]), message_from_row(tuple(row)[1:])) for row in rows]


async def message_added_event_txn(txn: Txn, channel_sid: str, index: int) -> int:
    row = await txn.fetchone(
        "SELECT added_event_id FROM messages WHERE channel_sid = $1 AND idx = $2",
        channel_sid,
        index,
    )
    return 0 if row is None else int(row["added_event_id"])


@dataclass(frozen=True, slots=True)
class ChannelView:
    """What a channel's Sync objects show: the row, its counters and its last message."""

    sid: str
    service_sid: str
    friendly_name: str | None
    unique_name: str | None
    attributes: str | None
    type: str
    created_by: str
    date_created: int
    date_updated: int
    sync_event_id: int
    document_event_id: int
    last_message_index: int | None
    last_message_date: int | None


async def channel_view_txn(txn: Txn, channel_sid: str) -> ChannelView | None:
    row = await txn.fetchone(
        "SELECT c.sid, c.service_sid, c.friendly_name, c.unique_name, c.attributes, c.type, "
        "c.created_by, c.date_created, c.date_updated, c.sync_event_id, c.document_event_id, "
        "m.idx, m.date_created FROM channels c LEFT JOIN messages m ON m.sid = c.last_message_sid "
        "WHERE c.sid = $1",
        channel_sid,
    )
    return None if row is None else ChannelView(*tuple(row))


@dataclass(frozen=True, slots=True)
class UserView:
    sid: str
    service_sid: str
    identity: str
    friendly_name: str | None
    attributes: str | None
    date_updated: int
    sync_event_id: int
    #: the service's setting: without it the ``reachability`` item always says offline
    reachability_enabled: bool = False


async def user_view_txn(txn: Txn, user_sid: str) -> UserView | None:
    row = await txn.fetchone(
        "SELECT u.sid, u.service_sid, u.identity, u.friendly_name, u.attributes, "
        "u.date_updated, u.sync_event_id, s.reachability_enabled FROM users u "
        "JOIN services s ON s.sid = u.service_sid WHERE u.sid = $1",
        user_sid,
    )
    if row is None:
        return None
    sid, service_sid, identity, friendly_name, attributes, updated, event_id, enabled = row
    return UserView(
        sid, service_sid, identity, friendly_name, attributes, updated, event_id, bool(enabled)
    )


@dataclass(frozen=True, slots=True)
class RosterEntry:
    """A member as its channel's roster shows it (with its user's SID for ``userInfo``)."""

    sid: str
    identity: str
    role_sid: str | None
    last_consumed_message_index: int | None
    last_consumption_timestamp: int | None
    date_created: int
    date_updated: int
    user_sid: str | None
    attributes: str | None


_ROSTER = (
    "SELECT m.sid, m.identity, m.role_sid, m.last_consumed_message_index, "
    "m.last_consumption_timestamp, m.date_created, m.date_updated, u.sid, m.attributes "
    "FROM members m "
    "LEFT JOIN users u ON u.service_sid = m.service_sid AND u.identity = m.identity "
    "WHERE m.channel_sid = $1"
)


async def roster_txn(
    txn: Txn, channel_sid: str, keys: Sequence[str] | None, window: KeyWindow
) -> list[RosterEntry]:
    """Members by SID (the roster's keys), ``keys`` only if given, within ``window``."""
    sql, args = window.apply(_ROSTER, "m.sid", (channel_sid,), keys)
    return [RosterEntry(*tuple(row)) for row in await txn.fetchall(sql, *args)]


@dataclass(frozen=True, slots=True)
class UserChannelEntry:
    """One item of a user's channels map: a membership or, failing that, a pending invite."""

    channel_sid: str
    status: str
    channel_type: str
    friendly_name: str | None
    unique_name: str | None
    attributes: str | None
    created_by: str
    date_created: int
    date_updated: int
    last_consumed_message_index: int | None
    #: None: never set, which is ``default``
    notification_level: str | None


_USER_CHANNELS = (
    "SELECT * FROM (SELECT c.sid AS key, 'joined' AS status, c.type, c.friendly_name, "
    "c.unique_name, c.attributes, c.created_by, c.date_created, c.date_updated, "
    "m.last_consumed_message_index, m.notification_level "
    "FROM members m JOIN channels c ON c.sid = m.channel_sid "
    "WHERE m.service_sid = $1 AND m.identity = $2 UNION ALL "
    "SELECT c.sid, 'invited', c.type, c.friendly_name, c.unique_name, c.attributes, "
    "c.created_by, c.date_created, c.date_updated, NULL, 'default' FROM invites i "
    "JOIN channels c ON c.sid = i.channel_sid WHERE i.service_sid = $1 AND i.identity = $2 "
    "AND NOT EXISTS (SELECT 1 FROM members x WHERE x.channel_sid = i.channel_sid "
    "AND x.identity = i.identity)) AS items WHERE TRUE"
)


async def user_channels_txn(
    txn: Txn, service_sid: str, identity: str, keys: Sequence[str] | None, window: KeyWindow
) -> list[UserChannelEntry]:
    sql, args = window.apply(_USER_CHANNELS, "key", (service_sid, identity), keys)
    return [UserChannelEntry(*tuple(row)) for row in await txn.fetchall(sql, *args)]


async def messages_window_txn(
    txn: Txn, channel_sid: str, indexes: Sequence[int] | None, window: KeyWindow
) -> list[Message]:
    sql, args = window.apply(
        f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE channel_sid = $1",
        "idx",
        (channel_sid,),
        indexes,
    )
    return [message_from_row(row) for row in await txn.fetchall(sql, *args)]


@dataclass(frozen=True, slots=True)
class KeyWindow:
    """A page of items by key: from ``start`` (inclusive), in key order, at most ``limit``."""

    start: str | int | None = None
    descending: bool = False
    limit: int = 1000

    def apply(
        self,
        select: str,
        column: str,
        args: tuple[object, ...],
        keys: Sequence[object] | None,
    ) -> tuple[str, tuple[object, ...]]:
        sql = select
        if keys is not None:
            marks = placeholders(len(args) + 1, len(keys))
            sql += f" AND {column} IN ({marks})" if keys else " AND FALSE"
            args = (*args, *keys)
        if self.start is not None:
            sql += f" AND {column} {'<=' if self.descending else '>='} ${len(args) + 1}"
            args = (*args, self.start)
        sql += f" ORDER BY {column} {'DESC' if self.descending else 'ASC'} LIMIT ${len(args) + 1}"
        return sql, (*args, self.limit)
