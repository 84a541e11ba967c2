"""Requests the HTTP parser refuses are answered in Twilio's error JSON; big heads get 431."""

from __future__ import annotations

import pytest
from raw_http import (
    AUTH_HEADER,
    Server,
    assert_twilio_error,
    exchange,
    hardened,
    parse,
    read_all,
)

from chinwag.config import Settings

pytestmark = pytest.mark.server

__all__ = ["hardened"]

LIMIT = Settings().max_header_bytes

MALFORMED = {
    "unknown method token": b"G\x01T /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
    "bad Content-Length": b"POST /v1/Services HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n",
    "two Content-Lengths": (
        b"POST /v1/Services HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"
    ),
    "control character in a header": b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n",
    "space before the colon": b"GET /healthz HTTP/1.1\r\nHost : x\r\n\r\n",
    "not HTTP at all": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 32,
}


@pytest.mark.parametrize("request_bytes", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_request_gets_twilio_400(hardened: Server, request_bytes: bytes) -> None:
    assert_twilio_error(exchange(hardened, request_bytes), 400)


def test_oversized_request_line_gets_431(hardened: Server) -> None:
    request = b"GET /v1/Services?" + b"a" * LIMIT + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    assert_twilio_error(exchange(hardened, request), 431)


def test_big_header_in_one_read_with_a_body_gets_431(hardened: Server) -> None:
    body = b"FriendlyName=x"
    request = (
        b"POST /v1/Services HTTP/1.1\r\nHost: x\r\n" + AUTH_HEADER + b"\r\n"
        b"X-Big: " + b"a" * LIMIT + b"\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body) + body
    )
    assert_twilio_error(exchange(hardened, request), 431)


def test_endless_header_is_refused_early(hardened: Server) -> None:
    """A 16 MiB header is not read in full: 431 comes after about the limit, then the close."""
    with hardened.connect() as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ")
        sent = 0
        try:
            while sent < 16 * 1024 * 1024:
                sock.sendall(b"a" * 65536)
                sent += 65536
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = parse(read_all(sock))
    assert_twilio_error(answer, 431)
    assert sent < 4 * 1024 * 1024


def test_headers_under_the_limit_are_served(hardened: Server) -> None:
    big = b"X-Big: " + b"a" * (LIMIT // 2)
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + big + b"\r\n\r\n"
    assert exchange(hardened, request).status == 200
