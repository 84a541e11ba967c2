"""Roles through the official twilio SDK: scopes, permission validation and order, paging."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from twilio.base import values

from sdk_support import expect_http_error, expect_list_error, fails_with

pytestmark = pytest.mark.server

ROLE_SID = re.compile(r"^RL[0-9a-f]{32}$")
UNKNOWN_ROLE = "RL" + "0" * 32
UNKNOWN_SERVICE = "IS" + "0" * 32

#: Reference 5.1: the recommended canonical output order of permissions.
CANONICAL = [
    "createChannel",
    "joinChannel",
    "sendMessage",
    "sendMediaMessage",
    "leaveChannel",
    "editNotificationLevel",
    "editOwnUserInfo",
    "editAnyUserInfo",
    "destroyChannel",
    "inviteMember",
    "removeMember",
    "editChannelName",
    "editChannelAttributes",
    "addMember",
    "editOwnMemberAttributes",
    "editAnyMemberAttributes",
    "editOwnMessage",
    "editAnyMessage",
    "editOwnMessageAttributes",
    "editAnyMessageAttributes",
    "deleteOwnMessage",
    "deleteAnyMessage",
]
BOTH = [
    "destroyChannel",
    "inviteMember",
    "removeMember",
    "editChannelName",
    "editChannelAttributes",
    "addMember",
    "editAnyMessage",
    "editAnyMessageAttributes",
    "deleteAnyMessage",
    "editAnyMemberAttributes",
]
DEPLOYMENT_ONLY = ["createChannel", "joinChannel", "editOwnUserInfo", "editAnyUserInfo"]
CHANNEL_ONLY = [
    "sendMessage",
    "leaveChannel",
    "editOwnMessage",
    "editOwnMessageAttributes",
    "deleteOwnMessage",
    "sendMediaMessage",
    "editNotificationLevel",
    "editOwnMemberAttributes",
]
DEPLOYMENT_ALL = [p for p in CANONICAL if p in BOTH or p in DEPLOYMENT_ONLY]
CHANNEL_ALL = [p for p in CANONICAL if p in BOTH or p in CHANNEL_ONLY]


def roles_by_name(service: Any) -> dict[str, Any]:
    return {r.friendly_name: r for r in service.roles.list()}


# --- create -------------------------------------------------------------------------------------


def test_create_deployment_role_returns_201(service: Any) -> None:
    s = service.fetch()
    response = service.roles.create_with_http_info(
        friendly_name="moderator", type="deployment", permission=["createChannel", "joinChannel"]
    )
    assert response.status_code == 201
    role = response.data
    assert ROLE_SID.match(role.sid)
    assert role.account_sid == s.account_sid
    assert role.service_sid == s.sid
    assert role.friendly_name == "moderator"
    assert role.type == "deployment"
    assert role.permissions == ["createChannel", "joinChannel"]
    assert role.date_created is not None
    assert role.date_updated == role.date_created
    assert role.url.endswith(f"/v1/Services/{s.sid}/Roles/{role.sid}")


def test_create_channel_role(service: Any) -> None:
    role = service.roles.create(
        friendly_name="speaker", type="channel", permission=["sendMessage", "leaveChannel"]
    )
    assert role.type == "channel"
    assert role.permissions == ["sendMessage", "leaveChannel"]


def test_create_role_has_no_links(service: Any, http: httpx.Client) -> None:
    sid = service.fetch().sid
    response = http.post(
        f"/v1/Services/{sid}/Roles",
        data={"FriendlyName": "r", "Type": "channel", "Permission": "sendMessage"},
    )
    assert response.status_code == 201
    assert set(response.json()) == {
        "sid",
        "account_sid",
        "service_sid",
        "friendly_name",
        "type",
        "permissions",
        "date_created",
        "date_updated",
        "url",
    }


def test_create_orders_permissions_canonically(service: Any) -> None:
    role = service.roles.create(
        friendly_name="r",
        type="channel",
        permission=["deleteOwnMessage", "editOwnMessage", "leaveChannel", "sendMessage"],
    )
    assert role.permissions == ["sendMessage", "leaveChannel", "editOwnMessage", "deleteOwnMessage"]


def test_create_collapses_duplicate_permissions(service: Any) -> None:
    role = service.roles.create(
        friendly_name="r",
        type="deployment",
        permission=["joinChannel", "createChannel", "joinChannel", "createChannel"],
    )
    assert role.permissions == ["createChannel", "joinChannel"]


def test_create_deployment_role_with_every_deployment_permission(service: Any) -> None:
    role = service.roles.create(
        friendly_name="all", type="deployment", permission=list(reversed(DEPLOYMENT_ALL))
    )
    assert role.permissions == DEPLOYMENT_ALL


def test_create_channel_role_with_every_channel_permission(service: Any) -> None:
    role = service.roles.create(
        friendly_name="all", type="channel", permission=list(reversed(CHANNEL_ALL))
    )
    assert role.permissions == CHANNEL_ALL


@pytest.mark.parametrize("permission", BOTH)
@pytest.mark.parametrize("role_type", ["deployment", "channel"])
def test_create_accepts_permissions_valid_in_both_scopes(
    service: Any, permission: str, role_type: str
) -> None:
    role = service.roles.create(friendly_name="r", type=role_type, permission=[permission])
    assert role.permissions == [permission]


@pytest.mark.parametrize("permission", CHANNEL_ONLY)
def test_create_deployment_role_rejects_channel_only_permission(
    service: Any, permission: str
) -> None:
    fails_with(
        400,
        50104,
        service.roles.create,
        friendly_name="r",
        type="deployment",
        permission=["createChannel", permission],
    )


@pytest.mark.parametrize("permission", DEPLOYMENT_ONLY)
def test_create_channel_role_rejects_deployment_only_permission(
    service: Any, permission: str
) -> None:
    fails_with(
        400,
        50104,
        service.roles.create,
        friendly_name="r",
        type="channel",
        permission=["sendMessage", permission],
    )


@pytest.mark.parametrize("permission", ["fly", "SendMessage", "sendmessage", " sendMessage", ""])
def test_create_rejects_unknown_permission(service: Any, permission: str) -> None:
    fails_with(
        400,
        50104,
        service.roles.create,
        friendly_name="r",
        type="channel",
        permission=[permission],
    )


def test_create_rejected_role_is_not_stored(service: Any) -> None:
    fails_with(
        400, 50104, service.roles.create, friendly_name="bad", type="channel", permission=["x"]
    )
    assert "bad" not in roles_by_name(service)


@pytest.mark.parametrize("role_type", ["admin", "Channel", "DEPLOYMENT", "service", ""])
def test_create_rejects_invalid_type(service: Any, role_type: str) -> None:
    fails_with(
        400,
        50105,
        service.roles.create,
        friendly_name="r",
        type=role_type,
        permission=["sendMessage"],
    )


@pytest.mark.parametrize("missing", ["FriendlyName", "Type", "Permission"])
def test_create_without_required_parameter_is_rejected(
    service: Any, http: httpx.Client, missing: str
) -> None:
    data = {"FriendlyName": "r", "Type": "channel", "Permission": "sendMessage"}
    del data[missing]
    sid = service.fetch().sid
    body = expect_http_error(http.post(f"/v1/Services/{sid}/Roles", data=data), 400, 20001)
    assert missing in body["message"]


def test_create_without_permission_through_sdk_is_rejected(service: Any) -> None:
    fails_with(
        400,
        20001,
        service.roles.create,
        friendly_name="r",
        type="channel",
        permission=values.unset,
    )


def test_create_with_empty_friendly_name_is_rejected(service: Any) -> None:
    fails_with(
        400,
        50000,
        service.roles.create,
        friendly_name="",
        type="channel",
        permission=["sendMessage"],
    )


def test_create_accepts_friendly_name_of_64_characters(service: Any) -> None:
    role = service.roles.create(friendly_name="r" * 64, type="channel", permission=["sendMessage"])
    assert role.friendly_name == "r" * 64


def test_create_with_friendly_name_over_64_characters_is_rejected(service: Any) -> None:
    fails_with(
        400,
        50003,
        service.roles.create,
        friendly_name="r" * 65,
        type="channel",
        permission=["sendMessage"],
    )


def test_create_allows_duplicate_friendly_names(service: Any) -> None:
    a = service.roles.create(friendly_name="twin", type="channel", permission=["sendMessage"])
    b = service.roles.create(friendly_name="twin", type="deployment", permission=["joinChannel"])
    assert a.sid != b.sid
    assert [r.friendly_name for r in service.roles.list()].count("twin") == 2


def test_create_in_unknown_service_is_not_found(chat: Any) -> None:
    fails_with(
        404,
        20404,
        chat.services(UNKNOWN_SERVICE).roles.create,
        friendly_name="r",
        type="channel",
        permission=["sendMessage"],
    )


# --- fetch --------------------------------------------------------------------------------------


def test_fetch_role(service: Any) -> None:
    created = service.roles.create(
        friendly_name="fetched", type="channel", permission=["leaveChannel", "sendMessage"]
    )
    role = service.roles(created.sid).fetch()
    assert role.sid == created.sid
    assert role.friendly_name == "fetched"
    assert role.type == "channel"
    assert role.permissions == ["sendMessage", "leaveChannel"]
    assert role.date_created == created.date_created
    assert role.url == created.url


def test_fetch_default_role(service: Any) -> None:
    sid = service.fetch().default_channel_role_sid
    role = service.roles(sid).fetch()
    assert role.friendly_name == "channel user"
    assert role.permissions == ["sendMessage", "leaveChannel", "editOwnMessage", "deleteOwnMessage"]


@pytest.mark.parametrize("segment", [UNKNOWN_ROLE, "channel user", "moderator"])
def test_fetch_unknown_role_is_not_found(service: Any, segment: str) -> None:
    fails_with(404, 20404, service.roles(segment).fetch)


def test_fetch_role_through_another_service_is_not_found(chat: Any, service: Any) -> None:
    role = service.roles.create(friendly_name="mine", type="channel", permission=["sendMessage"])
    other = chat.services.create(friendly_name="other")
    fails_with(404, 20404, chat.services(other.sid).roles(role.sid).fetch)
    fails_with(404, 20404, chat.services(other.sid).roles(role.sid).update, permission=["x"])
    fails_with(404, 20404, chat.services(other.sid).roles(role.sid).delete)
    assert service.roles(role.sid).fetch().sid == role.sid


def test_fetch_role_in_unknown_service_is_not_found(chat: Any, service: Any) -> None:
    sid = service.fetch().default_channel_role_sid
    fails_with(404, 20404, chat.services(UNKNOWN_SERVICE).roles(sid).fetch)


# --- update -------------------------------------------------------------------------------------


def test_update_replaces_the_permission_set(service: Any) -> None:
    role = service.roles.create(
        friendly_name="r", type="channel", permission=["sendMessage", "leaveChannel"]
    )
    response = service.roles(role.sid).update_with_http_info(permission=["deleteOwnMessage"])
    assert response.status_code == 200
    assert response.data.permissions == ["deleteOwnMessage"]
    assert service.roles(role.sid).fetch().permissions == ["deleteOwnMessage"]


def test_update_orders_and_deduplicates_permissions(service: Any) -> None:
    role = service.roles.create(friendly_name="r", type="deployment", permission=["joinChannel"])
    updated = service.roles(role.sid).update(
        permission=["editAnyUserInfo", "createChannel", "editAnyUserInfo", "addMember"]
    )
    assert updated.permissions == ["createChannel", "editAnyUserInfo", "addMember"]


def test_update_keeps_name_type_and_creation_date(service: Any) -> None:
    role = service.roles.create(friendly_name="keep", type="channel", permission=["sendMessage"])
    updated = service.roles(role.sid).update(permission=["leaveChannel"])
    assert (updated.friendly_name, updated.type) == ("keep", "channel")
    assert updated.date_created == role.date_created
    assert updated.date_updated >= role.date_updated


def test_update_ignores_friendly_name_and_type(service: Any, http: httpx.Client) -> None:
    role = service.roles.create(friendly_name="keep", type="channel", permission=["sendMessage"])
    sid = service.fetch().sid
    response = http.post(
        f"/v1/Services/{sid}/Roles/{role.sid}",
        data={"FriendlyName": "renamed", "Type": "deployment", "Permission": "leaveChannel"},
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["friendly_name"], body["type"], body["permissions"]) == (
        "keep",
        "channel",
        ["leaveChannel"],
    )


def test_update_default_role(service: Any) -> None:
    sid = service.fetch().default_service_role_sid
    updated = service.roles(sid).update(permission=["joinChannel"])
    assert updated.friendly_name == "service user"
    assert service.roles(sid).fetch().permissions == ["joinChannel"]


def test_update_rejects_permission_of_the_wrong_scope(service: Any) -> None:
    role = service.roles.create(friendly_name="r", type="channel", permission=["sendMessage"])
    fails_with(400, 50104, service.roles(role.sid).update, permission=["createChannel"])
    fails_with(
        400, 50104, service.roles(role.sid).update, permission=["leaveChannel", "joinChannel"]
    )
    assert service.roles(role.sid).fetch().permissions == ["sendMessage"]


def test_update_deployment_role_rejects_channel_only_permission(service: Any) -> None:
    role = service.roles.create(friendly_name="r", type="deployment", permission=["joinChannel"])
    fails_with(400, 50104, service.roles(role.sid).update, permission=["sendMessage"])
    assert service.roles(role.sid).fetch().permissions == ["joinChannel"]


def test_update_rejects_unknown_permission(service: Any) -> None:
    role = service.roles.create(friendly_name="r", type="channel", permission=["sendMessage"])
    fails_with(400, 50104, service.roles(role.sid).update, permission=["teleport"])


def test_update_without_permission_is_rejected(service: Any, http: httpx.Client) -> None:
    role = service.roles.create(friendly_name="r", type="channel", permission=["sendMessage"])
    sid = service.fetch().sid
    expect_http_error(http.post(f"/v1/Services/{sid}/Roles/{role.sid}", data={}), 400, 20001)
    expect_http_error(
        http.post(f"/v1/Services/{sid}/Roles/{role.sid}", data={"FriendlyName": "x"}), 400, 20001
    )
    assert service.roles(role.sid).fetch().permissions == ["sendMessage"]


def test_update_unknown_role_is_not_found(service: Any) -> None:
    fails_with(404, 20404, service.roles(UNKNOWN_ROLE).update, permission=["sendMessage"])


# --- delete -------------------------------------------------------------------------------------


def test_delete_returns_204_then_role_is_gone(service: Any) -> None:
    role = service.roles.create(friendly_name="gone", type="channel", permission=["sendMessage"])
    response = service.roles(role.sid).delete_with_http_info()
    assert response.status_code == 204
    fails_with(404, 20404, service.roles(role.sid).fetch)
    fails_with(404, 20404, service.roles(role.sid).delete)
    assert role.sid not in {r.sid for r in service.roles.list()}


def test_delete_unknown_role_is_not_found(service: Any) -> None:
    fails_with(404, 20404, service.roles(UNKNOWN_ROLE).delete)


def test_delete_role_in_use_leaves_holders_with_its_sid(service: Any) -> None:
    role = service.roles.create(friendly_name="vip", type="deployment", permission=["joinChannel"])
    user = service.users.create(identity="holder", role_sid=role.sid)
    service.roles(role.sid).delete()
    assert service.users(user.sid).fetch().role_sid == role.sid
    fails_with(400, 50102, service.users.create, identity="newcomer", role_sid=role.sid)


def test_deleting_default_service_role_breaks_user_creation_without_role(service: Any) -> None:
    s = service.fetch()
    service.roles(s.default_service_role_sid).delete()
    assert service.fetch().default_service_role_sid == s.default_service_role_sid
    fails_with(400, 50102, service.users.create, identity="nobody")
    admin = roles_by_name(service)["service admin"]
    assert service.users.create(identity="admin", role_sid=admin.sid).role_sid == admin.sid


def test_deleting_default_channel_role_breaks_member_creation_without_role(service: Any) -> None:
    s = service.fetch()
    channel = service.channels.create(friendly_name="c")
    service.roles(s.default_channel_role_sid).delete()
    fails_with(400, 50101, service.channels(channel.sid).members.create, identity="nobody")
    admin = roles_by_name(service)["channel admin"]
    member = service.channels(channel.sid).members.create(identity="boss", role_sid=admin.sid)
    assert member.role_sid == admin.sid


# --- list ---------------------------------------------------------------------------------------


def test_list_starts_with_the_default_roles_then_custom_roles(service: Any) -> None:
    custom = service.roles.create(
        friendly_name="custom", type="channel", permission=["sendMessage"]
    )
    roles = service.roles.list()
    assert [r.friendly_name for r in roles] == [
        "service admin",
        "service user",
        "channel admin",
        "channel user",
        "custom",
    ]
    assert roles[-1].sid == custom.sid
    assert roles[-1].permissions == ["sendMessage"]


def test_list_pages_through_roles_with_small_pages(service: Any) -> None:
    for i in range(3):
        service.roles.create(friendly_name=f"extra{i}", type="channel", permission=["sendMessage"])
    expected = [r.sid for r in service.roles.list()]
    assert len(expected) == 7
    assert [r.sid for r in service.roles.list(page_size=2)] == expected
    assert [r.sid for r in service.roles.stream(page_size=2)] == expected
    assert [r.sid for r in service.roles.list(limit=5, page_size=2)] == expected[:5]


def test_page_next_and_previous(service: Any) -> None:
    for i in range(2):
        service.roles.create(
            friendly_name=f"extra{i}", type="deployment", permission=["joinChannel"]
        )
    expected = [r.sid for r in service.roles.list()]
    first = service.roles.page(page_size=2)
    assert [r.sid for r in first] == expected[:2]
    assert first.previous_page() is None
    second = first.next_page()
    assert [r.sid for r in second] == expected[2:4]
    third = second.next_page()
    assert [r.sid for r in third] == expected[4:6]
    assert third.next_page() is None
    assert [r.sid for r in third.previous_page()] == expected[2:4]
    assert [r.sid for r in second.previous_page()] == expected[:2]


def test_list_meta_key_is_roles(service: Any, http: httpx.Client) -> None:
    sid = service.fetch().sid
    body = http.get(f"/v1/Services/{sid}/Roles", params={"PageSize": 3}).json()
    assert body["meta"]["key"] == "roles"
    assert body["meta"]["page_size"] == 3
    assert len(body["roles"]) == 3
    assert body["meta"]["next_page_url"] is not None


def test_list_in_unknown_service_is_not_found(chat: Any) -> None:
    expect_list_error(404, 20404, chat.services(UNKNOWN_SERVICE).roles.list)


def test_list_only_shows_roles_of_its_service(chat: Any, service: Any) -> None:
    other = chat.services.create(friendly_name="other")
    chat.services(other.sid).roles.create(
        friendly_name="foreign", type="channel", permission=["sendMessage"]
    )
    assert "foreign" not in roles_by_name(service)
    assert all(r.service_sid == service.fetch().sid for r in service.roles.list())
