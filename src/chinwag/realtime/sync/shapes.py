"""Item data of the chat objects and the Sync wire shapes (client protocol 2.3, 2.5, 3.3).

The only place Sync JSON keys are spelled. Attributes inside item data are JSON *strings*:
the SDK runs ``JSON.parse`` on them and turns anything else into ``{}``.
"""

from __future__ import annotations

import time
from typing import Any, Protocol
from urllib.parse import quote

from chinwag.model.records import Message, MessageMedia
from chinwag.realtime.sync import objects
from chinwag.realtime.sync.objects import Kind
from chinwag.storage.stores.sync import ChannelView, RosterEntry, UserChannelEntry, UserView

Data = dict[str, Any]

_PATHS = {"document": "Documents", "map": "Maps", "list": "Lists"}


class Addressable(Protocol):
    """A Sync object as its wire shapes name it: the chat views (``objects.SyncObject``) and
    the command lists of twilio-chat 3 and 4 (``legacy_sessions.SessionList``)."""

    @property
    def sid(self) -> str: ...

    @property
    def kind(self) -> Kind: ...

    @property
    def unique_name(self) -> str | None: ...


def iso(ms: int | None) -> str | None:
    """ISO-8601 with milliseconds, as Sync sends dates."""
    if ms is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


def _json_text(value: str | None) -> str:
    return value if value is not None else "{}"


def _channel_fields(sid: str, c: ChannelView | UserChannelEntry, channel_type: str) -> Data:
    """The channel's own fields, shared by its document and its user-channels items."""
    return {
        "friendlyName": c.friendly_name,
        "uniqueName": c.unique_name,
        "type": channel_type,
        "attributes": _json_text(c.attributes),
        "createdBy": c.created_by,
        "dateCreated": iso(c.date_created),
        "dateUpdated": iso(c.date_updated),
        "messages": objects.messages_list(sid).unique_name,
        "roster": objects.roster_map(sid).unique_name,
    }


def channel_data(c: ChannelView) -> Data:
    data = _channel_fields(c.sid, c, c.type)
    if c.last_message_index is not None:
        data["lastMessage"] = {
            "index": c.last_message_index,
            "timestamp": iso(c.last_message_date),
        }
    return data


def message_data(m: Message) -> Data:
    return {
        "sid": m.sid,
        "author": m.author,
        "text": m.body,
        "timestamp": iso(m.date_created),
        "dateUpdated": iso(m.date_updated),
        "lastUpdatedBy": None,
        "attributes": _json_text(m.attributes),
        "memberSid": None,
        **_message_type(m.media),
    }


def _message_type(media: MessageMedia | None) -> Data:
    """``type`` and, for a media message, the ``media`` the SDK reads (message.js)."""
    if media is None:
        return {"type": "text"}
    return {
        "type": "media",
        "media": {
            "sid": media.sid,
            "filename": media.filename,
            "contentType": media.content_type,
            "size": media.size,
        },
    }


def member_data(m: RosterEntry) -> Data:
    return {
        "identity": m.identity,
        "attributes": _json_text(m.attributes),
        "dateCreated": iso(m.date_created),
        "dateUpdated": iso(m.date_updated),
        "roleSid": m.role_sid,
        "lastConsumedMessageIndex": m.last_consumed_message_index,
        "lastConsumptionTimestamp": iso(m.last_consumption_timestamp),
        "type": "chat",
        "userInfo": None if m.user_sid is None else objects.user_info_map(m.user_sid).unique_name,
    }


def user_channel_data(e: UserChannelEntry) -> Data:
    return {
        "channel": objects.channel_document(e.channel_sid).unique_name,
        "status": e.status,
        "lastConsumedMessageIndex": e.last_consumed_message_index,
        "notificationLevel": e.notification_level or "default",
        **_channel_fields(e.channel_sid, e, e.channel_type),
    }


#: the user info map's keys, in key order (the order pages list them)
USER_INFO_KEYS = ("attributes", "friendlyName", "reachability")


def user_info_data(u: UserView, key: str, reachability: tuple[bool, bool]) -> Data:
    """An item of the user info map; ``reachability`` is ``(online, notifiable)``."""
    if key == "friendlyName":
        return {"value": u.friendly_name}
    if key == "attributes":
        return {"value": _json_text(u.attributes)}
    online, notifiable = reachability
    return {"online": online, "notifiable": notifiable}


def object_url(base: str, obj: Addressable) -> str:
    return f"{base}/v3/{_PATHS[obj.kind]}/{obj.sid}"


def item_url(base: str, obj: Addressable, key: str | int) -> str:
    return f"{object_url(base, obj)}/Items/{quote(str(key), safe='')}"


def descriptor(
    base: str, obj: Addressable, last_event_id: int, date_updated: int, data: Data | None = None
) -> Data:
    """An object as S1-S3 return it: ``data`` for a document, ``links.items`` otherwise."""
    body: Data = {
        "sid": obj.sid,
        "unique_name": obj.unique_name,
        "url": object_url(base, obj),
        "revision": str(last_event_id),
        "last_event_id": last_event_id,
        "date_updated": iso(date_updated),
        "date_expires": None,
    }
    if obj.kind == "document":
        body["data"] = data
    else:
        body["links"] = {"items": f"{object_url(base, obj)}/Items"}
    return body


def item(
    base: str, obj: Addressable, key: str | int, last_event_id: int, date_updated: int, data: Data
) -> Data:
    """A map item (``key``) or list item (``index``) as S2 ``items`` and S4/S5 return it."""
    return {
        ("index" if obj.kind == "list" else "key"): key,
        "url": item_url(base, obj, key),
        "revision": str(last_event_id),
        "last_event_id": last_event_id,
        "data": data,
        "date_updated": iso(date_updated),
        "date_expires": None,
    }


def item_event(
    base: str,
    obj: Addressable,
    change: str,
    key: str | int,
    event_id: int,
    date: int,
    data: Data,
) -> Data:
    """``map_item_added|updated|removed`` or ``list_item_…`` (2.5); ``change`` is the suffix."""
    kind = obj.kind
    event: Data = {
        f"{kind}_sid": obj.sid,
        ("item_index" if kind == "list" else "item_key"): key,
        "id": event_id,
        "item_data": data,
        "date_created": iso(date),
    }
    if change != "removed":
        event["item_url"] = item_url(base, obj, key)
        event["item_revision"] = str(event_id)
        event[f"{kind}_revision"] = str(event_id)
        event["date_expires"] = None
    return {"event_type": f"{kind}_item_{change}", "event": event}


def document_updated(obj: Addressable, event_id: int, date: int, data: Data) -> Data:
    return {
        "event_type": "document_updated",
        "event": {
            "document_sid": obj.sid,
            "id": event_id,
            "document_revision": str(event_id),
            "document_data": data,
            "date_created": iso(date),
        },
    }


def list_context_updated(obj: Addressable, event_id: int, date: int, context: Data) -> Data:
    """A list's context changed (twilio-sync 0.12 to 1.0 read it: ``synclist.js``)."""
    event = {
        "list_sid": obj.sid,
        "id": event_id,
        "context_data": context,
        "date_created": iso(date),
    }
    return {"event_type": "list_context_updated", "event": event}


def object_removed(obj: Addressable) -> Data:
    return {"event_type": f"{obj.kind}_removed", "event": {f"{obj.kind}_sid": obj.sid}}
