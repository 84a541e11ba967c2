"""Clients that misbehave on purpose, against a real ``chinwag serve`` process over raw sockets:
ones that stop reading, never send ``init``, come from one address by the dozen, or keep
failing ``init``. Each is dropped in bounded time, holds bounded memory, and never takes an
authenticated client's place."""

from __future__ import annotations

import orjson
import process_support
import pytest
from client_support import frame
from process_support import Start, page_request
from raw_socket import ClosedError, RawWebSocket
from websockets.frames import Frame, Opcode

pytestmark = pytest.mark.server

#: a receive buffer so small that the server's writes to a client that does not read stall
TINY = 4096

start = process_support.start  # the fixture: a chinwag serve with flags


def test_a_client_that_stops_reading_is_dropped_within_the_write_timeout(start: Start) -> None:
    server = start(
        "--gateway-write-timeout", "1", "--gateway-max-buffered-bytes", str(64 << 20),
        "--gateway-ping-interval", "60",
    )  # fmt: skip
    service = server.service()
    pages = server.channel_with_messages(service, "alice", count=40, size=30_000)
    with server.session(service, "alice", receive_buffer=TINY) as ws:
        for n in range(6):  # ~1.2 MB each, never read: more than the kernel's buffers hold
            ws.send(page_request(pages, f"TMpage{n}"))
        lived = ws.gone_within(15)
        assert lived is not None and lived < 6, lived
    assert server.metric('chinwag_gateway_closes_total{reason="write_timeout"}') == 1
    assert server.metric("chinwag_gateway_connections") == 0
    assert server.http.get("/_chinwag/clients").json()["clients"] == []


def test_outbound_bytes_past_the_budget_close_308_and_the_reader_gets_everything_before(
    start: Start,
) -> None:
    server = start("--gateway-max-buffered-bytes", "65536", "--gateway-write-timeout", "30")
    service = server.service()
    pages = server.channel_with_messages(service, "alice", count=40, size=30_000)
    with server.session(service, "alice", receive_buffer=TINY) as ws:
        for n in range(6):  # ~1.2 MB each: past what the kernel's buffers hold
            ws.send(page_request(pages, f"TMpage{n}"))
        assert ws.gone_within(1.5) is None  # it waits for the reader, up to the write timeout
        frames = []
        with pytest.raises(ClosedError) as closed:
            while True:
                frames.append(ws.recv())
        replies, close = frames[:-1], frames[-1].header
        # one page fits: the kernel's send buffer is a quarter of the budget (16 KiB), not the
        # 4 MiB Linux would grow it to, so the second reply finds the first still waiting
        assert len(replies) == 1
        for reply in replies:  # whole (requests run concurrently: in any order)
            assert reply.header["id"] in {f"TMpage{n}" for n in range(6)}
            assert len(orjson.loads(reply.payload)["items"]) == 40
        assert (close["method"], close["status"]["code"]) == ("close", 308), close
        assert closed.value.code == 1013
    assert server.metric('chinwag_gateway_closes_total{reason="slow_consumer"}') == 1


def test_a_ping_timeout_drops_a_client_even_with_unsent_bytes(start: Start) -> None:
    server = start(
        "--gateway-ping-interval", "0.5", "--gateway-ping-timeout", "0.5",
        "--gateway-write-timeout", "30", "--gateway-max-buffered-bytes", str(64 << 20),
    )  # fmt: skip
    service = server.service()
    pages = server.channel_with_messages(service, "alice", count=20, size=30_000)
    with server.session(service, "alice", receive_buffer=TINY) as ws:
        ws.send(page_request(pages, "TMpage"))  # its reply is never read, nor any ping
        lived = ws.gone_within(15)
        assert lived is not None and lived < 5, lived
    assert server.metric('chinwag_gateway_closes_total{reason="ping_timeout"}') == 1


def test_a_socket_without_init_is_gone_after_the_init_timeout_even_unread(start: Start) -> None:
    server = start("--gateway-init-timeout", "0.5", "--gateway-write-timeout", "1")
    with server.connect(receive_buffer=TINY) as ws:
        for n in range(300):  # each answered 401 (no init yet); none of it read
            if not ws.try_send(frame("message", f"TM{n}", http_request={})):
                break
        lived = ws.gone_within(10)
        assert lived is not None and lived < 4, lived
    assert server.metric("chinwag_gateway_connections") == 0


def test_sockets_without_init_do_not_lock_out_a_client(start: Start) -> None:
    server = start("--gateway-max-connections", "10")
    service = server.service()
    idle = [server.connect(source=f"127.0.0.{n}") for n in range(2, 17)]  # 15, as many hosts
    with server.session(service, "alice") as ws:
        ws.send(chat_configuration("TMconf"))
        assert ws.recv().header["http_status"]["code"] == 200
    for ws in idle:
        ws.close()


def test_one_address_may_hold_only_so_many_sockets_before_init(start: Start) -> None:
    server = start("--gateway-max-pending-per-address", "3")
    service = server.service()
    held = [server.connect(source="127.0.0.5") for _ in range(3)]
    with RawWebSocket(server.address, source="127.0.0.5") as extra:
        refused = extra.handshake()
    assert refused.status == 429
    assert refused.headers["content-type"] == "application/json"
    assert orjson.loads(refused.body)["code"] == 20429
    with server.connect(source="127.0.0.6"):  # another address is not concerned
        pass
    held[0].send(frame("init", "TMinit", token=server.token(service, "alice"), registrations=[]))
    assert held[0].recv().header["status"]["code"] == 200  # no longer pending
    server.connect(source="127.0.0.5").close()
    for ws in held:
        ws.close()


def test_past_the_pending_cap_the_oldest_pending_socket_makes_room(start: Start) -> None:
    server = start("--gateway-max-pending", "3")
    service = server.service()
    first, *others = [server.connect(source=f"127.0.1.{n}") for n in range(1, 4)]
    with server.session(service, "alice", source="127.0.1.9") as newest:
        assert first.gone_within(5) is not None
        assert all(ws.gone_within(0.3) is None for ws in others)
        newest.send(chat_configuration("TMconf"))
        assert newest.recv().header["http_status"]["code"] == 200
    assert server.metric('chinwag_gateway_closes_total{reason="pending_limit"}') == 1
    for ws in [first, *others]:
        ws.close()


def test_repeated_failed_inits_close_the_socket(start: Start) -> None:
    server = start()
    with server.connect() as ws:
        for n in range(50):
            if not ws.try_send(frame("init", f"TMinit{n}", token="not a token")):
                break
        statuses = []
        with pytest.raises(ClosedError) as closed:
            while True:
                header = ws.recv().header
                statuses.append((header["method"], header["status"]["code"]))
        assert statuses == [("reply", 401)] * 3 + [("close", 401)], statuses
        assert closed.value.code == 1008
    assert server.metric('chinwag_gateway_auth_failures_total{code="20101"}') == 3
    assert server.metric('chinwag_gateway_closes_total{reason="failed_inits"}') == 1


def test_before_init_a_message_is_small_after_it_the_full_size(start: Start) -> None:
    server = start("--gateway-init-max-frame-bytes", "20480")
    service = server.service()
    with server.connect() as ws:
        ws.send(frame("init", "TMinit", token="x" * 30_000))
        with pytest.raises(ClosedError) as closed:
            ws.recv()
        assert closed.value.code == 1009
    with server.session(service, "alice") as ws:
        body = orjson.dumps({"padding": "y" * 30_000})
        ws.send(chat_configuration("TMbig", body=body))
        assert ws.recv().header["id"] == "TMbig"


def chat_configuration(request_id: str, body: bytes = b"") -> bytes:
    http = {"host": "aim.example.test", "path": "/Client/v1/Configuration", "method": "GET"}
    return frame("message", request_id, body, http_request={**http, "params": {}, "headers": {}})


def test_a_client_that_pings_and_never_reads_the_pongs_is_dropped(start: Start) -> None:
    server = start("--gateway-max-buffered-bytes", "65536", "--gateway-ping-interval", "60")
    service = server.service()
    pings = Frame(Opcode.PING, b"p" * 125).serialize(mask=True) * 1000
    with server.session(service, "alice", receive_buffer=TINY) as ws:
        for _ in range(300):  # up to 39 MB of pings, far past what the kernel buffers hold
            try:
                ws.sock.sendall(pings)
            except OSError:
                break
        lived = ws.gone_within(10)
        assert lived is not None, "the pinging client was never dropped"
    assert server.metric('chinwag_gateway_closes_total{reason="slow_consumer"}') == 1
