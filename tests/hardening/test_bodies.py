"""A body cut short changes nothing; the largest legal body fits under the default limit."""

from __future__ import annotations

import time

import pytest
from raw_http import (
    AUTH,
    AUTH_HEADER,
    TIMEOUT,
    Server,
    assert_twilio_error,
    hardened,
    new_channel,
    parse,
    read_response,
    wait_for_close,
)
from twilio.rest import Client

from chinwag.config import Settings

pytestmark = pytest.mark.server

__all__ = ["hardened"]

FORM = b"Body=Transfer+%2410%2C000+to+account+12345678&From=alice"
FORM_TYPE = "application/x-www-form-urlencoded"


def _post_head(server: Server, path: str, framing: bytes) -> bytes:
    host = f"{server.address[0]}:{server.address[1]}".encode()
    return (
        b"POST " + path.encode() + b" HTTP/1.1\r\nHost: " + host + b"\r\n" + AUTH_HEADER + b"\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n" + framing + b"\r\n"
    )


def _messages(server: Server, channel: str) -> list[str]:
    with server.client() as http:
        return [m["body"] for m in http.get(f"{channel}/Messages").json()["messages"]]


def _send_then_leave(server: Server, data: bytes) -> None:
    with server.connect() as sock:
        sock.sendall(data)
        time.sleep(0.2)  # let the server start reading the body before the client leaves


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_body_cut_short_by_a_disconnect_stores_nothing(hardened: Server, framing: str) -> None:
    channel = new_channel(hardened)
    if framing == "content-length":
        head = _post_head(hardened, f"{channel}/Messages", b"Content-Length: %d\r\n" % len(FORM))
        cut = head + FORM[:30]
    else:
        head = _post_head(hardened, f"{channel}/Messages", b"Transfer-Encoding: chunked\r\n")
        cut = head + b"%x\r\n%s\r\n" % (30, FORM[:30])  # no last chunk
    _send_then_leave(hardened, cut)
    time.sleep(0.3)
    assert _messages(hardened, channel) == []
    with hardened.client() as http:  # the same request, whole, is stored whole
        sent = http.post(f"{channel}/Messages", content=FORM, headers={"Content-Type": FORM_TYPE})
    assert sent.status_code == 201
    assert _messages(hardened, channel) == ["Transfer $10,000 to account 12345678"]


def test_update_cut_short_changes_nothing(hardened: Server) -> None:
    channel = new_channel(hardened)
    form = b"FriendlyName=renamed+completely&Attributes=%7B%22a%22%3A1%7D"
    head = _post_head(hardened, channel, b"Content-Length: %d\r\n" % len(form))
    _send_then_leave(hardened, head + form[:20])
    time.sleep(0.3)
    with hardened.client() as http:
        found = http.get(channel).json()
    assert (found["friendly_name"], found["attributes"]) == ("c", "{}")


def test_body_that_stops_arriving_gets_408_and_stores_nothing(hardened: Server) -> None:
    channel = new_channel(hardened)
    head = _post_head(hardened, f"{channel}/Messages", b"Content-Length: %d\r\n" % len(FORM))
    with hardened.connect() as sock:
        sock.sendall(head + FORM[:30])
        raw, waited = wait_for_close(sock, 10 * TIMEOUT)
    assert waited >= TIMEOUT * 0.9
    assert_twilio_error(parse(raw), 408)
    assert _messages(hardened, channel) == []


def test_slow_body_is_not_cut_while_bytes_keep_coming(hardened: Server) -> None:
    channel = new_channel(hardened)
    head = _post_head(hardened, f"{channel}/Messages", b"Content-Length: %d\r\n" % len(FORM))
    with hardened.connect() as sock:
        sock.sendall(head)
        for start in range(0, len(FORM), 20):  # 3 pauses: longer than TIMEOUT in total
            time.sleep(TIMEOUT * 0.5)
            sock.sendall(FORM[start : start + 20])
        assert read_response(sock).status == 201


def test_largest_legal_message_fits_the_default_body_limit(hardened: Server) -> None:
    """32,768 emoji are 393,216 bytes once percent-encoded; Attributes add 196,608."""
    client = Client(*AUTH)
    client.chat.base_url = hardened.base
    service = client.chat.v1.services.create(friendly_name="big")
    channel = client.chat.v1.services(service.sid).channels.create(friendly_name="big")
    body = "😀" * 32_768
    attributes = '"' + "漢" * 16_382 + '"'
    messages = client.chat.v1.services(service.sid).channels(channel.sid).messages
    created = messages.create(body=body, attributes=attributes, from_="é" * 256)
    assert (created.body, created.attributes) == (body, attributes)
    assert Settings().max_body_bytes >= 12 * (32_768 + 16_384 + 256) + 100
