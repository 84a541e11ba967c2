"""Input through the socket is held to the REST API's rules, against a real ``chinwag serve``
process: NUL characters are refused as REST refuses them (PostgreSQL cannot store one), numbers
out of range are the protocol's 400, and a subscription batch honours ``max_batch_size``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from client_support import frame
from process_support import GatewayProcess
from raw_socket import RawWebSocket

from chinwag.realtime.sync import objects
from conftest import Databases

pytestmark = pytest.mark.server

SYNC_EVENT = "twilio.sync.event"


@pytest.fixture(scope="module")
def server(databases: Databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    process = GatewayProcess(databases, tmp_path_factory.mktemp("input") / "server.log")
    yield process
    log = process.stop()
    assert "Traceback" not in log, log


def request(ws: RawWebSocket, message: bytes) -> tuple[int, Any]:
    """Send one upstream request; its reply's HTTP status and JSON body."""
    ws.send(message)
    while True:
        reply = ws.recv()
        if reply.header["method"] == "reply":
            return reply.header["http_status"]["code"], orjson.loads(reply.payload)


def sync_get(path: str, request_id: str, **params: str) -> bytes:
    http = {"host": "cds.example.test", "path": path, "method": "GET", "params": params}
    return frame("message", request_id, http_request={**http, "headers": {}})


def chat(
    service: str, path: str, request_id: str, body: dict[str, Any] | None = None, **params: str
) -> bytes:
    """A chat command (with ``body``) or read (with query ``params``) of the SDK's shape."""
    http = {
        "host": "aim.example.test",
        "path": f"/Client/v1/Services/{service}{path}",
        "method": "GET" if body is None else "POST",
        "params": params,
        "headers": {"Content-Type": "application/json"},
    }
    payload = b"" if body is None else orjson.dumps(body)
    return frame("message", request_id, payload, http_request=http)


def refused_as_rest(status: int, body: Any) -> None:
    assert (status, body["status"], body["code"]) == (400, 400, 20001), body


def test_nul_in_a_token_identity_is_refused_with_the_grants_error(server: GatewayProcess) -> None:
    service = server.service()
    with server.connect() as ws:
        ws.send(frame("init", "TMinit", token=server.token(service, "al\x00ice")))
        status = ws.recv().header["status"]
        assert (status["code"], status["errorCode"]) == (401, 20106), status
    assert server.http.get(f"/v1/Services/{service}/Users").json()["users"] == []


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/Channels", {"friendly_name": "a\x00b"}),
        ("/Channels", {"unique_name": "u\x00"}),
        ("/Channels", {"attributes": '{"a": "\x00"}'}),
        ("/Channels/{channel}/Messages", {"body": "hi\x00there"}),
        ("/Channels/{channel}/Messages", {"body": "hi", "attributes": '"\x00"'}),
        ("/Channels/{channel}", {"unique_name": "x\x00"}),
        ("/Channels/{channel}/Participants", {"identity": "b\x00b"}),
        ("/Users/alice", {"friendly_name": "A\x00"}),
    ],
)
def test_nul_in_a_command_is_refused_as_rest_refuses_it_and_nothing_is_stored(
    server: GatewayProcess, path: str, body: dict[str, str]
) -> None:
    service = server.service()
    base = f"/v1/Services/{service}/Channels"
    channel = server.http.post(base, data={"FriendlyName": "c", "UniqueName": "c"}).json()["sid"]
    server.http.post(f"{base}/{channel}/Members", data={"Identity": "alice"})
    rest = server.http.post(f"{base}/{channel}/Messages", data={"Body": "a\x00b"}).json()
    with server.session(service, "alice") as ws:
        status, answer = request(ws, chat(service, path.format(channel=channel), "TMnul", body))
    refused_as_rest(status, answer)
    assert (rest["status"], rest["code"]) == (answer["status"], answer["code"])
    assert [c["sid"] for c in server.http.get(base).json()["channels"]] == [channel]
    assert server.http.get(f"{base}/{channel}").json()["unique_name"] == "c"
    assert server.http.get(f"{base}/{channel}/Messages").json()["messages"] == []
    members = server.http.get(f"{base}/{channel}/Members").json()["members"]
    assert [m["identity"] for m in members] == ["alice"]
    user = server.http.get(f"/v1/Services/{service}/Users/alice").json()
    assert user["friendly_name"] is None


def test_nul_in_a_sync_key_is_refused(server: GatewayProcess) -> None:
    service = server.service()
    with server.session(service, "alice") as ws:
        user = server.http.get(f"/v1/Services/{service}/Users/alice").json()["sid"]
        items = f"/v3/Maps/{user}.channels/Items"
        refused_as_rest(*request(ws, sync_get(items, "TMkey", Key="CH%00")))
        refused_as_rest(*request(ws, sync_get(items, "TMfrom", From="\x00")))


@pytest.mark.parametrize(
    "params",
    [
        {"Index": "99999999999999999999"},
        {"From": "1" + "0" * 40},
        {"From": "9" * 5000},
        {"Index": "-1"},
        {"PageSize": "99999999999999999999"},
        {"PageSize": "0"},
    ],
)
def test_numbers_out_of_range_in_sync_queries_are_a_400(
    server: GatewayProcess, params: dict[str, str]
) -> None:
    service = server.service()
    channel = server.http.post(f"/v1/Services/{service}/Channels", data={}).json()["sid"]
    server.http.post(f"/v1/Services/{service}/Channels/{channel}/Members", data={"Identity": "al"})
    items = f"/v3/Lists/{objects.messages_list(channel).unique_name}/Items"
    with server.session(service, "al") as ws:
        status, body = request(ws, sync_get(items, "TMrange", **params))
    refused_as_rest(status, body)
    assert body["message"].startswith(f"{next(iter(params))} must be")  # and what it takes


def test_numbers_out_of_range_in_chat_requests_are_answered_as_rest(
    server: GatewayProcess,
) -> None:
    service = server.service()
    channel = server.http.post(f"/v1/Services/{service}/Channels", data={}).json()["sid"]
    server.http.post(f"/v1/Services/{service}/Channels/{channel}/Members", data={"Identity": "al"})
    with server.session(service, "al") as ws:
        page = chat(service, "/Channels", "TMtoken", PageToken="PT" + "9" * 30)
        status, body = request(ws, page)
        assert (status, body["code"]) == (400, 21481), body
        huge = {"last_consumed_message_index": 2**64 - 1}  # JSON's largest integer for orjson
        status, body = request(ws, chat(service, f"/Users/al/Channels/{channel}", "TMidx", huge))
        assert status == 400, body
        size = chat(service, "/Channels", "TMsize", PageSize="9" * 30)
        assert request(ws, size)[0] == 200  # clamped to 1000, as REST does


def subscribe(ws: RawWebSocket, requests: list[dict[str, Any]], request_id: str) -> tuple[int, Any]:
    body = {"action": "establish", "correlation_id": 7, "requests": requests}
    http = {"host": "cds.example.test", "path": "/v4/Subscriptions", "method": "POST"}
    message = frame(
        "message",
        request_id,
        orjson.dumps(body),
        http_request={**http, "params": {}, "headers": {}},
    )
    return request(ws, message)


def test_a_subscription_batch_over_max_batch_size_is_refused(server: GatewayProcess) -> None:
    service = server.service()
    user = server.http.get  # the user exists once connected
    with server.session(service, "alice") as ws:
        sid = user(f"/v1/Services/{service}/Users/alice").json()["sid"]
        one = {"object_sid": f"{sid}.info", "object_type": "map"}
        status, body = subscribe(ws, [one] * 500, "TMbig")
        refused_as_rest(status, body)
        assert "at most 100" in body["message"]
        status, body = subscribe(ws, [one] * 100, "TMok")
        assert (status, body["max_batch_size"]) == (200, 100), body


def notification_type(frame: Any) -> str | None:
    if frame.header["method"] != "notification":
        return None
    return str(orjson.loads(frame.payload)["event_type"])


def test_an_event_id_out_of_range_fails_that_subscription_only(server: GatewayProcess) -> None:
    service = server.service()
    ws = server.connect()
    registrations = [{"message_types": [SYNC_EVENT]}]
    token = server.token(service, "alice")
    ws.send(frame("init", "TMinit", token=token, registrations=registrations))
    assert ws.recv().header["status"]["code"] == 200
    with ws:
        user = server.http.get(f"/v1/Services/{service}/Users/alice").json()["sid"]
        info = {"object_sid": objects.user_info_map(user).sid, "object_type": "map"}
        for last, outcome in [(2**64 - 1, "subscription_failed"), (0, "subscription_established")]:
            assert subscribe(ws, [{**info, "last_event_id": last}], f"TMsub{last}")[0] == 200
            ends = ("subscription_failed", "subscription_established")
            while (kind := notification_type(ws.recv())) not in ends:
                pass  # replies, and events replayed before the outcome
            assert kind == outcome
