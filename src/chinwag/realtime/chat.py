"""The chat command API (client-protocol 3.4): the SDK's commands and reads over the socket.

Every handler parses the JSON body the SDK sends, calls the domain operation the REST API calls
(so the policy, pre- and post-event webhooks with ``Source=SDK``, events and Sync projection
are the same) and renders the reply fields the SDK reads. The SDK learns the changes
themselves from Sync, not from these replies, so a reply carries only what 3.4 names.

Paths are the links ``configuration.py`` hands out, under
``/Client/v1/Services/{service}``; a path naming another service than the token's is unknown
(404). Identities arrive raw or percent-encoded; the router decodes both to the same value.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import quote, unquote_plus

from chinwag import errors
from chinwag.api.dates import iso
from chinwag.api.forms import Form
from chinwag.api.paging import ListQuery, parse_list_query
from chinwag.domain import channels, invites, members, messages, user_channels, users, validation
from chinwag.domain.once import Once
from chinwag.model.records import (
    Channel,
    ChannelType,
    NotificationLevel,
    Page,
    User,
    UserChannel,
)
from chinwag.model.unset import UNSET, Unset, is_empty_update
from chinwag.realtime import mutations
from chinwag.realtime.configuration import chat_base
from chinwag.realtime.context import Client, Request, Response, json_response
from chinwag.realtime.sync import objects

T = TypeVar("T")

_TYPES: dict[str, ChannelType] = {"public": "public", "private": "private"}

#: the values ``channel.setUserNotificationLevel`` may send
_LEVELS: dict[str, NotificationLevel] = {"default": "default", "muted": "muted"}


def _service(client: Client, service: str) -> str:
    """The token's service, when the path names it; any other is not there for this client."""
    if service != client.service_sid:
        raise errors.NotFoundError()
    return service


def _body(request: Request) -> dict[str, Any]:
    value = request.json()
    if not isinstance(value, dict):
        raise errors.MalformedRequestError(detail="Request body must be a JSON object")
    return value


def _text(body: dict[str, Any], name: str) -> str | Unset | None:
    """A string field: absent is UNSET, JSON null is None, anything but a string is refused."""
    if name not in body:
        return UNSET
    value = body[name]
    if value is None:
        return None
    if not isinstance(value, str):
        raise errors.InvalidParameterError(name=name, expected="a string")
    return validation.check_text(value, name)


def _optional(body: dict[str, Any], name: str) -> str | None:
    value = _text(body, name)
    return None if isinstance(value, Unset) else value


def _required(body: dict[str, Any], name: str) -> str:
    value = _text(body, name)
    if not isinstance(value, str):
        raise errors.MissingParameterError(name=name)
    return value


def _query(request: Request, *, filters: tuple[str, ...] = ()) -> ListQuery:
    """The SDK's paging parameters (``PageToken``; sent undecoded, 1.6) as a REST list query."""
    pairs = [
        (name, unquote_plus(value))
        for name, values in request.params.items()
        for value in ([values] if isinstance(values, str) else values)
    ]
    return parse_list_query(Form(pairs), filters=filters)


def _tokens(page: Page[Any]) -> tuple[str | None, str | None]:
    """The previous and next ``PageToken`` values of a page (the REST envelope's cursors)."""
    previous = None if page.prev_key is None else f"PB{page.prev_key}"
    following = None if page.next_key is None else f"PT{page.next_key}"
    return previous, following


def _channel_descriptor(host: str, channel: Channel) -> dict[str, Any]:
    """A channel as the SDK's ChannelDescriptor and ``addChannel`` read it."""
    url = f"{chat_base(host, channel.service_sid)}/Channels/{channel.sid}"
    return {
        "sid": channel.sid,
        "conversation_sid": channel.sid,
        "unique_name": channel.unique_name,
        "friendly_name": channel.friendly_name,
        "attributes": channel.attributes or "{}",
        "created_by": channel.created_by,
        "date_created": iso(channel.date_created),
        "date_updated": iso(channel.date_updated),
        "messages_count": channel.messages_count,
        "participants_count": channel.members_count,
        "type": channel.type,
        "url": url,
        "links": {
            "messages": f"{url}/Messages",
            "participants": f"{url}/Participants",
            "invites": f"{url}/Invites",
        },
        "sync_objects": {
            "conversation": objects.channel_document(channel.sid).unique_name,
            "messages": objects.messages_list(channel.sid).unique_name,
            "roster": objects.roster_map(channel.sid).unique_name,
        },
    }


def _user_channel_descriptor(host: str, channel: Channel, mine: UserChannel) -> dict[str, Any]:
    return {
        **_channel_descriptor(host, channel),
        "status": mine.status,
        "last_consumed_message_index": mine.last_consumed_message_index,
        "unread_messages_count": mine.unread_messages_count,
        "notification_level": mine.notification_level,
    }


def _user_descriptor(host: str, user: User) -> dict[str, Any]:
    """A user as the SDK's UserDescriptor reads it. Presence is not this module's: a user is
    reported neither online nor notifiable here."""
    info = objects.user_info_map(user.sid).unique_name
    return {
        "identity": user.identity,
        "friendly_name": user.friendly_name,
        "attributes": user.attributes or "{}",
        "is_online": None,
        "is_notifiable": None,
        "url": f"{chat_base(host, user.service_sid)}/Users/{quote(user.identity, safe='')}",
        "sync_objects": {"user_info_map": info},
        "sync_unique_name": info,
    }


def _host(request: Request) -> str:
    return request.host or "aim.chinwag.local"


def _done(_: None) -> Response:
    """The reply of a removal: the SDK reads nothing of it."""
    return json_response({})


async def _command(
    client: Client,
    request: Request,
    reply: Callable[[T], Response],
    run: Callable[[Once[T] | None], Awaitable[T]],
) -> Response:
    """Run a command's domain operation with its mutation id, if it carries one (the id and
    ``reply`` are recorded with the change: ``realtime/mutations.py``), and answer ``reply``."""
    return reply(await run(mutations.once(client, request, reply)))


# Channels


async def create_channel(client: Client, request: Request, service: str) -> Response:
    """``client.createChannel``: the creator is ``created_by``; creating does not join."""
    body = _body(request)
    kind = _TYPES.get(_optional(body, "type") or "public")
    if kind is None:
        raise errors.InvalidParameterError(name="type", expected=errors.one_of(_TYPES))
    cmd = channels.CreateChannel(
        friendly_name=_optional(body, "friendly_name"),
        unique_name=_optional(body, "unique_name") or None,
        attributes=_optional(body, "attributes"),
        type=kind,
    )
    host, service = _host(request), _service(client, service)
    return await _command(
        client,
        request,
        lambda channel: json_response(_channel_descriptor(host, channel), 201),
        lambda once: channels.create_channel(client.deps, client.caller, service, cmd, once=once),
    )


async def list_channels(client: Client, request: Request, service: str) -> Response:
    """``getPublicChannelDescriptors``: public channels, paged with ``previous_token``."""
    q = _query(request)
    page = await channels.list_channels(
        client.deps, client.caller, _service(client, service), ("public",), q.request
    )
    previous, following = _tokens(page)
    rows = [_channel_descriptor(_host(request), c) for c in page.items]
    return json_response(
        {"conversations": rows, "meta": {"previous_token": previous, "next_token": following}}
    )


async def fetch_channel(client: Client, request: Request, service: str, channel: str) -> Response:
    """A channel by SID or unique name (the SDK uses one URL for both), with its counts."""
    found = await channels.fetch_channel(
        client.deps, client.caller, _service(client, service), channel
    )
    return json_response(_channel_descriptor(_host(request), found))


async def update_channel(client: Client, request: Request, service: str, channel: str) -> Response:
    """Attributes, friendly name or unique name; the SDK's ``''`` unique name clears it."""
    body = _body(request)
    unique_name = _text(body, "unique_name")
    cmd = channels.UpdateChannel(
        friendly_name=_text(body, "friendly_name"),
        unique_name=None if unique_name == "" else unique_name,
        attributes=_text(body, "attributes"),
    )
    host, service = _host(request), _service(client, service)
    return await _command(
        client,
        request,
        lambda updated: json_response(_channel_descriptor(host, updated)),
        lambda once: channels.update_channel(
            client.deps, client.caller, service, channel, cmd, once=once
        ),
    )


async def delete_channel(client: Client, request: Request, service: str, channel: str) -> Response:
    service = _service(client, service)
    return await _command(
        client,
        request,
        _done,
        lambda once: channels.delete_channel(
            client.deps, client.caller, service, channel, once=once
        ),
    )


# Members and invites


async def add_member(client: Client, request: Request, service: str, channel: str) -> Response:
    """``channel.join()`` (own identity) and ``channel.add(identity)``."""
    cmd = members.CreateMember(identity=_required(_body(request), "identity"))
    service = _service(client, service)
    return await _command(
        client,
        request,
        lambda member: json_response({"sid": member.sid, "identity": member.identity}, 201),
        lambda once: members.create_member(
            client.deps, client.caller, service, channel, cmd, once=once
        ),
    )


async def remove_member(
    client: Client, request: Request, service: str, channel: str, member: str
) -> Response:
    """``channel.leave()`` and ``channel.removeMember``: by identity or member SID."""
    service = _service(client, service)
    return await _command(
        client,
        request,
        _done,
        lambda once: members.delete_member(
            client.deps, client.caller, service, channel, member, once=once
        ),
    )


async def update_member(
    client: Client, request: Request, service: str, channel: str, member: str
) -> Response:
    """``member.updateAttributes``: the roster item's ``attributes`` (the SDK reads no reply).
    The same attributes are Chat v2's REST Member ``attributes`` (v1's has none)."""
    cmd = members.UpdateMember(attributes=_text(_body(request), "attributes"))
    service = _service(client, service)
    return await _command(
        client,
        request,
        lambda updated: json_response({"sid": updated.sid, "identity": updated.identity}),
        lambda once: members.update_member(
            client.deps, client.caller, service, channel, member, cmd, once=once
        ),
    )


async def invite(client: Client, request: Request, service: str, channel: str) -> Response:
    cmd = invites.CreateInvite(identity=_required(_body(request), "identity"))
    service = _service(client, service)
    return await _command(
        client,
        request,
        lambda created: json_response({"sid": created.sid, "identity": created.identity}, 201),
        lambda once: invites.create_invite(
            client.deps, client.caller, service, channel, cmd, once=once
        ),
    )


async def decline(
    client: Client, request: Request, service: str, channel: str, identity: str
) -> Response:
    """``channel.decline()``: the invite named by the invited identity (or its SID)."""
    service = _service(client, service)
    return await _command(
        client,
        request,
        _done,
        lambda once: invites.delete_invite(
            client.deps, client.caller, service, channel, identity, once=once
        ),
    )


# Messages


async def send_message(client: Client, request: Request, service: str, channel: str) -> Response:
    """``channel.sendMessage(text, attributes)``, or a media message naming an upload with
    ``media_sid``: the reply's ``index`` is what the SDK reads."""
    body = _body(request)
    cmd = messages.CreateMessage(
        body=_optional(body, "body") or "",
        attributes=_optional(body, "attributes"),
        media_sid=_optional(body, "media_sid"),
    )
    service = _service(client, service)
    return await _command(
        client,
        request,
        lambda message: json_response({"sid": message.sid, "index": message.index}, 201),
        lambda once: messages.send_message(
            client.deps, client.caller, service, channel, cmd, once=once
        ),
    )


async def update_message(
    client: Client, request: Request, service: str, channel: str, message: str
) -> Response:
    body = _body(request)
    text = _text(body, "body")
    if text is None:
        raise errors.InvalidParameterError(name="body", expected="a string")
    cmd = messages.UpdateMessage(body=text, attributes=_text(body, "attributes"))
    service = _service(client, service)
    return await _command(
        client,
        request,
        lambda updated: json_response({"sid": updated.sid, "index": updated.index}),
        lambda once: messages.update_message(
            client.deps, client.caller, service, channel, message, cmd, once=once
        ),
    )


async def remove_message(
    client: Client, request: Request, service: str, channel: str, message: str
) -> Response:
    service = _service(client, service)
    return await _command(
        client,
        request,
        _done,
        lambda once: messages.delete_message(
            client.deps, client.caller, service, channel, message, once=once
        ),
    )


# Users and the user's own channels


async def fetch_user(client: Client, request: Request, service: str, identity: str) -> Response:
    user = await users.fetch_user(client.deps, client.caller, _service(client, service), identity)
    return json_response(_user_descriptor(_host(request), user))


async def update_user(client: Client, request: Request, service: str, identity: str) -> Response:
    """``user.updateFriendlyName`` and ``user.updateAttributes``."""
    body = _body(request)
    cmd = users.UpdateUser(
        friendly_name=_text(body, "friendly_name"), attributes=_text(body, "attributes")
    )
    host, service = _host(request), _service(client, service)
    return await _command(
        client,
        request,
        lambda user: json_response(_user_descriptor(host, user)),
        lambda once: users.update_user(
            client.deps, client.caller, service, identity, cmd, once=once
        ),
    )


async def list_channel_users(client: Client, request: Request, service: str) -> Response:
    """``channel.getUserDescriptors()``: ``GET {users}?ConversationSid=``, paged by the
    channel's members, with ``meta.prev_token`` (the SDK's name for users)."""
    q = _query(request, filters=("ConversationSid",))
    channel = next((value for name, value in q.filters if name == "ConversationSid"), None)
    if not channel:
        raise errors.MissingParameterError(name="ConversationSid")
    service = _service(client, service)
    page = await members.list_member_users(client.deps, client.caller, service, channel, q.request)
    rows = [_user_descriptor(_host(request), user) for user in page.items]
    previous, following = _tokens(page)
    return json_response({"users": rows, "meta": {"prev_token": previous, "next_token": following}})


async def list_my_channels(
    client: Client, request: Request, service: str, identity: str
) -> Response:
    """``my_conversations``: the user's memberships and invites as channel descriptors."""
    q = _query(request)
    service = _service(client, service)
    page = await user_channels.list_user_channels_with_channels(
        client.deps, client.caller, service, identity, q.request
    )
    rows = [_user_channel_descriptor(_host(request), found, mine) for mine, found in page.items]
    previous, following = _tokens(page)
    return json_response(
        {"conversations": rows, "meta": {"previous_token": previous, "next_token": following}}
    )


async def fetch_my_channel(
    client: Client, request: Request, service: str, identity: str, channel: str
) -> Response:
    """``channel.getUnconsumedMessagesCount()``: one user channel with its unread count."""
    service = _service(client, service)
    mine, found = await user_channels.fetch_user_channel_with_channel(
        client.deps, client.caller, service, identity, channel
    )
    return json_response(_user_channel_descriptor(_host(request), found, mine))


def _consumed_index(body: dict[str, Any]) -> int | Unset | None:
    if "last_consumed_message_index" not in body:
        return UNSET
    value = body["last_consumed_message_index"]
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise errors.InvalidParameterError(
        name="last_consumed_message_index", expected="an integer or null"
    )


def _notification_level(body: dict[str, Any]) -> NotificationLevel | Unset:
    level = _text(body, "notification_level")
    if isinstance(level, Unset):
        return UNSET
    found = _LEVELS.get(level or "")
    if found is None:
        raise errors.InvalidParameterError(
            name="notification_level", expected=errors.one_of(_LEVELS)
        )
    return found


async def update_my_channel(
    client: Client, request: Request, service: str, identity: str, channel: str
) -> Response:
    """The read horizon (advance, update, set none, set all: the SDK computes the index) and
    the notification level (``default`` or ``muted``, stored on the membership); the reply's
    ``unread_messages_count`` is what the SDK returns."""
    body = _body(request)
    service = _service(client, service)
    cmd = members.UpdateMember(
        last_consumed_message_index=_consumed_index(body),
        notification_level=_notification_level(body),
    )
    host = _host(request)

    def reply(row: tuple[UserChannel, Channel]) -> Response:
        mine, found = row
        return json_response(_user_channel_descriptor(host, found, mine))

    if is_empty_update(cmd):  # nothing to change: the row as it is
        return reply(
            await user_channels.fetch_user_channel_with_channel(
                client.deps, client.caller, service, identity, channel
            )
        )
    return await _command(
        client,
        request,
        reply,
        lambda once: user_channels.update_user_channel(
            client.deps, client.caller, service, identity, channel, cmd, once=once
        ),
    )
