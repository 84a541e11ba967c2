"""The authorization policy through the domain: chat users (``Actor("SDK", identity)``) against
a real database (SQLite; PostgreSQL when ``CHINWAG_TEST_DATABASE_URL`` is set).

The client gateway will call these same operations with the connected user as the actor; the
REST API's account owner is never checked (the rest of the suite pins that it behaves as
before). Roles and memberships are changed through the account owner between a user's actions,
to show the policy reads them afresh in each action's transaction.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from chinwag import errors
from chinwag.app import create_app
from chinwag.config import Settings
from chinwag.domain import (
    channels,
    invites,
    members,
    messages,
    policy,
    roles,
    services,
    user_channels,
    users,
)
from chinwag.domain.accounts import ensure_account
from chinwag.domain.deps import Caller, Deps
from chinwag.model.events import API_ACTOR, Actor
from chinwag.model.records import Account, Channel, PageRequest, Service
from chinwag.testing.webhook_receiver import WebhookReceiver
from conftest import ACCOUNT_SID, AUTH_TOKEN, Databases

pytestmark = pytest.mark.unit

ADMIN = Caller(ACCOUNT_SID, API_ACTOR)
PAGE = PageRequest(size=50)


def sdk(identity: str) -> Caller:
    return Caller(ACCOUNT_SID, Actor("SDK", identity))


@asynccontextmanager
async def domain(database: str, **settings: Any) -> AsyncIterator[tuple[Deps, Service]]:
    """The app's domain dependencies on ``database``, and a service created through REST."""
    app = create_app(
        Settings(database=database, account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, **settings)
    )
    await app.deps.db.open()
    try:
        app.account, _ = await ensure_account(app.deps, Account(ACCOUNT_SID, AUTH_TOKEN))
        service = await services.create_service(app.deps, ADMIN, services.CreateService("s"))
        yield app.deps, service
    finally:
        await app.deps.db.close()


async def refused(code: int, action: Awaitable[Any]) -> None:
    with pytest.raises(errors.ChinwagError) as caught:
        await action
    assert caught.value.code == code


def run(databases: Databases, scenario: Callable[[Deps, Service], Awaitable[None]]) -> None:
    database = databases.new()  # outside the loop: PostgreSQL clones it synchronously

    async def main() -> None:
        async with domain(database) as (deps, service):
            await scenario(deps, service)

    asyncio.run(main())


def test_creating_channels_follows_the_service_role_as_it_is_now(databases: Databases) -> None:
    async def scenario(deps: Deps, service: Service) -> None:
        # alice has no User row yet: she holds the default service role ("service user")
        room = await channels.create_channel(
            deps, sdk("alice"), service.sid, channels.CreateChannel(unique_name="room")
        )
        assert room.created_by == "alice"
        assert service.default_service_role_sid is not None
        await roles.update_role(
            deps,
            ADMIN,
            service.sid,
            service.default_service_role_sid,
            roles.UpdateRole(("joinChannel",)),
        )
        await refused(
            50107,
            channels.create_channel(deps, sdk("alice"), service.sid, channels.CreateChannel()),
        )

    run(databases, scenario)


def test_the_creator_joins_with_the_creator_role_and_others_with_the_default(
    databases: Databases,
) -> None:
    async def scenario(deps: Deps, service: Service) -> None:
        room = await channels.create_channel(
            deps, sdk("alice"), service.sid, channels.CreateChannel()
        )
        alice = await members.create_member(
            deps, sdk("alice"), service.sid, room.sid, members.CreateMember("alice")
        )
        bob = await members.create_member(
            deps, sdk("bob"), service.sid, room.sid, members.CreateMember("bob")
        )
        assert alice.role_sid == service.default_channel_creator_role_sid
        assert bob.role_sid == service.default_channel_role_sid
        # a chat user may not pick a role, nor add someone else without addMember
        await refused(
            50205,
            members.create_member(
                deps,
                sdk("carol"),
                service.sid,
                room.sid,
                members.CreateMember("carol", role_sid=service.default_channel_creator_role_sid),
            ),
        )
        await refused(
            50107,
            members.create_member(
                deps, sdk("bob"), service.sid, room.sid, members.CreateMember("carol")
            ),
        )
        await members.create_member(
            deps, sdk("alice"), service.sid, room.sid, members.CreateMember("carol")
        )

    run(databases, scenario)


def test_a_private_channel_is_seen_and_joined_on_an_invite(databases: Databases) -> None:
    async def scenario(deps: Deps, service: Service) -> None:
        both = ("public", "private")
        await channels.create_channel(deps, sdk("alice"), service.sid, channels.CreateChannel())
        secret = await channels.create_channel(
            deps, sdk("alice"), service.sid, channels.CreateChannel(type="private")
        )
        await members.create_member(
            deps, sdk("alice"), service.sid, secret.sid, members.CreateMember("alice")
        )
        listed = await channels.list_channels(deps, sdk("bob"), service.sid, both, PAGE)
        assert secret.sid not in [c.sid for c in listed.items] and len(listed.items) == 1
        admin_view = await channels.list_channels(deps, ADMIN, service.sid, both, PAGE)
        assert len(admin_view.items) == 2
        await refused(50107, channels.fetch_channel(deps, sdk("bob"), service.sid, secret.sid))
        await refused(
            50107,
            members.create_member(
                deps, sdk("bob"), service.sid, secret.sid, members.CreateMember("bob")
            ),
        )
        await users.create_user(deps, ADMIN, service.sid, users.CreateUser("bob"))
        await invites.create_invite(
            deps, sdk("alice"), service.sid, secret.sid, invites.CreateInvite("bob")
        )
        listed = await channels.list_channels(deps, sdk("bob"), service.sid, both, PAGE)
        assert secret.sid in [c.sid for c in listed.items]
        await channels.fetch_channel(deps, sdk("bob"), service.sid, secret.sid)
        await members.create_member(
            deps, sdk("bob"), service.sid, secret.sid, members.CreateMember("bob")
        )
        await members.list_members(deps, sdk("bob"), service.sid, secret.sid, (), PAGE)

    run(databases, scenario)


def test_messages_own_and_any(databases: Databases) -> None:
    async def scenario(deps: Deps, service: Service) -> None:
        room = await channels.create_channel(
            deps, sdk("alice"), service.sid, channels.CreateChannel()
        )
        send = messages.CreateMessage
        await refused(
            50400, messages.send_message(deps, sdk("bob"), service.sid, room.sid, send("hi"))
        )
        await refused(50400, messages.list_messages(deps, sdk("bob"), service.sid, room.sid, PAGE))
        for who in ("alice", "bob"):
            await members.create_member(
                deps, sdk(who), service.sid, room.sid, members.CreateMember(who)
            )
        mine = await messages.send_message(deps, sdk("alice"), service.sid, room.sid, send("a"))
        theirs = await messages.send_message(deps, sdk("bob"), service.sid, room.sid, send("b"))
        assert theirs.author == "bob"
        await refused(
            50107,
            messages.send_message(
                deps, sdk("bob"), service.sid, room.sid, send("b", from_="alice")
            ),
        )
        edit = messages.UpdateMessage(body="edited")
        # alice holds channel admin (editAnyMessage), bob channel user (editOwnMessage)
        await messages.update_message(deps, sdk("alice"), service.sid, room.sid, theirs.sid, edit)
        await messages.update_message(deps, sdk("bob"), service.sid, room.sid, theirs.sid, edit)
        await refused(
            50107,
            messages.update_message(deps, sdk("bob"), service.sid, room.sid, mine.sid, edit),
        )
        await refused(
            50107,
            messages.update_message(
                deps,
                sdk("bob"),
                service.sid,
                room.sid,
                theirs.sid,
                messages.UpdateMessage(attributes="{}"),
            ),
        )
        await refused(
            50107, messages.delete_message(deps, sdk("bob"), service.sid, room.sid, mine.sid)
        )
        await messages.delete_message(deps, sdk("bob"), service.sid, room.sid, theirs.sid)
        await messages.delete_message(deps, sdk("alice"), service.sid, room.sid, mine.sid)
        page = await messages.list_messages(deps, sdk("bob"), service.sid, room.sid, PAGE)
        assert page.items == []

    run(databases, scenario)


def test_a_member_role_changed_through_rest_applies_to_the_next_action(
    databases: Databases,
) -> None:
    async def scenario(deps: Deps, service: Service) -> None:
        room = await channels.create_channel(deps, ADMIN, service.sid, channels.CreateChannel())
        for who in ("carol", "dave"):
            await members.create_member(
                deps, ADMIN, service.sid, room.sid, members.CreateMember(who)
            )
        await refused(
            50107, members.delete_member(deps, sdk("carol"), service.sid, room.sid, "dave")
        )
        await refused(
            50107,
            members.update_member(
                deps,
                sdk("carol"),
                service.sid,
                room.sid,
                "dave",
                members.UpdateMember(last_consumed_message_index=0),
            ),
        )
        await members.update_member(
            deps,
            sdk("carol"),
            service.sid,
            room.sid,
            "carol",
            members.UpdateMember(last_consumed_message_index=0),
        )
        assert service.default_channel_creator_role_sid is not None
        await members.update_member(
            deps,
            ADMIN,
            service.sid,
            room.sid,
            "carol",
            members.UpdateMember(role_sid=service.default_channel_creator_role_sid),
        )
        await members.delete_member(deps, sdk("carol"), service.sid, room.sid, "dave")
        await members.delete_member(deps, sdk("carol"), service.sid, room.sid, "carol")

    run(databases, scenario)


def test_user_info_and_the_account_owners_resources(databases: Databases) -> None:
    async def scenario(deps: Deps, service: Service) -> None:
        for who in ("alice", "bob"):
            await users.create_user(deps, ADMIN, service.sid, users.CreateUser(who))
        rename = users.UpdateUser(friendly_name="Bob")
        await users.update_user(deps, sdk("bob"), service.sid, "bob", rename)
        await refused(50107, users.update_user(deps, sdk("bob"), service.sid, "alice", rename))
        await refused(
            50205,
            users.update_user(
                deps,
                sdk("bob"),
                service.sid,
                "bob",
                users.UpdateUser(role_sid=service.default_service_role_sid or ""),
            ),
        )
        await user_channels.list_user_channels(deps, sdk("bob"), service.sid, "bob", PAGE)
        await refused(
            50107, user_channels.list_user_channels(deps, sdk("bob"), service.sid, "alice", PAGE)
        )
        await refused(
            50107, users.create_user(deps, sdk("bob"), service.sid, users.CreateUser("eve"))
        )
        await refused(50107, users.delete_user(deps, sdk("bob"), service.sid, "alice"))
        await refused(50107, roles.list_roles(deps, sdk("bob"), service.sid, PAGE))
        await refused(50107, services.fetch_service(deps, sdk("bob"), service.sid))
        fetched = await users.fetch_user(deps, sdk("bob"), service.sid, "alice")
        assert fetched.identity == "alice"

    run(databases, scenario)


def test_rate_limits_count_chat_users_too(databases: Databases) -> None:
    database = databases.new()

    async def main() -> None:
        async with domain(database, rate_limit_channel=2) as (deps, service):
            room = await channels.create_channel(
                deps, sdk("alice"), service.sid, channels.CreateChannel(unique_name="r")
            )
            await members.create_member(
                deps, sdk("alice"), service.sid, "r", members.CreateMember("alice")
            )
            send = messages.CreateMessage("x")
            await messages.send_message(deps, ADMIN, service.sid, "r", send)
            await refused(50063, messages.send_message(deps, sdk("alice"), service.sid, "r", send))
            assert room.unique_name == "r"

    asyncio.run(main())


def test_the_account_owner_is_never_looked_up(
    databases: Databases, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The REST hot paths stay as they were: the policy reads nothing for the REST actor."""

    async def no_standing(*args: Any) -> None:
        raise AssertionError("the policy read a standing for the REST API")

    monkeypatch.setattr(policy, "standing_txn", no_standing)

    async def scenario(deps: Deps, service: Service) -> None:
        both = ("public", "private")
        room = await channels.create_channel(
            deps, ADMIN, service.sid, channels.CreateChannel(type="private")
        )
        await members.create_member(deps, ADMIN, service.sid, room.sid, members.CreateMember("a"))
        sent = await messages.send_message(
            deps, ADMIN, service.sid, room.sid, messages.CreateMessage("x", from_="a")
        )
        await messages.fetch_message(deps, ADMIN, service.sid, room.sid, sent.sid)
        await messages.list_messages(deps, ADMIN, service.sid, room.sid, PAGE)
        await messages.update_message(
            deps, ADMIN, service.sid, room.sid, sent.sid, messages.UpdateMessage(body="y")
        )
        await messages.delete_message(deps, ADMIN, service.sid, room.sid, sent.sid)
        await channels.update_channel(
            deps, ADMIN, service.sid, room.sid, channels.UpdateChannel(attributes="{}")
        )
        assert len((await channels.list_channels(deps, ADMIN, service.sid, both, PAGE)).items) == 1
        await members.delete_member(deps, ADMIN, service.sid, room.sid, "a")
        await channels.delete_channel(deps, ADMIN, service.sid, room.sid)

    run(databases, scenario)


async def room_with_pre_event(deps: Deps, service: Service, url: str, event: str) -> Channel:
    """A channel created through REST, in a service whose ``event`` pre-event goes to ``url``."""
    await services.update_service(
        deps,
        ADMIN,
        service.sid,
        services.UpdateService(pre_webhook_url=url, webhook_filters=(event,)),
    )
    return await channels.create_channel(deps, ADMIN, service.sid, channels.CreateChannel())


def test_a_refused_action_calls_no_pre_event(databases: Databases) -> None:
    """The check runs before the endpoint is asked, so it never hears of a refused action."""
    with WebhookReceiver() as receiver:

        async def scenario(deps: Deps, service: Service) -> None:
            room = await room_with_pre_event(deps, service, receiver.url("/pre"), "onMessageSend")
            send = messages.CreateMessage("hi")
            await refused(
                50400, messages.send_message(deps, sdk("bob"), service.sid, room.sid, send)
            )
            assert receiver.records == []
            await members.create_member(
                deps, ADMIN, service.sid, room.sid, members.CreateMember("bob")
            )
            await messages.send_message(deps, sdk("bob"), service.sid, room.sid, send)
            assert [r.params["EventType"] for r in receiver.records] == ["onMessageSend"]

        run(databases, scenario)


def test_changes_a_pre_event_asks_for_need_no_permission(databases: Databases) -> None:
    with WebhookReceiver() as receiver:
        receiver.reply("/pre", json={"attributes": {"moderated": True}})

        async def scenario(deps: Deps, service: Service) -> None:
            room = await room_with_pre_event(deps, service, receiver.url("/pre"), "onMessageUpdate")
            await members.create_member(
                deps, ADMIN, service.sid, room.sid, members.CreateMember("bob")
            )
            sent = await messages.send_message(
                deps, sdk("bob"), service.sid, room.sid, messages.CreateMessage("hi")
            )
            # "channel user" holds editOwnMessage, not editOwnMessageAttributes
            edited = await messages.update_message(
                deps,
                sdk("bob"),
                service.sid,
                room.sid,
                sent.sid,
                messages.UpdateMessage(body="hello"),
            )
            assert (edited.body, edited.attributes) == ("hello", '{"moderated":true}')

        run(databases, scenario)
