"""Channel webhooks (table ``channel_webhooks``): at most five targets per channel.

The cap is counted under the channel's row lock (the domain locks the channel before counting),
so two creates racing for the fifth place cannot both win. A channel's webhooks are read whole
by the webhook gate in the transaction of each change that may fire them, through
``ix_channel_webhooks_channel``.
"""

from __future__ import annotations

import orjson

from chinwag.model.records import ChannelWebhook, Page, PageRequest
from chinwag.storage.database import Txn
from chinwag.storage.engines import Row
from chinwag.storage.paging import fetch_page_txn

_COLUMNS = (
    "id, sid, account_sid, service_sid, channel_sid, type, url, method, filters, triggers, "
    "flow_sid, retry_count, date_created, date_updated"
)


def _webhook(row: Row) -> ChannelWebhook:
    return ChannelWebhook(
        sid=row["sid"],
        account_sid=row["account_sid"],
        service_sid=row["service_sid"],
        channel_sid=row["channel_sid"],
        type=row["type"],
        url=row["url"],
        method=row["method"],
        filters=tuple(orjson.loads(row["filters"])),
        triggers=tuple(orjson.loads(row["triggers"])),
        flow_sid=row["flow_sid"],
        retry_count=row["retry_count"],
        date_created=row["date_created"],
        date_updated=row["date_updated"],
    )


async def find_webhook_txn(txn: Txn, channel_sid: str, sid: str) -> ChannelWebhook | None:
    row = await txn.fetchone(
        f"SELECT {_COLUMNS} FROM channel_webhooks WHERE channel_sid = $1 AND sid = $2",
        channel_sid,
        sid,
    )
    return None if row is None else _webhook(row)


async def list_webhooks_txn(txn: Txn, channel_sid: str, req: PageRequest) -> Page[ChannelWebhook]:
    return await fetch_page_txn(
        txn,
        f"SELECT {_COLUMNS} FROM channel_webhooks WHERE channel_sid = $1",
        (channel_sid,),
        "id",
        req,
        _webhook,
    )


async def webhooks_of_txn(txn: Txn, channel_sid: str) -> list[ChannelWebhook]:
    """Every webhook of a channel, oldest first (at most five: no paging needed)."""
    rows = await txn.fetchall(
        f"SELECT {_COLUMNS} FROM channel_webhooks WHERE channel_sid = $1 ORDER BY id", channel_sid
    )
    return [_webhook(r) for r in rows]


async def count_webhooks_txn(txn: Txn, channel_sid: str) -> int:
    row = await txn.fetchone(
        "SELECT COUNT(*) AS n FROM channel_webhooks WHERE channel_sid = $1", channel_sid
    )
    return 0 if row is None else int(row["n"])


def _values(w: ChannelWebhook) -> tuple[object, ...]:
    return (
        w.type,
        w.url,
        w.method,
        orjson.dumps(list(w.filters)).decode(),
        orjson.dumps(list(w.triggers)).decode(),
        w.flow_sid,
        w.retry_count,
        w.date_updated,
    )


async def insert_webhook_txn(txn: Txn, w: ChannelWebhook) -> None:
    await txn.execute(
        "INSERT INTO channel_webhooks (sid, account_sid, service_sid, channel_sid, type, url, "
        "method, filters, triggers, flow_sid, retry_count, date_updated, date_created) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        w.sid,
        w.account_sid,
        w.service_sid,
        w.channel_sid,
        *_values(w),
        w.date_created,
    )


async def update_webhook_txn(txn: Txn, w: ChannelWebhook) -> None:
    await txn.execute(
        "UPDATE channel_webhooks SET type = $2, url = $3, method = $4, filters = $5, "
        "triggers = $6, flow_sid = $7, retry_count = $8, date_updated = $9 WHERE sid = $1",
        w.sid,
        *_values(w),
    )


async def delete_webhook_txn(txn: Txn, sid: str) -> None:
    await txn.execute("DELETE FROM channel_webhooks WHERE sid = $1", sid)


async def delete_webhooks_of_txn(txn: Txn, channel_sid: str) -> None:
    """Delete a channel's webhooks: its deletion's last step, after the event that reports it
    was enqueued for them."""
    await txn.execute("DELETE FROM channel_webhooks WHERE channel_sid = $1", channel_sid)
