"""The official ``twilsock`` client (as twilio-chat 6.0.0 resolves it) against the gateway."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from client_support import (
    GatewayServer,
    NodeClient,
    create_key,
    delete_key,
    mint_token,
)

from conftest import ACCOUNT_SID, Databases

pytestmark = [pytest.mark.server, pytest.mark.sdk]

CONFIGURATION = "https://aim.us1.twilio.com/Client/v1/Configuration"


@pytest.fixture(scope="module")
def gateway(databases: Databases) -> Iterator[GatewayServer]:
    with GatewayServer(databases) as srv:
        yield srv


def connect(gateway: GatewayServer, token: str) -> NodeClient:
    client = NodeClient("twilsock_driver.js", gateway.ws, token)
    client.wait_for("connected")
    return client


def test_client_connects_and_fetches_configuration(gateway: GatewayServer) -> None:
    service = gateway.service()
    with connect(gateway, gateway.token(service, "alice")) as client:
        reply = client.request("get", CONFIGURATION, "config")
        assert reply["event"] == "response", reply
        assert reply["status"] == {"code": 200, "status": "OK"}
        body = reply["body"]
        assert body["identity"] == "alice"
        base = f"https://aim.us1.twilio.com/Client/v1/Services/{service}"
        assert body["links"]["conversations"] == f"{base}/Channels"
        assert body["links"]["my_conversations"] == f"{base}/Users/alice/Channels"
        assert body["links"]["media_service"].startswith(gateway.url)
        user = gateway.http.get(f"/v1/Services/{service}/Users/alice").json()
        assert body["sync_objects"] == {
            "my_user_info": f"{user['sid']}.info",
            "my_conversations": f"{user['sid']}.channels",
        }
        assert body["options"]["reachability_enabled"] is False
    served = r'upstream_requests_total\{route="FetchConfiguration",status="200"\} [1-9]'
    assert re.search(served, gateway.metrics())


def test_unknown_upstream_path_is_a_404_with_a_twilio_error_body(gateway: GatewayServer) -> None:
    service = gateway.service()
    with connect(gateway, gateway.token(service, "alice")) as client:
        reply = client.request("get", "https://cds.us1.twilio.com/v3/Nothing/Here", "missing")
        assert reply["event"] == "error", reply
        assert reply["status"] == 404
        assert reply["body"]["code"] == 20404
        assert set(reply["body"]) == {"code", "message", "more_info", "status"}
        # the connection carries on
        assert client.request("get", CONFIGURATION, "again")["status"]["code"] == 200


def test_token_update_keeps_the_connection_past_the_first_expiry(gateway: GatewayServer) -> None:
    service = gateway.service()
    with connect(gateway, gateway.token(service, "alice", ttl=4)) as client:
        client.wait_for("tokenAboutToExpire", timeout=10)
        client.send(cmd="updateToken", token=gateway.token(service, "alice", ttl=60), tag="u")
        assert client.wait_for(lambda e: e.get("tag") == "u")["event"] == "tokenUpdated"
        client.drain(4)  # past the first token's expiry
        assert not [e for e in client.events if e["event"] in ("tokenExpired", "disconnected")]
        assert client.request("get", CONFIGURATION, "after")["status"]["code"] == 200


def test_token_about_to_expire_then_expired(gateway: GatewayServer) -> None:
    service = gateway.service()
    with connect(gateway, gateway.token(service, "alice", ttl=4)) as client:
        client.wait_for("tokenAboutToExpire", timeout=10)
        client.wait_for("tokenExpired", timeout=10)
        client.wait_for("disconnected", timeout=10)
        client.drain(2)  # no reconnect after a 410
        assert [e["event"] for e in client.events].count("connected") == 1


def test_update_for_another_identity_is_refused(gateway: GatewayServer) -> None:
    service = gateway.service()
    with connect(gateway, gateway.token(service, "alice")) as client:
        client.send(cmd="updateToken", token=gateway.token(service, "mallory"), tag="u")
        refused = client.wait_for("connectionError")
        assert (refused["terminal"], refused["httpStatusCode"], refused["errorCode"]) == (
            True,
            401,
            20106,
        )


def test_deleting_the_key_ends_its_connections(gateway: GatewayServer) -> None:
    service, key = gateway.service(), create_key(gateway.database, ACCOUNT_SID)
    token = mint_token(ACCOUNT_SID, key.sid, key.secret, service, "alice")
    with connect(gateway, token) as client, connect(gateway, gateway.token(service, "bob")) as bob:
        delete_key(gateway.database, ACCOUNT_SID, key.sid)
        client.wait_for("disconnected", timeout=10)
        client.drain(2.5)  # a 401 close is final: the client does not come back
        assert [e["event"] for e in client.events].count("connected") == 1
        # a connection signed with another key carries on
        assert bob.request("get", CONFIGURATION, "bob")["status"]["code"] == 200


def test_notifications_reach_the_client_for_its_registered_types_only(
    gateway: GatewayServer,
) -> None:
    service = gateway.service()
    with connect(gateway, gateway.token(service, "alice")) as client:

        def notify_everyone() -> None:
            for session in gateway.server.app.gateway.connections.sessions:
                session.notify("com.twilio.rtd.cds.list", b'{"not":"registered"}')
                session.notify("twilio.sync.event", b'{"event_type":"test"}')

        gateway.server.call_soon(notify_everyone)
        message = client.wait_for("message")
        assert message == {
            "event": "message",
            "type": "twilio.sync.event",
            "payload": {"event_type": "test"},
        }
        client.drain(0.5)
        assert [e for e in client.events if e["event"] == "message"] == [message]
