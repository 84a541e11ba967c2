"""Absolute URLs from proxy headers, invalid Host values, and HEAD on every GET route."""

from __future__ import annotations

import httpx
import pytest
from raw_http import AUTH_HEADER, Server, assert_twilio_error, exchange, hardened, new_channel

pytestmark = pytest.mark.server

__all__ = ["hardened"]


def test_listed_forwarded_values_count_by_their_first_entry(hardened: Server) -> None:
    channel = new_channel(hardened)
    with hardened.client() as http:
        for body in ("a", "b"):
            http.post(f"{channel}/Messages", data={"Body": body})
        headers = {"X-Forwarded-Proto": "https, http", "X-Forwarded-Host": "chat.example, b"}
        page = http.get(f"{channel}/Messages", params={"PageSize": 1}, headers=headers).json()
    assert page["messages"][0]["url"].startswith("https://chat.example/v1/Services/")
    next_url = page["meta"]["next_page_url"]
    assert next_url.startswith("https://chat.example/v1/Services/")
    with hardened.client() as http:  # the SDK follows it by path: it must be a real URL
        path = httpx.URL(next_url).raw_path.decode()
        assert [m["body"] for m in http.get(path).json()["messages"]] == ["b"]


def test_forwarded_header_first_hop_wins(hardened: Server) -> None:
    with hardened.client() as http:
        headers = {"Forwarded": 'proto=https;host="chat.example:8443", proto=http;host=inner'}
        service = http.post("/v1/Services", data={"FriendlyName": "f"}, headers=headers).json()
    assert service["url"].startswith("https://chat.example:8443/v1/Services/")


@pytest.mark.parametrize(
    "header",
    [
        b"Host: evil.example/<script>",
        b"Host: a b",
        b'Host: x\r\nX-Forwarded-Host: bad"host',
        b"Host: x\r\nX-Forwarded-Proto: javascript",
    ],
)
def test_invalid_host_is_refused_and_changes_nothing(hardened: Server, header: bytes) -> None:
    body = b"FriendlyName=should-not-exist"
    request = (
        b"POST /v1/Services HTTP/1.1\r\n" + header + b"\r\n" + AUTH_HEADER + b"\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body) + body
    )
    assert_twilio_error(exchange(hardened, request), 400)
    with hardened.client() as http:
        names = [
            s["friendly_name"] for s in http.get("/v1/Services?PageSize=1000").json()["services"]
        ]
    assert "should-not-exist" not in names


def test_each_request_gets_its_own_host_checked(hardened: Server) -> None:
    """The last valid host is remembered to skip its check: a different one is checked anew,
    valid or not, and the one before it is not reused."""
    hosts = ["a.example", "a.example", "bad host", "b.example:8080", "a.example", "c/d"]
    with hardened.client() as http:
        answers = [http.get("/v1/Services", headers={"X-Forwarded-Host": h}) for h in hosts]
    got = [
        (r.status_code, r.json()["meta"]["url"] if r.status_code == 200 else None) for r in answers
    ]
    base = "/v1/Services?PageSize=50&Page=0"
    assert got == [
        (200, f"http://a.example{base}"),
        (200, f"http://a.example{base}"),
        (400, None),
        (200, f"http://b.example:8080{base}"),
        (200, f"http://a.example{base}"),
        (400, None),
    ]


@pytest.mark.parametrize("path", ["/healthz", "/metrics"])
def test_head_on_open_endpoints(hardened: Server, path: str) -> None:
    get = httpx.get(f"{hardened.base}{path}")
    head = httpx.head(f"{hardened.base}{path}")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    if path == "/healthz":  # /metrics changes between the two calls
        assert head.headers["content-length"] == get.headers["content-length"]


def test_head_on_api_get_routes(hardened: Server) -> None:
    channel = new_channel(hardened)
    with hardened.client() as http:
        for path in ("/v1/Services", channel, f"{channel}/Messages"):
            get, head = http.get(path), http.head(path)
            assert (head.status_code, head.content) == (200, b""), path
            assert head.headers["content-length"] == get.headers["content-length"]
        assert http.head(f"{channel}/Messages/IM" + "0" * 32).status_code == 404
        allowed = http.put(channel).headers["allow"].split(", ")
        assert "HEAD" in allowed and "GET" in allowed
    assert httpx.head(f"{hardened.base}/v1/Services").status_code == 401
