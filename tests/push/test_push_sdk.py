"""Push notifications end to end: the real twilio-chat 6.0.0 SDK registers devices
(``client.setPushRegistrationId``) with access tokens naming a push credential, a running
server sends to the fake FCM and APNs (TLS, HTTP/2, the OAuth2 token endpoint, client
certificates), and the SDK's own ``Client.parsePushNotification`` reads every payload.

SQLite by default; PostgreSQL when ``CHINWAG_TEST_DATABASE_URL`` is set.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from push_support import sdk_parse
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import ChatGrant
from twilio.rest import Client

from chinwag.app import create_app
from chinwag.config import Settings
from chinwag.model.records import ApiKey
from chinwag.testing import ThreadedServer
from chinwag.testing.fake_apns import ApnsPush, FakeApns
from chinwag.testing.fake_fcm import FakeFcm, FcmMessage
from chinwag.testing.plugin import PushCA
from conftest import ACCOUNT_SID, AUTH_TOKEN, Databases
from realtime.client_support import NodeClient, create_key, ws_url

pytestmark = [pytest.mark.server, pytest.mark.sdk]

APN_CAROL = "ca" * 32
NEW, ADDED, INVITED, REMOVED = (
    f"twilio.channel.{kind}"
    for kind in ("new_message", "added_to_channel", "invited_to_channel", "removed_from_channel")
)


@dataclass
class Chat:
    """A server with push on, pointed at the fakes; a Service with an FCM and an APNs
    credential, channel ``general`` with alice ("Alice"), bob, carol and dave."""

    databases: Databases
    fcm: FakeFcm
    apns: FakeApns
    ca_file: str
    database: str = ""
    key: ApiKey | None = None
    servers: list[ThreadedServer] = field(default_factory=list)
    clients: list[NodeClient] = field(default_factory=list)
    service: str = ""
    channel: str = ""
    fcm_credential: str = ""
    apn_credential: str = ""

    def start(self) -> ThreadedServer:
        """One more server on the world's database (another process, as far as the database
        and the push outbox can tell)."""
        settings = Settings(
            database=self.database,
            account_sid=ACCOUNT_SID,
            auth_token=AUTH_TOKEN,
            push_fcm_url=self.fcm.url,
            push_apns_url=self.apns.url,
            push_ca_file=self.ca_file,
        )
        server = ThreadedServer(create_app(settings)).start()
        self.servers.append(server)
        return server

    @property
    def url(self) -> str:
        return self.servers[-1].url

    def http(self, method: str, path: str, expect: int, **data: Any) -> Any:
        response = httpx.request(
            method, self.url + path, data=data or None, auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=30
        )
        assert response.status_code == expect, response.text
        return response.json() if response.content else None

    @property
    def twilio(self) -> Client:
        client = Client(ACCOUNT_SID, AUTH_TOKEN)
        client.chat.base_url = self.url
        return client

    def token(self, identity: str, credential: str) -> str:
        assert self.key is not None
        token = AccessToken(ACCOUNT_SID, self.key.sid, self.key.secret, identity=identity)
        token.add_grant(ChatGrant(service_sid=self.service, push_credential_sid=credential))
        return str(token.to_jwt())

    def device(self, identity: str, channel_type: str, address: str) -> NodeClient:
        """``identity`` connects with the SDK and registers ``address``; returns its client
        once the Binding exists."""
        credential = self.apn_credential if channel_type == "apn" else self.fcm_credential
        client = NodeClient(
            "chat_push_media.js", ws_url(self.url), self.token(identity, credential)
        )
        self.clients.append(client)
        client.wait_for("initialized", timeout=30)
        assert (
            client.request("push", "", f"push-{address}", type=channel_type, token=address)["event"]
            == "push"
        )
        self.wait(lambda: identity in self.bindings())  # the SDK does not wait for it
        return client

    def bindings(self) -> dict[str, tuple[str, str | None]]:
        """identity -> (binding type, credential SID), from v2's Bindings."""
        found = self.twilio.chat.v2.services(self.service).bindings.list()
        return {b.identity: (b.binding_type, b.credential_sid) for b in found}

    def notify(self, **settings: str) -> None:
        """``POST /v1/Services/{IS}`` with ``Notifications.<settings>``."""
        form = {f"Notifications.{k.replace('_', '.')}": v for k, v in settings.items()}
        self.http("POST", f"/v1/Services/{self.service}", 200, **form)

    def grant(self, permission: str) -> None:
        """Give the service's ``channel user`` role ``permission`` too (v1's defaults lack
        some the SDK uses)."""
        roles = self.http("GET", f"/v1/Services/{self.service}/Roles", 200)["roles"]
        [role] = [r for r in roles if r["friendly_name"] == "channel user"]
        path = f"/v1/Services/{self.service}/Roles/{role['sid']}"
        response = httpx.post(
            self.url + path,
            data={"Permission": [*role["permissions"], permission]},
            auth=(ACCOUNT_SID, AUTH_TOKEN),
        )
        assert response.status_code == 200, response.text

    def send(self, author: str, body: str) -> dict[str, Any]:
        path = f"/v1/Services/{self.service}/Channels/{self.channel}/Messages"
        result: dict[str, Any] = self.http("POST", path, 201, From=author, Body=body)
        return result

    @staticmethod
    def wait(condition: Callable[[], object], timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, "timed out"
            time.sleep(0.1)

    def stop(self) -> None:
        for client in self.clients:
            client.close()
        for server in self.servers:
            server.stop()


@pytest.fixture
def chat(
    databases: Databases, fake_fcm: FakeFcm, fake_apns: FakeApns, push_ca: PushCA
) -> Iterator[Chat]:
    with _chat(databases, fake_fcm, fake_apns, push_ca.file) as world:
        yield world


@contextmanager
def _chat(databases: Databases, fcm: FakeFcm, apns: FakeApns, ca_file: str) -> Iterator[Chat]:
    world = Chat(databases, fcm, apns, ca_file, database=databases.new())
    world.key = create_key(world.database, ACCOUNT_SID)
    world.start()
    try:
        world.service = world.http("POST", "/v1/Services", 201, FriendlyName="push")["sid"]
        s = f"/v1/Services/{world.service}"
        world.fcm_credential = world.http(
            "POST", "/v1/Credentials", 201, Type="fcm", Secret=fcm.service_account().json
        )["sid"]
        cert = apns.client_certificate("com.example.chat")
        world.apn_credential = world.http(
            "POST",
            "/v1/Credentials",
            201,
            Type="apn",
            Certificate=cert.certificate,
            PrivateKey=cert.private_key,
        )["sid"]
        world.http("POST", f"{s}/Users", 201, Identity="alice", FriendlyName="Alice")
        world.channel = world.http(
            "POST", f"{s}/Channels", 201, UniqueName="general", FriendlyName="General chat"
        )["sid"]
        for identity in ("alice", "bob", "carol", "dave"):
            world.http("POST", f"{s}/Channels/{world.channel}/Members", 201, Identity=identity)
        yield world
    finally:
        world.stop()


def parsed_fcm(messages: list[FcmMessage]) -> list[dict[str, Any]]:
    return sdk_parse([{"data": m.data} for m in messages])


def parsed_apns(pushes: list[ApnsPush]) -> list[dict[str, Any]]:
    return sdk_parse([p.payload for p in pushes])


def test_every_event_reaches_the_registered_devices_and_the_sdk_reads_it(chat: Chat) -> None:
    chat.notify(
        NewMessage_Enabled="true",
        NewMessage_Sound="ding.caf",
        NewMessage_BadgeCountEnabled="true",
        AddedToChannel_Enabled="true",
        AddedToChannel_Template="${USER} put you in ${CHANNEL_FRIENDLY_NAME}",
        InvitedToChannel_Enabled="true",
        RemovedFromChannel_Enabled="true",
        RemovedFromChannel_Template="out of ${CHANNEL_SID} (${USER_IDENTITY})",
    )
    chat.device("alice", "fcm", "fcm-alice")
    chat.device("bob", "fcm", "fcm-bob")
    chat.device("carol", "apn", APN_CAROL)
    dave = chat.device("dave", "fcm", "fcm-dave")
    chat.grant("editNotificationLevel")
    joined = dave.wait_for("channelJoined", timeout=20)
    muted = dave.request("mute", "", "mute", channel=joined["channel"])
    assert muted["event"] == "mute", muted
    assert chat.bindings() == {
        "alice": ("fcm", chat.fcm_credential),
        "bob": ("fcm", chat.fcm_credential),
        "carol": ("apn", chat.apn_credential),
        "dave": ("fcm", chat.fcm_credential),
    }

    message = chat.send("alice", "hello phones")
    [bob] = chat.fcm.wait_for(1, token="fcm-bob")
    [carol] = chat.apns.wait_for(1, token=APN_CAROL)
    assert carol.topic == "com.example.chat" and carol.auth == "certificate"
    assert carol.headers["apns-push-type"] == "alert"
    [from_fcm] = parsed_fcm([bob])
    [from_apns] = parsed_apns([carol])
    for got in (from_fcm, from_apns):
        assert got["type"] == NEW
        assert got["body"] == "general;Alice: hello phones"
        assert got["sound"] == "ding.caf"
        assert got["data"] == {
            "channelSid": chat.channel,
            "messageSid": message["sid"],
            "messageIndex": 0,
        }
    assert (from_fcm["badge"], from_apns["badge"]) == (None, 1)  # APNs only carries a badge
    assert bob.data["author"] == "alice" and bob.data["channel_title"] == "general"

    s = f"/v1/Services/{chat.service}/Channels/{chat.channel}"
    chat.http("DELETE", f"{s}/Members/carol", 204)
    chat.http("POST", f"{s}/Invites", 201, Identity="carol")
    chat.http("POST", f"{s}/Members", 201, Identity="carol")
    chat.apns.wait_for(4, token=APN_CAROL)
    by_type = {p["type"]: p for p in parsed_apns(chat.apns.delivered(APN_CAROL))}
    assert set(by_type) == {NEW, REMOVED, INVITED, ADDED}
    assert by_type[REMOVED]["body"] == f"out of {chat.channel} (system)"
    assert by_type[INVITED]["body"] == "system has invited you to join the channel general"
    assert by_type[ADDED]["body"] == "system put you in General chat"
    for kind in (REMOVED, INVITED, ADDED):
        assert by_type[kind]["data"] == {"channelSid": chat.channel}
        assert by_type[kind]["badge"] is None  # the badge is for new messages

    time.sleep(0.5)  # anything else would have been sent by now
    assert {m.token for m in chat.fcm.messages} == {"fcm-bob"}  # not the author, not muted
    metrics = httpx.get(f"{chat.url}/metrics").text
    assert 'chinwag_push_attempts_total{outcome="delivered",provider="fcm"} 1.0' in metrics
    assert 'chinwag_push_attempts_total{outcome="delivered",provider="apns"} 4.0' in metrics


def test_disabled_events_send_nothing(chat: Chat) -> None:
    chat.notify(NewMessage_Enabled="true", AddedToChannel_Enabled="false")
    chat.device("bob", "fcm", "fcm-bob")
    s = f"/v1/Services/{chat.service}/Channels/{chat.channel}"
    chat.http("DELETE", f"{s}/Members/bob", 204)
    chat.http("POST", f"{s}/Invites", 201, Identity="bob")
    chat.http("POST", f"{s}/Members", 201, Identity="bob")
    chat.send("alice", "only this")
    [only] = chat.fcm.wait_for(1, token="fcm-bob")
    time.sleep(0.5)
    assert [m.data["twi_message_type"] for m in chat.fcm.messages] == [NEW]
    assert parsed_fcm([only])[0]["body"] == "general;Alice: only this"


def test_dead_devices_are_pruned_and_unavailable_providers_retried(chat: Chat) -> None:
    chat.notify(NewMessage_Enabled="true")
    chat.device("bob", "fcm", "fcm-bob")
    chat.device("carol", "apn", APN_CAROL)
    chat.device("dave", "fcm", "fcm-dave")
    chat.fcm.reply(503, token="fcm-bob", times=1)
    chat.apns.unregister(APN_CAROL)
    chat.fcm.unregister("fcm-dave")
    chat.send("alice", "who is there")
    [delivered] = chat.fcm.wait_for(1, token="fcm-bob")
    assert [m.status for m in chat.fcm.messages if m.token == "fcm-bob"] == [503, 200]
    assert parsed_fcm([delivered])[0]["type"] == NEW
    chat.wait(lambda: set(chat.bindings()) == {"bob"})  # carol's and dave's were pruned
    [gone] = [p for p in chat.apns.pushes if p.device_token == APN_CAROL]
    assert (gone.status, gone.reason) == (410, "Unregistered")
    carol = chat.twilio.chat.v2.services(chat.service).users("carol").user_bindings.list()
    assert carol == []


def test_pushes_outlive_a_restart_and_several_servers_send_each_once(chat: Chat) -> None:
    chat.notify(NewMessage_Enabled="true")
    chat.device("bob", "fcm", "fcm-bob")
    chat.fcm.reply(503, token="fcm-bob", times=1, retry_after="2")
    first = chat.send("alice", "before the restart")
    chat.wait(lambda: chat.fcm.messages)  # its first attempt failed; the retry is due in 2 s
    chat.servers.pop(0).stop()
    chat.start()  # on the same database: it sends what the first one left
    [after] = chat.fcm.wait_for(1, token="fcm-bob")
    assert after.data["message_sid"] == first["sid"]

    chat.start()  # two servers share the outbox now
    sids = set()
    for i in range(20):
        server = chat.servers[i % 2]
        path = f"/v1/Services/{chat.service}/Channels/{chat.channel}/Messages"
        response = httpx.post(
            server.url + path,
            data={"From": "alice", "Body": f"m{i}"},
            auth=(ACCOUNT_SID, AUTH_TOKEN),
            timeout=30,
        )
        assert response.status_code == 201, response.text
        sids.add(response.json()["sid"])
    chat.fcm.wait_for(21, token="fcm-bob", timeout=30)
    time.sleep(1.5)  # a second send of any of them would arrive by now
    sent = [m.data["message_sid"] for m in chat.fcm.delivered("fcm-bob")]
    assert sorted(sent) == sorted([first["sid"], *sids])
