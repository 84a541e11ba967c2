"""A member's client-only settings through the real ``twilio-chat`` client: the per-channel
notification level (``setUserNotificationLevel``) and member attributes
(``member.updateAttributes``). Chat v1's REST API shows neither, so its responses stay as they
were; the SDK sees both live, through the user's channels map and the channel's roster."""

from __future__ import annotations

import time

import pytest
from chat_commands_support import Session, call, connect, rejected, seen
from client_support import GatewayServer, NodeClient

from conftest import Databases

pytestmark = [pytest.mark.server, pytest.mark.sdk]

#: the SDK keeps GET results for ``http_cache_interval`` x 100 ms (0.5 s), plus a margin
SDK_CACHE = 0.6


def _grant(gateway: GatewayServer, service: str, *permissions: str) -> None:
    """Give the service's ``channel user`` role these permissions too (Twilio's v1 defaults,
    which chinwag creates, hold neither of the v2-era ones these settings need)."""
    roles = gateway.http.get(f"/v1/Services/{service}/Roles").json()["roles"]
    [role] = [r for r in roles if r["friendly_name"] == "channel user"]
    granted = [*role["permissions"], *permissions]
    response = gateway.http.post(
        f"/v1/Services/{service}/Roles/{role['sid']}", data={"Permission": granted}
    )
    assert response.status_code == 200, response.text


def _joined(gateway: GatewayServer, service: str, *clients: tuple[NodeClient, str]) -> str:
    """A public channel created by REST, joined by each identity's first client and seen
    joined by all, its streams open."""
    channel: str = gateway.http.post(
        f"/v1/Services/{service}/Channels", data={"UniqueName": "general"}
    ).json()["sid"]
    joined: set[str] = set()
    for client, identity in clients:
        if identity not in joined:
            call(client, "join", channel=channel)
            joined.add(identity)
        seen(client, "channelJoined", channel=channel)
        call(client, "open", channel=channel)
    return channel


def test_muting_a_channel_reaches_every_connection_of_the_user(databases: Databases) -> None:
    with GatewayServer(databases) as gateway:
        service = gateway.service()
        _grant(gateway, service, "editNotificationLevel")
        with connect(gateway, service, "alice") as phone, connect(gateway, service, "alice") as web:
            channel = _joined(gateway, service, (phone, "alice"), (web, "alice"))
            member = f"/v1/Services/{service}/Channels/{channel}/Members/alice"
            rest_before = gateway.http.get(member).json()
            assert call(web, "level", channel=channel)["level"] == "default"

            call(phone, "notificationLevel", channel=channel, level="muted")
            for client in (phone, web):
                updated = seen(client, "channelUpdated", channel=channel, notificationLevel="muted")
                assert updated["reasons"] == ["notificationLevel"]
            time.sleep(SDK_CACHE)
            [mine] = call(web, "myChannels")["channels"]
            assert (mine["sid"], mine["notificationLevel"]) == (channel, "muted")
            # REST v1 has no notification level: the member reads exactly as before, and the
            # roster (what other members see) did not change
            assert gateway.http.get(member).json() == rest_before
            assert not [e for e in phone.events if e.get("event") == "memberUpdated"]
            assert "notification_level" not in str(
                gateway.http.get(f"/v1/Services/{service}/Users/alice/Channels").json()
            )

            call(web, "notificationLevel", channel=channel, level="default")
            seen(phone, "channelUpdated", channel=channel, notificationLevel="default")

        # a new connection starts from the stored level
        with connect(gateway, service, "alice") as again:
            call(again, "notificationLevel", channel=channel, level="muted")
            seen(again, "channelUpdated", channel=channel, notificationLevel="muted")
        with connect(gateway, service, "alice") as fresh:
            call(fresh, "open", channel=channel)
            assert call(fresh, "level", channel=channel)["level"] == "muted"


def test_notification_level_refusals_change_nothing(databases: Databases) -> None:
    with GatewayServer(databases) as gateway:
        service = gateway.service()
        with connect(gateway, service, "alice") as alice:
            channel = _joined(gateway, service, (alice, "alice"))
            # the default channel role lacks editNotificationLevel: 403 50107
            rejected(alice, "notificationLevel", 403, channel=channel, level="muted")
            _grant(gateway, service, "editNotificationLevel")
            raw = Session(gateway, service, "alice")
            try:
                path = f"/Users/alice/Channels/{channel}"
                for bad in ("loud", "", None, 1, ["muted"]):
                    status, body = raw.send("POST", path, {"notification_level": bad})
                    assert (status, body["code"]) == (400, 20001), (bad, body)
                status, body = raw.send("POST", path, {"notification_level": "muted"})
                assert (status, body["notification_level"]) == (200, "muted")
                status, body = raw.send("GET", path)
                assert body["notification_level"] == "muted"
            finally:
                raw.close()


def test_member_attributes_change_live_and_follow_the_policy(databases: Databases) -> None:
    with GatewayServer(databases) as gateway:
        service = gateway.service()
        with connect(gateway, service, "alice") as alice, connect(gateway, service, "bob") as bob:
            channel = _joined(gateway, service, (alice, "alice"), (bob, "bob"))
            member = f"/v1/Services/{service}/Channels/{channel}/Members/alice"
            rest_before = gateway.http.get(member).json()

            # v1 default roles hold no member-attribute permission
            rejected(alice, "updateMember", 403, channel=channel, identity="alice", attributes={})
            _grant(gateway, service, "editOwnMemberAttributes")
            call(alice, "updateMember", channel=channel, identity="alice", attributes={"seat": 4})
            updated = seen(bob, "memberUpdated", channel=channel, identity="alice")
            assert "attributes" in updated["reasons"] and updated["attributes"] == {"seat": 4}
            seen(alice, "memberUpdated", channel=channel, identity="alice", attributes={"seat": 4})
            # own attributes only: bob's are not alice's to edit
            rejected(alice, "updateMember", 403, channel=channel, identity="bob", attributes={})
            # REST v1 Member has no attributes: its representation is unchanged
            rest_after = gateway.http.get(member).json()
            assert rest_after.keys() == rest_before.keys() and "attributes" not in rest_after

            raw = Session(gateway, service, "alice")
            try:
                path = f"/Channels/{channel}/Participants/alice"
                assert raw.send("POST", path, {"attributes": "{not json"})[1]["code"] == 50304
                assert raw.send("POST", path, {"attributes": 7})[1]["code"] == 20001
                assert raw.send("POST", path, {})[1]["code"] == 20161  # nothing to change
            finally:
                raw.close()
            with connect(gateway, service, "carol") as carol:
                call(carol, "join", channel=channel)
                seen(carol, "channelJoined", channel=channel)
                call(carol, "open", channel=channel)
                found = call(carol, "memberAttributes", channel=channel, identity="alice")
                assert found["attributes"] == {"seat": 4}
