"""``X-Twilio-Mutation-Id``: a command retried with the id of one already applied is answered
with the first reply and changes nothing, in this process or another (the id is in the
database); a command that failed recorded nothing, so its retry is applied. A retry that finds
the id applied but no reply stored waits for the reply, or else answers the SDK's ``202``
pointer (``resource_url``), which the real SDK follows."""

from __future__ import annotations

import threading
import time
from urllib.parse import urlsplit

import orjson
from chat_commands_support import Session, call, connect
from client_support import GatewayServer, frame, read

from chinwag.storage import migrate
from conftest import ACCOUNT_SID, Databases

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


def _sql(gateway: GatewayServer, statement: str) -> None:
    migrate._run(gateway.database, lambda conn: conn.exec_driver_sql(statement))


def _applied_without_reply(gateway: GatewayServer, mutation_id: str, age_ms: int) -> None:
    """alice's ``mutation_id`` as a first attempt leaves it between its commit and its reply."""
    created = int(time.time() * 1000) - age_ms
    _sql(
        gateway,
        "INSERT INTO chat_mutations (account_sid, identity, mutation_id, date_created) "
        f"VALUES ('{ACCOUNT_SID}', 'alice', '{mutation_id}', {created})",
    )


def _store_reply(gateway: GatewayServer, mutation_id: str, status: int, body: str) -> None:
    _sql(
        gateway,
        f"UPDATE chat_mutations SET status = {status}, body = '{body}' "
        f"WHERE mutation_id = '{mutation_id}'",
    )


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


def test_a_retry_waits_for_the_first_attempts_reply(databases: Databases) -> None:
    with GatewayServer(databases) as gateway:
        service = gateway.service()
        channel = _joined_channel(gateway, service)
        with connect(gateway, service, "alice") as alice:
            _applied_without_reply(gateway, "in-flight", age_ms=0)
            later = threading.Timer(
                0.5, _store_reply, (gateway, "in-flight", 201, '{"sid": "IMx", "index": 7}')
            )
            later.start()
            call(alice, "mutationId", id="in-flight")
            # the real SDK's sendMessage resolves with the first attempt's index
            assert call(alice, "send", channel=channel, body="again")["index"] == 7
            later.join()
            assert _messages(gateway, service, channel) == []


def test_a_reply_lost_with_its_process_is_answered_without_a_second_change(
    databases: Databases,
) -> None:
    with GatewayServer(databases) as gateway:
        service = gateway.service()
        channel = _joined_channel(gateway, service)
        _applied_without_reply(gateway, "lost", age_ms=60_000)
        _applied_without_reply(gateway, "young", age_ms=0)
        raw = Session(gateway, service, "alice")
        try:
            path = f"/Channels/{channel}/Messages"
            status, body = raw.send("POST", path, {"body": "x"}, **{"X-Twilio-Mutation-Id": "lost"})
            assert status == 202
            url = urlsplit(body["resource_url"])
            assert url.path == f"{raw.base}/Mutations/lost"
            assert raw.send("GET", "/Mutations/lost") == (200, {})
            status, body = raw.send("GET", "/Mutations/young")  # may still come: ask again
            assert (status, body["code"]) == (503, 20503)
            assert raw.send("GET", "/Mutations/unknown")[0] == 404
            bob = Session(gateway, service, "bob")  # ids are per identity
            try:
                assert bob.send("GET", "/Mutations/lost")[0] == 404
            finally:
                bob.close()
        finally:
            raw.close()
        with connect(gateway, service, "alice") as alice:
            # the real SDK follows the 202 and resolves; no second message is made
            call(alice, "mutationId", id="lost")
            call(alice, "send", channel=channel, body="again")
        assert _messages(gateway, service, channel) == []
