"""Access over the socket: a subscription the identity may not have fails with 403, and a live
subscription ends when the identity loses access (a REST member removal), whatever the client
does. Raw Twilsock frames, because the SDK itself would never attempt either."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from client_support import GatewayServer, frame, read
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from chinwag.realtime.sync import objects
from conftest import Databases

pytestmark = pytest.mark.server


class RawClient:
    def __init__(self, gateway: GatewayServer, service: str, identity: str) -> None:
        self.ws: ClientConnection = connect(gateway.ws)
        registrations = [{"product": "ip_messaging", "message_types": ["twilio.sync.event"]}]
        token = gateway.token(service, identity)
        self.ws.send(frame("init", "TMinit", token=token, registrations=registrations))
        assert read(self.ws.recv(timeout=10)).header["status"]["code"] == 200
        self.notifications: list[dict[str, Any]] = []

    def subscribe(self, object_sid: str, kind: str) -> None:
        body = {
            "action": "establish",
            "correlation_id": 7,
            "requests": [{"object_sid": object_sid, "object_type": kind, "last_event_id": None}],
        }
        http = {"host": "cds.test", "path": "/v4/Subscriptions", "method": "POST", "params": {}}
        payload = json.dumps(body).encode()
        self.ws.send(frame("message", "TMsub", payload, http_request={**http, "headers": {}}))

    def collect(self, seconds: float) -> list[dict[str, Any]]:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                got = read(self.ws.recv(timeout=left))
            except (TimeoutError, ConnectionClosed):
                break
            if got.header.get("method") == "notification":
                self.notifications.append(json.loads(got.payload))
        return self.notifications

    def wait_for(self, event_type: str, seconds: float = 10) -> dict[str, Any]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for n in self.collect(0.2):
                if n["event_type"] == event_type:
                    return n
        raise AssertionError(f"no {event_type}; saw {self.notifications}")


def test_subscriptions_follow_access(databases: Databases) -> None:
    with GatewayServer(databases) as gateway:
        service = gateway.service()
        http = gateway.http
        channel = http.post(f"/v1/Services/{service}/Channels").json()["sid"]
        base = f"/v1/Services/{service}/Channels/{channel}"
        http.post(f"{base}/Members", data={"Identity": "alice"})
        messages = objects.messages_list(channel).sid

        eve = RawClient(gateway, service, "eve")
        eve.subscribe(messages, "list")
        failed = eve.wait_for("subscription_failed")
        assert failed["event"]["error"]["status"] == 403
        assert failed["event"]["error"]["code"] == 54007
        assert failed["correlation_id"] == 7

        alice = RawClient(gateway, service, "alice")
        alice.subscribe(messages, "list")
        alice.wait_for("subscription_established")
        http.post(f"{base}/Messages", data={"Body": "for members"})
        assert alice.wait_for("list_item_added")["event"]["item_data"]["text"] == "for members"

        http.delete(f"{base}/Members/alice")
        time.sleep(1.0)  # the server re-checks live subscriptions after the removal commits
        http.post(f"{base}/Messages", data={"Body": "after she left"})
        texts = [
            n["event"]["item_data"]["text"]
            for n in alice.collect(1.5)
            if n["event_type"] == "list_item_added"
        ]
        assert texts == ["for members"]
        for client in (eve, alice):
            client.ws.close()
