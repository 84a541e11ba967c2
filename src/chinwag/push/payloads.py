"""What FCM and APNs are sent for one push, in the shape the twilio-chat SDK parses.

The SDK's ``Client.parsePushNotification`` reads an APNs payload (``aps`` at the root) or an
FCM message's ``data``; either way it needs ``twi_message_type`` and reads ``channel_sid``,
``message_sid`` and ``message_index`` (a string it converts with ``Number``). The other keys
are those of a push Twilio really sent: ``channel_id``/``message_id`` repeat the SIDs,
``author``, ``channel_title`` and ``twi_message_id`` (a per-push id an app can de-duplicate
on). Values are all strings: FCM data allows nothing else.

- FCM (HTTP v1): a data-only message, as Twilio's were, so the app's handler builds the
  notification; ``android.priority`` high so it is not held back while the phone dozes.
- APNs: ``aps.alert.body``, ``aps.sound`` and ``aps.badge``, with the chat keys at the root.

Both providers cap the payload at 4096 bytes; a long message makes the body too long, so the
body is cut (ending in "…") until the encoded payload fits. Only the body is cut: the ids the
SDK needs always arrive whole.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from chinwag.push.templates import MESSAGE_TYPES, NotificationKind

#: APNs refuses alert payloads above this many bytes (413 PayloadTooLarge)
APNS_MAX_BYTES = 4096
#: FCM refuses data payloads above this many bytes (counted here on their JSON, which is more)
FCM_MAX_BYTES = 4096
ELLIPSIS = "…"


@dataclass(frozen=True, slots=True)
class Notice:
    """One push to one device, before it takes a provider's shape.

    Attributes:
        kind: The notification kind (new message, added, invited, removed).
        body: The rendered template.
        channel_sid: The channel it is about.
        channel_title: The channel as ``${CHANNEL}`` names it.
        message_sid: The new message (new-message pushes only).
        message_index: Its index in the channel.
        author: Its author's identity.
        sound: The Service's sound for this kind; ``None`` sends none.
        badge: The recipient's unread count (APNs only); ``None`` leaves the badge alone.
        push_id: An id unique to this push, the same on every attempt (``twi_message_id``).
    """

    kind: NotificationKind
    body: str
    channel_sid: str
    channel_title: str
    message_sid: str | None = None
    message_index: int | None = None
    author: str | None = None
    sound: str | None = None
    badge: int | None = None
    push_id: str | None = None


def chat_data(notice: Notice) -> dict[str, str]:
    """The keys both providers carry, body and sound aside."""
    data = {
        "twi_message_type": MESSAGE_TYPES[notice.kind],
        "channel_sid": notice.channel_sid,
        "channel_id": notice.channel_sid,
        "channel_title": notice.channel_title,
    }
    if notice.push_id is not None:
        data["twi_message_id"] = notice.push_id
    if notice.message_sid is not None:
        data["message_sid"] = data["message_id"] = notice.message_sid
    if notice.message_index is not None:
        data["message_index"] = str(notice.message_index)
    if notice.author is not None:
        data["author"] = notice.author
    return data


def fcm_message(token: str, notice: Notice) -> dict[str, Any]:
    """The body of ``POST /v1/projects/{project}/messages:send`` for device ``token``."""
    base = chat_data(notice)
    if notice.sound is not None:
        base["twi_sound"] = notice.sound

    def data(body: str) -> dict[str, str]:
        return {**base, "twi_body": body}

    body = fit(notice.body, lambda b: len(orjson.dumps(data(b))), FCM_MAX_BYTES)
    return {"message": {"token": token, "data": data(body), "android": {"priority": "high"}}}


def apns_payload(notice: Notice) -> bytes:
    """The JSON body of ``POST /3/device/{token}``."""
    base: dict[str, Any] = chat_data(notice)

    def payload(body: str) -> dict[str, Any]:
        aps: dict[str, Any] = {"alert": {"body": body}}
        if notice.sound is not None:
            aps["sound"] = notice.sound
        if notice.badge is not None:
            aps["badge"] = notice.badge
        return {"aps": aps, **base}

    body = fit(notice.body, lambda b: len(orjson.dumps(payload(b))), APNS_MAX_BYTES)
    return orjson.dumps(payload(body))


def fit(body: str, size: Callable[[str], int], limit: int) -> str:
    """``body``, or its longest prefix plus "…" for which ``size`` stays within ``limit``.

    ``size`` measures the whole encoded payload, so JSON escapes and multi-byte characters
    count as what they cost. When not even "…" fits, the body is empty and the provider
    decides (the fixed keys alone are too long; that push is refused, not retried).
    """
    if size(body) <= limit:
        return body
    low, high = 0, len(body)  # the longest fitting prefix has length in [low, high)
    if size(ELLIPSIS) > limit:
        return ""
    while high - low > 1:
        middle = (low + high) // 2
        if size(body[:middle] + ELLIPSIS) <= limit:
            low = middle
        else:
            high = middle
    return body[:low] + ELLIPSIS
