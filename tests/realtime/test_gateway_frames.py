"""Bad input and limits, through a raw WebSocket: each gets the protocol's answer, the server
keeps serving everyone else, and nothing is written."""

from __future__ import annotations

import random
import re
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from client_support import GatewayServer, frame, read, upstream
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.frames import Frame, Opcode
from websockets.sync.client import ClientConnection, connect

from conftest import Databases

pytestmark = pytest.mark.server

CONFIGURATION = "/Client/v1/Configuration"

MakeGateway = Callable[..., GatewayServer]


@pytest.fixture(scope="module")
def gateway(databases: Databases) -> Iterator[GatewayServer]:
    with GatewayServer(databases) as srv:
        yield srv


@pytest.fixture
def make_gateway(databases: Databases) -> Iterator[MakeGateway]:
    """A server of the test's own, with limits or timeouts overridden."""
    started: list[GatewayServer] = []

    def make(**overrides: object) -> GatewayServer:
        started.append(GatewayServer(databases, **overrides))
        return started[-1]

    yield make
    for srv in started:
        srv.stop()


def init(ws: ClientConnection, token: str, request_id: str = "TMinit") -> dict[str, Any]:
    ws.send(frame("init", request_id, token=token, registrations=[]))
    return read(ws.recv(timeout=10)).header


def open_session(srv: GatewayServer, service: str, identity: str = "alice") -> ClientConnection:
    ws = connect(srv.ws)
    assert init(ws, srv.token(service, identity))["status"] == {"code": 200, "status": "OK"}
    return ws


def closed_with(ws: ClientConnection, status: int, ws_code: int) -> None:
    """The server's Twilsock ``close`` (``status``), then the WebSocket close (``ws_code``)."""
    close = read(ws.recv(timeout=10)).header
    assert (close["method"], close["status"]["code"]) == ("close", status), close
    with pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == ws_code


def users_of(srv: GatewayServer, service: str) -> list[str]:
    users = srv.http.get(f"/v1/Services/{service}/Users").json()["users"]
    return [user["identity"] for user in users]


def still_serving(srv: GatewayServer, ws: ClientConnection) -> None:
    ws.send(upstream(CONFIGURATION, "TMstill"))
    reply = read(ws.recv(timeout=10)).header
    assert reply["http_status"] == {"code": 200, "status": "OK"}


@pytest.mark.parametrize(
    ("data", "ws_code"),
    [
        (b"garbage", 1002),
        (b"TWILSOCK V3.0 999\r\n{}\r\n", 1002),
        (b"TWILSOCK V3.0 2\r\n{}\r\n", 1002),  # no method, no id
        ("a text frame", 1003),
    ],
)
def test_broken_frames_close_406_and_change_nothing(
    gateway: GatewayServer, data: bytes | str, ws_code: int
) -> None:
    service = gateway.service()
    bystander = open_session(gateway, service, "bob")
    with connect(gateway.ws) as ws:
        ws.send(data)
        closed_with(ws, 406, ws_code)
    assert users_of(gateway, service) == ["bob"]
    still_serving(gateway, bystander)
    bystander.close()


def test_an_oversized_frame_closes_with_1009(make_gateway: MakeGateway) -> None:
    srv = make_gateway(gateway_max_frame_bytes=4096)
    service = srv.service()
    with open_session(srv, service) as ws:
        ws.send(upstream("/Client/v1/Configuration", "TMbig", method="POST", body=b"x" * 5000))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    assert users_of(srv, service) == ["alice"]


def test_a_message_before_init_is_refused_and_init_still_works(gateway: GatewayServer) -> None:
    service = gateway.service()
    with connect(gateway.ws) as ws:
        ws.send(upstream(CONFIGURATION, "TMearly"))
        reply = read(ws.recv(timeout=10)).header
        assert reply["id"] == "TMearly"
        assert reply["status"]["code"] == 401 and reply["status"]["errorCode"] == 20003
        assert users_of(gateway, service) == []
        assert init(ws, gateway.token(service, "alice"))["status"]["code"] == 200
        still_serving(gateway, ws)


def test_unknown_methods_and_bad_requests_get_error_replies(gateway: GatewayServer) -> None:
    service = gateway.service()
    with open_session(gateway, service) as ws:
        ws.send(frame("subscribe", "TMunknown"))
        status = read(ws.recv(timeout=10)).header["status"]
        assert status["code"] == 400 and status["errorCode"] == 20001
        ws.send(frame("message", "TMnohttp", http_request="GET /"))
        assert read(ws.recv(timeout=10)).header["status"]["code"] == 400
        ws.send(frame("put_notification_ctx", "TMctx", notification_ctx_id="x"))
        assert read(ws.recv(timeout=10)).header["status"]["code"] == 200
        still_serving(gateway, ws)


def test_a_body_over_max_body_bytes_is_413_inside_the_reply(make_gateway: MakeGateway) -> None:
    srv = make_gateway(max_body_bytes=1024)
    with open_session(srv, srv.service()) as ws:
        ws.send(upstream(CONFIGURATION, "TMlarge", method="POST", body=b"{}" + b" " * 2000))
        reply = read(ws.recv(timeout=10))
        assert reply.header["http_status"]["code"] == 413
        still_serving(srv, ws)


def test_a_flood_of_upstream_requests_gets_429(make_gateway: MakeGateway) -> None:
    srv = make_gateway(gateway_upstream_rate=5)
    with open_session(srv, srv.service()) as ws:
        for n in range(20):
            ws.send(upstream(CONFIGURATION, f"TM{n}"))
        replies = [read(ws.recv(timeout=10)) for _ in range(20)]
        codes = [r.header["http_status"]["code"] for r in replies]
        assert codes.count(200) >= 5 and codes.count(429) >= 10, codes
        limited = next(r for r in replies if r.header["http_status"]["code"] == 429)
        assert b'"code":20429' in limited.payload
        time.sleep(1)
        still_serving(srv, ws)
    assert 'route="throttled",status="429"' in srv.metrics()


def test_connections_past_the_limits_are_answered_429(make_gateway: MakeGateway) -> None:
    srv = make_gateway(gateway_max_connections_per_identity=2, gateway_max_connections=3)
    service = srv.service()
    first, second = open_session(srv, service), open_session(srv, service)
    with connect(srv.ws) as third:
        refused = init(third, srv.token(service, "alice"))
        assert refused["status"]["code"] == 429
    third_user = open_session(srv, service, "bob")
    with connect(srv.ws) as fourth:
        assert init(fourth, srv.token(service, "carol"))["status"]["code"] == 429
    still_serving(srv, first)
    for ws in (first, second, third_user):
        ws.close()


def test_a_connection_without_init_is_closed_after_the_timeout(make_gateway: MakeGateway) -> None:
    srv = make_gateway(gateway_init_timeout=0.5)
    with connect(srv.ws) as ws:
        closed_with(ws, 408, 1008)


def test_a_dead_peer_is_dropped_after_ping_interval_plus_timeout(
    make_gateway: MakeGateway,
) -> None:
    srv = make_gateway(gateway_ping_interval=0.5, gateway_ping_timeout=0.5)
    with socket.create_connection(("127.0.0.1", srv.server.port)) as raw:
        raw.sendall(
            b"GET /v3/wsconnect HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            b"Sec-WebSocket-Version: 13\r\n\r\n"
        )
        assert raw.recv(1024).startswith(b"HTTP/1.1 101")
        assert "chinwag_gateway_connections 1.0" in srv.metrics()
        deadline = time.monotonic() + 10  # never answers a ping: gone after ~1 s
        while "chinwag_gateway_connections 0.0" not in srv.metrics():
            assert time.monotonic() < deadline, "the dead connection was not dropped"
            time.sleep(0.1)


def test_websockets_on_other_paths_are_refused_at_the_handshake(gateway: GatewayServer) -> None:
    with pytest.raises(InvalidStatus) as refused:
        connect(gateway.ws.replace("/v3/wsconnect", "/v2/wsconnect"))
    assert refused.value.response.status_code == 403


def test_the_console_lists_connected_clients(gateway: GatewayServer) -> None:
    service = gateway.service()
    ws = open_session(gateway, service, "console-visible")
    try:
        body = gateway.http.get("/_chinwag/clients").json()
        mine = [c for c in body["clients"] if c["identity"] == "console-visible"]
        assert len(mine) == 1 and mine[0]["service_sid"] == service
        assert mine[0]["connected_at"] > 0 and mine[0]["address"].startswith("127.0.0.1:")
        assert [service, "console-visible"] in body["online"]
    finally:
        ws.close()


def _sdk_ack(frame_id: str) -> bytes:
    """The twilio-chat SDK's acknowledgement of a server frame, byte for byte (twilsock
    reply.js, parser.js: 142 bytes for an eight-character id), masked as a client sends it."""
    head = (
        f'{{"id":"{frame_id}","method":"reply","payload_type":"application/json",'
        '"status":{"code":200,"status":"OK"},"payload_size":0}'
    ).encode()
    data = b"TWILSOCK V3.0 %d\r\n%s\r\n" % (len(head), head)
    return Frame(Opcode.BINARY, data).serialize(mask=True, extensions=[])


def _frames_in(srv: GatewayServer) -> float:
    match = re.search(r'chinwag_gateway_frames_total\{direction="in"\} ([\d.e+]+)', srv.metrics())
    assert match is not None
    return float(match.group(1))


def test_acknowledgements_are_taken_however_their_bytes_arrive(make_gateway: MakeGateway) -> None:
    """The SDK's acknowledgements are read beside websockets' parser; with requests and a long
    frame among them, in pieces cut anywhere, every frame is read once and in order."""
    srv = make_gateway()
    with open_session(srv, srv.service()) as ws:
        before = _frames_in(srv)
        acks = [_sdk_ack(f"TS{n}") for n in range(1000, 1030)]
        assert all(a[1] & 0x7F == 126 for a in acks)  # a 16-bit length, as the SDK's are
        telemetry = frame("telemetry.v1", "TMtel", b"[" + b" " * 2000 + b"]")

        def client(data: bytes) -> bytes:
            return Frame(Opcode.BINARY, data).serialize(mask=True, extensions=[])

        first, second = client(upstream(CONFIGURATION, "TMa")), client(telemetry)
        last = client(upstream(CONFIGURATION, "TMb"))
        stream = b"".join([*acks[:10], first, *acks[10:20], second, *acks[20:], last])
        sock = ws.socket
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        cuts = random.Random(7)
        at = 0
        while at < len(stream):
            step = cuts.choice([1, 2, 5, 7, 100, 151, 300, 2100])
            sock.sendall(stream[at : at + step])
            at += step
            time.sleep(0.001)
        replies = [read(ws.recv(timeout=10)).header for _ in range(2)]
        assert [r["id"] for r in replies] == ["TMa", "TMb"]
        assert all(r["http_status"]["code"] == 200 for r in replies)
        deadline = time.monotonic() + 10
        while _frames_in(srv) - before < len(acks) + 3:
            assert time.monotonic() < deadline, _frames_in(srv) - before
            time.sleep(0.05)
        assert _frames_in(srv) - before == len(acks) + 3
        still_serving(srv, ws)
