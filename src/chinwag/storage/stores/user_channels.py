"""A user's channels: memberships (``joined``) and pending invites (``invited``), in one list.

Unread counts cost O(1) per row plus a count of deleted messages above the horizon (see
``message_tombstones`` in ``schema.py``), not a count of the unread messages themselves.

Order: memberships first, in the order they were made, then invites, in the order they were
sent. One keyset cursor pages through both: the key is the member ``id``, or ``INVITES + id``
for an invite (no table reaches 10^15 rows).
"""

from __future__ import annotations

from chinwag.model.records import Page, PageRequest, User, UserChannel
from chinwag.storage.database import Txn
from chinwag.storage.engines import Row
from chinwag.storage.paging import fetch_page_txn

INVITES = 10**15

_SELECT = (
    "SELECT k, channel_sid, member_sid, status, lci, unread, nl FROM ("
    "SELECT m.id AS k, m.channel_sid, m.sid AS member_sid, 'joined' AS status, "
    "m.last_consumed_message_index AS lci, m.notification_level AS nl, "
    "CASE WHEN m.last_consumed_message_index IS NULL THEN NULL "
    "WHEN c.next_message_index - 1 <= m.last_consumed_message_index THEN 0 "
    "ELSE c.next_message_index - 1 - m.last_consumed_message_index - "
    "(SELECT COUNT(*) FROM message_tombstones t WHERE t.channel_sid = m.channel_sid "
    "AND t.idx > m.last_consumed_message_index) END AS unread "
    "FROM members m JOIN channels c ON c.sid = m.channel_sid "
    "WHERE m.service_sid = $1 AND m.identity = $2 "
    "UNION ALL "
    f"SELECT {INVITES} + i.id, i.channel_sid, NULL, 'invited', NULL, 'default', NULL "
    "FROM invites i WHERE i.service_sid = $1 AND i.identity = $2"
    ") uc WHERE 1 = 1"
)


async def list_user_channels_txn(
    txn: Txn, account_sid: str, service_sid: str, user: User, req: PageRequest
) -> Page[UserChannel]:
    return await fetch_page_txn(
        txn,
        _SELECT,
        (service_sid, user.identity),
        "k",
        req,
        lambda row: _to_model(account_sid, service_sid, user.sid, row),
    )


async def find_user_channel_txn(
    txn: Txn, account_sid: str, service_sid: str, user: User, channel_sid: str
) -> UserChannel | None:
    """The user's membership of (or invite to) one channel, or None."""
    row = await txn.fetchone(
        _SELECT + " AND channel_sid = $3", service_sid, user.identity, channel_sid
    )
    return None if row is None else _to_model(account_sid, service_sid, user.sid, row)


def _to_model(account_sid: str, service_sid: str, user_sid: str, row: Row) -> UserChannel:
    return UserChannel(
        account_sid=account_sid,
        service_sid=service_sid,
        channel_sid=row["channel_sid"],
        member_sid=row["member_sid"],
        status=row["status"],
        last_consumed_message_index=row["lci"],
        unread_messages_count=row["unread"],
        notification_level="muted" if row["nl"] == "muted" else "default",
        user_sid=user_sid,
    )
