"""Incomplete requests time out, and stalled connections cannot lock other clients out."""

from __future__ import annotations

import resource
import socket
import time
from pathlib import Path

import httpx
import pytest
from raw_http import (
    MAX_CONNECTIONS,
    TIMEOUT,
    Server,
    assert_twilio_error,
    hardened,
    parse,
    read_response,
    start,
    stop,
    wait_for_close,
)

from chinwag.http.connection import FILE_HEADROOM
from conftest import Databases

pytestmark = pytest.mark.server

__all__ = ["hardened"]

PARTIAL = {
    "half a request line": b"POST /v1/Serv",
    "partial headers": b"GET /healthz HTTP/1.1\r\nHost: x\r\nUser-Ag",
}


def test_connection_that_sends_nothing_is_closed_without_an_answer(hardened: Server) -> None:
    with hardened.connect() as sock:
        raw, waited = wait_for_close(sock, 10 * TIMEOUT)
    assert raw == b""
    assert TIMEOUT * 0.9 <= waited < 5 * TIMEOUT


@pytest.mark.parametrize("sent", PARTIAL.values(), ids=PARTIAL.keys())
def test_incomplete_head_gets_408(hardened: Server, sent: bytes) -> None:
    with hardened.connect() as sock:
        sock.sendall(sent)
        raw, waited = wait_for_close(sock, 10 * TIMEOUT)
    assert TIMEOUT * 0.9 <= waited < 5 * TIMEOUT
    assert_twilio_error(parse(raw), 408)


def test_head_trickled_byte_by_byte_still_times_out(hardened: Server) -> None:
    """The header timeout bounds the whole head, not the pause between two bytes."""
    with hardened.connect() as sock:
        start = time.monotonic()
        for byte in b"GET /healthz HTTP/1.1\r\nX-Slow: " + b"a" * 100:
            try:
                sock.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                break
            time.sleep(TIMEOUT / 10)
        raw, _ = wait_for_close(sock, 10 * TIMEOUT)
    assert time.monotonic() - start < 4 * TIMEOUT
    assert_twilio_error(parse(raw), 408)


def test_idle_keep_alive_connection_serves_requests_then_times_out(hardened: Server) -> None:
    host = f"{hardened.address[0]}:{hardened.address[1]}".encode()
    with hardened.connect() as sock:
        for _ in range(3):
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: " + host + b"\r\n\r\n")
            assert read_response(sock).status == 200
            time.sleep(TIMEOUT / 2)
        raw, _ = wait_for_close(sock, 20)
    assert raw == b""


#: uvicorn's keep-alive timeout, which chinwag keeps (the hardened server does not change it)
KEEP_ALIVE = 5.0


def test_keep_alive_counts_from_the_last_response(hardened: Server) -> None:
    """An idle connection gets its whole keep-alive period after its last response, however
    long it waited before that request."""
    host = f"{hardened.address[0]}:{hardened.address[1]}".encode()
    with hardened.connect() as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: " + host + b"\r\n\r\n")
        assert read_response(sock).status == 200
        time.sleep(0.7 * KEEP_ALIVE)  # the timer armed by that response fires while idle
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: " + host + b"\r\n\r\n")
        assert read_response(sock).status == 200
        last = time.monotonic()
        raw, _ = wait_for_close(sock, 3 * KEEP_ALIVE)
        idle = time.monotonic() - last
    assert raw == b""
    assert 0.95 * KEEP_ALIVE <= idle < 1.5 * KEEP_ALIVE


def test_stalled_connections_over_the_limit_do_not_lock_others_out(hardened: Server) -> None:
    """Twice the connection limit in stalled sockets: /healthz and the API still answer.

    The same holds for 1,100 sockets under a 1,024-descriptor limit with the default limit of
    1,000; a small configured limit proves it with few sockets.
    """
    stalled: list[socket.socket] = []
    try:
        for i in range(2 * MAX_CONNECTIONS):
            sock = hardened.connect()
            if i % 2:
                sock.sendall(b"POST /v1/Services HTTP/1.1\r\nHost: x\r\nContent-Le")
            stalled.append(sock)
        for _ in range(5):
            assert httpx.get(f"{hardened.base}/healthz", timeout=5).status_code == 200
            with hardened.client() as http:
                assert http.get("/v1/Services").status_code == 200
        closed = 0
        for sock in stalled:
            sock.settimeout(0.01)
            try:
                closed += sock.recv(1) == b""
            except TimeoutError:
                pass
            except ConnectionResetError:
                closed += 1
        assert closed >= MAX_CONNECTIONS  # the oldest ones made room
    finally:
        for sock in stalled:
            sock.close()


def test_server_raises_its_open_file_limit_to_fit_max_connections(databases: Databases) -> None:
    """HTTP connections plus client (WebSocket) connections, and some headroom."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))  # inherited by the server
    try:
        server = start(databases, "--max-connections", "300", "--gateway-max-connections", "200")
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    try:
        limits = Path(f"/proc/{server.proc.pid}/limits").read_text()
        line = next(line for line in limits.splitlines() if line.startswith("Max open files"))
        assert int(line.split()[3]) == 300 + 200 + FILE_HEADROOM
    finally:
        stop(server)
