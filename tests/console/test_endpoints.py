"""The console's ``/_chinwag/`` endpoints over real HTTP: credentials, secrets, the event
stream, the webhook log and its retry, and the setting that turns them off."""

from __future__ import annotations

import asyncio
import threading
import types
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from console_support import (
    KEY_SECRET,
    KEY_SID,
    create,
    deliveries,
    hooked_service,
    http,
    post,
    server,
    wait,
)

from chinwag.admin.clients import ConnectedClient
from chinwag.events import codec
from chinwag.events.local import LocalBus
from chinwag.http import console
from chinwag.http.console import LIVE_KINDS, QUEUE_SIZE, _Events
from chinwag.model.ephemeral import TypingStarted
from chinwag.model.topics import Topic
from chinwag.testing import ThreadedServer
from chinwag.testing.webhook_receiver import WebhookReceiver
from conftest import ACCOUNT_SID, AUTH_TOKEN, Databases, start_server

pytestmark = pytest.mark.server

__all__ = ["http", "server"]  # fixtures

ENDPOINTS = (
    ("GET", "/_chinwag/events"),
    ("GET", "/_chinwag/webhooks"),
    ("POST", "/_chinwag/webhooks/1/retry"),
    ("GET", "/_chinwag/clients"),
    ("GET", "/_chinwag/media"),
)


def test_the_page_and_its_assets_need_no_credentials_and_load_nothing_else(
    server: ThreadedServer,
) -> None:
    page = httpx.get(f"{server.url}/_chinwag/ui")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "http" not in page.text.replace("http-equiv", "")  # no CDN, no absolute URL
    for asset, kind in (("console.js", "javascript"), ("console.css", "css")):
        response = httpx.get(f"{server.url}/_chinwag/ui/static/{asset}")
        assert response.status_code == 200 and kind in response.headers["content-type"]
        assert "https://" not in response.text


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_endpoint_needs_the_api_credentials(
    server: ThreadedServer, method: str, path: str
) -> None:
    for auth in (None, (ACCOUNT_SID, "wrong"), (KEY_SID, "wrong")):
        response = httpx.request(method, server.url + path, auth=auth)
        assert response.status_code == 401
        assert response.json()["code"] == 20003


def test_an_api_key_opens_the_console(server: ThreadedServer) -> None:
    response = httpx.get(f"{server.url}/_chinwag/clients", auth=(KEY_SID, KEY_SECRET))
    assert response.status_code == 200
    body = response.json()
    assert (body["clients"], body["online"]) == ([], [])
    assert body["processes"] in (0, 1)  # its heartbeat is written once the server runs


def test_no_response_shows_a_secret(server: ThreadedServer, http: httpx.Client) -> None:
    with WebhookReceiver() as receiver:
        service = hooked_service(http, receiver)
        channel = create(http, f"/v1/Services/{service}/Channels", UniqueName="s")["sid"]
        post(http, service, channel, "hi")
        receiver.wait_for(1)
        bodies = [
            httpx.get(f"{server.url}/_chinwag/ui").text,
            httpx.get(f"{server.url}/_chinwag/ui/static/console.js").text,
            http.get("/_chinwag/webhooks").text,
            http.get("/_chinwag/clients").text,
        ]
        with _stream(http) as events:
            post(http, service, channel, "again")
            bodies.append(str(next(events)))
    for body in bodies:
        assert AUTH_TOKEN not in body and KEY_SECRET not in body


def test_the_stream_sends_members_messages_and_typing(
    server: ThreadedServer, http: httpx.Client
) -> None:
    service = create(http, "/v1/Services", FriendlyName="live")["sid"]
    channel = create(http, f"/v1/Services/{service}/Channels", UniqueName="x")["sid"]
    loop = _server_loop(server, http, service)
    with _stream(http, service=service) as events:
        create(http, f"/v1/Services/{service}/Channels/{channel}/Members", Identity="ann")
        post(http, service, channel, "hello")
        typing = TypingStarted(service, channel, "ann")
        loop.call_soon_threadsafe(server.app.deps.bus.publish_ephemeral, typing)
        received = [next(events) for _ in range(3)]
    assert [name for name, _ in received] == ["member.added", "message.added", "typing.started"]
    member, message, typed = (codec.decode(data) for _, data in received)
    assert member.member.identity == "ann"
    assert message.message.body == "hello"
    assert typed == typing


def test_the_stream_shows_only_the_service_asked_for(
    server: ThreadedServer, http: httpx.Client
) -> None:
    mine, other = (create(http, "/v1/Services", FriendlyName=n)["sid"] for n in ("a", "b"))
    with _stream(http, service=mine) as events:
        create(http, f"/v1/Services/{other}/Channels", UniqueName="elsewhere")
        create(http, f"/v1/Services/{mine}/Channels", UniqueName="here")
        name, data = next(events)
    assert name == "channel.added" and b'"here"' in data


def test_a_closed_stream_unsubscribes_from_the_bus(
    server: ThreadedServer, http: httpx.Client
) -> None:
    bus = server.app.deps.bus
    before = len(bus._subscriptions)
    service = create(http, "/v1/Services", FriendlyName="gone")["sid"]
    with _stream(http) as events:
        assert len(bus._subscriptions) == before + 1
        del events
    # the server notices the browser left when it next writes to the stream
    wait(lambda: _poke(http, service) and len(bus._subscriptions) == before, what="unsubscribe")


def test_a_browser_that_does_not_read_loses_only_its_newest_events() -> None:
    async def run() -> tuple[int, list[Any]]:
        bus = LocalBus()
        stream = _local_stream(bus)
        ready = await anext(stream)
        events = [TypingStarted("IS1", "CH1", f"user{i}") for i in range(QUEUE_SIZE + 50)]
        for event in events:
            bus.publish_ephemeral(event)
        received = [await anext(stream) for _ in range(QUEUE_SIZE)]
        await stream.aclose()
        await bus.close()
        return bus.dropped, [ready, *received]

    dropped, (ready, *received) = asyncio.run(run())
    assert ready.event == "ready"
    assert dropped == 50
    assert [codec.decode(e.data).identity for e in received] == [
        f"user{i}" for i in range(QUEUE_SIZE)
    ]


def test_an_idle_stream_sends_keep_alive_comments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console, "KEEPALIVE", 0.01)

    async def run() -> list[Any]:
        bus = LocalBus()
        stream = _local_stream(bus)
        first = [await anext(stream) for _ in range(3)]
        await stream.aclose()
        return first

    ready, *idle = asyncio.run(run())
    assert ready.event == "ready" and idle == [None, None]  # Falcon sends None as ": ping"


def test_the_log_shows_the_failure_and_a_retry_delivers_it(
    server: ThreadedServer, http: httpx.Client
) -> None:
    with WebhookReceiver() as receiver:
        receiver.reply("/hook", status=503)
        service = hooked_service(http, receiver)
        channel = create(http, f"/v1/Services/{service}/Channels", UniqueName="r")["sid"]
        post(http, service, channel, "first")
        failed = wait(lambda: deliveries(http, service, "failed"), what="the failure")[0]
        assert failed["last_status"] == 503 and failed["attempts"] == 1
        assert failed["params"]["Body"] == "first"
        receiver.reply("/hook", status=200)
        retried = http.post(f"/_chinwag/webhooks/{failed['id']}/retry")
        assert retried.status_code == 200
        assert retried.json() == {"id": failed["id"], "state": "pending"}
        delivered = wait(lambda: deliveries(http, service, "delivered"), what="the delivery")
        assert delivered[0]["id"] == failed["id"] and delivered[0]["attempts"] == 2
        assert [r.params["Body"] for r in receiver.wait_for(2)] == ["first", "first"]
        again = http.post(f"/_chinwag/webhooks/{failed['id']}/retry")
        assert again.status_code == 400
        assert "only a failed delivery can be retried" in again.json()["message"]


def test_the_log_refuses_bad_parameters_in_twilio_format(http: httpx.Client) -> None:
    assert http.get("/_chinwag/webhooks", params={"state": "lost"}).json()["code"] == 20001
    assert http.get("/_chinwag/webhooks", params={"limit": "0"}).status_code == 400
    for delivery in ("999999999", "abc", "1" * 40):
        missing = http.post(f"/_chinwag/webhooks/{delivery}/retry")
        assert missing.status_code == 404 and missing.json()["code"] == 20404


def test_the_media_list_refuses_bad_parameters_in_twilio_format(http: httpx.Client) -> None:
    missing = http.get("/_chinwag/media", params={"service": "IS" + "0" * 32})
    assert (missing.status_code, missing.json()["code"]) == (400, 20001)
    assert missing.json()["message"] == "service and channel are required"
    unknown = http.get("/_chinwag/media", params={"service": "IS" + "0" * 32, "channel": "x"})
    assert (unknown.status_code, unknown.json()["code"]) == (404, 20404)
    service = create(http, "/v1/Services", FriendlyName="plain")["sid"]
    create(http, f"/v1/Services/{service}/Channels", UniqueName="text")
    post(http, service, "text", "no media here")
    listed = http.get("/_chinwag/media", params={"service": service, "channel": "text"})
    assert listed.json() == {"media": []}


def test_connected_clients_come_from_the_directory_a_gateway_registers(
    server: ThreadedServer, http: httpx.Client
) -> None:
    class Directory:
        def connected_clients(self) -> list[ConnectedClient]:
            return [ConnectedClient("ann", "IS1", 1000, "127.0.0.1")] * 2

    gateway, server.app.clients = server.app.clients, Directory()
    try:
        body = http.get("/_chinwag/clients").json()
    finally:
        server.app.clients = gateway
    assert body["clients"][0] == {
        "identity": "ann",
        "service_sid": "IS1",
        "connected_at": 1000,
        "address": "127.0.0.1",
    }


def test_admin_console_false_turns_every_console_route_off(databases: Databases) -> None:
    srv = start_server(databases, admin_console=False)
    try:
        assert httpx.get(f"{srv.url}/_chinwag/ui").status_code == 404
        for method, path in ENDPOINTS:
            response = httpx.request(method, srv.url + path, auth=(ACCOUNT_SID, AUTH_TOKEN))
            assert response.status_code == 404, path
    finally:
        srv.stop()


# --- helpers -----------------------------------------------------------------------------


def _poke(http: httpx.Client, service: str) -> bool:
    create(http, f"/v1/Services/{service}/Channels")
    return True


def _stream(http: httpx.Client, **params: str) -> Any:
    return _OpenStream(http, params)


class _OpenStream:
    def __init__(self, http: httpx.Client, params: dict[str, str]) -> None:
        self._context = http.stream("GET", "/_chinwag/events", params=params, timeout=30)

    def __enter__(self) -> Iterator[tuple[str, bytes]]:
        response = self._context.__enter__()
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = _parse(response.iter_lines())
        assert next(events)[0] == "ready"
        return events

    def __exit__(self, *exc_info: object) -> None:
        self._context.__exit__(*exc_info)


def _parse(lines: Iterator[str]) -> Iterator[tuple[str, bytes]]:
    name, data = "message", ""
    for line in lines:
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            data += line[6:]
        elif not line and data:
            yield name, data.encode()
            name, data = "message", ""


def _local_stream(bus: LocalBus) -> Any:
    """A browser's event stream on ``bus``, without a server (to pace it by hand)."""
    api = types.SimpleNamespace(deps=types.SimpleNamespace(bus=bus))
    return _Events(api)._stream(Topic(LIVE_KINDS))


def _server_loop(
    server: ThreadedServer, http: httpx.Client, service: str
) -> asyncio.AbstractEventLoop:
    """The server thread's event loop, caught by a plain subscriber on the next event."""
    found: list[asyncio.AbstractEventLoop] = []
    seen = threading.Event()

    def catch(event: object) -> None:
        found.append(asyncio.get_running_loop())
        seen.set()

    unsubscribe = server.app.deps.bus.subscribe(catch)
    try:
        _poke(http, service)
        assert seen.wait(10)
    finally:
        unsubscribe()
    return found[0]
