"""``X-Twilio-Mutation-Id``: a command retried with the id of one already applied is answered
with the first reply and changes nothing, in this process or another (the id and the reply are
in the database, written with the change); a command that failed recorded nothing, so its
retry is applied. Ids are scoped by account, service and identity."""

from __future__ import annotations

import orjson
import pytest
from chat_commands_support import Session, call, connect
from client_support import GatewayServer, frame, read

from conftest import Databases

pytestmark = [pytest.mark.server, pytest.mark.sdk]

ID = "6f1c1b0e-4a2f-4c8e-9b1e-2d3c4b5a6978"


def _messages(gateway: GatewayServer, service: str, channel: str) -> list[str]:
    path = f"/v1/Services/{service}/Channels/{channel}/Messages"
    return [m["body"] for m in gateway.http.get(path).json()["messages"]]


def test_a_retried_mutation_is_applied_once(databases: Databases) -> None:
    with GatewayServer(databases) as gateway:
        service = gateway.service()
        alice = Session(gateway, service, "alice")
        bob = Session(gateway, service, "bob")
        try:
            created = alice.send("POST", "/Channels", {"unique_name": "g"})
            channel = created[1]["sid"]
            # without a mutation id, a second create is a second command: a conflict
            assert alice.send("POST", "/Channels", {"unique_name": "g"})[0] == 409
            for who in (alice, bob):
                who.send("POST", f"/Channels/{channel}/Participants", {"identity": who.identity})

            path = f"/Channels/{channel}/Messages"
            first = alice.send("POST", path, {"body": "once"}, **{"X-Twilio-Mutation-Id": ID})
            again = alice.send("POST", path, {"body": "once"}, **{"X-Twilio-Mutation-Id": ID})
            assert first == again and first[0] == 201 and first[1]["index"] == 0
            assert _messages(gateway, service, channel) == ["once"]

            # a second connection (as after a reconnect) is answered the same
            later = Session(gateway, service, "alice")
            try:
                assert (
                    later.send("POST", path, {"body": "once"}, **{"X-Twilio-Mutation-Id": ID})
                    == first
                )
            finally:
                later.close()
            # the id is alice's: bob's command with the same id is his own
            bobs = bob.send("POST", path, {"body": "bob's"}, **{"X-Twilio-Mutation-Id": ID})
            assert bobs[1]["index"] == 1
            assert _messages(gateway, service, channel) == ["once", "bob's"]

            # a refused command recorded nothing: its retry, once allowed, is applied
            failing = {"X-Twilio-Mutation-Id": "retry-after-failure"}
            assert alice.send("POST", path, {"body": "x" * 40000}, **failing)[0] == 400
            assert alice.send("POST", path, {"body": "fits"}, **failing)[0] == 201
            assert _messages(gateway, service, channel) == ["once", "bob's", "fits"]
        finally:
            alice.close()
            bob.close()


def _joined_channel(gateway: GatewayServer, service: str) -> str:
    channel: str = gateway.http.post(f"/v1/Services/{service}/Channels").json()["sid"]
    path = f"/v1/Services/{service}/Channels/{channel}/Members"
    assert gateway.http.post(path, data={"Identity": "alice"}).status_code == 201
    return channel


def test_concurrent_attempts_of_one_mutation_apply_once_and_answer_alike(
    databases: Databases,
) -> None:
    with GatewayServer(databases) as gateway:
        service = gateway.service()
        channel = _joined_channel(gateway, service)
        sessions = [Session(gateway, service, "alice") for _ in range(4)]
        try:
            http = {
                "host": "aim.test",
                "path": f"{sessions[0].base}/Channels/{channel}/Messages",
                "method": "POST",
                "params": {},
                "headers": {"X-Twilio-Mutation-Id": ID},
            }
            for s in sessions:  # every attempt is in flight before any answer is read
                s.ws.send(frame("message", "TMrace", b'{"body": "once"}', http_request=http))
            replies = [read(s.ws.recv(timeout=15)) for s in sessions]
            answers = {(r.header["http_status"]["code"], r.payload) for r in replies}
            assert len(answers) == 1, answers
            [(status, body)] = answers
            assert status == 201 and orjson.loads(body)["index"] == 0
            assert _messages(gateway, service, channel) == ["once"]
        finally:
            for s in sessions:
                s.close()


def test_the_sdk_retrying_an_applied_mutation_gets_its_first_reply(databases: Databases) -> None:
    with GatewayServer(databases) as gateway:
        service = gateway.service()
        channel = _joined_channel(gateway, service)
        raw = Session(gateway, service, "alice")
        try:
            path = f"/Channels/{channel}/Messages"
            first = raw.send("POST", path, {"body": "first"}, **{"X-Twilio-Mutation-Id": ID})
            assert first[0] == 201 and first[1]["index"] == 0
        finally:
            raw.close()
        with connect(gateway, service, "alice") as alice:
            call(alice, "mutationId", id=ID)
            # the real SDK's sendMessage resolves with the first attempt's index
            assert call(alice, "send", channel=channel, body="again")["index"] == 0
        assert _messages(gateway, service, channel) == ["first"]


def test_mutation_ids_are_scoped_by_service(databases: Databases) -> None:
    """alice in service B sending an id alice used in service A is a command of its own: it is
    applied, and A's reply is neither answered nor readable there."""
    with GatewayServer(databases) as gateway:
        replies = []
        for _ in range(2):
            service = gateway.service()
            channel = _joined_channel(gateway, service)
            alice = Session(gateway, service, "alice")
            try:
                path = f"/Channels/{channel}/Messages"
                body = {"body": f"in {service}"}
                replies.append(alice.send("POST", path, body, **{"X-Twilio-Mutation-Id": ID}))
                # no route reads a stored reply by its id
                assert alice.send("GET", f"/Mutations/{ID}")[0] == 404
            finally:
                alice.close()
            assert _messages(gateway, service, channel) == [f"in {service}"]
        (status_a, body_a), (status_b, body_b) = replies
        assert status_a == status_b == 201 and body_a["sid"] != body_b["sid"]
