"""Services, with their nested settings stored as JSON text, and the service-wide cascade."""

from __future__ import annotations

from typing import Any

import orjson

from chinwag.model.records import Limits, Notification, Page, PageRequest, Service, WebhookTarget
from chinwag.storage.database import Txn
from chinwag.storage.engines import Row
from chinwag.storage.paging import fetch_page_txn
from chinwag.storage.stores import media as media_store

_COLUMNS = (
    "id, sid, account_sid, friendly_name, default_service_role_sid, default_channel_role_sid, "
    "default_channel_creator_role_sid, read_status_enabled, reachability_enabled, "
    "typing_indicator_timeout, consumption_report_interval, limit_channel_members, "
    "limit_user_channels, pre_webhook_url, post_webhook_url, webhook_method, webhook_filters, "
    "webhooks, notifications, date_created, date_updated, notifications_log_enabled, "
    "media_compatibility_message, pre_webhook_retry_count, post_webhook_retry_count"
)


def _service(row: Row) -> Service:
    filters = row["webhook_filters"]
    return Service(
        sid=row["sid"],
        account_sid=row["account_sid"],
        friendly_name=row["friendly_name"],
        date_created=row["date_created"],
        date_updated=row["date_updated"],
        default_service_role_sid=row["default_service_role_sid"],
        default_channel_role_sid=row["default_channel_role_sid"],
        default_channel_creator_role_sid=row["default_channel_creator_role_sid"],
        read_status_enabled=bool(row["read_status_enabled"]),
        reachability_enabled=bool(row["reachability_enabled"]),
        typing_indicator_timeout=row["typing_indicator_timeout"],
        consumption_report_interval=row["consumption_report_interval"],
        limits=Limits(row["limit_channel_members"], row["limit_user_channels"]),
        pre_webhook_url=row["pre_webhook_url"],
        post_webhook_url=row["post_webhook_url"],
        webhook_method=row["webhook_method"],
        webhook_filters=None if filters is None else tuple(orjson.loads(filters)),
        webhooks={
            name: WebhookTarget(t["url"], t["method"])
            for name, t in orjson.loads(row["webhooks"]).items()
        },
        notifications={
            kind: Notification(
                n["enabled"],
                n.get("template"),
                n.get("sound"),
                n.get("badge_count_enabled", False),
            )
            for kind, n in orjson.loads(row["notifications"]).items()
        },
        notifications_log_enabled=bool(row["notifications_log_enabled"]),
        media_compatibility_message=row["media_compatibility_message"],
        pre_webhook_retry_count=row["pre_webhook_retry_count"],
        post_webhook_retry_count=row["post_webhook_retry_count"],
    )


def _notification(n: Notification) -> dict[str, Any]:
    """A notification kind as stored: the keys v1 knows, then v2's only when set (so a row
    written before v2 and one that never used its settings read the same)."""
    stored: dict[str, Any] = {"enabled": n.enabled}
    if n.template:
        stored["template"] = n.template
    if n.sound:
        stored["sound"] = n.sound
    if n.badge_count_enabled:
        stored["badge_count_enabled"] = True
    return stored


def _settings(s: Service) -> tuple[Any, ...]:
    """The mutable columns, in the order both INSERT and UPDATE use after ``sid``."""
    return (
        s.friendly_name,
        s.default_service_role_sid,
        s.default_channel_role_sid,
        s.default_channel_creator_role_sid,
        s.read_status_enabled,
        s.reachability_enabled,
        s.typing_indicator_timeout,
        s.consumption_report_interval,
        s.limits.channel_members,
        s.limits.user_channels,
        s.pre_webhook_url,
        s.post_webhook_url,
        s.webhook_method,
        None if s.webhook_filters is None else orjson.dumps(s.webhook_filters).decode(),
        orjson.dumps(
            {k: {"url": t.url, "method": t.method} for k, t in s.webhooks.items()}
        ).decode(),
        orjson.dumps({k: _notification(n) for k, n in s.notifications.items()}).decode(),
        s.date_updated,
        s.notifications_log_enabled,
        s.media_compatibility_message,
        s.pre_webhook_retry_count,
        s.post_webhook_retry_count,
    )


async def find_service_txn(
    txn: Txn, account_sid: str, sid: str, *, for_update: bool = False
) -> Service | None:
    lock = txn.engine.for_update if for_update else ""
    row = await txn.fetchone(
        f"SELECT {_COLUMNS} FROM services WHERE sid = $1 AND account_sid = $2 {lock}",
        sid,
        account_sid,
    )
    return None if row is None else _service(row)


async def push_setting_txn(txn: Txn, account_sid: str, sid: str, kind: str) -> Notification | None:
    """The Service's push setting for notifications of ``kind``, if it has that kind enabled
    (``None`` too when the Service is gone)."""
    service = await find_service_txn(txn, account_sid, sid)
    setting = None if service is None else service.notifications.get(kind)
    return setting if setting is not None and setting.enabled else None


async def list_services_txn(txn: Txn, account_sid: str, req: PageRequest) -> Page[Service]:
    return await fetch_page_txn(
        txn,
        f"SELECT {_COLUMNS} FROM services WHERE account_sid = $1",
        (account_sid,),
        "id",
        req,
        _service,
    )


async def insert_service_txn(txn: Txn, s: Service) -> None:
    await txn.execute(
        "INSERT INTO services (sid, account_sid, friendly_name, default_service_role_sid, "
        "default_channel_role_sid, default_channel_creator_role_sid, read_status_enabled, "
        "reachability_enabled, typing_indicator_timeout, consumption_report_interval, "
        "limit_channel_members, limit_user_channels, pre_webhook_url, post_webhook_url, "
        "webhook_method, webhook_filters, webhooks, notifications, date_updated, "
        "notifications_log_enabled, media_compatibility_message, pre_webhook_retry_count, "
        "post_webhook_retry_count, date_created) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, "
        "$18, $19, $20, $21, $22, $23, $24)",
        s.sid,
        s.account_sid,
        *_settings(s),
        s.date_created,
    )


async def update_service_txn(txn: Txn, s: Service) -> None:
    await txn.execute(
        "UPDATE services SET friendly_name = $2, default_service_role_sid = $3, "
        "default_channel_role_sid = $4, default_channel_creator_role_sid = $5, "
        "read_status_enabled = $6, reachability_enabled = $7, typing_indicator_timeout = $8, "
        "consumption_report_interval = $9, limit_channel_members = $10, "
        "limit_user_channels = $11, pre_webhook_url = $12, post_webhook_url = $13, "
        "webhook_method = $14, webhook_filters = $15, webhooks = $16, notifications = $17, "
        "date_updated = $18, notifications_log_enabled = $19, media_compatibility_message = $20, "
        "pre_webhook_retry_count = $21, post_webhook_retry_count = $22 WHERE sid = $1",
        s.sid,
        *_settings(s),
    )


async def delete_service_txn(txn: Txn, sid: str) -> None:
    """Delete a Service and everything in it. Credentials are account-level and survive."""
    in_channels = "channel_sid IN (SELECT sid FROM channels WHERE service_sid = $1)"
    for table in ("messages", "message_tombstones", "members", "invites", "channel_webhooks"):
        await txn.execute(f"DELETE FROM {table} WHERE {in_channels}", sid)
    await media_store.delete_media_of_txn(txn, "service_sid", sid)
    for table in ("channels", "users", "roles", "push_registrations"):
        await txn.execute(f"DELETE FROM {table} WHERE service_sid = $1", sid)
    await txn.execute("DELETE FROM services WHERE sid = $1", sid)
