"""Bad input to the chat command API through a raw Twilsock connection: each request gets the
Twilio error REST would send in ``http_status`` and the body, and nothing changes."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest
from chat_commands_support import Session
from client_support import GatewayServer

from conftest import Databases

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def gateway(databases: Databases) -> Iterator[GatewayServer]:
    with GatewayServer(databases) as srv:
        yield srv


@pytest.fixture
def alice(gateway: GatewayServer) -> Iterator[Session]:
    service = gateway.service()
    session = Session(gateway, service, "alice")
    yield session
    session.close()


def _channels(gateway: GatewayServer, base: str) -> list[str]:
    service = base.rsplit("/", 1)[1]
    return [
        c["sid"] for c in gateway.http.get(f"/v1/Services/{service}/Channels").json()["channels"]
    ]


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"{not json", 20001),
        (b"[1, 2]", 20001),
        (b'"text"', 20001),
        (b'{"type": "secret"}', 20001),
        (b'{"friendly_name": 5}', 20001),
        (b'{"attributes": "{not json"}', 50304),
        (b'{"unique_name": "CH0123456789abcdef0123456789abcdef"}', 50306),
    ],
)
def test_a_bad_create_changes_nothing(
    gateway: GatewayServer, alice: Session, raw: bytes, code: int
) -> None:
    status, body = alice.send("POST", "/Channels", raw=raw)
    assert status == 400 and body["code"] == code, body
    assert _channels(gateway, alice.base) == []


def test_unknown_paths_and_methods_are_404(alice: Session) -> None:
    for method, path in [
        ("GET", "/Nothing"),
        ("PUT", "/Channels"),
        ("GET", "/Channels/CH00000000000000000000000000000000/Whatever"),
        ("GET", "/Channels/nosuch"),
    ]:
        status, body = alice.send(method, path)
        assert (status, body["status"]) == (404, 404), (method, path, body)


def test_forged_identities_and_services_change_nothing(
    gateway: GatewayServer, alice: Session
) -> None:
    status, body = alice.send("POST", "/Channels", {"unique_name": "general"})
    assert status == 201
    channel = body["sid"]
    assert alice.send("POST", f"/Channels/{channel}/Participants", {"identity": "alice"})[0] == 201
    bob = Session(gateway, alice.base.rsplit("/", 1)[1], "bob")
    try:
        bob.send("POST", "/Users/bob", {"friendly_name": "Bob"})
        # alice may not speak for bob: his user, his read horizon, his channel list
        assert alice.send("POST", "/Users/bob", {"friendly_name": "Evil"})[0] == 403
        assert alice.send("GET", "/Users/bob/Channels")[0] == 403
        assert alice.send("POST", f"/Users/bob/Channels/{channel}", {})[0] == 403
        messages = f"/Channels/{channel}/Messages"
        assert alice.send("POST", messages, {"body": "x"})[0] == 201
        message = gateway.http.get(f"/v1/Services/{alice.base.rsplit('/', 1)[1]}{messages}")
        sid = message.json()["messages"][0]["sid"]
        assert bob.send("POST", f"{messages}/{sid}", {"body": "edited"})[0] == 403
        # another service than the token's is not there
        other = gateway.service()
        forged = f"/Client/v1/Services/{other}/Channels"
        bob.base = ""
        assert bob.send("POST", forged, {"unique_name": "x"})[0] == 404
        assert gateway.http.get(f"/v1/Services/{other}/Channels").json()["channels"] == []
    finally:
        bob.close()
    service = alice.base.rsplit("/", 1)[1]
    assert gateway.http.get(f"/v1/Services/{service}/Users/bob").json()["friendly_name"] == "Bob"


def test_identities_are_accepted_raw_or_encoded(gateway: GatewayServer) -> None:
    service = gateway.service()
    identity = "ann smith@example.com"
    session = Session(gateway, service, identity)
    try:
        for path in (f"/Users/{identity}", f"/Users/{quote(identity, safe='')}"):
            status, body = session.send("GET", path)
            assert (status, body["identity"]) == (200, identity)
    finally:
        session.close()


def test_wrong_types_in_commands_are_400(alice: Session) -> None:
    status, body = alice.send("POST", "/Channels", {"unique_name": "general"})
    channel = body["sid"]
    alice.send("POST", f"/Channels/{channel}/Participants", {"identity": "alice"})
    for path, sent in [
        (f"/Channels/{channel}/Participants", {}),
        (f"/Channels/{channel}/Participants", {"identity": 7}),
        (f"/Channels/{channel}/Messages", {"body": ["x"]}),
        (f"/Users/alice/Channels/{channel}", {"last_consumed_message_index": "3"}),
        (f"/Users/alice/Channels/{channel}", {"last_consumed_message_index": True}),
        (f"/Users/alice/Channels/{channel}", {"notification_level": "loud"}),
    ]:
        status, body = alice.send("POST", path, sent)
        assert (status, body["status"]) == (400, 400), (path, sent, body)
