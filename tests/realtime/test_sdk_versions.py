"""The same chat with every supported ``twilio-chat``: 3.4.0, 4.1.0, 5.0.2 and 6.0.0.

One script drives them all (``tests/client/sdk_chat.js``); the server tells their protocols
apart by what each sends (docs/client-versions.md). Two users chat in a public and a private
channel, with invites, edits, typing, history, read horizons, media, refused commands, a
dropped connection and bad tokens. Each command also shows *read your own writes*: the
client's own events have fired before the command's promise resolves.
"""

from __future__ import annotations

import base64
import contextlib
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sdk_versions_support import (
    SDKS,
    SdkClient,
    VersionsGateway,
    call,
    connect,
    during,
    refused,
    seen,
)
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import ChatGrant

from conftest import ACCOUNT_SID, Databases

pytestmark = [pytest.mark.server, pytest.mark.sdk]

VERSIONS = list(SDKS)
PNG = bytes(range(256)) * 8  # 2 KiB, every byte value
#: messages sent at once by REST in the burst test
BURST = 40


@pytest.fixture(scope="module")
def gateway(databases: Databases) -> Iterator[VersionsGateway]:
    with VersionsGateway(databases) as srv:
        yield srv


def _service(gateway: VersionsGateway) -> str:
    """A service whose channel roles may send media, with reachability on."""
    service = gateway.service()
    gateway.http.post(f"/v1/Services/{service}", data={"ReachabilityEnabled": "true"})
    for role in gateway.http.get(f"/v1/Services/{service}/Roles").json()["roles"]:
        if role["type"] == "channel":
            granted = [*role["permissions"], "sendMediaMessage"]
            url = f"/v1/Services/{service}/Roles/{role['sid']}"
            assert gateway.http.post(url, data={"Permission": granted}).status_code == 200
    return service


def _notifiable(gateway: VersionsGateway, user: str, expected: bool) -> None:
    """The SDKs do not wait for ERS to answer: poll what REST says."""
    deadline = time.monotonic() + 20
    while gateway.http.get(user).json()["is_notifiable"] is not expected:
        assert time.monotonic() < deadline, f"is_notifiable never became {expected}"
        time.sleep(0.2)


@pytest.mark.parametrize("version", VERSIONS)
def test_two_users_chat(gateway: VersionsGateway, version: str) -> None:
    service = _service(gateway)
    rest = f"/v1/Services/{service}"
    with (
        connect(gateway, version, service, "alice") as alice,
        connect(gateway, version, service, "bob") as bob,
    ):
        # a public channel: joining resolves with the channel joined, channelJoined fired
        created = call(alice, "createChannel", options={"uniqueName": "general"})
        general = created["channel"]
        joined = call(alice, "join", channel=general)
        assert joined["status"] == "joined"
        during(alice, joined, "channelJoined", channel=general)
        call(alice, "open", channel=general)
        assert call(bob, "getChannel", key="general")["channel"] == general
        joined = call(bob, "join", channel=general)
        assert joined["status"] == "joined"
        during(bob, joined, "channelJoined", channel=general)
        seen(alice, "memberJoined", channel=general, identity="bob")
        assert call(bob, "open", channel=general)["members"] == ["alice", "bob"]
        assert call(bob, "channelUsers", channel=general)["identities"] == ["alice", "bob"]
        [public] = call(bob, "publicChannels")["channels"]
        assert (public["sid"], public["uniqueName"], public["membersCount"]) == (
            general,
            "general",
            2,
        )

        # messages and edits: the sender sees its own message before sendMessage resolves
        sent = call(alice, "send", channel=general, body="helo bob", attributes={"n": 1})
        assert sent["index"] == 0
        during(alice, sent, "messageAdded", index=0, body="helo bob")
        added = seen(bob, "messageAdded", index=0)
        assert (added["body"], added["author"], added["attributes"]) == (
            "helo bob",
            "alice",
            {"n": 1},
        )
        edited = call(alice, "updateMessage", channel=general, index=0, body="hello bob")
        during(alice, edited, "messageUpdated", index=0, body="hello bob")
        seen(bob, "messageUpdated", index=0, body="hello bob")
        for n in range(1, 5):
            call(alice, "send", channel=general, body=f"m{n}")
        seen(bob, "messageAdded", index=4)
        history = call(bob, "history", channel=general, pageSize=2)
        assert history["back"] == [[3, 4], [1, 2], [0]]
        assert history["forward"] == [[0, 1], [2, 3], [4]]
        removed = call(alice, "removeMessage", channel=general, index=4)
        during(alice, removed, "messageRemoved", index=4)
        seen(bob, "messageRemoved", index=4)

        # typing reaches the other member only
        call(alice, "typing", channel=general)
        seen(bob, "typingStarted", channel=general, identity="alice")

        # the read horizon: the unread count, the other member's roster, the counts
        horizon = call(bob, "horizon", channel=general, how="advance", index=1)
        assert horizon["unread"] == 2
        seen(alice, "memberUpdated", identity="bob", lastConsumedMessageIndex=1)
        counts = call(bob, "counts", channel=general)
        assert (counts["members"], counts["messages"], counts["unread"]) == (2, 4, 2)
        members = gateway.http.get(f"{rest}/Channels/{general}/Members?Identity=bob").json()
        assert members["members"][0]["last_consumed_message_index"] == 1

        # users: a change of name reaches whoever follows the user
        assert call(bob, "getUser", identity="alice")["friendlyName"] is None
        call(alice, "updateUser", friendlyName="Alice A.")
        seen(bob, "userUpdated", identity="alice", friendlyName="Alice A.")

        # a private channel: invite, join, remove, add back; the adder sees memberJoined
        secret = call(alice, "createChannel", options={"isPrivate": True})["channel"]
        call(alice, "join", channel=secret)
        call(alice, "open", channel=secret)
        call(alice, "invite", channel=secret, identity="bob")
        seen(bob, "channelInvited", channel=secret, status="invited")
        assert gateway.http.get(f"{rest}/Channels/{secret}/Invites").json()["invites"]
        call(bob, "join", channel=secret)
        seen(alice, "memberJoined", channel=secret, identity="bob")
        removal = call(alice, "removeMember", channel=secret, identity="bob")
        during(alice, removal, "memberLeft", channel=secret, identity="bob")
        seen(bob, "channelLeft", channel=secret)
        adding = call(alice, "add", channel=secret, identity="bob")
        during(alice, adding, "memberJoined", channel=secret, identity="bob")
        seen(bob, "channelJoined", channel=secret)

        # roles refuse what a channel user may not do, and nothing changes
        refused(bob, "removeMember", 403, channel=secret, identity="alice")
        refused(bob, "deleteChannel", 403, channel=secret)
        refused(bob, "notificationLevel", 403, channel=secret, level="muted")
        assert gateway.http.get(f"{rest}/Channels/{secret}").status_code == 200

        # an invitation declined; a channel deleted
        other = call(alice, "createChannel", options={"isPrivate": True})["channel"]
        call(alice, "join", channel=other)
        call(alice, "invite", channel=other, identity="bob")
        seen(bob, "channelInvited", channel=other)
        declined = call(bob, "decline", channel=other)
        during(bob, declined, "channelLeft", channel=other)
        deleted = call(alice, "deleteChannel", channel=other)
        during(alice, deleted, "channelRemoved", channel=other)
        assert gateway.http.get(f"{rest}/Channels/{other}").status_code == 404

        # media over HTTPS, received as a media message and downloaded
        media = call(
            alice,
            "sendMedia",
            channel=general,
            contentType="image/png",
            base64=base64.b64encode(PNG).decode(),
        )
        got = seen(bob, "messageAdded", index=media["index"])
        assert (got["type"], got["media"]["contentType"]) == ("media", "image/png")
        download = call(bob, "download", channel=general, index=media["index"])
        assert download["status"] == 200 and base64.b64decode(download["base64"]) == PNG

        # a push registration makes the user notifiable, its removal no longer
        call(alice, "push", type="fcm", token="device-1")
        _notifiable(gateway, f"{rest}/Users/alice", True)
        call(alice, "unpush", type="fcm")
        _notifiable(gateway, f"{rest}/Users/alice", False)

        # leaving resolves with the channel left
        left = call(bob, "leave", channel=general)
        assert left["status"] == "notParticipating"
        during(bob, left, "channelLeft", channel=general)
        seen(alice, "memberLeft", channel=general, identity="bob")

    # another device of alice's starts with her channels (the SDKs cache these reads: a
    # fresh client reads them anew)
    with connect(gateway, version, service, "alice") as again:
        mine = sorted((c["sid"], c["status"]) for c in call(again, "myChannels")["channels"])
        assert mine == sorted([(general, "joined"), (secret, "joined")])
        subscribed = call(again, "subscribed")["channels"]
        assert sorted((c["sid"], c["status"]) for c in subscribed) == mine


@contextlib.contextmanager
def _both_in_channel(
    gateway: VersionsGateway, version: str, name: str
) -> Iterator[tuple[str, str, SdkClient, SdkClient]]:
    """A new service where alice and bob have joined and opened channel ``name``: the service,
    the channel and the two clients."""
    service = _service(gateway)
    with (
        connect(gateway, version, service, "alice") as alice,
        connect(gateway, version, service, "bob") as bob,
    ):
        channel = call(alice, "createChannel", options={"uniqueName": name})["channel"]
        for client in (alice, bob):
            call(client, "join", channel=channel)
            call(client, "open", channel=channel)
        yield service, channel, alice, bob


@pytest.mark.parametrize("version", VERSIONS)
def test_a_dropped_connection_replays_what_it_missed(
    gateway: VersionsGateway, version: str
) -> None:
    with _both_in_channel(gateway, version, "replay") as (_, channel, alice, bob):
        call(bob, "drop")
        seen(bob, "connectionStateChanged", state="connecting")
        for n in range(3):
            call(alice, "send", channel=channel, body=f"while away {n}")
        got = [seen(bob, "messageAdded", index=n)["body"] for n in range(3)]
        assert got == [f"while away {n}" for n in range(3)]
        states = [e["state"] for e in bob.events if e.get("event") == "connectionStateChanged"]
        assert states[-1] == "connected"
        sent = call(bob, "send", channel=channel, body="back")
        during(bob, sent, "messageAdded", body="back")


def _events_joined(gateway: VersionsGateway) -> float:
    """Live events the server sent inside an earlier event's notification, so far."""
    for line in gateway.metrics().splitlines():
        if line.startswith("chinwag_gateway_events_joined_total "):
            return float(line.split()[1])
    raise AssertionError("chinwag_gateway_events_joined_total is not exported")


@pytest.mark.parametrize("version", VERSIONS)
def test_a_burst_of_messages_arrives_whole_and_in_order(
    gateway: VersionsGateway, version: str
) -> None:
    """Messages created faster than a client is written to: twilio-chat 6 gets several events
    in one notification (``events``) and must see each once, in order; the older SDKs, which
    read one event per notification, never get such a batch."""
    with _both_in_channel(gateway, version, "burst") as (service, channel, alice, bob):
        joined_before = _events_joined(gateway)
        url = f"/v1/Services/{service}/Channels/{channel}/Messages"

        def send(n: int) -> int:
            return gateway.http.post(url, data={"Body": f"b{n}", "From": "alice"}).status_code

        with ThreadPoolExecutor(8) as pool:
            assert list(pool.map(send, range(BURST))) == [201] * BURST
        for client in (alice, bob):
            seen(client, "messageAdded", index=BURST - 1)
            added = [e["index"] for e in client.events if e.get("event") == "messageAdded"]
            assert added == list(range(BURST))
            seen(client, "channelUpdated", channel=channel, lastMessage=BURST - 1)
        joined = _events_joined(gateway) - joined_before
        if version == "6.0.0":
            assert joined > 0, "no two events were ever sent in one notification"
        else:
            assert joined == 0


def _token(
    gateway: VersionsGateway, service: str, *, secret: str | None = None, ttl: int = 600
) -> str:
    """A token as twilio-python makes it, signed with another secret or already expired."""
    key = gateway.key
    token = AccessToken(ACCOUNT_SID, key.sid, secret or key.secret, identity="alice", ttl=ttl)
    token.add_grant(ChatGrant(service_sid=service))
    if ttl < 0:
        token.nbf = int(time.time()) + ttl - 60
    return str(token.to_jwt())


@pytest.mark.parametrize("version", VERSIONS)
def test_bad_and_expired_tokens_are_refused(gateway: VersionsGateway, version: str) -> None:
    service = gateway.service()
    wrong = "another secret of 32 characters!"
    with SdkClient(version, gateway.ws, _token(gateway, service, secret=wrong)) as client:
        seen(client, "connectionStateChanged", state="denied")
        assert seen(client, "connectionError")["errorCode"] == 20107
    with SdkClient(version, gateway.ws, _token(gateway, service, ttl=-60)) as client:
        seen(client, "tokenExpired")
        seen(client, "connectionStateChanged", state="denied")
