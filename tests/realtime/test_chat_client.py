"""The official ``twilio-chat`` 6.0.0 ``Client``, configured with only ``twilsock.uri``,
connects and fetches its Configuration through the gateway (reaching ``initialized`` also
needs the Sync objects, which the gateway does not serve)."""

from __future__ import annotations

import pytest
from client_support import GatewayServer, NodeClient

from conftest import Databases

pytestmark = [pytest.mark.server, pytest.mark.sdk]


def test_chat_client_connects_and_reads_its_configuration(databases: Databases) -> None:
    with GatewayServer(databases) as gateway:
        service = gateway.service()
        token = gateway.token(service, "alice")
        with NodeClient("chat_client.js", gateway.ws, token, "20") as client:
            client.wait_for(lambda e: e.get("state") == "connected", timeout=20)
            fetched = client.wait_for("upstream", timeout=20)
            assert fetched["url"] == "https://aim.us1.twilio.com/Client/v1/Configuration"
            assert fetched["status"] == {"code": 200, "status": "OK"}
            assert fetched["body"]["identity"] == "alice"
            assert fetched["body"]["links"]["media_service"]
        user = gateway.http.get(f"/v1/Services/{service}/Users/alice")
        assert user.status_code == 200  # created on first connect, with the default role
