"""Domain objects to Twilio JSON: the only place Twilio's snake_case keys are spelled.

Every property of each spec schema is always present (null where unset); dates are
``YYYY-MM-DDTHH:MM:SSZ`` as Twilio really sends them. ``url`` and ``links`` are absolute, built
on the server's public base URL. ``in_list`` applies reference 1.7: Channel and User rows in
list responses carry ``attributes: null`` (Twilio shows attributes only on single-resource
responses); Message rows keep their attributes (see docs/behaviour.md for why).

These are v1's shapes; :class:`Renderer` is what every version's renderer provides (the v2
shapes are ``chinwag.http.render_v2``), so a handler the versions share renders through the
one its route was bound with (``Api.render``).
"""

from __future__ import annotations

from typing import Any, Protocol

import falcon
import orjson

from chinwag.api.dates import iso
from chinwag.model.records import (
    Channel,
    ChannelWebhook,
    Credential,
    Invite,
    Member,
    Message,
    PushRegistration,
    Role,
    Service,
    User,
    UserChannel,
)


def respond(resp: falcon.asgi.Response, status: int, body: dict[str, Any]) -> None:
    resp.status = status
    resp.content_type = falcon.MEDIA_JSON
    resp.data = orjson.dumps(body)


def no_content(resp: falcon.asgi.Response) -> None:
    resp.status = 204


def _attributes(value: str | None, in_list: bool) -> str | None:
    if in_list:
        return None
    return "{}" if value is None else value


def credential(c: Credential, base: str) -> dict[str, Any]:
    sandbox = None
    if c.type == "apn":
        sandbox = "True" if c.sandbox else "False"
    return {
        "sid": c.sid,
        "account_sid": c.account_sid,
        "friendly_name": c.friendly_name,
        "type": c.type,
        "sandbox": sandbox,
        "date_created": iso(c.date_created),
        "date_updated": iso(c.date_updated),
        "url": f"{base}/v1/Credentials/{c.sid}",
    }


def service(s: Service, base: str) -> dict[str, Any]:
    url = f"{base}/v1/Services/{s.sid}"
    return {
        "sid": s.sid,
        "account_sid": s.account_sid,
        "friendly_name": s.friendly_name,
        "date_created": iso(s.date_created),
        "date_updated": iso(s.date_updated),
        "default_service_role_sid": s.default_service_role_sid,
        "default_channel_role_sid": s.default_channel_role_sid,
        "default_channel_creator_role_sid": s.default_channel_creator_role_sid,
        "read_status_enabled": s.read_status_enabled,
        "reachability_enabled": s.reachability_enabled,
        "typing_indicator_timeout": s.typing_indicator_timeout,
        "consumption_report_interval": s.consumption_report_interval,
        "limits": {
            "channel_members": s.limits.channel_members,
            "user_channels": s.limits.user_channels,
        },
        "webhooks": {
            name: {"url": t.url, "method": t.method, "format": None}
            for name, t in s.webhooks.items()
        },
        "pre_webhook_url": s.pre_webhook_url,
        "post_webhook_url": s.post_webhook_url,
        "webhook_method": s.webhook_method,
        "webhook_filters": None if s.webhook_filters is None else list(s.webhook_filters),
        "notifications": {
            kind: {
                "enabled": n.enabled,
                **({"template": n.template} if n.template else {}),
            }  # v2's sound and badge switch show through v2 only (render_v2)
            for kind, n in s.notifications.items()
        },
        "url": url,
        "links": {
            "channels": f"{url}/Channels",
            "users": f"{url}/Users",
            "roles": f"{url}/Roles",
        },
    }


def role(r: Role, base: str) -> dict[str, Any]:
    return {
        "sid": r.sid,
        "account_sid": r.account_sid,
        "service_sid": r.service_sid,
        "friendly_name": r.friendly_name,
        "type": r.type,
        "permissions": list(r.permissions),
        "date_created": iso(r.date_created),
        "date_updated": iso(r.date_updated),
        "url": f"{base}/v1/Services/{r.service_sid}/Roles/{r.sid}",
    }


def user(u: User, base: str, *, in_list: bool = False) -> dict[str, Any]:
    url = f"{base}/v1/Services/{u.service_sid}/Users/{u.sid}"
    created = iso(u.date_created)
    return {
        "sid": u.sid,
        "account_sid": u.account_sid,
        "service_sid": u.service_sid,
        "attributes": _attributes(u.attributes, in_list),
        "friendly_name": u.friendly_name,
        "role_sid": u.role_sid,
        "identity": u.identity,
        # null unless the service enables reachability, as Twilio reports it
        "is_online": u.is_online,
        "is_notifiable": u.is_notifiable,
        "date_created": created,
        "date_updated": created if u.date_updated == u.date_created else iso(u.date_updated),
        "joined_channels_count": u.joined_channels_count,
        "links": {"user_channels": f"{url}/Channels"},
        "url": url,
    }


def user_channel(uc: UserChannel, base: str) -> dict[str, Any]:
    channel_url = f"{base}/v1/Services/{uc.service_sid}/Channels/{uc.channel_sid}"
    return {
        "account_sid": uc.account_sid,
        "service_sid": uc.service_sid,
        "channel_sid": uc.channel_sid,
        "member_sid": uc.member_sid,
        "status": uc.status,
        "last_consumed_message_index": uc.last_consumed_message_index,
        "unread_messages_count": uc.unread_messages_count,
        "links": {
            "channel": channel_url,
            "member": f"{channel_url}/Members/{uc.member_sid}" if uc.member_sid else None,
        },
    }


def channel(c: Channel, base: str, *, in_list: bool = False) -> dict[str, Any]:
    url = f"{base}/v1/Services/{c.service_sid}/Channels/{c.sid}"
    created = iso(c.date_created)
    return {
        "sid": c.sid,
        "account_sid": c.account_sid,
        "service_sid": c.service_sid,
        "friendly_name": c.friendly_name,
        "unique_name": c.unique_name,
        "attributes": _attributes(c.attributes, in_list),
        "type": c.type,
        "date_created": created,
        "date_updated": created if c.date_updated == c.date_created else iso(c.date_updated),
        "created_by": c.created_by,
        "members_count": c.members_count,
        "messages_count": c.messages_count,
        "url": url,
        "links": {
            "members": f"{url}/Members",
            "messages": f"{url}/Messages",
            "invites": f"{url}/Invites",
            "last_message": f"{url}/Messages/{c.last_message_sid}" if c.last_message_sid else None,
        },
    }


def member(m: Member, base: str) -> dict[str, Any]:
    created = iso(m.date_created)
    return {
        "sid": m.sid,
        "account_sid": m.account_sid,
        "channel_sid": m.channel_sid,
        "service_sid": m.service_sid,
        "identity": m.identity,
        "date_created": created,
        "date_updated": created if m.date_updated == m.date_created else iso(m.date_updated),
        "role_sid": m.role_sid,
        "last_consumed_message_index": m.last_consumed_message_index,
        "last_consumption_timestamp": iso(m.last_consumption_timestamp),
        "url": f"{base}/v1/Services/{m.service_sid}/Channels/{m.channel_sid}/Members/{m.sid}",
    }


def invite(i: Invite, base: str) -> dict[str, Any]:
    return {
        "sid": i.sid,
        "account_sid": i.account_sid,
        "channel_sid": i.channel_sid,
        "service_sid": i.service_sid,
        "identity": i.identity,
        "date_created": iso(i.date_created),
        "date_updated": iso(i.date_updated),
        "role_sid": i.role_sid,
        "created_by": i.created_by,
        "url": f"{base}/v1/Services/{i.service_sid}/Channels/{i.channel_sid}/Invites/{i.sid}",
    }


def message(m: Message, base: str) -> dict[str, Any]:
    created = iso(m.date_created)
    return {
        "sid": m.sid,
        "account_sid": m.account_sid,
        "attributes": "{}" if m.attributes is None else m.attributes,
        "service_sid": m.service_sid,
        "to": m.channel_sid,
        "channel_sid": m.channel_sid,
        "date_created": created,
        "date_updated": created if m.date_updated == m.date_created else iso(m.date_updated),
        "was_edited": m.was_edited,
        "from": m.author,
        "body": m.body,
        "index": m.index,
        "url": f"{base}/v1/Services/{m.service_sid}/Channels/{m.channel_sid}/Messages/{m.sid}",
    }


def channel_webhook(w: ChannelWebhook, base: str) -> dict[str, Any]:
    """A v2 Channel Webhook. ``configuration`` holds what the type uses: a ``trigger``
    webhook's words under ``triggers`` and, as Twilio's own examples show them, ``filters``."""
    configuration: dict[str, Any]
    if w.type == "studio":
        configuration = {"flow_sid": w.flow_sid, "filters": list(w.filters)}
    else:
        filters = w.triggers if w.type == "trigger" else w.filters
        configuration = {"url": w.url, "method": w.method, "filters": list(filters)}
        if w.type == "trigger":
            configuration["triggers"] = list(w.triggers)
    configuration["retry_count"] = w.retry_count
    channel = f"{base}/v2/Services/{w.service_sid}/Channels/{w.channel_sid}"
    return {
        "sid": w.sid,
        "account_sid": w.account_sid,
        "service_sid": w.service_sid,
        "channel_sid": w.channel_sid,
        "type": w.type,
        "url": f"{channel}/Webhooks/{w.sid}",
        "configuration": configuration,
        "date_created": iso(w.date_created),
        "date_updated": iso(w.date_updated),
    }


#: the prefix of the SDK's notification types, which v2 Bindings list without it
_TYPE_PREFIX = "twilio.channel."


def _binding_fields(r: PushRegistration) -> dict[str, Any]:
    created = iso(r.date_created)
    return {
        "sid": r.sid,
        "account_sid": r.account_sid,
        "service_sid": r.service_sid,
        "date_created": created,
        "date_updated": created if r.date_updated == r.date_created else iso(r.date_updated),
        "endpoint": r.endpoint,
        "identity": r.identity,
        "credential_sid": r.credential_sid,
        "binding_type": r.channel_type,
        "message_types": [t.removeprefix(_TYPE_PREFIX) for t in r.message_types],
    }


def binding(r: PushRegistration, base: str) -> dict[str, Any]:
    """A push registration as v2's Binding (``message_types`` by their short names)."""
    service_url = f"{base}/v2/Services/{r.service_sid}"
    return {
        **_binding_fields(r),
        "url": f"{service_url}/Bindings/{r.sid}",
        "links": {"user": f"{service_url}/Users/{r.identity}"},
    }


def user_binding(r: PushRegistration, user_sid: str, base: str) -> dict[str, Any]:
    """A push registration as v2's User Binding."""
    return {
        **_binding_fields(r),
        "user_sid": user_sid,
        "url": f"{base}/v2/Services/{r.service_sid}/Users/{user_sid}/Bindings/{r.sid}",
    }


class Renderer(Protocol):
    """One API version's shapes of the resources both versions have."""

    def credential(self, c: Credential, base: str) -> dict[str, Any]: ...
    def service(self, s: Service, base: str) -> dict[str, Any]: ...
    def role(self, r: Role, base: str) -> dict[str, Any]: ...
    def user(self, u: User, base: str, *, in_list: bool = False) -> dict[str, Any]: ...
    def user_channel(self, uc: UserChannel, base: str) -> dict[str, Any]: ...
    def channel(self, c: Channel, base: str, *, in_list: bool = False) -> dict[str, Any]: ...
    def member(self, m: Member, base: str) -> dict[str, Any]: ...
    def invite(self, i: Invite, base: str) -> dict[str, Any]: ...
    def message(self, m: Message, base: str) -> dict[str, Any]: ...


class _V1:
    """v1's shapes: the functions above."""

    credential = staticmethod(credential)
    service = staticmethod(service)
    role = staticmethod(role)
    user = staticmethod(user)
    user_channel = staticmethod(user_channel)
    channel = staticmethod(channel)
    member = staticmethod(member)
    invite = staticmethod(invite)
    message = staticmethod(message)


V1: Renderer = _V1()
