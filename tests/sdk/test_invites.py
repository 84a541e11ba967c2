"""Invites through the official twilio SDK: existing users only, duplicates, no update."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest
from twilio.base.exceptions import TwilioException

from sdk_support import expect_error, expect_http_error

pytestmark = pytest.mark.server

SID_HEX = "0123456789abcdef" * 2


@pytest.fixture
def svc(service: Any) -> Any:
    return service.fetch()


@pytest.fixture
def channel(service: Any) -> Any:
    return service.channels.create(unique_name="general")


@pytest.fixture
def invites(service: Any, channel: Any) -> Any:
    return service.channels(channel.sid).invites


@pytest.fixture
def users(service: Any) -> list[str]:
    identities = ["alice", "bob", "carol", "dave"]
    for identity in identities:
        service.users.create(identity=identity)
    return identities


def role_sid(service: Any, friendly_name: str) -> str:
    [role] = [r for r in service.roles.list() if r.friendly_name == friendly_name]
    return str(role.sid)


# --- create -------------------------------------------------------------------------------------


def test_create_defaults(invites: Any, users: list[str], svc: Any, channel: Any) -> None:
    invite = invites.create(identity="alice")

    assert invite.sid.startswith("IN") and len(invite.sid) == 34
    assert invite.account_sid == svc.account_sid
    assert invite.service_sid == svc.sid
    assert invite.channel_sid == channel.sid
    assert invite.identity == "alice"
    assert invite.role_sid == svc.default_channel_role_sid
    assert invite.created_by == "system"
    assert isinstance(invite.date_created, datetime)
    assert invite.date_updated == invite.date_created
    assert invite.url == f"{channel.url}/Invites/{invite.sid}"


def test_create_through_unique_name_path(service: Any, users: list[str], channel: Any) -> None:
    invite = service.channels("general").invites.create(identity="alice")

    assert invite.channel_sid == channel.sid
    assert invite.url == f"{channel.url}/Invites/{invite.sid}"


def test_create_with_channel_role(service: Any, invites: Any, users: list[str]) -> None:
    admin = role_sid(service, "channel admin")

    invite = invites.create(identity="alice", role_sid=admin)

    assert invite.role_sid == admin
    assert invites(invite.sid).fetch().role_sid == admin


@pytest.mark.parametrize("role", ["service user", "RL" + SID_HEX])
def test_role_must_be_a_channel_role(
    service: Any, invites: Any, users: list[str], role: str
) -> None:
    sid = role_sid(service, role) if role.startswith("service") else role

    error = expect_error(lambda: invites.create(identity="alice", role_sid=sid), 400, 50101)

    assert (
        error.msg == "Unable to create record: Channel role not found: name the "
        "SID of a channel role of this service"
    )
    assert invites.list() == []


def test_invite_requires_an_existing_user(
    service: Any, invites: Any, svc: Any, channel: Any
) -> None:
    error = expect_error(lambda: invites.create(identity="stranger"), 404, 20404)

    assert error.msg == (
        f"Unable to create record: The requested resource /Services/{svc.sid}/Channels/"
        f"{channel.sid}/Invites was not found"
    )
    # Unlike adding a member, inviting never creates the user.
    assert service.users.list() == []
    assert invites.list() == []


def test_unknown_user_through_unique_name_path_names_that_path(
    http: httpx.Client, svc: Any, channel: Any
) -> None:
    response = http.post(
        f"/v1/Services/{svc.sid}/Channels/general/Invites", data={"Identity": "stranger"}
    )

    body = expect_http_error(response, 404, 20404)
    assert body["message"] == (
        f"The requested resource /Services/{svc.sid}/Channels/general/Invites was not found"
    )


def test_identity_missing(http: httpx.Client, svc: Any, channel: Any) -> None:
    response = http.post(f"/v1/Services/{svc.sid}/Channels/{channel.sid}/Invites", data={})

    body = expect_http_error(response, 400, 20001)
    assert body["message"] == "Missing required parameter Identity in the post body"


def test_identity_empty(invites: Any) -> None:
    expect_error(lambda: invites.create(identity=""), 400, 50204)


def test_duplicate_invite(invites: Any, users: list[str]) -> None:
    first = invites.create(identity="alice")

    error = expect_error(lambda: invites.create(identity="alice"), 409, 50212)

    assert error.msg == "Unable to create record: User already invited"
    assert [i.sid for i in invites.list()] == [first.sid]


def test_same_user_invited_to_two_channels(service: Any, invites: Any, users: list[str]) -> None:
    other = service.channels.create()

    here = invites.create(identity="alice")
    there = service.channels(other.sid).invites.create(identity="alice")

    assert here.sid != there.sid
    assert there.channel_sid == other.sid


def test_invite_of_a_member(service: Any, invites: Any, users: list[str]) -> None:
    service.channels("general").members.create(identity="bob")

    error = expect_error(lambda: invites.create(identity="bob"), 409, 50404)

    assert error.msg == "Unable to create record: Member already exists"
    assert invites.list() == []


def test_invites_do_not_count_as_members(service: Any, invites: Any, users: list[str]) -> None:
    service.update(limits_channel_members=1, limits_user_channels=1)
    service.channels("general").members.create(identity="carol")

    invites.create(identity="alice")
    invites.create(identity="bob")

    channel = service.channels("general").fetch()
    assert channel.members_count == 1
    assert service.users("alice").fetch().joined_channels_count == 0
    assert [m.identity for m in service.channels("general").members.list()] == ["carol"]


def test_invite_shows_in_user_channels(service: Any, invites: Any, users: list[str]) -> None:
    invites.create(identity="alice")

    [row] = service.users("alice").user_channels.list()

    assert row.status == "invited"
    assert row.member_sid is None


def test_create_in_unknown_channel_is_404(service: Any, users: list[str]) -> None:
    expect_error(lambda: service.channels("nowhere").invites.create(identity="alice"), 404, 20404)


# --- fetch / delete -----------------------------------------------------------------------------


def test_fetch(invites: Any, users: list[str], service: Any) -> None:
    invite = invites.create(identity="alice")

    fetched = invites(invite.sid).fetch()
    by_name = service.channels("general").invites(invite.sid).fetch()

    assert fetched.sid == by_name.sid == invite.sid
    assert fetched.identity == "alice"
    assert fetched.created_by == "system"
    assert fetched.date_created == invite.date_created
    assert fetched.url == invite.url


def test_fetch_unknown_invite_is_404(invites: Any, svc: Any, channel: Any) -> None:
    error = expect_error(invites("IN" + SID_HEX).fetch, 404, 20404)

    assert error.msg == (
        f"Unable to fetch record: The requested resource /Services/{svc.sid}/Channels/"
        f"{channel.sid}/Invites/IN{SID_HEX} was not found"
    )
    expect_error(invites("alice").fetch, 404, 20404)


def test_invite_of_another_channel_is_not_found(
    service: Any, invites: Any, users: list[str]
) -> None:
    other = service.channels.create()
    elsewhere = service.channels(other.sid).invites.create(identity="alice")

    expect_error(invites(elsewhere.sid).fetch, 404, 20404)
    expect_error(invites(elsewhere.sid).delete, 404, 20404)
    assert service.channels(other.sid).invites(elsewhere.sid).fetch().sid == elsewhere.sid


def test_delete(http: httpx.Client, invites: Any, users: list[str], svc: Any, channel: Any) -> None:
    invite = invites.create(identity="alice")
    keep = invites.create(identity="bob")

    response = http.delete(f"/v1/Services/{svc.sid}/Channels/{channel.sid}/Invites/{invite.sid}")

    assert response.status_code == 204
    assert response.content == b""
    expect_error(invites(invite.sid).fetch, 404, 20404)
    assert [i.sid for i in invites.list()] == [keep.sid]
    expect_error(invites(invite.sid).delete, 404, 20404)


def test_delete_through_sdk_and_reinvite(service: Any, invites: Any, users: list[str]) -> None:
    invite = service.channels("general").invites.create(identity="alice")

    assert service.channels("general").invites(invite.sid).delete() is True

    again = invites.create(identity="alice")
    assert again.sid != invite.sid
    assert service.users("alice").user_channels.list()[0].status == "invited"


def test_deleting_the_user_removes_their_invites(
    service: Any, invites: Any, users: list[str]
) -> None:
    invite = invites.create(identity="alice")
    invites.create(identity="bob")

    service.users("alice").delete()

    expect_error(invites(invite.sid).fetch, 404, 20404)
    assert [i.identity for i in invites.list()] == ["bob"]


def test_no_update_endpoint(http: httpx.Client, invites: Any, users: list[str], svc: Any) -> None:
    invite = invites.create(identity="alice")
    path = f"/v1/Services/{svc.sid}/Channels/general/Invites/{invite.sid}"

    response = http.post(path, data={"RoleSid": svc.default_channel_role_sid})

    body = expect_http_error(response, 405, 20004)
    assert body["message"] == "Method not allowed"
    expect_http_error(http.put(path, data={}), 405, 20004)
    expect_http_error(http.delete(f"/v1/Services/{svc.sid}/Channels/general/Invites"), 405, 20004)
    assert invites(invite.sid).fetch().role_sid == svc.default_channel_role_sid


# --- list ---------------------------------------------------------------------------------------


def test_list_in_creation_order(invites: Any, users: list[str], channel: Any) -> None:
    created = [invites.create(identity=name) for name in ("dave", "alice", "carol")]

    rows = invites.list()

    assert [i.sid for i in rows] == [i.sid for i in created]
    for row in rows:
        assert row.channel_sid == channel.sid
        assert row.created_by == "system"


def test_list_identity_filter(service: Any, invites: Any, users: list[str]) -> None:
    for identity in users:
        invites.create(identity=identity)

    assert [i.identity for i in invites.list(identity=["carol"])] == ["carol"]
    assert [i.identity for i in invites.list(identity=["dave", "bob"])] == ["bob", "dave"]
    assert [i.identity for i in invites.list(identity=["alice", "ghost"])] == ["alice"]
    assert invites.list(identity=["ghost"]) == []


def test_list_identity_filter_raw(
    http: httpx.Client, invites: Any, users: list[str], svc: Any, channel: Any
) -> None:
    for identity in users:
        invites.create(identity=identity)

    response = http.get(
        f"/v1/Services/{svc.sid}/Channels/{channel.sid}/Invites",
        params=[("Identity", "dave"), ("Identity", "alice")],
    )

    assert response.status_code == 200
    body = response.json()
    assert [i["identity"] for i in body["invites"]] == ["alice", "dave"]
    assert body["meta"]["key"] == "invites"
    assert "Identity=dave&Identity=alice" in body["meta"]["first_page_url"]


def test_list_empty_and_unknown_channel(service: Any, invites: Any) -> None:
    assert invites.list() == []
    with pytest.raises(TwilioException) as info:
        service.channels("missing").invites.list()
    assert info.value.args[1].status_code == 404
