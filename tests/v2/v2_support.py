"""One walk through every Chat v2 (and v3) operation chinwag serves, with twilio-python.

The walk is written once, as a coroutine, and run through the sync client (each call made
directly) and the async one (each ``*_async`` call awaited), by both ways an app reaches v2:
``client.chat.v2.services`` and the default ``client.chat.services`` (which twilio-python marks
deprecated in favour of v2, and which *is* v2). Every response is checked against the spec of
its version as it arrives, and the operations seen are recorded, so a test can assert that the
walk covered every operation of the tables.
"""

from __future__ import annotations

import asyncio
import uuid
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

import spec_contract
from chinwag.domain import push_registrations
from chinwag.domain.deps import Caller, Deps
from chinwag.http.routes import V2, V3
from chinwag.model.events import Actor
from realtime.client_support import on_database

#: every (version, operationId) the tables route
SERVED = frozenset({("v2", route.name) for route in V2} | {("v3", route.name) for route in V3})
#: a one-pixel PNG, the upload a media message carries
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
IMPORTED = datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)

Call = Callable[..., Awaitable[Any]]


@dataclass
class Seen:
    """The (version, operationId) of every response, each checked against its spec."""

    operations: set[tuple[str, str]] = field(default_factory=set)

    def check(self, method: str, url: str, status: int, text: str) -> None:
        problems = spec_contract.check_exchange(method, url, status, text)
        assert not problems, f"{method} {url} -> {status}:\n" + "\n".join(problems)
        op_id = spec_contract.operation_for(method, url)
        if op_id is not None and status < 400:
            self.operations.add((spec_contract.version_of(url), op_id))


class CheckedSync(TwilioHttpClient):
    def __init__(self, seen: Seen) -> None:
        super().__init__()
        self.seen = seen

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        response = super().request(method, url, *args, **kwargs)
        self.seen.check(method, url, response.status_code, response.text)
        return response


class CheckedAsync(AsyncTwilioHttpClient):
    def __init__(self, seen: Seen) -> None:
        super().__init__(pool_connections=False)
        self.seen = seen

    async def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        response = await super().request(method, url, *args, **kwargs)
        self.seen.check(method, url, response.status_code, response.text)
        return response


def client(url: str, account_sid: str, auth_token: str, http_client: Any) -> Client:
    made = Client(account_sid, auth_token, http_client=http_client)
    made.chat.base_url = url
    return made


async def sync_call(owner: Any, name: str, **params: Any) -> Any:
    return getattr(owner, name)(**params)


async def async_call(owner: Any, name: str, **params: Any) -> Any:
    return await getattr(owner, f"{name}_async")(**params)


@dataclass
class Entry:
    """Where an app finds v2's services and credentials and v3's channels."""

    chat: Any
    default: bool

    def _deprecated(self, name: str, version: str) -> Any:
        if not self.default:
            return getattr(getattr(self.chat, version), name)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            found = getattr(self.chat, name)
        assert [str(w.message) for w in caught] == [
            f"{name} is deprecated. Use {version}.{name} instead."
        ]
        return found

    @property
    def services(self) -> Any:
        return self._deprecated("services", "v2")

    @property
    def credentials(self) -> Any:
        return self._deprecated("credentials", "v2")

    @property
    def channels_v3(self) -> Any:
        return self._deprecated("channels", "v3")


def upload(url: str, token: str, service_sid: str) -> str:
    """A chat user's upload (the media service), for a media message to carry."""
    response = httpx.post(
        f"{url}/mcs/v1/Services/{service_sid}/Media",
        params={"Category": "media", "Filename": "dot.png"},
        content=PNG,
        headers={"X-Twilio-Token": token, "Content-Type": "image/png"},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["sid"])


async def walk(
    entry: Entry,
    call: Call,
    media_for: Callable[[str], str],
    register: Callable[[str, str], str],
) -> None:
    """Every served v2/v3 operation at least once, asserting what v2 adds as it goes;
    ``media_for(service_sid)`` uploads media as ``alice``; ``register(service_sid, identity)``
    registers a phone as that user's client would (a Binding's SID)."""
    services = entry.services
    created = await call(services, "create", friendly_name="v2 walk")
    service = services(created.sid)
    assert created.url.endswith(f"/v2/Services/{created.sid}")
    assert created.pre_webhook_retry_count == 0
    assert created.notifications["log_enabled"] is False
    updated = await call(
        service,
        "update",
        notifications_new_message_enabled=True,
        notifications_new_message_sound="ding",
        notifications_new_message_badge_count_enabled=True,
        notifications_added_to_channel_sound="chime",
        notifications_log_enabled=True,
        media_compatibility_message="(a picture)",
        pre_webhook_retry_count=2,
        post_webhook_retry_count=3,
    )
    assert updated.notifications["new_message"] == {
        "enabled": True,
        "sound": "ding",
        "badge_count_enabled": True,
    }
    assert updated.notifications["added_to_channel"] == {"enabled": False, "sound": "chime"}
    assert updated.notifications["log_enabled"] is True
    assert updated.media == {"size_limit_mb": 16, "compatibility_message": "(a picture)"}
    assert (updated.pre_webhook_retry_count, updated.post_webhook_retry_count) == (2, 3)
    assert (await call(service, "fetch")).links["bindings"].endswith("/Bindings")
    assert created.sid in [s.sid for s in await call(services, "list")]

    credentials = entry.credentials
    credential = await call(credentials, "create", type="gcm", secret="s3cret")
    await call(credentials(credential.sid), "fetch")
    await call(credentials(credential.sid), "update", friendly_name="push")
    assert "push" in [c.friendly_name for c in await call(credentials, "list")]
    assert await call(credentials(credential.sid), "delete")

    role = await call(
        service.roles, "create", friendly_name="helper", type="channel", permission=["sendMessage"]
    )
    await call(service.roles(role.sid), "fetch")
    await call(service.roles(role.sid), "update", permission=["sendMessage", "leaveChannel"])
    assert "helper" in [r.friendly_name for r in await call(service.roles, "list")]
    assert await call(service.roles(role.sid), "delete")

    user = await call(service.users, "create", identity="alice", x_twilio_webhook_enabled="true")
    assert user.links["user_bindings"].endswith(
        f"/v2/Services/{created.sid}/Users/{user.sid}/Bindings"
    )
    await call(service.users("alice"), "fetch")
    await call(service.users(user.sid), "update", friendly_name="Alice")
    assert [u.identity for u in await call(service.users, "list")] == ["alice"]
    assert (await call(service.users("alice"), "fetch")).friendly_name == "Alice"

    channel = await call(
        service.channels,
        "create",
        unique_name="general",
        friendly_name="General",
        date_created=IMPORTED,
        created_by="importer",
    )
    assert (channel.date_created, channel.date_updated) == (IMPORTED, IMPORTED)
    assert channel.created_by == "importer"
    assert channel.links["webhooks"].endswith(f"/Channels/{channel.sid}/Webhooks")
    room = service.channels(channel.sid)
    assert (await call(service.channels("general"), "fetch")).sid == channel.sid
    await call(room, "update", friendly_name="Lobby", x_twilio_webhook_enabled="false")
    assert [c.sid for c in await call(service.channels, "list")] == [channel.sid]

    member = await call(room.members, "create", identity="alice", attributes='{"seat": 1}')
    assert member.attributes == '{"seat": 1}'
    await call(room.members("alice"), "fetch")
    moved = await call(room.members(member.sid), "update", attributes='{"seat": 2}')
    assert moved.attributes == '{"seat": 2}'
    assert [m.identity for m in await call(room.members, "list")] == ["alice"]

    text = await call(room.messages, "create", body="hello", from_="alice")
    assert (text.type, text.media, text.last_updated_by) == ("text", None, None)
    picture = await call(room.messages, "create", media_sid=media_for(created.sid), from_="alice")
    assert (picture.type, picture.body) == ("media", "")
    assert picture.media["content_type"] == "image/png"
    assert picture.media["size"] == len(PNG)
    await call(room.messages(text.sid), "fetch")
    edited = await call(
        room.messages(text.sid), "update", body="hello!", from_="bob", last_updated_by="alice"
    )
    assert (edited._from, edited.last_updated_by, edited.was_edited) == ("bob", "alice", True)
    assert [m.index for m in await call(room.messages, "list", order="desc")] == [1, 0]
    assert await call(room.messages(picture.sid), "delete")

    await call(service.users, "create", identity="bob")
    invite = await call(room.invites, "create", identity="bob")
    await call(room.invites(invite.sid), "fetch")
    assert [i.identity for i in await call(room.invites, "list")] == ["bob"]
    assert await call(room.invites(invite.sid), "delete")

    mine = service.users("alice").user_channels
    [listed] = await call(mine, "list")
    assert (listed.user_sid, listed.notification_level) == (user.sid, "default")
    fetched = await call(mine(channel.sid), "fetch")
    assert fetched.url.endswith(
        f"/v2/Services/{created.sid}/Users/{user.sid}/Channels/{channel.sid}"
    )
    muted = await call(
        mine("general"), "update", notification_level="muted", last_consumed_message_index=0
    )
    assert (muted.notification_level, muted.last_consumed_message_index) == ("muted", 0)
    assert (muted.status, muted.member_sid) == ("joined", member.sid)

    hooks = room.webhooks
    hook = await call(
        hooks,
        "create",
        type="webhook",
        configuration_url="https://hooks.example/chat",
        configuration_filters=["onMessageSent"],
    )
    assert hook.url.endswith(f"/Channels/{channel.sid}/Webhooks/{hook.sid}")
    assert (await call(hooks(hook.sid), "fetch")).configuration["filters"] == ["onMessageSent"]
    assert [h.sid for h in await call(hooks, "list")] == [hook.sid]
    updated = await call(hooks(hook.sid), "update", configuration_retry_count=2)
    assert updated.configuration["retry_count"] == 2
    assert await call(hooks(hook.sid), "delete")

    phone = await asyncio.to_thread(register, created.sid, "bob")
    [binding] = await call(service.bindings, "list")
    assert (binding.sid, binding.identity, binding.binding_type) == (phone, "bob", "fcm")
    assert (await call(service.bindings(phone), "fetch")).endpoint is not None
    bobs = service.users("bob").user_bindings
    assert [b.sid for b in await call(bobs, "list")] == [phone]
    assert (await call(bobs(phone), "fetch")).user_sid.startswith("US")
    assert await call(bobs(phone), "delete")
    tablet = await asyncio.to_thread(register, created.sid, "bob")
    assert await call(service.bindings(tablet), "delete")
    assert await call(service.bindings, "list") == []

    private = await call(entry.channels_v3(created.sid, channel.sid), "update", type="private")
    assert (private.type, private.messaging_service_sid) == ("private", None)

    assert await call(mine(channel.sid), "delete")
    assert await call(room.members, "list") == []
    second = await call(room.members, "create", identity="bob")
    assert await call(room.members(second.sid), "delete")
    assert await call(room.messages(text.sid), "delete")
    assert await call(room, "delete")
    assert await call(service.users(user.sid), "delete")
    assert await call(service, "delete")


def register_phone(database: str, account_sid: str, service_sid: str, identity: str) -> str:
    """Register an FCM device for ``identity`` as its chat client would, on the server's
    database; a new address each time. Returns the registration's (the Binding's) SID."""

    async def act(deps: Deps) -> str:
        registration = await push_registrations.register(
            deps,
            Caller(account_sid, Actor("SDK", identity)),
            service_sid,
            identity,
            push_registrations.Register(
                "fcm", f"fcm-{uuid.uuid4().hex}", "web", ("twilio.channel.new_message",)
            ),
            credential_sid=None,
        )
        return registration.sid

    return on_database(database, act)
