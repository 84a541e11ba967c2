"""twilio-chat 3.x and 4.x at the edge: their session, commands and reads, made 6.x requests.

Those SDKs speak an older Chat API (docs/client-versions.md): no ``/Client/v1/Configuration``
and no command endpoints, but a Sync *command list* (``sync/legacy_sessions.py``) whose
context says where things are, commands pushed into it as items, and a few REST reads with
other paths and keys. Nothing here decides anything: each piece is translated into the
request twilio-chat 6 would make and dispatched through the same router (``Client.dispatch``),
so the policy, webhooks, rate limits, idempotency (``X-Twilio-Mutation-Id``: the command's
``commandId``) and Sync projection are the ones every other door uses, and their answer is
translated back.

=========================  ======================================================================
twilio-chat 3/4            becomes
=========================  ======================================================================
``POST /v3/Lists``         ``GET /Client/v1/Configuration``, into a new command list's context
(purpose ``…ipmsg``)
an item in the list        the 6.x command (:data:`ACTIONS`); its answer updates the item
``/v1/Services/{IS}/…``    the 6.x reads under ``/Client/v1/Services/{IS}/…``, keys renamed
``POST /v1/typing``        ``POST /Client/v1/Services/{IS}/Typing``
=========================  ======================================================================

Read your own writes: a command's answer is put in the list only once the command's own Sync
events are queued for the connection (``SyncConnection.settle``). The SDK hands both kinds to
its application through the same queue, in order, so ``await channel.join()`` returns with
``channelJoined`` fired.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import orjson

from chinwag import errors
from chinwag.api.routing import Route
from chinwag.realtime.context import Client, Request, Response, json_response
from chinwag.realtime.sync import legacy_sessions, shapes
from chinwag.realtime.sync.legacy_sessions import SessionList
from chinwag.realtime.sync.subscriptions import SyncConnection
from chinwag.realtime.twilsock.ordering import SETTLE_SECONDS

Data = dict[str, Any]
#: the most entries one ``consumptionReportV2`` may carry (the SDK sends one per channel)
MAX_REPORT = 100
#: a ``commandId`` is the SDK's UUID
MAX_COMMAND_ID = 128


@dataclass(frozen=True, slots=True)
class Answer:
    """A 6.x request's answer: its HTTP status and JSON body."""

    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class Refused(Exception):
    """A command the session answers with an error (the 6.x answer, or a bad parameter)."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(answer.status)
        self.answer = answer


class Call:
    """Make 6.x requests for one legacy request, as the connected client. ``base`` is the
    path of the token's service under the 6.x Chat API."""

    def __init__(self, client: Client, host: str) -> None:
        assert client.dispatch is not None  # the gateway sets it with the grant
        self.client = client
        self.dispatch = client.dispatch
        self.host = host
        self.base = f"/Client/v1/Services/{client.service_sid}"

    async def __call__(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: dict[str, str] | None = None,
        mutation: str | None = None,
    ) -> Answer:
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if mutation is not None:
            headers["X-Twilio-Mutation-Id"] = mutation
        payload = b"" if body is None else orjson.dumps(body)
        request = Request(method, self.host, path, params or {}, headers, payload)
        _, response = await self.dispatch(self.client, request)
        return Answer(response.status, orjson.loads(response.body or b"null"))

    async def ok(self, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        """The body of a successful answer; :class:`Refused` otherwise."""
        answer = await self(method, path, body, **kw)
        if not answer.ok:
            raise Refused(answer)
        return answer.body


def _seg(value: str) -> str:
    return quote(value, safe="")


# --- the session context ---------------------------------------------------------------------


async def session_context(call: Call) -> Data:
    """What a 3.x/4.x session waits for in its list's context (chat ``session.js``: at least
    ``identity``, ``userInfo``, ``links``, ``myChannels`` and ``channels``), from the 6.x
    Configuration. Links are paths: the SDK prefixes them with its ``apiUri``.
    """
    config = await call.ok("GET", "/Client/v1/Configuration")
    identity = config["identity"]
    sync = config["sync_objects"]
    options = config["options"]
    service = f"/v1/Services/{call.client.service_sid}"
    mine = f"{service}/Users/{_seg(identity)}/Channels"
    return {
        "identity": identity,
        "userInfo": sync["my_user_info"],
        "myChannels": sync["my_conversations"],
        "channels": sync["my_conversations"],
        "links": {
            "publicChannelsUrl": f"{service}/Channels",
            "myChannelsUrl": mine,
            "syncListUrl": mine,
            "usersUrl": f"{service}/Users",
            "typingUrl": "/v1/typing",
            "mediaServiceUrl": _media_link(config["links"]["media_service"]),
        },
        "reachabilityEnabled": options["reachability_enabled"],
        "userInfosToSubscribe": options["user_infos_to_subscribe"],
        "consumptionReportInterval": options["consumption_report_interval"],
        "httpCacheInterval": options["http_cache_interval"],
    }


def _media_link(absolute: str) -> str:
    """The media link as twilio-mcs-client 0.3 takes it: it puts ``https://mcs.us1.twilio.com``
    (``mcs.<region>``) in front of whatever it is given (its ``configuration.js``).

    Served over HTTPS, the link is ``@host/…``: the SDK's URL becomes
    ``https://mcs.us1.twilio.com@host/…``, this server, with the Twilio host only as the URL's
    user-info part. Over plain HTTP no link can reach this server (the prefix fixes the
    scheme), so it is the path alone, as Twilio's was: it works where
    ``mcs.us1.twilio.com`` is routed to this server.
    """
    parts = urlsplit(absolute)
    return f"@{parts.netloc}{parts.path}" if parts.scheme == "https" else parts.path


# --- commands --------------------------------------------------------------------------------

Params = dict[str, Any]
#: ``(call, own identity, request params, commandId)`` -> the response's own fields
Action = Callable[[Call, str, Params, str], Awaitable[Data]]


def _bad(name: str, expected: str) -> Refused:
    error = errors.InvalidParameterError(name=name, expected=expected)
    return Refused(Answer(400, error.to_dict()))


def _text(params: Params, name: str) -> str:
    value = params.get(name)
    if not isinstance(value, str) or not value:
        raise _bad(name, "a non-empty string")
    return value


def _fields(params: Params, **names: str) -> Data:
    """The 6.x body: each legacy field present (strings or null) under its 6.x name."""
    body: Data = {}
    for legacy, name in names.items():
        if legacy in params:
            value = params[legacy]
            if value is not None and not isinstance(value, str):
                raise _bad(legacy, "a string or null")
            body[name] = value
    return body


def _index(params: Params) -> int:
    """``messageIdx``: the SDK sends it as a string or a number."""
    value = params.get("messageIdx")
    if isinstance(value, str) and value.isdigit() and len(value) < 19:
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise _bad("messageIdx", "a message index (a whole number from 0)")


def _channel(call: Call, params: Params) -> str:
    return f"{call.base}/Channels/{_seg(_text(params, 'channelSid'))}"


async def _message(call: Call, params: Params) -> str:
    """The path of the message at ``messageIdx`` (commands name messages by index; the 6.x
    API by SID, which the channel's messages list holds)."""
    channel = _text(params, "channelSid")
    index = _index(params)
    page = await call.ok(
        "GET", f"/v3/Lists/{_seg(channel)}.messages/Items", params={"Index": str(index)}
    )
    if not page["items"]:
        raise Refused(Answer(404, errors.NotFoundError().to_dict()))
    return f"{call.base}/Channels/{_seg(channel)}/Messages/{_seg(page['items'][0]['data']['sid'])}"


async def _create_channel(call: Call, me: str, p: Params, cid: str) -> Data:
    body = _fields(
        p, friendlyName="friendly_name", uniqueName="unique_name", attributes="attributes"
    )
    body["type"] = "private" if p.get("type") == "private" else "public"
    found = await call.ok("POST", f"{call.base}/Channels", body, mutation=cid)
    return {"channelSid": found["sid"], "channel": found["sync_objects"]["conversation"]}


async def _join(call: Call, me: str, p: Params, cid: str) -> Data:
    await call.ok("POST", f"{_channel(call, p)}/Participants", {"identity": me}, mutation=cid)
    return {}


async def _leave(call: Call, me: str, p: Params, cid: str) -> Data:
    await call.ok("DELETE", f"{_channel(call, p)}/Participants/{_seg(me)}", mutation=cid)
    return {}


async def _decline(call: Call, me: str, p: Params, cid: str) -> Data:
    await call.ok("DELETE", f"{_channel(call, p)}/Invites/{_seg(me)}", mutation=cid)
    return {}


async def _destroy(call: Call, me: str, p: Params, cid: str) -> Data:
    await call.ok("DELETE", _channel(call, p), mutation=cid)
    return {}


async def _add_member(call: Call, me: str, p: Params, cid: str) -> Data:
    body = {"identity": _text(p, "username")}
    await call.ok("POST", f"{_channel(call, p)}/Participants", body, mutation=cid)
    return {}


async def _invite(call: Call, me: str, p: Params, cid: str) -> Data:
    body = {"identity": _text(p, "username")}
    await call.ok("POST", f"{_channel(call, p)}/Invites", body, mutation=cid)
    return {}


async def _remove_member(call: Call, me: str, p: Params, cid: str) -> Data:
    member = _text(p, "memberSid") if "memberSid" in p else _text(p, "username")
    await call.ok("DELETE", f"{_channel(call, p)}/Participants/{_seg(member)}", mutation=cid)
    return {}


async def _send_message(call: Call, me: str, p: Params, cid: str) -> Data:
    body = _fields(p, text="body", attributes="attributes", mediaSid="media_sid")
    body["body"] = body.get("body") or ""
    sent = await call.ok("POST", f"{_channel(call, p)}/Messages", body, mutation=cid)
    return {"messageId": sent["index"]}


async def _edit_message(call: Call, me: str, p: Params, cid: str) -> Data:
    body = _fields(p, text="body", attributes="attributes")
    await call.ok("POST", await _message(call, p), body, mutation=cid)
    return {}


async def _delete_message(call: Call, me: str, p: Params, cid: str) -> Data:
    await call.ok("DELETE", await _message(call, p), mutation=cid)
    return {}


async def _edit_channel(call: Call, me: str, p: Params, cid: str) -> Data:
    body = _fields(
        p, attributes="attributes", friendlyName="friendly_name", uniqueName="unique_name"
    )
    await call.ok("POST", _channel(call, p), body, mutation=cid)
    return {}


async def _notification_level(call: Call, me: str, p: Params, cid: str) -> Data:
    path = f"{call.base}/Users/{_seg(me)}/Channels/{_seg(_text(p, 'channelSid'))}"
    body = _fields(p, notificationLevel="notification_level")
    await call.ok("POST", path, body, mutation=cid)
    return {}


async def _member_attributes(call: Call, me: str, p: Params, cid: str) -> Data:
    path = f"{_channel(call, p)}/Participants/{_seg(_text(p, 'memberSid'))}"
    await call.ok("POST", path, _fields(p, attributes="attributes"), mutation=cid)
    return {}


async def _edit_user(call: Call, me: str, p: Params, cid: str) -> Data:
    path = f"{call.base}/Users/{_seg(_text(p, 'username'))}"
    body = _fields(p, attributes="attributes", friendlyName="friendly_name")
    await call.ok("POST", path, body, mutation=cid)
    return {}


async def _consumption_report(call: Call, me: str, p: Params, cid: str) -> Data:
    """``consumptionReportV2``: each channel's read horizon, answered with its unread count."""
    report = p.get("report")
    if not isinstance(report, list) or not 0 < len(report) <= MAX_REPORT:
        raise _bad("report", f"a list of 1 to {MAX_REPORT} entries")
    answers = []
    for n, entry in enumerate(report):
        if not isinstance(entry, dict):
            raise _bad("report", f"a list of 1 to {MAX_REPORT} entries")
        channel = _text(entry, "channelSid")
        index = None if entry.get("messageIdx") is None else _index(entry)
        path = f"{call.base}/Users/{_seg(me)}/Channels/{_seg(channel)}"
        body = {"last_consumed_message_index": index}
        mine = await call.ok("POST", path, body, mutation=f"{cid}.{n}")
        answers.append(
            {"channelSid": channel, "unreadMessagesCount": mine["unread_messages_count"]}
        )
    return {"report": answers}


#: the actions of twilio-chat 3.x/4.x (``session.addCommand`` calls in its ``lib/``)
ACTIONS: dict[str, Action] = {
    "createChannel": _create_channel,
    "joinChannelV2": _join,
    "leaveChannel": _leave,
    "declineInvitation": _decline,
    "destroyChannel": _destroy,
    "addMemberV2": _add_member,
    "inviteMember": _invite,
    "removeMember": _remove_member,
    "sendMessage": _send_message,
    "sendMediaMessage": _send_message,
    "editMessage": _edit_message,
    "editMessageAttributes": _edit_message,
    "deleteMessage": _delete_message,
    "editAttributes": _edit_channel,
    "editFriendlyName": _edit_channel,
    "editUniqueName": _edit_channel,
    "editNotificationLevel": _notification_level,
    "editMemberAttributes": _member_attributes,
    "editUserAttributes": _edit_user,
    "editUserFriendlyName": _edit_user,
    "consumptionReportV2": _consumption_report,
}


async def run_command(call: Call, request: Data, command_id: str) -> Data:
    """The ``response`` of one command item: ``status`` 200 with the action's fields, or the
    6.x error's status, message and code (the SDK rejects with ``statusText`` and ``status``:
    chat ``session.js``, ``processCommandResponse``)."""
    action = ACTIONS.get(str(request.get("action")))
    try:
        if action is None:
            raise _bad("action", errors.one_of(sorted(ACTIONS)))
        fields = await action(call, call.client.identity, request, command_id)
    except Refused as refused:
        body = refused.answer.body if isinstance(refused.answer.body, dict) else {}
        return {
            "status": refused.answer.status,
            "statusText": body.get("message", ""),
            "errorCode": body.get("code"),
        }
    return {"status": 200, "statusText": "OK", **fields}


# --- the command list over Sync ----------------------------------------------------------------


def _connection(client: Client) -> SyncConnection:
    assert client.sync is not None  # set at init, before any upstream request is accepted
    return client.sync


def _sync_base(request: Request) -> str:
    return f"https://{request.host or 'cds.us1.twilio.com'}"


def _list_body(base: str, session: SessionList) -> Data:
    """A command list as ``POST /v3/Lists`` answers it: created at event 0 (its context is
    event 1, replayed when the client subscribes), with the ``links.context`` the SDK reads."""
    body = shapes.descriptor(base, session, 0, session.date_created)
    body["links"]["context"] = f"{shapes.object_url(base, session)}/Context"
    return body


async def create_list(client: Client, request: Request) -> Response:
    """``POST /v3/Lists``: a chat client's command list; no other list can be made here."""
    body = request.json()
    if not isinstance(body, dict) or body.get("purpose") != legacy_sessions.PURPOSE:
        raise errors.SyncAccessForbiddenError()
    try:
        context = await session_context(Call(client, request.host))
    except Refused as refused:
        return json_response(refused.answer.body, refused.answer.status)
    sessions = _connection(client).hub.sessions
    session = sessions.create(client.service_sid, client.identity, context)
    sessions.listen(_connection(client), session)
    return json_response(_list_body(_sync_base(request), session), 201)


async def list_context(client: Client, request: Request, sid: str) -> Response:
    """``GET {links.context}``. Reported as of event 0: the SDK announces a context only
    through a ``list_context_updated`` newer than the one it holds, and the session waits for
    that announcement, so a read that arrives first must not claim the event's id
    (twilio-sync ``synclist.js``, ``_updateContextIfRequired``)."""
    session = _connection(client).hub.sessions.find(sid, client.service_sid, client.identity)
    date = shapes.iso(session.date_created)
    return json_response({"data": session.context, "last_event_id": 0, "date_updated": date})


async def push_command(client: Client, request: Request, sid: str) -> Response:
    """``POST {links.items}``: run the command the item carries, answer it in the item (after
    the command's own events), and reply with the item as added."""
    connection = _connection(client)
    sessions = connection.hub.sessions
    session = sessions.find(sid, client.service_sid, client.identity)
    body = request.json()
    data = body.get("data") if isinstance(body, dict) else None
    command = data.get("request") if isinstance(data, dict) else None
    command_id = data.get("commandId") if isinstance(data, dict) else None
    if not isinstance(data, dict) or not isinstance(command, dict):
        raise errors.InvalidParameterError(name="data", expected="an object with a request object")
    if not isinstance(command_id, str) or not 0 < len(command_id) <= MAX_COMMAND_ID:
        raise errors.InvalidParameterError(
            name="data.commandId", expected=f"a string of 1 to {MAX_COMMAND_ID} characters"
        )
    base = _sync_base(request)
    clock = connection.hub.clock
    sessions.listen(connection, session)
    item, added = session.add(base, data, clock.now_ms())
    sessions.publish(session, added)
    response = await run_command(Call(client, request.host), command, command_id)
    await connection.settle(SETTLE_SECONDS)
    updated = session.update(base, item.index, {**data, "response": response}, clock.now_ms())
    if updated is not None:
        sessions.publish(session, updated)
    reply = shapes.item(base, session, item.index, item.added, item.date, data)
    return json_response(reply, 201)


# --- reads and typing ----------------------------------------------------------------------------


def _passed(answer: Answer) -> Response:
    return json_response(answer.body, answer.status)


def _legacy_channel(c: Data) -> Data:
    """A 6.x channel descriptor with the 3.x/4.x names added (``channeldescriptor.js``)."""
    return {**c, "members_count": c["participants_count"]}


def _legacy_user_channel(c: Data) -> Data:
    """A user's channel as 3.x/4.x read it, for both its channel list and its start-up list
    (``synclistdescriptor.js``: ``channel_sid`` and the Sync object names)."""
    names = c["sync_objects"]
    return {
        **_legacy_channel(c),
        "channel_sid": c["sid"],
        "channel": names["conversation"],
        "messages": names["messages"],
        "roster": names["roster"],
    }


def _channels(answer: Answer, shape: Callable[[Data], Data]) -> Response:
    """A 6.x channel list (``conversations``) as the 3.x/4.x ``channels`` list."""
    if not answer.ok:
        return _passed(answer)
    channels = [shape(c) for c in answer.body["conversations"]]
    return json_response({"channels": channels, "meta": answer.body["meta"]})


def _token(request: Request) -> dict[str, str]:
    token = request.params.get("PageToken")
    return {"PageToken": token} if isinstance(token, str) else {}


async def public_channels(client: Client, request: Request, service: str) -> Response:
    """``GET {publicChannelsUrl}``: 6.x ``conversations`` as ``channels``."""
    base = f"/Client/v1/Services/{_seg(service)}"
    answer = await Call(client, request.host)("GET", f"{base}/Channels", params=_token(request))
    return _channels(answer, _legacy_channel)


async def fetch_channel(client: Client, request: Request, service: str, channel: str) -> Response:
    """``GET {publicChannelsUrl}/{sid or unique name}``: counts and descriptors."""
    path = f"/Client/v1/Services/{_seg(service)}/Channels/{_seg(channel)}"
    answer = await Call(client, request.host)("GET", path)
    return json_response(_legacy_channel(answer.body)) if answer.ok else _passed(answer)


async def my_channels(client: Client, request: Request, service: str, identity: str) -> Response:
    """``GET {myChannelsUrl}`` (and ``syncListUrl``, the same list): the user's channels;
    ``?ChannelSid=`` narrows it to one channel, or none if the user is not in it
    (``getUnconsumedMessagesCount``)."""
    base = f"/Client/v1/Services/{_seg(service)}/Users/{_seg(identity)}/Channels"
    call = Call(client, request.host)
    wanted = request.params.get("ChannelSid")
    empty = {"previous_token": None, "next_token": None}
    if isinstance(wanted, str):
        one = await call("GET", f"{base}/{wanted}")
        if one.status == 404:
            return json_response({"channels": [], "meta": empty})
        if not one.ok:
            return _passed(one)
        return json_response({"channels": [_legacy_user_channel(one.body)], "meta": empty})
    return _channels(await call("GET", base, params=_token(request)), _legacy_user_channel)


async def fetch_user(client: Client, request: Request, service: str, identity: str) -> Response:
    """``GET {usersUrl}/{identity}``: the 6.x user descriptor (``sync_unique_name`` included)."""
    path = f"/Client/v1/Services/{_seg(service)}/Users/{_seg(identity)}"
    return _passed(await Call(client, request.host)("GET", path))


async def channel_users(client: Client, request: Request, service: str) -> Response:
    """``GET {usersUrl}?ChannelSid=``: the 6.x ``?ConversationSid=`` list."""
    params = _token(request)
    wanted = request.params.get("ChannelSid")
    if isinstance(wanted, str):
        params["ConversationSid"] = wanted
    path = f"/Client/v1/Services/{_seg(service)}/Users"
    return _passed(await Call(client, request.host)("GET", path, params=params))


async def typing(client: Client, request: Request) -> Response:
    """``POST {apiUri}/v1/typing``: the 6.x typing call of the token's service."""
    path = f"/Client/v1/Services/{client.service_sid}/Typing"
    forwarded = Request("POST", request.host, path, {}, request.headers, request.body)
    return (await Call(client, request.host).dispatch(client, forwarded))[1]


_SERVICE = "/v1/Services/{service}"

#: the routes of twilio-chat 3.x/4.x, added to the gateway's table (``routes.py``)
ROUTES: tuple[Route[Callable[..., Awaitable[Response]]], ...] = (
    Route("POST", "/v3/Lists", "LegacyCreateSession", create_list),
    Route("GET", "/v3/Lists/{sid}/Context", "LegacySessionContext", list_context),
    Route("POST", "/v3/Lists/{sid}/Items", "LegacyCommand", push_command),
    Route("GET", f"{_SERVICE}/Channels", "LegacyListChannels", public_channels),
    Route("GET", f"{_SERVICE}/Channels/{{channel}}", "LegacyFetchChannel", fetch_channel),
    Route("GET", f"{_SERVICE}/Users", "LegacyListChannelUsers", channel_users),
    Route("GET", f"{_SERVICE}/Users/{{identity}}", "LegacyFetchUser", fetch_user),
    Route("GET", f"{_SERVICE}/Users/{{identity}}/Channels", "LegacyListMyChannels", my_channels),
    Route("POST", "/v1/typing", "LegacyTyping", typing),
)
