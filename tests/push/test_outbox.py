"""The push outbox end to end on a real database: the domain's operations queue pushes in
their transactions, the dispatcher fans them out and sends them to the fake providers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from outbox_support import ADMIN, World, send, world

from chinwag.domain import invites, members, messages, push_registrations, services
from chinwag.push.outbox import PushOutbox
from chinwag.storage.stores import push_outbox as store
from chinwag.testing.fake_apns import FakeApns
from chinwag.testing.fake_fcm import FakeFcm
from chinwag.testing.plugin import PushCA

pytestmark = pytest.mark.unit

APN_BOB = "b0" * 32
Scenario = Callable[[World], Awaitable[None]]


@pytest.fixture
def run(
    databases: Any, fake_fcm: FakeFcm, fake_apns: FakeApns, push_ca: PushCA
) -> Callable[[Scenario], None]:
    def go(scenario: Scenario) -> None:
        url = databases.new()

        async def main() -> None:
            async with world(url, fake_fcm, fake_apns, push_ca.file) as w:
                await scenario(w)

        asyncio.run(main())

    return go


def test_a_new_message_notifies_every_member_but_the_author_and_the_muted(
    run: Callable[[Scenario], None],
) -> None:
    async def scenario(w: World) -> None:
        await w.enable()
        for identity in ("alice", "bob", "dave", "erin"):
            await w.register(identity, "fcm", f"fcm-{identity}")
        await w.register("bob", "apn", APN_BOB)
        await w.register("carol", "fcm", "fcm-carol", types=("twilio.channel.added_to_channel",))
        await members.update_member(
            w.deps,
            ADMIN,
            w.service,
            w.channel,
            "dave",
            members.UpdateMember(notification_level="muted"),
        )
        await send(w, "alice", "hello all")
        assert await w.count("push_events") == 1
        dispatcher = await w.dispatcher()
        assert await dispatcher.run_once() == 1 + 3  # the event, then bob x2 and erin
        assert await w.count("push_events") == 0
        fcm = {m.token: m.data for m in w.fcm.delivered()}
        assert set(fcm) == {"fcm-bob", "fcm-erin"}
        assert fcm["fcm-bob"]["twi_body"] == "general;Alice: hello all"
        assert fcm["fcm-bob"]["author"] == "alice"
        assert fcm["fcm-bob"]["message_index"] == "0"
        [apns] = w.apns.delivered(APN_BOB)
        assert apns.payload["aps"]["alert"]["body"] == "general;Alice: hello all"
        assert fcm["fcm-bob"]["twi_message_id"] != apns.payload["twi_message_id"]
        assert [s[1] for s in await w.states()] == ["delivered"] * 3

    run(scenario)


def test_nothing_is_queued_for_a_kind_the_service_did_not_enable(
    run: Callable[[Scenario], None],
) -> None:
    async def scenario(w: World) -> None:
        await w.register("bob", "fcm", "fcm-bob")
        await send(w, "alice", "quiet")
        assert await w.count("push_events") == 0

    run(scenario)


def test_a_rest_create_queues_a_push_exactly_when_its_service_enabled_new_messages(
    run: Callable[[Scenario], None],
) -> None:
    """A REST create is one statement where the engine allows it (PostgreSQL) unless the
    service pushes new messages, which is read before its transaction: both ways round, on
    either engine, the push row is there exactly when the service enabled it."""

    async def scenario(w: World) -> None:
        await w.register("bob", "fcm", "fcm-bob")
        create = messages.CreateMessage(body="quiet", from_="alice")
        await messages.send_message(w.deps, ADMIN, w.service, w.channel, create)
        assert await w.count("push_events") == 0
        await w.enable()
        create = messages.CreateMessage(body="loud", from_="alice")
        await messages.send_message(w.deps, ADMIN, w.service, w.channel, create)
        assert await w.count("push_events") == 1
        dispatcher = await w.dispatcher()
        while await dispatcher.run_once():
            pass
        assert [m.data["twi_body"] for m in w.fcm.delivered()] == ["general;Alice: loud"]

    run(scenario)


def test_membership_changes_notify_the_user_concerned_with_the_templates(
    run: Callable[[Scenario], None],
) -> None:
    async def scenario(w: World) -> None:
        await w.enable(
            added_to_channel="${USER_IDENTITY} added you to ${CHANNEL_FRIENDLY_NAME}",
            removed_from_channel=None,
        )
        await w.register("bob", "fcm", "fcm-bob")
        await members.delete_member(w.deps, w.caller("alice"), w.service, w.channel, "bob")
        await members.create_member(
            w.deps, w.caller("alice"), w.service, w.channel, members.CreateMember("bob")
        )
        await members.delete_member(w.deps, w.caller("bob"), w.service, w.channel, "bob")
        await invites.create_invite(
            w.deps, w.caller("alice"), w.service, w.channel, invites.CreateInvite("bob")
        )
        dispatcher = await w.dispatcher()
        while await dispatcher.run_once():
            pass
        got = [(m.data["twi_message_type"], m.data["twi_body"]) for m in w.fcm.delivered()]
        assert got == [
            (
                "twilio.channel.removed_from_channel",
                "Alice has removed you from the channel general",
            ),
            ("twilio.channel.added_to_channel", "alice added you to General chat"),
            (
                "twilio.channel.invited_to_channel",
                "Alice has invited you to join the channel general",
            ),
        ]  # bob leaving by himself told nobody

    run(scenario)


def test_a_rest_change_names_system(run: Callable[[Scenario], None]) -> None:
    async def scenario(w: World) -> None:
        await w.enable()
        await w.register("bob", "fcm", "fcm-bob")
        await members.delete_member(w.deps, ADMIN, w.service, w.channel, "bob")
        dispatcher = await w.dispatcher()
        await dispatcher.run_once()
        [message] = w.fcm.wait_for(1)
        assert message.data["twi_body"] == "system has removed you from the channel general"

    run(scenario)


def test_503_is_retried_with_backoff_and_retry_after(run: Callable[[Scenario], None]) -> None:
    async def scenario(w: World) -> None:
        await w.enable()
        await w.register("bob", "fcm", "fcm-bob")
        w.fcm.reply(503, token="fcm-bob", retry_after="5")
        await send(w, "alice", "again")
        dispatcher = await w.dispatcher()
        await dispatcher.run_once()
        assert await w.states() == [("bob", "pending", "FCM 503 UNAVAILABLE")]
        w.clock.advance(4)
        assert await dispatcher.run_once() == 0  # Retry-After (5 s) beats the backoff (1 s)
        w.clock.advance(1)
        assert await dispatcher.run_once() == 1
        assert await w.states() == [("bob", "delivered", "FCM 200")]
        assert [m.status for m in w.fcm.messages] == [503, 200]

    run(scenario)


def test_retries_end_in_failed(run: Callable[[Scenario], None]) -> None:
    async def scenario(w: World) -> None:
        await w.enable()
        await w.register("bob", "fcm", "fcm-bob")
        w.fcm.reply(500, token="fcm-bob", times=None)
        await send(w, "alice", "doomed")
        dispatcher = await w.dispatcher(retries=2, retry_base=1.0)
        await dispatcher.run_once()
        for wait in (1, 2):
            w.clock.advance(wait)
            assert await dispatcher.run_once() == 1
        assert await w.states() == [("bob", "failed", "FCM 500 INTERNAL")]
        assert len(w.fcm.messages) == 3

    run(scenario)


def test_dead_registrations_are_pruned(run: Callable[[Scenario], None]) -> None:
    async def scenario(w: World) -> None:
        await w.enable()
        await w.register("bob", "fcm", "fcm-bob")
        await w.register("bob", "apn", APN_BOB)
        await w.register("carol", "fcm", "fcm-carol")
        w.fcm.unregister("fcm-bob")
        w.apns.unregister(APN_BOB)
        await send(w, "alice", "anyone there?")
        dispatcher = await w.dispatcher()
        await dispatcher.run_once()
        assert sorted(await w.states()) == [
            ("bob", "pruned", "APNs 410 Unregistered"),
            ("bob", "pruned", "FCM 404 UNREGISTERED"),
            ("carol", "delivered", "FCM 200"),
        ]
        assert await w.count("push_registrations", "identity = 'bob'") == 0
        assert await w.count("push_registrations", "identity = 'carol'") == 1
        assert w.removed == [(w.service, "bob"), (w.service, "bob")]

    run(scenario)


def test_credential_failures_are_reported_not_retried(run: Callable[[Scenario], None]) -> None:
    async def scenario(w: World) -> None:
        await w.enable()
        await w.register("bob", "fcm", "fcm-bob", credential=None)
        await w.register("carol", "fcm", "fcm-carol", credential="CR" + "0" * 32)
        await w.register("dave", "fcm", "fcm-dave")
        w.fcm.reply_token(401, "invalid_client")
        await send(w, "alice", "hi")
        dispatcher = await w.dispatcher()
        await dispatcher.run_once()
        assert sorted(await w.states()) == [
            ("bob", "failed", "no credential named"),
            ("carol", "failed", "no such credential CR" + "0" * 32),
            ("dave", "failed", "FCM token endpoint: HTTP 401 invalid_client scripted"),
        ]
        w.clock.advance(600)
        assert await dispatcher.run_once() == 0

    run(scenario)


def test_pushes_queued_before_a_restart_are_delivered_after_it(
    run: Callable[[Scenario], None],
) -> None:
    async def scenario(w: World) -> None:
        await w.enable()
        await w.register("bob", "fcm", "fcm-bob")
        await send(w, "alice", "while down")
        first = await w.dispatcher(own_database=True)
        # the first process claims the event and dies before doing anything with it
        await first.db.run_in_txn(
            "claim", store.claim_events_txn, w.clock.now_ms(), w.clock.now_ms() + 60_000, 10
        )
        await first.db.close()
        w.dispatchers.remove(first)
        second = await w.dispatcher(own_database=True)
        assert await second.run_once() == 0  # the lease still holds
        w.clock.advance(61)
        assert await second.run_once() == 2  # the event, then its push
        assert [m.data["twi_body"] for m in w.fcm.delivered()] == ["general;Alice: while down"]

    run(scenario)


def test_several_processes_send_each_push_once(run: Callable[[Scenario], None]) -> None:
    async def scenario(w: World) -> None:
        await w.enable()
        await w.register("bob", "fcm", "fcm-bob")
        await w.register("carol", "apn", "c0" * 32)
        for i in range(20):
            await send(w, "alice", f"message {i}")
        processes = [await w.dispatcher(own_database=True, batch=4) for _ in range(3)]

        async def drain(d: object) -> None:
            while await processes[processes.index(d)].run_once():  # type: ignore[arg-type]
                pass

        await asyncio.gather(*(drain(d) for d in processes))
        fcm = [m.data["twi_message_id"] for m in w.fcm.delivered()]
        apns = [p.payload["twi_message_id"] for p in w.apns.delivered()]
        assert len(fcm) == len(set(fcm)) == 20
        assert len(apns) == len(set(apns)) == 20
        assert await w.count("push_deliveries", "state = 'delivered'") == 40

    run(scenario)


def test_a_started_dispatcher_delivers_after_commit(run: Callable[[Scenario], None]) -> None:
    async def scenario(w: World) -> None:
        await w.enable()
        await w.register("bob", "apn", APN_BOB)
        dispatcher = await w.dispatcher(poll=60)
        dispatcher.start()
        await send(w, "alice", "woken")
        await asyncio.to_thread(w.apns.wait_for, 1, APN_BOB)

    run(scenario)


def test_the_badge_is_the_users_unread_messages_over_all_channels(
    run: Callable[[Scenario], None],
) -> None:
    async def scenario(w: World) -> None:
        for i in range(3):
            await send(w, "alice", f"m{i}")
        await members.update_member(
            w.deps,
            w.caller("bob"),
            w.service,
            w.channel,
            "bob",
            members.UpdateMember(last_consumed_message_index=0),
        )
        unread = await w.deps.db.run_read("badge", store.unread_total_txn, w.service, "bob")
        never = await w.deps.db.run_read("badge", store.unread_total_txn, w.service, "carol")
        assert (unread, never) == (2, 3)

    run(scenario)


def test_nothing_is_queued_with_delivery_off(run: Callable[[Scenario], None]) -> None:
    async def scenario(w: World) -> None:
        await w.enable()
        await w.register("bob", "fcm", "fcm-bob")
        outbox = w.deps.pushes
        assert isinstance(outbox, PushOutbox)
        outbox.enabled = False
        await send(w, "alice", "silence")
        assert await w.count("push_events") == 0

    run(scenario)


def test_v2_sound_and_badge_count_reach_both_providers(run: Callable[[Scenario], None]) -> None:
    async def scenario(w: World) -> None:
        await w.enable(sound="ding.caf", badge=True)
        await w.register("bob", "fcm", "fcm-bob")
        await w.register("bob", "apn", APN_BOB)
        await send(w, "alice", "one")
        await send(w, "alice", "two")
        dispatcher = await w.dispatcher()
        while await dispatcher.run_once():
            pass
        assert {m.data["twi_sound"] for m in w.fcm.delivered()} == {"ding.caf"}
        assert all("badge" not in k for m in w.fcm.delivered() for k in m.data)
        badges = [p.payload["aps"]["badge"] for p in w.apns.delivered(APN_BOB)]
        assert sorted(badges) == [2, 2]  # both counted when sent: bob read neither
        assert {p.payload["aps"]["sound"] for p in w.apns.delivered(APN_BOB)} == {"ding.caf"}
        await members.update_member(
            w.deps,
            w.caller("bob"),
            w.service,
            w.channel,
            "bob",
            members.UpdateMember(last_consumed_message_index=1),
        )
        await services.update_service(
            w.deps,
            ADMIN,
            w.service,
            services.UpdateService(
                notifications={"added_to_channel": services.NotificationChange(sound=None)}
            ),
        )
        await send(w, "alice", "three")
        while await dispatcher.run_once():
            pass
        await members.delete_member(w.deps, ADMIN, w.service, w.channel, "bob")
        await members.create_member(
            w.deps, ADMIN, w.service, w.channel, members.CreateMember("bob")
        )
        while await dispatcher.run_once():
            pass
        aps = {
            p.payload["twi_message_type"].removeprefix("twilio.channel."): p.payload["aps"]
            for p in w.apns.delivered(APN_BOB)[2:]
        }
        assert aps["new_message"] == {
            "alert": {"body": "general;Alice: three"},
            "sound": "ding.caf",
            "badge": 1,
        }
        # the badge is for new messages only; the added notification lost its sound
        assert aps["removed_from_channel"]["sound"] == "ding.caf"
        assert "badge" not in aps["removed_from_channel"]
        assert set(aps["added_to_channel"]) == {"alert"}

    run(scenario)


def test_each_device_uses_the_credential_its_registration_keeps(
    run: Callable[[Scenario], None],
) -> None:
    async def scenario(w: World) -> None:
        await w.enable()
        await w.register("bob", "fcm", "fcm-bob")  # the world's fcm credential
        await w.register("carol", "fcm", "fcm-carol", credential=None)  # token named none
        await w.register("erin", "fcm", "fcm-erin", credential=w.apn_credential)
        await send(w, "alice", "hi")
        dispatcher = await w.dispatcher()
        while await dispatcher.run_once():
            pass
        assert [m.token for m in w.fcm.delivered()] == ["fcm-bob"]
        states = {identity: (state, error) for identity, state, error in await w.states()}
        assert states["bob"][0] == "delivered"
        assert states["carol"] == ("failed", "no credential named")
        assert states["erin"][0] == "failed"
        assert "is apn, the registration fcm" in (states["erin"][1] or "")

    run(scenario)


def test_a_user_keeps_at_most_twenty_registrations_the_oldest_go(
    run: Callable[[Scenario], None],
) -> None:
    async def scenario(w: World) -> None:
        cap = push_registrations.MAX_PER_IDENTITY
        for i in range(cap + 3):
            await w.register("bob", "fcm", f"fcm-bob-{i}")
        await w.register("bob", "fcm", "fcm-bob-5")  # the same token again replaces its row
        kept = await push_registrations.list_push_registrations(w.deps, ADMIN.account_sid)
        addresses = [r.address for r in kept if r.identity == "bob"]
        assert len(addresses) == cap
        assert "fcm-bob-0" not in addresses and "fcm-bob-3" in addresses
        assert addresses[-1] == "fcm-bob-5"

    run(scenario)
