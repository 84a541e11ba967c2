"""Membership commands, permissions and webhooks of chat users acting through real
``twilio-chat`` clients: the same policy and webhooks as the domain applies to every door."""

from __future__ import annotations

import pytest
from chat_commands_support import call, connect, rejected, seen
from client_support import GatewayServer

from chinwag.testing.webhook_receiver import Record, WebhookReceiver, validate_signature
from conftest import AUTH_TOKEN, Databases

pytestmark = [pytest.mark.server, pytest.mark.sdk]


def signed(record: Record) -> Record:
    assert validate_signature(record, AUTH_TOKEN), record
    return record


def test_add_invite_decline_leave_remove_and_delete_live(databases: Databases) -> None:
    with GatewayServer(databases) as gateway:
        service = gateway.service()
        with (
            connect(gateway, service, "alice") as alice,
            connect(gateway, service, "bob") as bob,
            connect(gateway, service, "carol") as carol,
        ):
            channel = call(alice, "createChannel", options={"isPrivate": True})["channel"]
            call(alice, "join", channel=channel)
            seen(alice, "channelJoined", channel=channel)
            call(alice, "open", channel=channel)

            call(alice, "add", channel=channel, identity="bob")
            seen(bob, "channelJoined", channel=channel)
            seen(alice, "memberJoined", channel=channel, identity="bob")

            call(alice, "invite", channel=channel, identity="carol")
            seen(carol, "channelInvited", channel=channel)
            base = f"/v1/Services/{service}/Channels/{channel}"
            invited = gateway.http.get(f"{base}/Invites").json()["invites"]
            assert [i["identity"] for i in invited] == ["carol"]
            call(carol, "decline", channel=channel)
            seen(carol, "channelLeft", channel=channel)
            assert gateway.http.get(f"{base}/Invites").json()["invites"] == []

            call(bob, "leave", channel=channel)
            seen(bob, "channelLeft", channel=channel)
            seen(alice, "memberLeft", channel=channel, identity="bob")

            call(alice, "add", channel=channel, identity="carol")
            seen(carol, "channelJoined", channel=channel)
            call(alice, "removeMember", channel=channel, identity="carol")
            seen(carol, "channelLeft", channel=channel)
            members = gateway.http.get(f"{base}/Members").json()["members"]
            assert [m["identity"] for m in members] == ["alice"]

            call(alice, "deleteChannel", channel=channel)
            seen(alice, "channelRemoved", channel=channel)
            assert gateway.http.get(base).status_code == 404


def test_a_channel_user_is_refused_until_rest_changes_their_role(databases: Databases) -> None:
    with GatewayServer(databases) as gateway:
        service = gateway.service()
        with connect(gateway, service, "alice") as alice, connect(gateway, service, "bob") as bob:
            channel = call(alice, "createChannel", options={"uniqueName": "general"})["channel"]
            for client in (alice, bob):
                call(client, "join", channel=channel)
                seen(client, "channelJoined", channel=channel)
            call(bob, "open", channel=channel)
            call(alice, "send", channel=channel, body="mine")
            seen(bob, "messageAdded", index=0)
            base = f"/v1/Services/{service}/Channels/{channel}"

            rejected(bob, "removeMember", 403, channel=channel, identity="alice")
            rejected(bob, "deleteChannel", 403, channel=channel)
            rejected(bob, "updateMessage", 403, channel=channel, index=0, body="theirs")
            members = gateway.http.get(f"{base}/Members").json()["members"]
            assert [m["identity"] for m in members] == ["alice", "bob"]
            assert gateway.http.get(f"{base}/Messages").json()["messages"][0]["body"] == "mine"

            admin_role = gateway.http.get(f"/v1/Services/{service}").json()[
                "default_channel_creator_role_sid"
            ]
            gateway.http.post(f"{base}/Members/bob", data={"RoleSid": admin_role})
            call(bob, "removeMember", channel=channel, identity="alice")
            seen(alice, "channelLeft", channel=channel)

            role = gateway.http.post(
                f"/v1/Services/{service}/Roles",
                data={"FriendlyName": "reader", "Type": "deployment", "Permission": "joinChannel"},
            ).json()["sid"]
            gateway.http.post(f"/v1/Services/{service}/Users/bob", data={"RoleSid": role})
            rejected(bob, "createChannel", 403, options={"uniqueName": "mine"})
            assert gateway.http.get(f"/v1/Services/{service}/Channels/mine").status_code == 404


def test_client_actions_fire_webhooks_that_can_veto_and_change_them(
    databases: Databases,
) -> None:
    with WebhookReceiver() as receiver, GatewayServer(databases) as gateway:
        service = gateway.service()
        gateway.http.post(
            f"/v1/Services/{service}",
            data={
                "PreWebhookUrl": receiver.url("/pre"),
                "PostWebhookUrl": receiver.url("/post"),
                "WebhookFilters": ["onMessageSend", "onMessageSent"],
            },
        )
        with connect(gateway, service, "alice") as alice, connect(gateway, service, "bob") as bob:
            channel = call(alice, "createChannel", options={"uniqueName": "general"})["channel"]
            for client in (alice, bob):
                call(client, "join", channel=channel)
                seen(client, "channelJoined", channel=channel)
                call(client, "open", channel=channel)

            receiver.reply("/pre", json={"body": "[edited] hi"})
            call(alice, "send", channel=channel, body="hi")
            assert seen(bob, "messageAdded", index=0)["body"] == "[edited] hi"
            pre, post = (signed(r).params for r in receiver.wait_for(2))
            assert (pre["EventType"], pre["Source"], pre["ClientIdentity"]) == (
                "onMessageSend",
                "SDK",
                "alice",
            )
            assert (post["EventType"], post["Body"], post["ClientIdentity"]) == (
                "onMessageSent",
                "[edited] hi",
                "alice",
            )

            receiver.reply("/pre", status=403)
            rejected(alice, "send", 403, channel=channel, body="vetoed")
            base = f"/v1/Services/{service}/Channels/{channel}"
            bodies = [m["body"] for m in gateway.http.get(f"{base}/Messages").json()["messages"]]
            assert bodies == ["[edited] hi"]
