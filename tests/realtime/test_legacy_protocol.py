"""What twilio-chat 3.x to 5.x send beyond 6.x, through a raw WebSocket: notification
contexts, command lists and their commands, page tokens. Each bad request gets the protocol's
answer and changes nothing; the server keeps serving."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from client_support import GatewayServer, frame, read
from websockets.sync.client import ClientConnection, connect

from chinwag.realtime.twilsock.codec import Frame
from chinwag.realtime.twilsock.revisions import MAX_CONTEXTS
from conftest import Databases

pytestmark = pytest.mark.server

SESSION = {"purpose": "com.twilio.rtd.ipmsg", "context": {"type": "IpMsgSession"}}


@pytest.fixture(scope="module")
def gateway(databases: Databases) -> Iterator[GatewayServer]:
    with GatewayServer(databases) as srv:
        yield srv


class Raw:
    """One connection as twilio-chat 3.x opens it: ``init`` without registrations; its
    notification types come later, as a context. Notifications are acknowledged and kept."""

    def __init__(self, srv: GatewayServer, service: str, identity: str) -> None:
        self.ws: ClientConnection = connect(srv.ws)
        token = srv.token(service, identity)
        self.ws.send(frame("init", "TMinit", token=token, registrations=None))
        assert read(self.ws.recv(timeout=10)).header["status"]["code"] == 200
        self._ids = 0
        self.notifications: list[dict[str, Any]] = []

    def context(self, payload: bytes, context_id: Any = "ctx") -> int:
        self.ws.send(
            frame("put_notification_ctx", "TMctx", payload, notification_ctx_id=context_id)
        )
        return int(self.reply("TMctx").header["status"]["code"])

    def reply(self, request_id: str) -> Frame:
        while True:
            got = read(self.ws.recv(timeout=10))
            if got.header["method"] == "notification":
                self.notifications.append(orjson.loads(got.payload))
                self.ws.send(frame("reply", got.header["id"], status={"code": 200}))
                continue
            assert got.header["id"] == request_id, got.header
            return got

    def request(
        self, method: str, path: str, body: Any = None, params: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        """The reply's HTTP status and JSON body."""
        self._ids += 1
        request_id = f"TM{self._ids}"
        http = {"host": "cds.test", "path": path, "method": method, "params": params or {}}
        payload = b"" if body is None else orjson.dumps(body)
        self.ws.send(frame("message", request_id, payload, http_request={**http, "headers": {}}))
        got = self.reply(request_id)
        return got.header["http_status"]["code"], orjson.loads(got.payload or b"null")

    def events(self, event_type: str) -> list[dict[str, Any]]:
        return [n for n in self.notifications if n["event_type"] == event_type]

    def close(self) -> None:
        self.ws.close()


def _types(*types: str) -> bytes:
    return orjson.dumps({"product_id": "ip_messaging", "message_types": list(types)})


def test_notification_contexts_register_types_within_bounds(gateway: GatewayServer) -> None:
    service = gateway.service()
    raw = Raw(gateway, service, "alice")
    try:
        assert raw.context(b"not json") == 400
        assert raw.context(orjson.dumps({"message_types": "twilio.sync.event"})) == 400
        assert raw.context(orjson.dumps({"message_types": ["x" * 200]})) == 400
        assert raw.context(_types("twilio.sync.event"), context_id=["not", "a", "string"]) == 400
        for n in range(MAX_CONTEXTS):
            assert raw.context(_types("twilio.sync.event"), context_id=f"ctx{n}") == 200
        assert raw.context(_types("twilio.sync.event"), context_id="one too many") == 400
        assert raw.context(_types("twilio.sync.event"), context_id="ctx0") == 200  # replaced
        raw.ws.send(frame("delete_notification_ctx", "TMdel", notification_ctx_id="ctx0"))
        assert raw.reply("TMdel").header["status"]["code"] == 200
        assert raw.context(_types("twilio.sync.event"), context_id="room again") == 200
    finally:
        raw.close()


def test_a_command_list_carries_its_context_and_its_commands(gateway: GatewayServer) -> None:
    service = gateway.service()
    raw = Raw(gateway, service, "alice")
    try:
        assert raw.context(_types("twilio.sync.event")) == 200
        status, created = raw.request("POST", "/v3/Lists", SESSION)
        assert status == 201 and created["sid"].startswith("EL") and created["last_event_id"] == 0
        sid = created["sid"]
        assert created["links"]["context"].endswith(f"/v3/Lists/{sid}/Context")
        status, context = raw.request("GET", f"/v3/Lists/{sid}/Context")
        assert status == 200 and context["last_event_id"] == 0
        assert context["data"]["identity"] == "alice"
        assert context["data"]["links"]["publicChannelsUrl"] == f"/v1/Services/{service}/Channels"
        media = context["data"]["links"]["mediaServiceUrl"]
        assert media == f"/mcs/v1/Services/{service}/Media"  # plain HTTP: the path alone

        subscribe = {
            "action": "establish",
            "correlation_id": 7,
            "requests": [{"object_sid": sid, "object_type": "list", "last_event_id": 0}],
        }
        assert raw.request("POST", "/v4/Subscriptions", subscribe)[0] == 200
        [updated] = raw.events("list_context_updated")
        assert updated["event"]["id"] == 1 and updated["correlation_id"] == 7
        assert updated["event"]["context_data"] == context["data"]
        [established] = raw.events("subscription_established")
        assert established["event"]["last_event_id"] == 1

        command = {
            "request": {
                "action": "createChannel",
                "uniqueName": "general",
                "type": "public",
                "attributes": "{}",
            },
            "commandId": "c-1",
        }
        status, item = raw.request("POST", f"/v3/Lists/{sid}/Items", {"data": command})
        assert status == 201 and item["index"] == 0 and item["last_event_id"] == 2
        [answer] = raw.events("list_item_updated")
        response = answer["event"]["item_data"]["response"]
        assert answer["event"]["id"] == 3 and response["status"] == 200
        channel = gateway.http.get(f"/v1/Services/{service}/Channels/general").json()
        assert (response["channelSid"], response["channel"]) == (
            channel["sid"],
            f"{channel['sid']}.channel",
        )

        # the same commandId again: answered with the first reply, nothing made twice
        raw.request("POST", f"/v3/Lists/{sid}/Items", {"data": command})
        assert (
            raw.events("list_item_updated")[-1]["event"]["item_data"]["response"]["channelSid"]
            == channel["sid"]
        )
        assert len(gateway.http.get(f"/v1/Services/{service}/Channels").json()["channels"]) == 1

        unknown = {"request": {"action": "fly"}, "commandId": "c-2"}
        raw.request("POST", f"/v3/Lists/{sid}/Items", {"data": unknown})
        refused = raw.events("list_item_updated")[-1]["event"]["item_data"]["response"]
        assert (refused["status"], refused["errorCode"]) == (400, 20001)

        nameless = {"request": {"action": "sendMessage", "channelSid": 5}, "commandId": "c-3"}
        raw.request("POST", f"/v3/Lists/{sid}/Items", {"data": nameless})
        assert (
            raw.events("list_item_updated")[-1]["event"]["item_data"]["response"]["status"] == 400
        )
    finally:
        raw.close()


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("POST", "/v3/Lists", {"purpose": "anything else"}, 403, 54007),
        ("POST", "/v3/Lists", [1, 2], 403, 54007),
        ("GET", "/v3/Lists/EL" + "0" * 32 + "/Context", None, 404, 54150),
        ("POST", "/v3/Lists/EL" + "0" * 32 + "/Items", {"data": {}}, 404, 54150),
    ],
)
def test_bad_command_list_requests_are_refused(
    gateway: GatewayServer, method: str, path: str, body: Any, status: int, code: int
) -> None:
    raw = Raw(gateway, gateway.service(), "alice")
    try:
        answer = raw.request(method, path, body)
        assert (answer[0], answer[1]["code"]) == (status, code)
    finally:
        raw.close()


def test_a_command_list_is_its_owners_only_and_pushes_must_be_commands(
    gateway: GatewayServer,
) -> None:
    service = gateway.service()
    alice, bob = Raw(gateway, service, "alice"), Raw(gateway, service, "bob")
    try:
        sid = alice.request("POST", "/v3/Lists", SESSION)[1]["sid"]
        for data in (
            {"commandId": "x"},
            {"request": {"action": "x"}},
            "text",
            {"request": {}, "commandId": "y" * 200},
        ):
            status, body = alice.request("POST", f"/v3/Lists/{sid}/Items", {"data": data})
            assert (status, body["code"]) == (400, 20001)
        status, body = bob.request(
            "POST", f"/v3/Lists/{sid}/Items", {"data": {"request": {}, "commandId": "z"}}
        )
        assert (status, body["code"]) == (403, 54007)
        assert bob.request("GET", f"/v3/Lists/{sid}/Context")[0] == 403
        subscribe = {
            "action": "establish",
            "correlation_id": 1,
            "requests": [{"object_sid": sid, "object_type": "list", "last_event_id": 0}],
        }
        bob.context(_types("twilio.sync.event"))
        bob.request("POST", "/v4/Subscriptions", subscribe)
        [failed] = bob.events("subscription_failed")
        assert failed["event"]["error"]["code"] == 54007
    finally:
        alice.close()
        bob.close()


def test_a_bad_page_token_is_refused(gateway: GatewayServer) -> None:
    service = gateway.service()
    raw = Raw(gateway, service, "alice")
    try:
        user = gateway.http.get(f"/v1/Services/{service}/Users/alice").json()["sid"]
        items = f"/v3/Maps/{user}.channels/Items"
        assert raw.request("GET", items)[0] == 200
        status, body = raw.request("GET", items, params={"PageToken": "garbage!"})
        assert (status, body["code"]) == (400, 21481)
    finally:
        raw.close()
