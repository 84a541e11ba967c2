"""``X-Twilio-Mutation-Id``: a command retried with the id of one already applied is answered
with the first reply and changes nothing, in this process or another (the id is in the
database); a command that failed recorded nothing, so its retry is applied."""

from __future__ import annotations

from chat_commands_support import Session
from client_support import GatewayServer

from conftest import Databases

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
