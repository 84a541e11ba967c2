"""Actions of chat users (``Actor.source == "SDK"``) fire pre- and post-events by default.

The real-time client API will call these domain operations with the connected user as the
actor; until it exists, this test calls them the same way, on a running app (its ASGI
lifespan started, its dispatcher delivering), with a real receiver.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from webhook_support import POST_EVENTS, PRE_EVENTS, signed

from chinwag.app import ChinwagApp, create_app
from chinwag.config import Settings
from chinwag.domain import channels, members, messages, services
from chinwag.domain.deps import Caller
from chinwag.model.events import API_ACTOR, Actor
from chinwag.testing.webhook_receiver import WebhookReceiver
from conftest import ACCOUNT_SID, AUTH_TOKEN, Databases

pytestmark = pytest.mark.unit


@asynccontextmanager
async def running(app: ChinwagApp) -> AsyncIterator[ChinwagApp]:
    """Drive the app's ASGI lifespan, as a server would."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}}
    task = asyncio.create_task(app(scope, inbox.get, outbox.put))
    await inbox.put({"type": "lifespan.startup"})
    assert (await outbox.get())["type"] == "lifespan.startup.complete"
    try:
        yield app
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        assert (await outbox.get())["type"] == "lifespan.shutdown.complete"
        await task


def test_a_chat_user_fires_pre_and_post_events(databases: Databases) -> None:
    settings = Settings(database=databases.new(), account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN)
    admin = Caller(ACCOUNT_SID, API_ACTOR)
    alice = Caller(ACCOUNT_SID, Actor("SDK", "alice"))

    async def scenario(receiver: WebhookReceiver) -> None:
        async with running(create_app(settings)) as app:
            deps = app.deps
            service = await services.create_service(deps, admin, services.CreateService("s"))
            await services.update_service(
                deps,
                admin,
                service.sid,
                services.UpdateService(
                    pre_webhook_url=receiver.url("/pre"),
                    post_webhook_url=receiver.url("/post"),
                    webhook_filters=tuple(PRE_EVENTS + POST_EVENTS),
                ),
            )
            room = await channels.create_channel(
                deps, alice, service.sid, channels.CreateChannel(friendly_name="room")
            )
            await members.create_member(
                deps, alice, service.sid, room.sid, members.CreateMember("alice")
            )
            await messages.send_message(
                deps, alice, service.sid, room.sid, messages.CreateMessage(body="hi")
            )
            await members.delete_member(deps, alice, service.sid, room.sid, "alice")
            await asyncio.to_thread(receiver.wait_for, 8)

    with WebhookReceiver() as receiver:
        asyncio.run(scenario(receiver))
    records = [signed(r) for r in receiver.records]
    pre = [r.params for r in records if r.path == "/pre"]
    post = [r.params for r in records if r.path == "/post"]
    assert [p["EventType"] for p in pre] == [
        "onChannelAdd",
        "onMemberAdd",
        "onMessageSend",
        "onMemberRemove",
    ]
    assert [p["EventType"] for p in post] == [
        "onChannelAdded",
        "onMemberAdded",
        "onMessageSent",
        "onMemberRemoved",
    ]
    for params in pre + post:
        assert params["ClientIdentity"] == "alice" and params["Source"] == "SDK"
    assert pre[0]["CreatedBy"] == post[0]["CreatedBy"] == "alice"
    assert pre[1]["Reason"] == post[1]["Reason"] == "JOINED"
    assert pre[2]["From"] == post[2]["From"] == "alice"
    assert pre[3]["Reason"] == post[3]["Reason"] == "LEFT"
