"""Users through the official twilio SDK: identity rules, roles, attributes, counts, cascades."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from twilio.base import values

from sdk_support import expect_http_error, expect_list_error, fails_with

pytestmark = pytest.mark.server

USER_SID = re.compile(r"^US[0-9a-f]{32}$")
UNKNOWN_USER = "US" + "0" * 32
UNKNOWN_SERVICE = "IS" + "0" * 32
UNKNOWN_ROLE = "RL" + "0" * 32


def roles_by_name(service: Any) -> dict[str, Any]:
    return {r.friendly_name: r for r in service.roles.list()}


# --- create -------------------------------------------------------------------------------------


def test_create_returns_201_with_defaults(service: Any) -> None:
    s = service.fetch()
    response = service.users.create_with_http_info(identity="alice")
    assert response.status_code == 201
    u = response.data
    assert USER_SID.match(u.sid)
    assert u.account_sid == s.account_sid
    assert u.service_sid == s.sid
    assert u.identity == "alice"
    assert u.friendly_name is None
    assert u.attributes == "{}"
    assert u.role_sid == s.default_service_role_sid
    assert u.is_online is None
    assert u.is_notifiable is None
    assert u.joined_channels_count == 0
    assert u.date_created is not None
    assert u.date_updated == u.date_created
    assert u.url.endswith(f"/v1/Services/{s.sid}/Users/{u.sid}")
    assert u.links == {"user_channels": f"{u.url}/Channels"}


def test_create_with_every_optional_parameter(service: Any) -> None:
    admin = roles_by_name(service)["service admin"]
    u = service.users.create(
        identity="bob",
        role_sid=admin.sid,
        attributes='{"team": "blue", "level": 3}',
        friendly_name="Bob B.",
    )
    assert u.role_sid == admin.sid
    assert json.loads(u.attributes) == {"team": "blue", "level": 3}
    assert u.friendly_name == "Bob B."
    fetched = service.users(u.sid).fetch()
    assert (fetched.role_sid, fetched.attributes, fetched.friendly_name) == (
        admin.sid,
        u.attributes,
        "Bob B.",
    )


def test_create_with_custom_deployment_role(service: Any) -> None:
    role = service.roles.create(friendly_name="vip", type="deployment", permission=["joinChannel"])
    assert service.users.create(identity="vip", role_sid=role.sid).role_sid == role.sid


@pytest.mark.parametrize(
    "attributes", ['"a string"', "[1, 2, 3]", "42", "null", "true", '{"nested": {"x": [1]}}']
)
def test_create_accepts_any_json_attributes(service: Any, attributes: str) -> None:
    assert service.users.create(identity="j", attributes=attributes).attributes == attributes


def test_create_with_empty_optional_values_uses_defaults(service: Any) -> None:
    s = service.fetch()
    u = service.users.create(identity="e", friendly_name="", attributes="", role_sid="")
    assert (u.friendly_name, u.attributes, u.role_sid) == (None, "{}", s.default_service_role_sid)


@pytest.mark.parametrize(
    "identity",
    [
        "alice.smith@example.com",
        "user_123-abc",
        "Ünïcødé-名前",
        "x" * 256,
        "US123",
        "us" + "a" * 32,
        "IS" + "a" * 32,
        "sys",
        "systems",
    ],
)
def test_create_accepts_valid_identities(service: Any, identity: str) -> None:
    u = service.users.create(identity=identity)
    assert u.identity == identity
    assert service.users(u.sid).fetch().identity == identity


def test_create_identity_is_case_sensitive(service: Any) -> None:
    a = service.users.create(identity="alice")
    b = service.users.create(identity="Alice")
    assert a.sid != b.sid
    assert service.users("Alice").fetch().sid == b.sid
    assert service.users("alice").fetch().sid == a.sid


def test_create_without_identity_is_missing_parameter(service: Any, http: httpx.Client) -> None:
    sid = service.fetch().sid
    body = expect_http_error(
        http.post(f"/v1/Services/{sid}/Users", data={"FriendlyName": "x"}), 400, 20001
    )
    assert "Identity" in body["message"]


def test_create_without_identity_through_sdk_is_rejected(service: Any) -> None:
    fails_with(400, 20001, service.users.create, identity=values.unset)


def test_create_with_empty_identity_is_rejected(service: Any) -> None:
    fails_with(400, 50204, service.users.create, identity="")


@pytest.mark.parametrize("identity", ["US" + "0123456789abcdef" * 2, UNKNOWN_USER])
def test_create_identity_looking_like_a_user_sid_is_rejected(service: Any, identity: str) -> None:
    fails_with(400, 50206, service.users.create, identity=identity)


def test_create_identity_looking_like_an_existing_user_sid_is_rejected(service: Any) -> None:
    existing = service.users.create(identity="real")
    fails_with(400, 50206, service.users.create, identity=existing.sid)


def test_create_identity_over_256_characters_is_rejected(service: Any) -> None:
    fails_with(400, 50207, service.users.create, identity="x" * 257)


def test_create_reserved_identity_is_rejected(service: Any) -> None:
    fails_with(400, 50203, service.users.create, identity="system")


def test_create_duplicate_identity_is_conflict(service: Any) -> None:
    first = service.users.create(identity="dup")
    error = fails_with(409, 50201, service.users.create, identity="dup")
    assert "User already exists" in error.msg
    assert [u.sid for u in service.users.list()] == [first.sid]


def test_create_same_identity_in_two_services(chat: Any, service: Any) -> None:
    other = chat.services.create(friendly_name="other")
    a = service.users.create(identity="shared")
    b = chat.services(other.sid).users.create(identity="shared")
    assert a.sid != b.sid


@pytest.mark.parametrize("role_name", ["channel user", "channel admin"])
def test_create_with_channel_role_is_rejected(service: Any, role_name: str) -> None:
    role = roles_by_name(service)[role_name]
    fails_with(400, 50102, service.users.create, identity="u", role_sid=role.sid)
    assert service.users.list() == []


@pytest.mark.parametrize("role_sid", [UNKNOWN_ROLE, "not-a-role"])
def test_create_with_unknown_role_is_rejected(service: Any, role_sid: str) -> None:
    fails_with(400, 50102, service.users.create, identity="u", role_sid=role_sid)


def test_create_with_role_of_another_service_is_rejected(chat: Any, service: Any) -> None:
    other = chat.services.create(friendly_name="other")
    fails_with(
        400, 50102, service.users.create, identity="u", role_sid=other.default_service_role_sid
    )


@pytest.mark.parametrize("attributes", ["{", "not json", "{'single': 'quotes'}", "{}}", "[1,]"])
def test_create_with_invalid_json_attributes_is_rejected(service: Any, attributes: str) -> None:
    fails_with(400, 50304, service.users.create, identity="u", attributes=attributes)


def test_create_with_attributes_too_long_is_rejected(service: Any) -> None:
    big = json.dumps({"x": "y" * 20_000})
    fails_with(400, 50303, service.users.create, identity="u", attributes=big)


def test_create_with_friendly_name_over_256_characters_is_rejected(service: Any) -> None:
    assert service.users.create(identity="ok", friendly_name="f" * 256).friendly_name == "f" * 256
    error = fails_with(400, 50003, service.users.create, identity="u", friendly_name="f" * 257)
    assert error.status == 400


def test_create_in_unknown_service_is_not_found(chat: Any) -> None:
    fails_with(404, 20404, chat.services(UNKNOWN_SERVICE).users.create, identity="u")


# --- fetch --------------------------------------------------------------------------------------


def test_fetch_by_sid_and_by_identity(service: Any) -> None:
    created = service.users.create(identity="carol", friendly_name="Carol")
    by_sid = service.users(created.sid).fetch()
    by_identity = service.users("carol").fetch()
    for u in (by_sid, by_identity):
        assert u.sid == created.sid
        assert u.identity == "carol"
        assert u.friendly_name == "Carol"
        assert u.attributes == "{}"
        assert u.is_online is None
        assert u.is_notifiable is None
        assert u.url == created.url


def test_fetch_by_identity_with_email_characters(service: Any) -> None:
    created = service.users.create(identity="dave+chat@example.com")
    assert service.users("dave+chat@example.com").fetch().sid == created.sid


@pytest.mark.parametrize("segment", [UNKNOWN_USER, "nobody"])
def test_fetch_unknown_user_is_not_found(service: Any, segment: str) -> None:
    fails_with(404, 20404, service.users(segment).fetch)


def test_fetch_user_through_another_service_is_not_found(chat: Any, service: Any) -> None:
    u = service.users.create(identity="mine")
    other = chat.services.create(friendly_name="other")
    fails_with(404, 20404, chat.services(other.sid).users(u.sid).fetch)
    fails_with(404, 20404, chat.services(other.sid).users("mine").fetch)


def test_is_online_stays_null_with_reachability_enabled(service: Any) -> None:
    service.update(reachability_enabled=True)
    u = service.users.create(identity="reach")
    assert (u.is_online, u.is_notifiable) == (None, None)
    fetched = service.users(u.sid).fetch()
    assert (fetched.is_online, fetched.is_notifiable) == (None, None)


# --- update -------------------------------------------------------------------------------------


def test_update_every_parameter(service: Any) -> None:
    u = service.users.create(identity="erin")
    admin = roles_by_name(service)["service admin"]
    response = service.users(u.sid).update_with_http_info(
        role_sid=admin.sid, attributes='{"a": 1}', friendly_name="Erin"
    )
    assert response.status_code == 200
    updated = response.data
    assert (updated.role_sid, updated.attributes, updated.friendly_name) == (
        admin.sid,
        '{"a": 1}',
        "Erin",
    )
    assert updated.identity == "erin"
    assert updated.date_created == u.date_created
    assert updated.date_updated >= u.date_updated
    fetched = service.users(u.sid).fetch()
    assert (fetched.role_sid, fetched.attributes, fetched.friendly_name) == (
        admin.sid,
        '{"a": 1}',
        "Erin",
    )


def test_update_by_identity(service: Any) -> None:
    u = service.users.create(identity="frank")
    updated = service.users("frank").update(friendly_name="Frank")
    assert updated.sid == u.sid
    assert service.users(u.sid).fetch().friendly_name == "Frank"


def test_update_is_partial(service: Any) -> None:
    u = service.users.create(identity="gina", friendly_name="Gina", attributes='{"k": "v"}')
    updated = service.users(u.sid).update(friendly_name="G")
    assert updated.attributes == '{"k": "v"}'
    assert updated.role_sid == u.role_sid
    updated = service.users(u.sid).update(attributes="[]")
    assert (updated.friendly_name, updated.attributes) == ("G", "[]")


def test_update_empty_values_clear_friendly_name_and_attributes(service: Any) -> None:
    u = service.users.create(identity="hank", friendly_name="Hank", attributes='{"k": 1}')
    updated = service.users(u.sid).update(friendly_name="", attributes="")
    assert updated.friendly_name is None
    assert updated.attributes == "{}"
    fetched = service.users(u.sid).fetch()
    assert (fetched.friendly_name, fetched.attributes) == (None, "{}")


def test_update_cannot_change_identity(service: Any, http: httpx.Client) -> None:
    u = service.users.create(identity="ivy")
    sid = service.fetch().sid
    response = http.post(
        f"/v1/Services/{sid}/Users/{u.sid}", data={"Identity": "ivan", "FriendlyName": "Ivy"}
    )
    assert response.status_code == 200
    assert response.json()["identity"] == "ivy"
    fails_with(404, 20404, service.users("ivan").fetch)


def test_update_with_no_parameters_is_rejected(service: Any) -> None:
    u = service.users.create(identity="jack")
    fails_with(400, 20161, service.users(u.sid).update)


def test_update_with_only_unknown_parameters_is_rejected(service: Any, http: httpx.Client) -> None:
    u = service.users.create(identity="jill")
    sid = service.fetch().sid
    expect_http_error(
        http.post(f"/v1/Services/{sid}/Users/{u.sid}", data={"Identity": "x"}), 400, 20161
    )


@pytest.mark.parametrize("role_name", ["channel user", "channel admin"])
def test_update_with_channel_role_is_rejected(service: Any, role_name: str) -> None:
    u = service.users.create(identity="kate")
    role = roles_by_name(service)[role_name]
    fails_with(400, 50102, service.users(u.sid).update, role_sid=role.sid)
    assert service.users(u.sid).fetch().role_sid == u.role_sid


@pytest.mark.parametrize("role_sid", [UNKNOWN_ROLE, ""])
def test_update_with_unknown_role_is_rejected(service: Any, role_sid: str) -> None:
    u = service.users.create(identity="liam")
    fails_with(400, 50102, service.users(u.sid).update, role_sid=role_sid)


def test_update_with_invalid_json_attributes_is_rejected(service: Any) -> None:
    u = service.users.create(identity="mia", attributes='{"ok": true}')
    fails_with(400, 50304, service.users(u.sid).update, attributes="{broken")
    assert service.users(u.sid).fetch().attributes == '{"ok": true}'


def test_update_failing_validation_changes_nothing(service: Any) -> None:
    u = service.users.create(identity="ned", friendly_name="Ned")
    fails_with(400, 50304, service.users(u.sid).update, friendly_name="Edward", attributes="nope")
    assert service.users(u.sid).fetch().friendly_name == "Ned"


def test_update_with_friendly_name_over_256_characters_is_rejected(service: Any) -> None:
    u = service.users.create(identity="long", friendly_name="short")
    fails_with(400, 50003, service.users(u.sid).update, friendly_name="f" * 257)
    assert service.users(u.sid).fetch().friendly_name == "short"
    assert service.users(u.sid).update(friendly_name="f" * 256).friendly_name == "f" * 256


def test_update_unknown_user_is_not_found(service: Any) -> None:
    fails_with(404, 20404, service.users(UNKNOWN_USER).update, friendly_name="x")
    fails_with(404, 20404, service.users("ghost").update, friendly_name="x")


# --- delete -------------------------------------------------------------------------------------


def test_delete_by_sid_returns_204_then_user_is_gone(service: Any) -> None:
    u = service.users.create(identity="olga")
    response = service.users(u.sid).delete_with_http_info()
    assert response.status_code == 204
    fails_with(404, 20404, service.users(u.sid).fetch)
    fails_with(404, 20404, service.users("olga").fetch)
    fails_with(404, 20404, service.users(u.sid).delete)
    assert service.users.list() == []


def test_delete_by_identity(service: Any) -> None:
    u = service.users.create(identity="pete")
    assert service.users("pete").delete() is True
    fails_with(404, 20404, service.users(u.sid).fetch)


def test_delete_unknown_user_is_not_found(service: Any) -> None:
    fails_with(404, 20404, service.users(UNKNOWN_USER).delete)
    fails_with(404, 20404, service.users("ghost").delete)


def test_identity_is_reusable_after_delete_with_a_new_sid(service: Any) -> None:
    old = service.users.create(identity="quinn")
    service.users(old.sid).delete()
    new = service.users.create(identity="quinn")
    assert new.sid != old.sid
    assert service.users("quinn").fetch().sid == new.sid


def test_delete_cascades_memberships(service: Any) -> None:
    channels = [service.channels.create(friendly_name=f"c{i}") for i in range(2)]
    for ch in channels:
        service.channels(ch.sid).members.create(identity="rita")
        service.channels(ch.sid).members.create(identity="sam")
    assert service.users("rita").fetch().joined_channels_count == 2
    service.users("rita").delete()
    for ch in channels:
        assert service.channels(ch.sid).fetch().members_count == 1
        assert [m.identity for m in service.channels(ch.sid).members.list()] == ["sam"]
        fails_with(404, 20404, service.channels(ch.sid).members("rita").fetch)
    assert service.users("sam").fetch().joined_channels_count == 2


def test_delete_cascades_pending_invites(service: Any) -> None:
    ch = service.channels.create(friendly_name="c")
    service.users.create(identity="tom")
    invite = service.channels(ch.sid).invites.create(identity="tom")
    service.users("tom").delete()
    fails_with(404, 20404, service.channels(ch.sid).invites(invite.sid).fetch)
    assert service.channels(ch.sid).invites.list() == []


def test_delete_keeps_messages_the_user_wrote(service: Any) -> None:
    ch = service.channels.create(friendly_name="c")
    service.channels(ch.sid).members.create(identity="uma")
    message = service.channels(ch.sid).messages.create(body="hi", from_="uma")
    service.users("uma").delete()
    kept = service.channels(ch.sid).messages(message.sid).fetch()
    assert (kept._from, kept.body) == ("uma", "hi")
    assert service.channels(ch.sid).fetch().messages_count == 1


def test_delete_then_recreate_starts_with_no_channels(service: Any) -> None:
    ch = service.channels.create(friendly_name="c")
    service.channels(ch.sid).members.create(identity="vic")
    service.users("vic").delete()
    again = service.users.create(identity="vic")
    assert again.joined_channels_count == 0
    assert service.users(again.sid).user_channels.list() == []
    assert service.channels(ch.sid).fetch().members_count == 0


# --- joined_channels_count ----------------------------------------------------------------------


def test_joined_channels_count_follows_memberships(service: Any) -> None:
    user = service.users.create(identity="wendy")
    channels = [service.channels.create(friendly_name=f"c{i}") for i in range(3)]
    for i, ch in enumerate(channels, start=1):
        service.channels(ch.sid).members.create(identity="wendy")
        assert service.users(user.sid).fetch().joined_channels_count == i
    service.channels(channels[0].sid).members("wendy").delete()
    assert service.users("wendy").fetch().joined_channels_count == 2
    member = service.channels(channels[1].sid).members.list()[0]
    service.channels(channels[1].sid).members(member.sid).delete()
    assert service.users("wendy").fetch().joined_channels_count == 1
    service.channels(channels[2].sid).delete()
    assert service.users("wendy").fetch().joined_channels_count == 0


def test_joined_channels_count_unchanged_when_membership_is_refused(service: Any) -> None:
    service.update(limits_user_channels=1)
    first = service.channels.create(friendly_name="one")
    second = service.channels.create(friendly_name="two")
    service.channels(first.sid).members.create(identity="limited")
    fails_with(403, 50208, service.channels(second.sid).members.create, identity="limited")
    assert service.users("limited").fetch().joined_channels_count == 1
    fails_with(409, 50404, service.channels(first.sid).members.create, identity="limited")
    assert service.users("limited").fetch().joined_channels_count == 1


def test_joined_channels_count_ignores_invites(service: Any) -> None:
    service.users.create(identity="xena")
    ch = service.channels.create(friendly_name="c")
    service.channels(ch.sid).invites.create(identity="xena")
    assert service.users("xena").fetch().joined_channels_count == 0


def test_joined_channels_count_in_list_rows(service: Any) -> None:
    ch = service.channels.create(friendly_name="c")
    service.users.create(identity="a")
    service.channels(ch.sid).members.create(identity="b")
    assert [(u.identity, u.joined_channels_count) for u in service.users.list()] == [
        ("a", 0),
        ("b", 1),
    ]


def test_adding_member_with_new_identity_creates_the_user(service: Any) -> None:
    s = service.fetch()
    ch = service.channels.create(friendly_name="c")
    service.channels(ch.sid).members.create(identity="yuri")
    u = service.users("yuri").fetch()
    assert u.role_sid == s.default_service_role_sid
    assert u.friendly_name is None
    assert u.attributes == "{}"
    assert u.joined_channels_count == 1
    fails_with(409, 50201, service.users.create, identity="yuri")


# --- list ---------------------------------------------------------------------------------------


def test_list_is_empty_for_a_new_service(service: Any) -> None:
    assert service.users.list() == []


def test_list_rows_hide_attributes_and_reachability(service: Any) -> None:
    service.update(reachability_enabled=True)
    created = service.users.create(identity="zoe", attributes='{"secret": 1}', friendly_name="Zoe")
    (row,) = service.users.list()
    assert row.sid == created.sid
    assert row.identity == "zoe"
    assert row.friendly_name == "Zoe"
    assert row.role_sid == created.role_sid
    assert row.attributes is None
    assert row.is_online is None
    assert row.is_notifiable is None
    assert row.links == created.links
    assert row.url == created.url
    assert service.users(created.sid).fetch().attributes == '{"secret": 1}'


def test_list_rows_render_null_attributes_in_raw_json(service: Any, http: httpx.Client) -> None:
    service.users.create(identity="raw")
    sid = service.fetch().sid
    body = http.get(f"/v1/Services/{sid}/Users").json()
    assert body["meta"]["key"] == "users"
    (row,) = body["users"]
    assert "attributes" in row
    assert row["attributes"] is None
    assert row["is_online"] is None
    assert row["is_notifiable"] is None


def test_list_returns_users_in_creation_order(service: Any) -> None:
    created = [service.users.create(identity=f"user{i}").sid for i in range(5)]
    assert [u.sid for u in service.users.list()] == created


def test_list_pages_through_users_with_small_pages(service: Any) -> None:
    created = [service.users.create(identity=f"user{i}").sid for i in range(5)]
    assert [u.sid for u in service.users.list(page_size=2)] == created
    assert [u.sid for u in service.users.stream(page_size=2)] == created
    assert [u.sid for u in service.users.list(limit=3, page_size=2)] == created[:3]


def test_page_next_and_previous(service: Any) -> None:
    created = [service.users.create(identity=f"user{i}").sid for i in range(5)]
    first = service.users.page(page_size=2)
    assert [u.sid for u in first] == created[:2]
    assert first.previous_page() is None
    second = first.next_page()
    assert [u.sid for u in second] == created[2:4]
    third = second.next_page()
    assert [u.sid for u in third] == created[4:]
    assert third.next_page() is None
    assert [u.sid for u in third.previous_page()] == created[2:4]
    assert [u.sid for u in second.previous_page()] == created[:2]


def test_list_page_number_without_token_serves_that_offset(
    service: Any, http: httpx.Client
) -> None:
    created = [service.users.create(identity=f"user{i}").sid for i in range(5)]
    sid = service.fetch().sid
    body = http.get(f"/v1/Services/{sid}/Users", params={"PageSize": 2, "Page": 2}).json()
    assert [row["sid"] for row in body["users"]] == created[4:]
    assert body["meta"]["page"] == 2
    assert body["meta"]["next_page_url"] is None


def test_list_reflects_deletes(service: Any) -> None:
    a = service.users.create(identity="a")
    service.users.create(identity="b")
    c = service.users.create(identity="c")
    service.users("b").delete()
    assert [u.sid for u in service.users.list()] == [a.sid, c.sid]


def test_list_only_shows_users_of_its_service(chat: Any, service: Any) -> None:
    other = chat.services.create(friendly_name="other")
    chat.services(other.sid).users.create(identity="foreign")
    mine = service.users.create(identity="local")
    assert [u.sid for u in service.users.list()] == [mine.sid]


def test_list_in_unknown_service_is_not_found(chat: Any) -> None:
    expect_list_error(404, 20404, chat.services(UNKNOWN_SERVICE).users.list)
