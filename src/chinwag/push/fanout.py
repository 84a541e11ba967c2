"""An outbox event becomes one delivery per device: the template rendered once, the devices
found, the event deleted, in one transaction (so exactly once).

A device is notified when its user is a recipient (``push/outbox.py``) and its registration
subscribed to the notification's type (the SDK subscribes all four by default). The push keeps
the registration's credential: the one its client's access token named.
"""

from __future__ import annotations

import secrets
from typing import Any

from chinwag.push.templates import (
    MESSAGE_TYPES,
    NotificationKind,
    TemplateContext,
    render,
    template_for,
)
from chinwag.storage.database import Txn
from chinwag.storage.stores import channels as channel_store
from chinwag.storage.stores import push_outbox as store
from chinwag.storage.stores import services as service_store
from chinwag.storage.stores import users as user_store


def push_id() -> str:
    """A fresh id for one push (``twi_message_id``, and the APNs ``apns-id``)."""
    return "RU" + secrets.token_hex(16)


async def expand_txn(txn: Txn, event: store.PushEvent, now: int) -> int:
    """Write the deliveries of ``event`` and delete it; returns how many were written.

    Nothing is written when another process expanded the event first (its lease expired), the
    Service turned the kind off meanwhile, or the channel is gone.
    """
    if not await store.delete_event_txn(txn, event.id):
        return 0
    kind: NotificationKind = event.kind  # type: ignore[assignment]
    setting = await service_store.push_setting_txn(txn, event.account_sid, event.service_sid, kind)
    if setting is None:
        return 0
    channel = await channel_store.find_channel_txn(
        txn, event.account_sid, event.service_sid, "sid", event.channel_sid
    )
    if channel is None:
        return 0
    if event.recipient is None:
        targets = await store.member_targets_txn(txn, event.channel_sid, event.actor)
    else:
        targets = await store.user_targets_txn(txn, event.service_sid, event.recipient)
    message_type = MESSAGE_TYPES[kind]
    targets = [t for t in targets if message_type in t.message_types]
    if not targets:
        return 0
    actor = await user_store.find_user_txn(txn, event.service_sid, "identity", event.actor)
    context = TemplateContext(
        user_identity=event.actor,
        user_friendly_name=None if actor is None else actor.friendly_name,
        channel_sid=channel.sid,
        channel_friendly_name=channel.friendly_name,
        channel_unique_name=channel.unique_name,
        message=event.body,
    )
    payload: dict[str, Any] = {
        "body": render(template_for(kind, setting.template), context),
        "channel_title": context.channel_title,
        "message_index": event.message_index,
        "author": event.actor if kind == "new_message" else None,
        "sound": setting.sound,
        # counted when sent, per device (push/dispatcher.py): reads in between lower it
        "badge": kind == "new_message" and setting.badge_count_enabled,
    }
    deliveries = [
        store.NewPushDelivery(
            event.account_sid,
            event.service_sid,
            target,
            kind,
            event.channel_sid,
            event.message_sid,
            {**payload, "push_id": push_id()},
        )
        for target in targets
    ]
    await store.insert_deliveries_txn(txn, deliveries, now)
    return len(deliveries)
