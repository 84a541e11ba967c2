"""The form parameters of each webhook event (reference 6.4), rendered from domain events and
pre-events.

Every value is a string; dates carry milliseconds (``2020-03-14T17:04:44.742Z``); optional
values (Attributes, FriendlyName, UniqueName, RoleSid) are left out when unset. ``RetryCount``
is not part of a stored payload: the sender adds it per attempt.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from chinwag.domain.pre_events import (
    ChannelAdd,
    ChannelDestroy,
    ChannelUpdate,
    MemberAdd,
    MemberRemove,
    MessageRemove,
    MessageSend,
    MessageUpdate,
    PreEvent,
    UserUpdate,
)
from chinwag.model.events import (
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
from chinwag.model.records import Channel, Member, Message, User

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
    return _reason(actor, member.identity, added)


def _reason(actor: Actor, identity: str, added: bool) -> str:
    """A user acting on their own membership joined or left; anyone else added or removed."""
    own = actor.identity is not None and actor.identity == identity
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


def pre_event(event: PreEvent, actor: Actor) -> tuple[str, Params]:
    """A pre-event's type and its parameters but the common ones (reference 6.4): an action
    about to happen carries no SID for an object being created, and no Index or dates it has
    not produced yet."""
    match event:
        case MessageSend(channel=c, body=body, attributes=attributes, author=author):
            params = {"ChannelSid": c.sid, "Body": body, "From": author}
            _put(params, "Attributes", attributes)
            return "onMessageSend", params
        case MessageUpdate():
            return "onMessageUpdate", _message_change(event.proposed, "ModifiedBy", actor)
        case MessageRemove(message=m):
            return "onMessageRemove", _message_change(m, "RemovedBy", actor)
        case ChannelAdd():
            params = {"ChannelType": event.type, "CreatedBy": event.created_by}
            _put(params, "FriendlyName", event.friendly_name)
            _put(params, "UniqueName", event.unique_name)
            _put(params, "Attributes", event.attributes)
            return "onChannelAdd", params
        case ChannelUpdate():
            return "onChannelUpdate", channel_fields(event.proposed)
        case ChannelDestroy(channel=c):
            return "onChannelDestroy", channel_fields(c)
        case MemberAdd(channel=c, identity=identity, role_sid=role_sid):
            params = {"ChannelSid": c.sid, "Identity": identity}
            params["Reason"] = _reason(actor, identity, True)
            _put(params, "RoleSid", role_sid)
            return "onMemberAdd", params
        case MemberRemove(member=m):
            params = member_fields(m, member_reason(actor, m, False))
            del params["DateCreated"]
            return "onMemberRemove", params
        case UserUpdate(user=u):
            return "onUserUpdate", user_fields(u)
    raise TypeError(f"not a pre-event: {event!r}")


def _message_change(m: Message, by_key: str, actor: Actor) -> Params:
    """onMessageUpdate (``by_key`` ModifiedBy, with the new body) / onMessageRemove (RemovedBy)."""
    params = message_fields(m)
    del params["Index"]
    params[by_key] = by_whom(actor)
    return params
