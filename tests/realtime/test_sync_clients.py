"""The official ``twilio-chat`` SDK sees REST changes live, and replays what it missed.

A back end changes chat state through the REST API; the client, connected through the
gateway, receives the matching chat events because chinwag's Sync objects change in the same
transactions and their events reach its subscriptions.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from client_support import GatewayServer, NodeClient, on_database

from chinwag.domain.deps import Caller, Deps
from chinwag.domain.messages import CreateMessage, send_message
from chinwag.model.events import API_ACTOR
from chinwag.realtime.sync.projection import SyncProjection
from conftest import ACCOUNT_SID, Databases

pytestmark = [pytest.mark.server, pytest.mark.sdk]


def _ready(client: NodeClient, channel: str) -> Any:
    """The client has opened the channel's messages list and roster (so later changes are
    live events, not history)."""
    return client.request("ready", "", "ready-" + channel, channel=channel)


def _joined(gateway: GatewayServer, alice: NodeClient, base: str, channel: str) -> None:
    """Alice, connected, is added to the channel by REST and opens it."""
    alice.wait_for("initialized", timeout=30)
    gateway.http.post(f"{base}/Members", data={"Identity": "alice"})
    joined = alice.wait_for("channelJoined", timeout=20)
    assert joined["channel"] == channel
    assert _ready(alice, channel)["members"] == ["alice"]


def _setup(gateway: GatewayServer) -> tuple[str, str, str]:
    service = gateway.service()
    channel = gateway.http.post(
        f"/v1/Services/{service}/Channels", data={"UniqueName": "general"}
    ).json()["sid"]
    return service, channel, f"/v1/Services/{service}/Channels/{channel}"


def test_rest_changes_arrive_as_chat_events(databases: Databases) -> None:
    with GatewayServer(databases) as gateway:
        service, channel, base = _setup(gateway)
        with NodeClient("chat_sync.js", gateway.ws, gateway.token(service, "alice")) as alice:
            _joined(gateway, alice, base, channel)

            gateway.http.post(f"{base}/Messages", data={"Body": "hello", "From": "backend"})
            added = alice.wait_for("messageAdded")
            assert (added["channel"], added["index"], added["body"]) == (channel, 0, "hello")
            assert added["author"] == "backend"

            gateway.http.post(f"{base}/Members", data={"Identity": "bob"})
            assert alice.wait_for("memberJoined")["identity"] == "bob"

            gateway.http.post(base, data={"FriendlyName": "Lobby"})
            updated = alice.wait_for(
                lambda e: e.get("event") == "channelUpdated" and "friendlyName" in e["reasons"]
            )
            assert updated["name"] == "Lobby"

            gateway.http.delete(base)
            removed = alice.wait_for("channelRemoved")
            assert removed["channel"] == channel


def test_a_client_disconnected_during_100_messages_gets_them_all_in_order(
    databases: Databases,
) -> None:
    with GatewayServer(databases) as gateway:
        service, channel, base = _setup(gateway)
        with NodeClient("chat_sync.js", gateway.ws, gateway.token(service, "alice")) as alice:
            _joined(gateway, alice, base, channel)
            alice.request("drop", "", "drop")
            alice.wait_for(
                lambda e: e.get("event") == "connectionStateChanged" and e["state"] != "connected"
            )
            for n in range(100):
                response = gateway.http.post(f"{base}/Messages", data={"Body": f"m{n}"})
                assert response.status_code == 201
            alice.wait_for(
                lambda e: e.get("event") == "messageAdded" and e["index"] == 99, timeout=60
            )
            alice.drain(1.0)
            added = [e for e in alice.events if e.get("event") == "messageAdded"]
            assert [(e["index"], e["body"]) for e in added] == [(n, f"m{n}") for n in range(100)]
            states = [
                e["state"] for e in alice.events if e.get("event") == "connectionStateChanged"
            ]
            assert states[-1] == "connected"


def test_a_crash_between_commit_and_publish_loses_nothing(databases: Databases) -> None:
    """A message committed by a process that dies before waking anyone (here: a projection
    whose wake-up goes nowhere) reaches the client through replay when it reconnects."""
    with GatewayServer(databases) as gateway:
        service, channel, base = _setup(gateway)
        with NodeClient("chat_sync.js", gateway.ws, gateway.token(service, "alice")) as alice:
            _joined(gateway, alice, base, channel)
            gateway.http.post(f"{base}/Messages", data={"Body": "announced"})
            alice.wait_for("messageAdded")  # the list's subscription is live

            async def send(deps: Deps) -> None:
                silent = dataclasses.replace(deps, projection=SyncProjection(lambda owners: None))
                caller = Caller(ACCOUNT_SID, API_ACTOR)
                await send_message(silent, caller, service, channel, CreateMessage("unannounced"))

            on_database(gateway.database, send)
            assert [e["index"] for e in alice.drain(1.0) if e.get("event") == "messageAdded"] == [0]
            alice.request("drop", "", "drop")
            added = alice.wait_for(lambda e: e.get("event") == "messageAdded" and e["index"] == 1)
            assert added["body"] == "unannounced"
