"""The form parameters of each webhook event (reference 6.4), built from domain objects.

Every value is a string; dates carry milliseconds (``2020-03-14T17:04:44.742Z``); optional
values (Attributes, FriendlyName, UniqueName, RoleSid) are left out when unset. ``RetryCount``
is not part of a stored payload: the sender adds it per attempt.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from chinwag.domain.events import (
    Actor,
    ChannelAdded,
    ChannelRemoved,
    ChannelUpdated,
    Event,
    MemberAdded,
    MemberRemoved,
    MessageAdded,
    MessageRemoved,
    MessageUpdated,
    UserUpdated,
)
from chinwag.domain.models import Channel, Member, Message, User

Params = dict[str, str]

#: ``ClientIdentity``/``CreatedBy``/``ModifiedBy`` for actions of the REST API (no chat user)
SYSTEM = "system"


def webhook_date(ms: int) -> str:
    """ISO-8601 UTC with milliseconds, as Twilio's webhook requests carry dates."""
    moment = dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _put(params: Params, name: str, value: str | None) -> None:
    if value is not None:
        params[name] = value


def common(event_type: str, account_sid: str, service_sid: str, actor: Actor) -> Params:
    """The parameters every event carries (``RetryCount`` is added per attempt)."""
    params = {
        "EventType": event_type,
        "AccountSid": account_sid,
        "InstanceSid": service_sid,
        "Source": actor.source,
    }
    _put(params, "ClientIdentity", actor.identity)
    return params


def message_fields(m: Message) -> Params:
    params = {
        "MessageSid": m.sid,
        "Index": str(m.index),
        "ChannelSid": m.channel_sid,
        "Body": m.body,
        "From": m.author,
        "DateCreated": webhook_date(m.date_created),
    }
    _put(params, "Attributes", m.attributes)
    return params


def channel_fields(c: Channel) -> Params:
    params = {
        "ChannelSid": c.sid,
        "ChannelType": c.type,
        "CreatedBy": c.created_by,
        "DateCreated": webhook_date(c.date_created),
    }
    _put(params, "FriendlyName", c.friendly_name)
    _put(params, "UniqueName", c.unique_name)
    _put(params, "Attributes", c.attributes)
    return params


def member_fields(m: Member, reason: str) -> Params:
    params = {
        "MemberSid": m.sid,
        "ChannelSid": m.channel_sid,
        "Identity": m.identity,
        "Reason": reason,
        "DateCreated": webhook_date(m.date_created),
    }
    _put(params, "RoleSid", m.role_sid)
    return params


def user_fields(u: User) -> Params:
    params = {
        "UserSid": u.sid,
        "Identity": u.identity,
        "DateCreated": webhook_date(u.date_created),
        "DateUpdated": webhook_date(u.date_updated),
    }
    _put(params, "FriendlyName", u.friendly_name)
    _put(params, "RoleSid", u.role_sid)
    _put(params, "Attributes", u.attributes)
    return params


def by_whom(actor: Actor) -> str:
    """``ModifiedBy``/``RemovedBy``: the acting chat user, or ``system`` for the REST API."""
    return actor.identity or SYSTEM


def member_reason(actor: Actor, member: Member, added: bool) -> str:
    """A user acting on their own membership joined or left; anyone else added or removed."""
    own = actor.identity is not None and actor.identity == member.identity
    if added:
        return "JOINED" if own else "ADDED"
    return "LEFT" if own else "REMOVED"


@dataclass(frozen=True, slots=True)
class PostEvent:
    """A domain event as a webhook post-event: its name, what orders it, its parameters."""

    event_type: str
    account_sid: str
    service_sid: str
    #: deliveries with one scope (a channel, or a user) are sent in commit order
    scope: str
    #: the channel whose row orders racing writers (None for user events)
    channel_sid: str | None
    #: every parameter but ``RetryCount``
    params: Params


def post_event(event: Event, now: int) -> PostEvent | None:
    """The post-event a domain event fires, or None for changes Chat v1 has no webhook for
    (credentials, services, roles, invites, user creation/removal, member horizon updates)."""
    a = event.actor
    match event:
        case MessageAdded(message=m):
            return _in_channel("onMessageSent", a, m, message_fields(m))
        case MessageUpdated(message=m):
            fields = message_fields(m) | {
                "ModifiedBy": by_whom(a),
                "DateUpdated": webhook_date(m.date_updated),
            }
            return _in_channel("onMessageUpdated", a, m, fields)
        case MessageRemoved(message=m):
            fields = message_fields(m) | {"RemovedBy": by_whom(a), "DateRemoved": webhook_date(now)}
            return _in_channel("onMessageRemoved", a, m, fields)
        case ChannelAdded(channel=c):
            return _in_channel("onChannelAdded", a, c, channel_fields(c))
        case ChannelUpdated(channel=c):
            fields = channel_fields(c) | {"DateUpdated": webhook_date(c.date_updated)}
            return _in_channel("onChannelUpdated", a, c, fields)
        case ChannelRemoved(channel=c):
            fields = channel_fields(c) | {"DateDestroyed": webhook_date(now)}
            return _in_channel("onChannelDestroyed", a, c, fields)
        case MemberAdded(member=m):
            return _in_channel("onMemberAdded", a, m, member_fields(m, member_reason(a, m, True)))
        case MemberRemoved(member=m):
            fields = member_fields(m, member_reason(a, m, False))
            fields["DateRemoved"] = webhook_date(now)
            return _in_channel("onMemberRemoved", a, m, fields)
        case UserUpdated(user=u):
            params = common("onUserUpdated", u.account_sid, u.service_sid, a) | user_fields(u)
            return PostEvent("onUserUpdated", u.account_sid, u.service_sid, u.sid, None, params)
    return None


def _in_channel(
    event_type: str, actor: Actor, obj: Message | Channel | Member, fields: Params
) -> PostEvent:
    channel_sid = obj.sid if isinstance(obj, Channel) else obj.channel_sid
    params = common(event_type, obj.account_sid, obj.service_sid, actor) | fields
    return PostEvent(event_type, obj.account_sid, obj.service_sid, channel_sid, channel_sid, params)


# Pre-events describe an action about to happen: they carry no SID for an object being
# created, and no Index or dates the action has not produced yet (reference 6.4).


def pre_message_send(channel_sid: str, body: str, attributes: str | None, author: str) -> Params:
    params = {"ChannelSid": channel_sid, "Body": body, "From": author}
    _put(params, "Attributes", attributes)
    return params


def pre_message_change(m: Message, by_key: str, actor: Actor) -> Params:
    """onMessageUpdate (``by_key`` ModifiedBy, with the new body) / onMessageRemove (RemovedBy)."""
    params = message_fields(m)
    del params["Index"]
    params[by_key] = by_whom(actor)
    return params


def pre_channel_add(
    channel_type: str,
    friendly_name: str | None,
    unique_name: str | None,
    attributes: str | None,
    created_by: str,
) -> Params:
    params = {"ChannelType": channel_type, "CreatedBy": created_by}
    _put(params, "FriendlyName", friendly_name)
    _put(params, "UniqueName", unique_name)
    _put(params, "Attributes", attributes)
    return params


def pre_member_add(channel_sid: str, identity: str, role_sid: str | None, reason: str) -> Params:
    params = {"ChannelSid": channel_sid, "Identity": identity, "Reason": reason}
    _put(params, "RoleSid", role_sid)
    return params


def pre_member_remove(m: Member, reason: str) -> Params:
    params = member_fields(m, reason)
    del params["DateCreated"]
    return params
