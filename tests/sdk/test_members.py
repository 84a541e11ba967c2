"""Members through the official twilio SDK: auto-created users, roles, limits, counters, horizon."""

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
    """The Service resource itself (default role SIDs, SID)."""
    return service.fetch()


@pytest.fixture
def channel(service: Any) -> Any:
    return service.channels.create(unique_name="general")


@pytest.fixture
def members(service: Any, channel: Any) -> Any:
    return service.channels(channel.sid).members


def role_sid(service: Any, friendly_name: str) -> str:
    [role] = [r for r in service.roles.list() if r.friendly_name == friendly_name]
    return str(role.sid)


def counts(service: Any, channel_key: str, identity: str) -> tuple[int, int]:
    """(channel members_count, user joined_channels_count)."""
    return (
        service.channels(channel_key).fetch().members_count,
        service.users(identity).fetch().joined_channels_count,
    )


# --- create -------------------------------------------------------------------------------------


def test_create_defaults(members: Any, svc: Any, channel: Any) -> None:
    member = members.create(identity="alice")

    assert member.sid.startswith("MB") and len(member.sid) == 34
    assert member.account_sid == svc.account_sid
    assert member.service_sid == svc.sid
    assert member.channel_sid == channel.sid
    assert member.identity == "alice"
    assert member.role_sid == svc.default_channel_role_sid
    assert member.last_consumed_message_index is None
    assert member.last_consumption_timestamp is None
    assert isinstance(member.date_created, datetime)
    assert member.date_updated == member.date_created
    assert member.url == f"{channel.url}/Members/{member.sid}"


def test_create_auto_creates_unknown_user(service: Any, members: Any, svc: Any) -> None:
    assert service.users.list() == []

    members.create(identity="alice")

    [user] = service.users.list()
    assert user.identity == "alice"
    fetched = service.users("alice").fetch()
    assert fetched.sid == user.sid
    assert fetched.role_sid == svc.default_service_role_sid
    assert fetched.friendly_name is None
    assert fetched.attributes == "{}"
    assert fetched.joined_channels_count == 1


def test_create_uses_existing_user(service: Any, members: Any) -> None:
    admin_role = role_sid(service, "service admin")
    user = service.users.create(identity="bob", friendly_name="Bob", role_sid=admin_role)

    members.create(identity="bob")

    [listed] = service.users.list()
    assert listed.sid == user.sid
    fetched = service.users("bob").fetch()
    assert (fetched.friendly_name, fetched.role_sid) == ("Bob", admin_role)
    assert fetched.joined_channels_count == 1


def test_create_through_unique_name_path(service: Any, channel: Any) -> None:
    member = service.channels("general").members.create(identity="alice")

    assert member.channel_sid == channel.sid
    assert member.url == f"{channel.url}/Members/{member.sid}"


def test_create_in_private_channel(service: Any) -> None:
    private = service.channels.create(type="private")

    member = service.channels(private.sid).members.create(identity="alice")

    assert member.channel_sid == private.sid
    assert service.channels(private.sid).fetch().members_count == 1


def test_create_with_channel_role(service: Any, members: Any) -> None:
    admin = role_sid(service, "channel admin")

    member = members.create(identity="alice", role_sid=admin)

    assert member.role_sid == admin
    assert members("alice").fetch().role_sid == admin


def test_create_with_custom_channel_role(service: Any, members: Any) -> None:
    custom = service.roles.create(friendly_name="mod", type="channel", permission=["sendMessage"])

    assert members.create(identity="alice", role_sid=custom.sid).role_sid == custom.sid


@pytest.mark.parametrize("kind", ["service user", "service admin"])
def test_role_must_be_a_channel_role(service: Any, members: Any, kind: str) -> None:
    deployment = role_sid(service, kind)

    error = expect_error(lambda: members.create(identity="alice", role_sid=deployment), 400, 50101)
    assert (
        error.msg == "Unable to create record: Channel role not found: name the "
        "SID of a channel role of this service"
    )
    # Nothing was created: neither the member nor the user.
    assert members.list() == []
    assert service.users.list() == []


@pytest.mark.parametrize("sid", ["RL" + SID_HEX, "not-a-role"])
def test_unknown_role(members: Any, sid: str) -> None:
    expect_error(lambda: members.create(identity="alice", role_sid=sid), 400, 50101)


def test_role_of_another_service(chat: Any, members: Any) -> None:
    other = chat.services.create(friendly_name="other")
    expect_error(
        lambda: members.create(identity="alice", role_sid=other.default_channel_role_sid),
        400,
        50101,
    )


def test_identity_missing(http: httpx.Client, svc: Any, channel: Any) -> None:
    response = http.post(f"/v1/Services/{svc.sid}/Channels/{channel.sid}/Members", data={})
    body = expect_http_error(response, 400, 20001)
    assert body["message"] == "Missing required parameter Identity in the post body"


@pytest.mark.parametrize(
    ("identity", "code"),
    [("", 50204), ("US" + SID_HEX, 50206), ("US" + SID_HEX.upper(), 50206), ("i" * 257, 50207)],
)
def test_identity_validation(service: Any, members: Any, identity: str, code: int) -> None:
    expect_error(lambda: members.create(identity=identity), 400, code)
    assert members.list() == []
    assert service.users.list() == []


def test_identity_of_256_characters_is_accepted(members: Any) -> None:
    assert members.create(identity="i" * 256).identity == "i" * 256


def test_identity_with_reserved_characters_round_trips(members: Any) -> None:
    identity = "ann+o'neil@example.com/é"
    member = members.create(identity=identity)

    assert member.identity == identity
    assert [m.sid for m in members.list(identity=[identity])] == [member.sid]


def test_duplicate_member(service: Any, members: Any) -> None:
    first = members.create(identity="alice")

    error = expect_error(lambda: members.create(identity="alice"), 409, 50404)

    assert error.msg == "Unable to create record: Member already exists"
    assert [m.sid for m in members.list()] == [first.sid]
    assert counts(service, "general", "alice") == (1, 1)


def test_identity_is_case_sensitive(service: Any, members: Any) -> None:
    members.create(identity="alice")
    members.create(identity="Alice")

    assert [m.identity for m in members.list()] == ["alice", "Alice"]
    assert len(service.users.list()) == 2


def test_create_in_unknown_channel_is_404(service: Any, svc: Any) -> None:
    error = expect_error(
        lambda: service.channels("nowhere").members.create(identity="a"), 404, 20404
    )
    assert error.msg == (
        f"Unable to create record: The requested resource /Services/{svc.sid}/Channels/nowhere"
        "/Members was not found"
    )
    assert service.users.list() == []


# --- limits -------------------------------------------------------------------------------------


def test_channel_member_limit(service: Any, members: Any) -> None:
    service.update(limits_channel_members=2)
    members.create(identity="alice")
    members.create(identity="bob")

    error = expect_error(lambda: members.create(identity="carol"), 403, 50403)

    assert error.msg == "Unable to create record: Channel member limit exceeded"
    assert service.channels("general").fetch().members_count == 2
    # The rejected add left no trace: no member and no auto-created user.
    assert [m.identity for m in members.list()] == ["alice", "bob"]
    expect_error(service.users("carol").fetch, 404, 20404)
    # Other channels are not affected by this channel being full.
    other = service.channels.create()
    service.channels(other.sid).members.create(identity="carol")


def test_channel_member_limit_frees_up_after_delete(service: Any, members: Any) -> None:
    service.update(limits_channel_members=1)
    members.create(identity="alice")
    expect_error(lambda: members.create(identity="bob"), 403, 50403)

    members("alice").delete()

    assert members.create(identity="bob").identity == "bob"


def test_lowering_the_limit_keeps_existing_members(service: Any, members: Any) -> None:
    for identity in ("a", "b", "c"):
        members.create(identity=identity)

    service.update(limits_channel_members=1)

    assert service.channels("general").fetch().members_count == 3
    expect_error(lambda: members.create(identity="d"), 403, 50403)


def test_user_channel_limit(service: Any, members: Any) -> None:
    service.update(limits_user_channels=1)
    members.create(identity="alice")
    second = service.channels.create(unique_name="second")

    error = expect_error(
        lambda: service.channels("second").members.create(identity="alice"), 403, 50208
    )

    assert error.msg == "Unable to create record: User channel limit exceeded"
    assert service.users("alice").fetch().joined_channels_count == 1
    assert service.channels(second.sid).fetch().members_count == 0
    # Another user can still join.
    service.channels("second").members.create(identity="bob")


def test_user_channel_limit_frees_up_after_leaving(service: Any, members: Any) -> None:
    service.update(limits_user_channels=1)
    members.create(identity="alice")
    service.channels.create(unique_name="second")
    expect_error(lambda: service.channels("second").members.create(identity="alice"), 403, 50208)

    members("alice").delete()

    service.channels("second").members.create(identity="alice")
    assert service.users("alice").fetch().joined_channels_count == 1


def test_duplicate_is_reported_before_limits(service: Any, members: Any) -> None:
    members.create(identity="alice")
    service.update(limits_channel_members=1, limits_user_channels=1)

    expect_error(lambda: members.create(identity="alice"), 409, 50404)


def test_channel_limit_is_reported_before_user_limit(service: Any, members: Any) -> None:
    service.update(limits_channel_members=1, limits_user_channels=1)
    members.create(identity="alice")
    service.channels.create(unique_name="second")
    service.channels("second").members.create(identity="bob")

    # bob is at his channel limit and "general" is full: the channel limit wins.
    expect_error(lambda: members.create(identity="bob"), 403, 50403)


# --- counters -----------------------------------------------------------------------------------


def test_counters_are_exact(service: Any, members: Any) -> None:
    second = service.channels.create(unique_name="second")
    for identity in ("alice", "bob", "carol"):
        members.create(identity=identity)
    service.channels("second").members.create(identity="alice")

    assert service.channels("general").fetch().members_count == 3
    assert service.channels(second.sid).fetch().members_count == 1
    assert service.users("alice").fetch().joined_channels_count == 2
    assert service.users("bob").fetch().joined_channels_count == 1

    members("bob").delete()
    service.channels("second").members("alice").delete()

    assert service.channels("general").fetch().members_count == 2
    assert service.channels(second.sid).fetch().members_count == 0
    assert service.users("alice").fetch().joined_channels_count == 1
    assert service.users("bob").fetch().joined_channels_count == 0
    assert [uc.channel_sid for uc in service.users("bob").user_channels.list()] == []


def test_user_delete_removes_memberships(service: Any, members: Any) -> None:
    members.create(identity="alice")
    members.create(identity="bob")

    service.users("alice").delete()

    assert service.channels("general").fetch().members_count == 1
    assert [m.identity for m in members.list()] == ["bob"]
    expect_error(members("alice").fetch, 404, 20404)


# --- invites interplay --------------------------------------------------------------------------


def test_adding_a_member_deletes_their_pending_invite(service: Any, members: Any) -> None:
    service.users.create(identity="dave")
    service.users.create(identity="erin")
    invites = service.channels("general").invites
    dave_invite = invites.create(identity="dave")
    erin_invite = invites.create(identity="erin")
    other = service.channels.create(unique_name="other")
    other_invite = service.channels("other").invites.create(identity="dave")

    members.create(identity="dave")

    assert [i.sid for i in invites.list()] == [erin_invite.sid]
    expect_error(invites(dave_invite.sid).fetch, 404, 20404)
    # Only the invite to this channel goes.
    assert [i.sid for i in service.channels(other.sid).invites.list()] == [other_invite.sid]
    # dave can be invited elsewhere but not here: he is a member now.
    expect_error(lambda: invites.create(identity="dave"), 409, 50404)


# --- fetch --------------------------------------------------------------------------------------


def test_fetch_by_sid_and_by_identity(members: Any) -> None:
    member = members.create(identity="alice")

    by_sid = members(member.sid).fetch()
    by_identity = members("alice").fetch()

    assert by_sid.sid == by_identity.sid == member.sid
    assert by_identity.identity == "alice"
    assert by_identity.url == member.url
    assert by_identity.date_created == member.date_created


def test_fetch_through_unique_name_path(service: Any, channel: Any, members: Any) -> None:
    member = members.create(identity="alice")

    fetched = service.channels("general").members(member.sid).fetch()

    assert fetched.sid == member.sid
    assert fetched.channel_sid == channel.sid


def test_fetch_unknown_member_is_404(service: Any, members: Any, svc: Any, channel: Any) -> None:
    service.users.create(identity="outsider")

    error = expect_error(members("outsider").fetch, 404, 20404)

    assert error.msg == (
        f"Unable to fetch record: The requested resource /Services/{svc.sid}/Channels/"
        f"{channel.sid}/Members/outsider was not found"
    )
    expect_error(members("MB" + SID_HEX).fetch, 404, 20404)
    expect_error(members("nobody").fetch, 404, 20404)


def test_member_of_another_channel_is_not_found(service: Any, members: Any) -> None:
    other = service.channels.create()
    elsewhere = service.channels(other.sid).members.create(identity="alice")

    expect_error(members(elsewhere.sid).fetch, 404, 20404)
    expect_error(members("alice").fetch, 404, 20404)
    expect_error(members(elsewhere.sid).delete, 404, 20404)
    expect_error(lambda: members(elsewhere.sid).update(last_consumed_message_index=1), 404, 20404)


# --- update -------------------------------------------------------------------------------------


def test_update_role_by_sid_and_by_identity(service: Any, members: Any, svc: Any) -> None:
    member = members.create(identity="alice")
    admin = role_sid(service, "channel admin")

    updated = members(member.sid).update(role_sid=admin)
    assert updated.role_sid == admin
    assert updated.last_consumed_message_index is None
    assert updated.last_consumption_timestamp is None

    back = members("alice").update(role_sid=svc.default_channel_role_sid)
    assert back.sid == member.sid
    assert back.role_sid == svc.default_channel_role_sid
    assert members(member.sid).fetch().role_sid == svc.default_channel_role_sid


def test_update_role_must_be_a_channel_role(service: Any, members: Any, svc: Any) -> None:
    members.create(identity="alice")

    expect_error(lambda: members("alice").update(role_sid=svc.default_service_role_sid), 400, 50101)
    expect_error(lambda: members("alice").update(role_sid="RL" + SID_HEX), 400, 50101)
    assert members("alice").fetch().role_sid == svc.default_channel_role_sid


def test_update_last_consumed_message_index(service: Any, members: Any) -> None:
    member = members.create(identity="alice")

    updated = members("alice").update(last_consumed_message_index=3)

    assert updated.last_consumed_message_index == 3
    assert isinstance(updated.last_consumption_timestamp, datetime)
    assert updated.last_consumption_timestamp >= member.date_created
    assert updated.date_updated >= member.date_updated
    assert updated.role_sid == member.role_sid
    fetched = members(member.sid).fetch()
    assert fetched.last_consumed_message_index == 3
    assert fetched.last_consumption_timestamp == updated.last_consumption_timestamp


def test_last_consumed_message_index_zero(members: Any) -> None:
    members.create(identity="alice")

    updated = members("alice").update(last_consumed_message_index=0)

    assert updated.last_consumed_message_index == 0
    assert updated.last_consumption_timestamp is not None


def test_last_consumed_message_index_shows_in_user_channels(service: Any, members: Any) -> None:
    members.create(identity="alice")
    for body in ("a", "b", "c"):
        service.channels("general").messages.create(body=body)

    members("alice").update(last_consumed_message_index=0)

    [row] = service.users("alice").user_channels.list()
    assert row.last_consumed_message_index == 0
    assert row.unread_messages_count == 2


def test_negative_last_consumed_message_index(members: Any) -> None:
    members.create(identity="alice")

    error = expect_error(
        lambda: members("alice").update(last_consumed_message_index=-1), 400, 50406
    )

    assert (
        error.msg == "Unable to update record: Invalid last consumed message "
        "index format: must be an integer from 0 to 9007199254740991"
    )
    assert members("alice").fetch().last_consumed_message_index is None


@pytest.mark.parametrize("value", ["abc", "1.5", "-3", " "])
def test_invalid_last_consumed_message_index(
    http: httpx.Client, svc: Any, channel: Any, members: Any, value: str
) -> None:
    members.create(identity="alice")
    response = http.post(
        f"/v1/Services/{svc.sid}/Channels/{channel.sid}/Members/alice",
        data={"LastConsumedMessageIndex": value},
    )
    expect_http_error(response, 400, 50406)


def test_clear_last_consumed_message_index(
    http: httpx.Client, svc: Any, channel: Any, members: Any
) -> None:
    member = members.create(identity="alice")
    members("alice").update(last_consumed_message_index=5)

    response = http.post(
        f"/v1/Services/{svc.sid}/Channels/{channel.sid}/Members/{member.sid}",
        data={"LastConsumedMessageIndex": ""},
    )

    assert response.status_code == 200, response.text
    assert response.json()["last_consumed_message_index"] is None
    assert members("alice").fetch().last_consumed_message_index is None


def test_update_without_parameters(members: Any) -> None:
    members.create(identity="alice")

    error = expect_error(members("alice").update, 400, 20161)

    assert (
        error.msg == "Unable to update record: Parameters are not specified for "
        "update request: send at least one parameter to change"
    )


def test_update_does_not_change_counters(service: Any, members: Any) -> None:
    members.create(identity="alice")

    members("alice").update(last_consumed_message_index=2)

    assert counts(service, "general", "alice") == (1, 1)


# --- delete -------------------------------------------------------------------------------------


def test_delete_by_sid(service: Any, members: Any) -> None:
    member = members.create(identity="alice")

    assert members(member.sid).delete() is True

    expect_error(members(member.sid).fetch, 404, 20404)
    assert members.list() == []
    assert counts(service, "general", "alice") == (0, 0)
    # The user survives their membership.
    assert service.users("alice").fetch().identity == "alice"


def test_delete_by_identity_through_unique_name_path(service: Any, members: Any) -> None:
    members.create(identity="alice")
    bob = members.create(identity="bob")

    assert service.channels("general").members("alice").delete() is True

    assert [m.sid for m in members.list()] == [bob.sid]
    assert counts(service, "general", "alice") == (1, 0)
    expect_error(service.channels("general").members("alice").delete, 404, 20404)


def test_rejoin_after_delete(service: Any, members: Any) -> None:
    first = members.create(identity="alice")
    members("alice").delete()

    again = members.create(identity="alice")

    assert again.sid != first.sid
    assert again.last_consumed_message_index is None
    assert counts(service, "general", "alice") == (1, 1)


def test_deleting_last_member_keeps_channel(service: Any, members: Any, channel: Any) -> None:
    members.create(identity="alice")
    members("alice").delete()

    assert service.channels("general").fetch().sid == channel.sid


# --- list ---------------------------------------------------------------------------------------


def test_list_in_creation_order(members: Any, svc: Any, channel: Any) -> None:
    created = [members.create(identity=name) for name in ("zed", "amy", "mia")]

    rows = members.list()

    assert [m.sid for m in rows] == [m.sid for m in created]
    for row in rows:
        assert row.channel_sid == channel.sid
        assert row.service_sid == svc.sid
        assert row.role_sid == svc.default_channel_role_sid
        assert row.url == f"{channel.url}/Members/{row.sid}"


def test_list_identity_filter(service: Any, members: Any) -> None:
    for name in ("alice", "bob", "carol", "dave"):
        members.create(identity=name)

    assert [m.identity for m in members.list(identity=["bob"])] == ["bob"]
    assert [m.identity for m in members.list(identity=["dave", "alice"])] == ["alice", "dave"]
    assert [m.identity for m in members.list(identity=["carol", "nobody"])] == ["carol"]
    assert members.list(identity=["nobody"]) == []
    assert [m.identity for m in service.channels("general").members.list(identity=["bob"])] == [
        "bob"
    ]


def test_list_identity_filter_raw(http: httpx.Client, svc: Any, channel: Any, members: Any) -> None:
    for name in ("alice", "bob", "carol"):
        members.create(identity=name)

    response = http.get(
        f"/v1/Services/{svc.sid}/Channels/{channel.sid}/Members",
        params=[("Identity", "carol"), ("Identity", "alice")],
    )

    assert response.status_code == 200
    body = response.json()
    assert [m["identity"] for m in body["members"]] == ["alice", "carol"]
    assert body["meta"]["key"] == "members"


def test_list_of_unknown_channel_is_404(service: Any) -> None:
    with pytest.raises(TwilioException) as info:
        service.channels("missing").members.list()
    assert info.value.args[1].status_code == 404
