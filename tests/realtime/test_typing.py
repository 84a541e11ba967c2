"""Typing indicators between real ``twilio-chat`` clients (client-protocol 4.1).

The typist's ``channel.typing()`` reaches the other members as ``typingStarted`` then
``typingEnded`` after the service's ``typing_indicator_timeout``; the typist sees nothing of
its own; a non-member is refused. Typing across processes (through Redis) is tested with
reachability, in ``test_reachability.py``.
"""

from __future__ import annotations

import orjson
import pytest
from client_support import GatewayServer, NodeClient, frame, read, upstream
from websockets.sync.client import connect

from conftest import Databases

pytestmark = [pytest.mark.server, pytest.mark.sdk]


def _typing_events(client: NodeClient, seconds: float) -> list[str]:
    return [
        e["event"]
        for e in client.drain(seconds)
        if e.get("event") in ("typingStarted", "typingEnded")
    ]


def test_the_other_member_sees_typing_and_the_typist_does_not(databases: Databases) -> None:
    with GatewayServer(databases) as gateway:
        service = gateway.service()
        gateway.http.post(f"/v1/Services/{service}", data={"TypingIndicatorTimeout": "2"})
        channel = gateway.http.post(f"/v1/Services/{service}/Channels").json()["sid"]
        base = f"/v1/Services/{service}/Channels/{channel}"
        with (
            NodeClient("chat_sync.js", gateway.ws, gateway.token(service, "alice")) as alice,
            NodeClient("chat_sync.js", gateway.ws, gateway.token(service, "bob")) as bob,
        ):
            for identity, client in (("alice", alice), ("bob", bob)):
                client.wait_for("initialized", timeout=30)
                gateway.http.post(f"{base}/Members", data={"Identity": identity})
                client.wait_for("channelJoined", timeout=20)
                client.request("ready", "", "ready", channel=channel)
            alice.wait_for(lambda e: e.get("event") == "memberJoined" and e["identity"] == "bob")

            assert alice.request("typing", "", "t1", channel=channel)["event"] == "typing"
            note = bob.wait_for("notification")
            assert note["type"] == "twilio.ipmsg.typing_indicator"
            assert note["payload"] == {
                "channel_sid": channel,
                "identity": "alice",
                "typing_timeout": 2,
            }
            started = bob.wait_for("typingStarted")
            assert (started["channel"], started["identity"]) == (channel, "alice")
            bob.wait_for("typingEnded", timeout=5)  # after the service's 2 s
            assert _typing_events(alice, 0.5) == []
            assert not [e for e in alice.events if e.get("event") == "notification"]


def test_a_non_member_may_not_type_and_bad_input_is_refused(databases: Databases) -> None:
    with GatewayServer(databases) as gateway:
        service = gateway.service()
        channel = gateway.http.post(f"/v1/Services/{service}/Channels").json()["sid"]
        with connect(gateway.ws) as ws:
            ws.send(frame("init", "TM0", token=gateway.token(service, "eve")))
            assert read(ws.recv()).header["status"]["code"] == 200
            path = f"/Client/v1/Services/{service}/Typing"
            cases = {
                f"ChannelSid={channel}".encode(): (403, 50400),
                b"ChannelSid=CH00000000000000000000000000000000": (404, 20404),
                b"": (400, 20001),
                b"\xff\xfe": (400, 20001),
            }
            for i, (body, (status, code)) in enumerate(cases.items()):
                ws.send(upstream(path, f"TM{i + 1}", "POST", body))
                reply = read(ws.recv())
                assert reply.header["http_status"]["code"] == status, (body, reply.payload)
                assert orjson.loads(reply.payload)["code"] == code
            other = "IS" + "0" * 32
            ws.send(upstream(f"/Client/v1/Services/{other}/Typing", "TM9", "POST", b"x=1"))
            assert read(ws.recv()).header["http_status"]["code"] == 404


def test_the_server_throttles_repeated_typing(databases: Databases) -> None:
    """Two calls within ``typing_throttle`` (1 s by default) are both answered, and the other
    member's connection is notified once."""
    with GatewayServer(databases) as gateway:
        service = gateway.service()
        channel = gateway.http.post(f"/v1/Services/{service}/Channels").json()["sid"]
        for identity in ("ann", "bob"):
            gateway.http.post(
                f"/v1/Services/{service}/Channels/{channel}/Members", data={"Identity": identity}
            )
        registrations = [{"message_types": ["twilio.ipmsg.typing_indicator"]}]
        with connect(gateway.ws) as ann, connect(gateway.ws) as bob:
            for ws, identity in ((ann, "ann"), (bob, "bob")):
                token = gateway.token(service, identity)
                ws.send(frame("init", "TM0", token=token, registrations=registrations))
                assert read(ws.recv()).header["status"]["code"] == 200
            path = f"/Client/v1/Services/{service}/Typing"
            for i in (1, 2):
                ann.send(upstream(path, f"TM{i}", "POST", f"ChannelSid={channel}".encode()))
                reply = read(ann.recv())
                assert orjson.loads(reply.payload) == {"typing_timeout": 5}
            notes = [read(bob.recv(timeout=5))]
            with pytest.raises(TimeoutError):
                notes.append(read(bob.recv(timeout=0.5)))
            assert notes[0].header["message_type"] == "twilio.ipmsg.typing_indicator"
            assert orjson.loads(notes[0].payload)["identity"] == "ann"
