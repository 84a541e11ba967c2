"""Bad push registrations and message sends through a raw socket: each gets the REST error in
its reply and changes nothing; one user cannot delete another's registration."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from client_support import GatewayServer, on_database, read, upstream
from test_gateway_frames import open_session
from websockets.sync.client import ClientConnection

from chinwag.domain.deps import Deps
from chinwag.domain.push_registrations import list_push_registrations
from conftest import ACCOUNT_SID, Databases

pytestmark = pytest.mark.server

ERS = "/v1/registrations"
GOOD = {
    "endpoint_platform": "web",
    "channel_type": "fcm",
    "version": "3",
    "message_types": ["twilio.channel.new_message"],
    "data": {"registration_id": "device-token"},
}


@pytest.fixture(scope="module")
def gateway(databases: Databases) -> Iterator[GatewayServer]:
    with GatewayServer(databases) as srv:
        yield srv


def call(ws: ClientConnection, path: str, method: str, body: bytes) -> tuple[int, Any]:
    ws.send(upstream(path, "TM1", method, body))
    reply = read(ws.recv(timeout=10))
    return reply.header["http_status"]["code"], json.loads(reply.payload or b"null")


def registrations(srv: GatewayServer) -> list[str]:
    async def listing(deps: Deps) -> list[str]:
        return [r.address for r in await list_push_registrations(deps, ACCOUNT_SID)]

    return on_database(srv.database, listing)


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b'"a string"',
        json.dumps({**GOOD, "channel_type": "sms"}).encode(),
        json.dumps({**GOOD, "data": {}}).encode(),
        json.dumps({**GOOD, "data": {"registration_id": "x" * 5000}}).encode(),
        json.dumps({**GOOD, "message_types": "all"}).encode(),
        json.dumps({**GOOD, "endpoint_platform": "nul\u0000"}).encode(),
    ],
)
def test_a_bad_registration_is_refused_and_stores_nothing(
    gateway: GatewayServer, body: bytes
) -> None:
    service = gateway.service()
    with open_session(gateway, service) as ws:
        status, error = call(ws, ERS, "POST", body)
    assert (status, error["code"]) == (400, 20001), error
    assert registrations(gateway) == []


def test_a_user_deletes_only_their_own_registrations(gateway: GatewayServer) -> None:
    service = gateway.service()
    with (
        open_session(gateway, service, "alice") as alice,
        open_session(gateway, service, "bob") as bob,
    ):
        status, created = call(alice, ERS, "POST", json.dumps(GOOD).encode())
        assert status == 201 and created["id"].startswith("BS")
        assert call(bob, f"{ERS}/{created['id']}", "DELETE", b"{}")[0] == 404
        assert call(alice, f"{ERS}/BSnot-a-sid", "DELETE", b"{}")[0] == 404
        assert registrations(gateway) == ["device-token"]
        assert call(alice, f"{ERS}/{created['id']}", "DELETE", b"{}")[0] == 200
    assert registrations(gateway) == []


def test_a_message_to_a_forged_service_or_with_a_bad_body_is_refused(
    gateway: GatewayServer,
) -> None:
    service, other = gateway.service(), gateway.service()
    base = f"/v1/Services/{service}/Channels"
    channel = gateway.http.post(base, data={"UniqueName": "input"}).json()["sid"]
    gateway.http.post(f"{base}/{channel}/Members", data={"Identity": "alice"})
    path = f"/Client/v1/Services/{{}}/Channels/{channel}/Messages"
    with open_session(gateway, service, "alice") as ws:
        assert call(ws, path.format(other), "POST", b'{"body": "hi"}')[0] == 404
        for body in (b"{bad", b"[]", b'{"body": 5}', b'{"media_sid": "MEnope"}'):
            status, error = call(ws, path.format(service), "POST", body)
            assert (status, error["code"]) in ((400, 20001), (403, 50107)), (body, error)
        status, sent = call(ws, path.format(service), "POST", b'{"body": "hi"}')
        assert (status, sent["index"]) == (201, 0)
    messages = gateway.http.get(f"{base}/{channel}/Messages").json()["messages"]
    assert [m["body"] for m in messages] == ["hi"]


def test_deleting_a_service_deletes_its_registrations_and_media(gateway: GatewayServer) -> None:
    service = gateway.service()
    token = gateway.token(service, "alice")
    with open_session(gateway, service, "alice") as ws:
        assert call(ws, ERS, "POST", json.dumps(GOOD).encode())[0] == 201
    uploaded = httpx.post(
        f"{gateway.url}/mcs/v1/Services/{service}/Media",
        headers={"X-Twilio-Token": token, "Content-Type": "text/plain"},
        content=b"bytes",
    ).json()
    assert gateway.http.delete(f"/v1/Services/{service}").status_code == 204
    assert registrations(gateway) == []

    async def media_left(deps: Deps) -> list[Any]:
        return await deps.db.run_read(
            "t", lambda txn: txn.fetchall("SELECT sid FROM media WHERE sid = $1", uploaded["sid"])
        )

    assert on_database(gateway.database, media_left) == []
