"""Every SDK call of the chat command API, made by real ``twilio-chat`` clients, seen live by
the other client and by the REST API (client-protocol 3.4)."""

from __future__ import annotations

from chat_commands_support import call, connect, seen
from client_support import GatewayServer

from conftest import Databases


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
