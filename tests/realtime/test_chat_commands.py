"""Every SDK call of the chat command API, made by real ``twilio-chat`` clients, seen live by
the other client and by the REST API (client-protocol 3.4)."""

from __future__ import annotations

import time

import pytest
from chat_commands_support import call, connect, seen
from client_support import GatewayServer, NodeClient

from conftest import Databases

pytestmark = [pytest.mark.server, pytest.mark.sdk]


def test_two_clients_chat_through_every_channel_command(databases: Databases) -> None:
    with GatewayServer(databases) as gateway:
        service = gateway.service()
        with connect(gateway, service, "alice") as alice, connect(gateway, service, "bob") as bob:
            created = call(
                alice,
                "createChannel",
                options={"uniqueName": "general", "friendlyName": "General"},
            )
            channel = created["channel"]
            assert created["createdBy"] == "alice"
            call(alice, "join", channel=channel)
            seen(alice, "channelJoined", channel=channel)

            assert call(bob, "getChannel", key="general")["channel"] == channel
            call(bob, "join", channel=channel)
            seen(bob, "channelJoined", channel=channel)
            seen(alice, "memberJoined", channel=channel, identity="bob")
            assert call(bob, "open", channel=channel)["members"] == ["alice", "bob"]

            assert call(alice, "send", channel=channel, body="hello bob")["index"] == 0
            added = seen(bob, "messageAdded", channel=channel, index=0)
            assert (added["body"], added["author"]) == ("hello bob", "alice")

            rest = gateway.http.get(f"/v1/Services/{service}/Channels/{channel}/Messages").json()
            assert [(m["body"], m["from"]) for m in rest["messages"]] == [("hello bob", "alice")]


#: the SDK keeps GET results for ``http_cache_interval`` x 100 ms (0.5 s), plus a margin
SDK_CACHE = 0.6


def _general(gateway: GatewayServer, service: str, alice: NodeClient, bob: NodeClient) -> str:
    """A public channel alice created, both joined and with its streams open."""
    channel = call(alice, "createChannel", options={"uniqueName": "general"})["channel"]
    for client in (alice, bob):
        call(client, "join", channel=channel)
        seen(client, "channelJoined", channel=channel)
        call(client, "open", channel=channel)
    return channel


def test_messages_are_updated_and_removed_live(databases: Databases) -> None:
    with GatewayServer(databases) as gateway:
        service = gateway.service()
        with connect(gateway, service, "alice") as alice, connect(gateway, service, "bob") as bob:
            channel = _general(gateway, service, alice, bob)
            call(alice, "send", channel=channel, body="helo", attributes={"n": 1})
            assert seen(bob, "messageAdded", index=0)["attributes"] == {"n": 1}

            call(alice, "updateMessage", channel=channel, index=0, body="hello")
            assert seen(bob, "messageUpdated", index=0, body="hello")["reasons"]
            call(alice, "updateMessage", channel=channel, index=0, attributes={"n": 2})
            seen(bob, "messageUpdated", index=0, attributes={"n": 2})
            call(alice, "removeMessage", channel=channel, index=0)
            seen(bob, "messageRemoved", index=0)
            base = f"/v1/Services/{service}/Channels/{channel}"
            assert gateway.http.get(f"{base}/Messages").json()["messages"] == []


def test_channel_attributes_and_names_change_live(databases: Databases) -> None:
    with GatewayServer(databases) as gateway:
        service = gateway.service()
        with connect(gateway, service, "alice") as alice, connect(gateway, service, "bob") as bob:
            channel = _general(gateway, service, alice, bob)
            call(alice, "updateChannel", channel=channel, attributes={"topic": "x"})
            seen(bob, "channelUpdated", channel=channel, attributes={"topic": "x"})
            call(alice, "updateChannel", channel=channel, friendlyName="Lobby")
            seen(bob, "channelUpdated", channel=channel, friendlyName="Lobby")
            call(alice, "updateChannel", channel=channel, uniqueName="lobby")
            seen(bob, "channelUpdated", channel=channel, uniqueName="lobby")
            rest = gateway.http.get(f"/v1/Services/{service}/Channels/lobby").json()
            assert (rest["friendly_name"], rest["attributes"]) == ("Lobby", '{"topic":"x"}')
            call(alice, "updateChannel", channel=channel, uniqueName=None)
            seen(bob, "channelUpdated", channel=channel, uniqueName=None)


def _counts(client: NodeClient, channel: str) -> tuple[int, int, int | None]:
    """Members, messages and unread counts as the SDK reads them, once its read cache has
    expired."""
    time.sleep(SDK_CACHE)
    counts = call(client, "counts", channel=channel)
    return counts["members"], counts["messages"], counts["unread"]


def test_read_horizon_counts_agree_between_clients_and_rest(databases: Databases) -> None:
    with GatewayServer(databases) as gateway:
        service = gateway.service()
        with connect(gateway, service, "alice") as alice, connect(gateway, service, "bob") as bob:
            channel = _general(gateway, service, alice, bob)
            for n in range(4):
                call(alice, "send", channel=channel, body=f"m{n}")
            seen(bob, "messageAdded", index=3)
            assert _counts(bob, channel) == (2, 4, None)
            assert call(bob, "horizon", channel=channel, how="advance", index=1)["unread"] == 2
            updated = seen(alice, "memberUpdated", identity="bob", lastConsumedMessageIndex=1)
            assert "lastConsumedMessageIndex" in updated["reasons"]
            seen(bob, "channelUpdated", channel=channel, lastConsumedMessageIndex=1)
            assert call(bob, "horizon", channel=channel, how="advance", index=0)["unread"] == 2
            assert call(bob, "horizon", channel=channel, how="all")["unread"] == 0
            assert _counts(bob, channel)[2] == 0
            members = gateway.http.get(
                f"/v1/Services/{service}/Channels/{channel}/Members", params={"Identity": "bob"}
            ).json()["members"]
            assert members[0]["last_consumed_message_index"] == 3
            assert members[0]["last_consumption_timestamp"] is not None
            rest_mine = gateway.http.get(f"/v1/Services/{service}/Users/bob/Channels").json()
            assert rest_mine["channels"][0]["unread_messages_count"] == 0

            gateway.http.post(
                f"/v1/Services/{service}/Channels/{channel}/Members/{members[0]['sid']}",
                data={"LastConsumedMessageIndex": "2"},
            )
            seen(bob, "channelUpdated", channel=channel, lastConsumedMessageIndex=2)
            assert _counts(bob, channel)[2] == 1
            assert call(bob, "horizon", channel=channel, how="update", index=0)["unread"] == 3
            assert call(bob, "horizon", channel=channel, how="none")["unread"] is None
            seen(alice, "memberUpdated", identity="bob", lastConsumedMessageIndex=None)


def test_unread_counts_follow_the_services_read_status(databases: Databases) -> None:
    with GatewayServer(databases) as gateway:
        service = gateway.service()
        gateway.http.post(f"/v1/Services/{service}", data={"ReadStatusEnabled": "false"})
        with connect(gateway, service, "alice") as alice, connect(gateway, service, "bob") as bob:
            channel = _general(gateway, service, alice, bob)
            call(alice, "send", channel=channel, body="m0")
            call(alice, "send", channel=channel, body="m1")
            assert call(bob, "horizon", channel=channel, how="update", index=0)["unread"] is None
            assert _counts(bob, channel)[2] is None


def test_users_change_live_and_are_described(databases: Databases) -> None:
    with GatewayServer(databases) as gateway:
        service = gateway.service()
        with connect(gateway, service, "alice") as alice, connect(gateway, service, "bob") as bob:
            channel = _general(gateway, service, alice, bob)
            assert call(bob, "getUser", identity="alice")["friendlyName"] is None
            call(alice, "updateUser", friendlyName="Alice A.")
            seen(bob, "userUpdated", identity="alice", friendlyName="Alice A.")
            call(alice, "updateUser", attributes={"team": "red"})
            seen(bob, "userUpdated", identity="alice", attributes={"team": "red"})
            rest = gateway.http.get(f"/v1/Services/{service}/Users/alice").json()
            assert (rest["friendly_name"], rest["attributes"]) == ("Alice A.", '{"team":"red"}')
            time.sleep(SDK_CACHE)
            assert call(bob, "getUser", identity="alice")["described"] == "Alice A."
            users = call(bob, "channelUsers", channel=channel)
            assert users == {**users, "identities": ["alice", "bob"], "hasNext": False}


def test_descriptors_page_through_channels(databases: Databases) -> None:
    with GatewayServer(databases) as gateway:
        service = gateway.service()
        with connect(gateway, service, "alice") as alice:
            channel = call(alice, "createChannel", options={"uniqueName": "general"})["channel"]
            call(alice, "join", channel=channel)
            seen(alice, "channelJoined", channel=channel)
            secret = call(alice, "createChannel", options={"isPrivate": True})["channel"]
            public = call(alice, "publicChannels")["channels"]
            assert [(c["sid"], c["uniqueName"]) for c in public] == [(channel, "general")]
            time.sleep(SDK_CACHE)
            mine = call(alice, "myChannels")["channels"]
            assert [(c["sid"], c["status"], c["membersCount"]) for c in mine] == [
                (channel, "joined", 1)
            ]
            assert secret not in [c["sid"] for c in call(alice, "subscribed")["channels"]]
