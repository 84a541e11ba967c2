"""Services through the official twilio SDK: defaults, settings updates, cascade, paging, errors."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from twilio.base import values

from sdk_support import expect_http_error, fails_with

pytestmark = pytest.mark.server

SERVICE_SID = re.compile(r"^IS[0-9a-f]{32}$")
ROLE_SID = re.compile(r"^RL[0-9a-f]{32}$")
UNKNOWN_SERVICE = "IS" + "0" * 32
UNKNOWN_ROLE = "RL" + "0" * 32

DEFAULT_NOTIFICATIONS = {
    "new_message": {"enabled": False},
    "added_to_channel": {"enabled": False},
    "invited_to_channel": {"enabled": False},
    "removed_from_channel": {"enabled": False},
}

#: (friendly_name, type, permissions) of the default roles, in creation order (reference 5.2).
DEFAULT_ROLES = [
    (
        "service admin",
        "deployment",
        [
            "createChannel",
            "joinChannel",
            "editAnyUserInfo",
            "destroyChannel",
            "inviteMember",
            "removeMember",
            "editChannelName",
            "editChannelAttributes",
            "addMember",
            "editAnyMessage",
            "editAnyMessageAttributes",
            "deleteAnyMessage",
        ],
    ),
    ("service user", "deployment", ["createChannel", "joinChannel", "editOwnUserInfo"]),
    (
        "channel admin",
        "channel",
        [
            "sendMessage",
            "leaveChannel",
            "destroyChannel",
            "inviteMember",
            "removeMember",
            "editChannelName",
            "editChannelAttributes",
            "addMember",
            "editAnyMessage",
            "editAnyMessageAttributes",
            "deleteAnyMessage",
        ],
    ),
    (
        "channel user",
        "channel",
        ["sendMessage", "leaveChannel", "editOwnMessage", "deleteOwnMessage"],
    ),
]

#: SDK keyword prefix -> key of the ``webhooks`` object (reference 6.6).
WEBHOOK_EVENTS = {
    "on_message_send": "on_message_send",
    "on_message_update": "on_message_update",
    "on_message_remove": "on_message_remove",
    "on_channel_add": "on_channel_add",
    "on_channel_destroy": "on_channel_destroy",
    "on_channel_update": "on_channel_update",
    "on_member_add": "on_member_add",
    "on_member_remove": "on_member_remove",
    "on_message_sent": "on_message_sent",
    "on_message_updated": "on_message_updated",
    "on_message_removed": "on_message_removed",
    "on_channel_added": "on_channel_added",
    "on_channel_destroyed": "on_channel_destroyed",
    "on_channel_updated": "on_channel_updated",
    "on_member_added": "on_member_added",
    "on_member_removed": "on_member_removed",
}

ALL_FILTERS = [
    "onMessageSend",
    "onMessageSent",
    "onMessageUpdate",
    "onMessageUpdated",
    "onMessageRemove",
    "onMessageRemoved",
    "onChannelAdd",
    "onChannelAdded",
    "onChannelUpdate",
    "onChannelUpdated",
    "onChannelDestroy",
    "onChannelDestroyed",
    "onMemberAdd",
    "onMemberAdded",
    "onMemberRemove",
    "onMemberRemoved",
    "onUserUpdate",
    "onUserUpdated",
]


def roles_by_name(service: Any) -> dict[str, Any]:
    return {r.friendly_name: r for r in service.roles.list()}


# --- create -------------------------------------------------------------------------------------


def test_create_returns_201_with_documented_defaults(chat: Any) -> None:
    response = chat.services.create_with_http_info(friendly_name="Support chat")
    assert response.status_code == 201
    s = response.data
    assert SERVICE_SID.match(s.sid)
    assert s.account_sid.startswith("AC")
    assert s.friendly_name == "Support chat"
    assert s.date_created is not None
    assert s.date_updated == s.date_created
    assert s.read_status_enabled is True
    assert s.reachability_enabled is False
    assert s.typing_indicator_timeout == 5
    assert s.consumption_report_interval == 10
    assert s.limits == {"channel_members": 100, "user_channels": 250}
    assert s.webhooks == {}
    assert s.pre_webhook_url is None
    assert s.post_webhook_url is None
    assert s.webhook_method is None
    assert s.webhook_filters is None
    assert s.notifications == DEFAULT_NOTIFICATIONS
    assert s.url.endswith(f"/v1/Services/{s.sid}")
    assert s.links == {
        "channels": f"{s.url}/Channels",
        "users": f"{s.url}/Users",
        "roles": f"{s.url}/Roles",
    }


def test_create_makes_four_default_roles_in_order(chat: Any) -> None:
    s = chat.services.create(friendly_name="roles")
    roles = chat.services(s.sid).roles.list()
    assert [(r.friendly_name, r.type, r.permissions) for r in roles] == DEFAULT_ROLES
    for r in roles:
        assert ROLE_SID.match(r.sid)
        assert r.service_sid == s.sid
        assert r.account_sid == s.account_sid


def test_create_wires_default_role_sids(chat: Any) -> None:
    s = chat.services.create(friendly_name="wiring")
    by_name = roles_by_name(chat.services(s.sid))
    assert s.default_service_role_sid == by_name["service user"].sid
    assert s.default_channel_role_sid == by_name["channel user"].sid
    assert s.default_channel_creator_role_sid == by_name["channel admin"].sid


def test_create_gives_each_service_its_own_default_roles(chat: Any) -> None:
    a = chat.services.create(friendly_name="a")
    b = chat.services.create(friendly_name="b")
    assert {r.sid for r in chat.services(a.sid).roles.list()}.isdisjoint(
        {r.sid for r in chat.services(b.sid).roles.list()}
    )
    assert a.default_service_role_sid != b.default_service_role_sid


def test_create_without_friendly_name_is_missing_parameter(http: httpx.Client) -> None:
    body = expect_http_error(http.post("/v1/Services", data={}), 400, 20001)
    assert "FriendlyName" in body["message"]


def test_create_without_friendly_name_through_sdk_is_missing_parameter(chat: Any) -> None:
    fails_with(400, 20001, chat.services.create, friendly_name=values.unset)


def test_create_with_empty_friendly_name_is_rejected(chat: Any) -> None:
    fails_with(400, 50000, chat.services.create, friendly_name="")


def test_create_accepts_friendly_name_of_64_characters(chat: Any) -> None:
    assert chat.services.create(friendly_name="x" * 64).friendly_name == "x" * 64


def test_create_with_friendly_name_over_64_characters_is_rejected(chat: Any) -> None:
    fails_with(400, 50003, chat.services.create, friendly_name="x" * 65)


def test_create_keeps_unicode_friendly_name(chat: Any) -> None:
    name = "Café ☕ chat — 日本語"
    s = chat.services.create(friendly_name=name)
    assert s.friendly_name == name
    assert chat.services(s.sid).fetch().friendly_name == name


def test_create_ignores_unknown_parameters(http: httpx.Client) -> None:
    response = http.post("/v1/Services", data={"FriendlyName": "x", "Bogus": "1"})
    assert response.status_code == 201
    assert response.json()["friendly_name"] == "x"


def test_create_with_wrong_credentials_is_unauthorized(server: Any) -> None:
    with httpx.Client(base_url=server.url, auth=("AC" + "f" * 32, "wrong")) as client:
        expect_http_error(client.post("/v1/Services", data={"FriendlyName": "x"}), 401, 20003)


# --- fetch --------------------------------------------------------------------------------------


def test_fetch_returns_the_created_service(chat: Any) -> None:
    created = chat.services.create(friendly_name="fetch me")
    fetched = chat.services(created.sid).fetch()
    assert fetched.sid == created.sid
    assert fetched.friendly_name == "fetch me"
    assert fetched.date_created == created.date_created
    assert fetched.default_service_role_sid == created.default_service_role_sid
    assert fetched.limits == created.limits
    assert fetched.notifications == DEFAULT_NOTIFICATIONS
    assert fetched.webhooks == {}
    assert fetched.url == created.url


def test_fetch_unknown_service_is_not_found(chat: Any) -> None:
    error = fails_with(404, 20404, chat.services(UNKNOWN_SERVICE).fetch)
    assert UNKNOWN_SERVICE in error.msg


def test_fetch_segment_that_is_not_a_service_sid_is_not_found(chat: Any) -> None:
    fails_with(404, 20404, chat.services("my-service").fetch)


def test_fetch_not_found_message_names_the_path(http: httpx.Client) -> None:
    body = expect_http_error(http.get(f"/v1/Services/{UNKNOWN_SERVICE}"), 404, 20404)
    assert body["message"] == f"The requested resource /Services/{UNKNOWN_SERVICE} was not found"


# --- update: plain settings ---------------------------------------------------------------------


def test_update_friendly_name(service: Any) -> None:
    response = service.update_with_http_info(friendly_name="renamed")
    assert response.status_code == 200
    assert response.data.friendly_name == "renamed"
    assert service.fetch().friendly_name == "renamed"


def test_update_is_partial(service: Any) -> None:
    before = service.fetch()
    after = service.update(typing_indicator_timeout=9)
    assert after.typing_indicator_timeout == 9
    assert after.friendly_name == before.friendly_name
    assert after.read_status_enabled is True
    assert after.limits == before.limits
    assert after.notifications == before.notifications
    assert after.default_service_role_sid == before.default_service_role_sid
    assert after.date_created == before.date_created
    assert after.date_updated >= before.date_updated


def test_update_read_status_and_reachability_flags(service: Any) -> None:
    s = service.update(read_status_enabled=False, reachability_enabled=True)
    assert (s.read_status_enabled, s.reachability_enabled) == (False, True)
    s = service.update(read_status_enabled=True, reachability_enabled=False)
    assert (s.read_status_enabled, s.reachability_enabled) == (True, False)
    fetched = service.fetch()
    assert (fetched.read_status_enabled, fetched.reachability_enabled) == (True, False)


def test_update_flags_accept_string_booleans_case_insensitively(http: httpx.Client) -> None:
    sid = http.post("/v1/Services", data={"FriendlyName": "b"}).json()["sid"]
    response = http.post(f"/v1/Services/{sid}", data={"ReachabilityEnabled": "TRUE"})
    assert response.status_code == 200
    assert response.json()["reachability_enabled"] is True


def test_update_with_invalid_boolean_is_rejected(service: Any) -> None:
    fails_with(400, 20001, service.update, read_status_enabled="maybe")
    assert service.fetch().read_status_enabled is True


def test_update_typing_indicator_timeout(service: Any) -> None:
    assert service.update(typing_indicator_timeout=30).typing_indicator_timeout == 30
    assert service.update(typing_indicator_timeout=0).typing_indicator_timeout == 0
    assert service.fetch().typing_indicator_timeout == 0


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", ""])
def test_update_invalid_typing_indicator_timeout_is_rejected(service: Any, value: str) -> None:
    fails_with(400, 50053, service.update, typing_indicator_timeout=value)
    assert service.fetch().typing_indicator_timeout == 5


def test_update_consumption_report_interval(service: Any) -> None:
    assert service.update(consumption_report_interval=20).consumption_report_interval == 20
    assert service.fetch().consumption_report_interval == 20


@pytest.mark.parametrize("value", ["soon", "-5"])
def test_update_invalid_consumption_report_interval_is_rejected(service: Any, value: str) -> None:
    fails_with(400, 50052, service.update, consumption_report_interval=value)
    assert service.fetch().consumption_report_interval == 10


# --- update: limits -----------------------------------------------------------------------------


def test_update_limits(service: Any) -> None:
    s = service.update(limits_channel_members=7, limits_user_channels=3)
    assert s.limits == {"channel_members": 7, "user_channels": 3}
    assert service.fetch().limits == {"channel_members": 7, "user_channels": 3}


def test_update_one_limit_keeps_the_other(service: Any) -> None:
    assert service.update(limits_channel_members=42).limits == {
        "channel_members": 42,
        "user_channels": 250,
    }
    assert service.update(limits_user_channels=43).limits == {
        "channel_members": 42,
        "user_channels": 43,
    }


@pytest.mark.parametrize("value", [1, 1000])
def test_update_limits_accept_the_range_bounds(service: Any, value: int) -> None:
    s = service.update(limits_channel_members=value, limits_user_channels=value)
    assert s.limits == {"channel_members": value, "user_channels": value}


@pytest.mark.parametrize("value", ["0", "1001", "-1", "abc", "2.5", ""])
def test_update_invalid_channel_members_limit_is_rejected(service: Any, value: str) -> None:
    fails_with(400, 50061, service.update, limits_channel_members=value)
    assert service.fetch().limits["channel_members"] == 100


@pytest.mark.parametrize("value", ["0", "1001", "-1", "abc", "2.5", ""])
def test_update_invalid_user_channels_limit_is_rejected(service: Any, value: str) -> None:
    fails_with(400, 50060, service.update, limits_user_channels=value)
    assert service.fetch().limits["user_channels"] == 250


def test_lowering_channel_members_limit_blocks_only_future_members(service: Any) -> None:
    channel = service.channels.create(friendly_name="busy")
    for identity in ("a", "b", "c"):
        service.channels(channel.sid).members.create(identity=identity)
    service.update(limits_channel_members=2)
    assert service.channels(channel.sid).fetch().members_count == 3
    fails_with(403, 50403, service.channels(channel.sid).members.create, identity="d")


def test_lowering_user_channels_limit_blocks_further_memberships(service: Any) -> None:
    service.update(limits_user_channels=1)
    first = service.channels.create(friendly_name="one")
    second = service.channels.create(friendly_name="two")
    service.channels(first.sid).members.create(identity="solo")
    fails_with(403, 50208, service.channels(second.sid).members.create, identity="solo")


# --- update: notifications ----------------------------------------------------------------------


def test_update_notification_enabled_flags(service: Any) -> None:
    s = service.update(
        notifications_new_message_enabled=True,
        notifications_added_to_channel_enabled=True,
        notifications_invited_to_channel_enabled=True,
        notifications_removed_from_channel_enabled=True,
    )
    assert s.notifications == {
        "new_message": {"enabled": True},
        "added_to_channel": {"enabled": True},
        "invited_to_channel": {"enabled": True},
        "removed_from_channel": {"enabled": True},
    }
    s = service.update(notifications_added_to_channel_enabled=False)
    assert s.notifications["added_to_channel"] == {"enabled": False}
    assert s.notifications["new_message"] == {"enabled": True}


def test_update_notification_templates(service: Any) -> None:
    s = service.update(
        notifications_new_message_enabled=True,
        notifications_new_message_template="${USER}: ${MESSAGE}",
        notifications_added_to_channel_template="added to ${CHANNEL}",
        notifications_invited_to_channel_template="invited to ${CHANNEL}",
        notifications_removed_from_channel_template="removed from ${CHANNEL}",
    )
    assert s.notifications == {
        "new_message": {"enabled": True, "template": "${USER}: ${MESSAGE}"},
        "added_to_channel": {"enabled": False, "template": "added to ${CHANNEL}"},
        "invited_to_channel": {"enabled": False, "template": "invited to ${CHANNEL}"},
        "removed_from_channel": {"enabled": False, "template": "removed from ${CHANNEL}"},
    }
    assert service.fetch().notifications == s.notifications


def test_update_template_keeps_enabled_flag_and_vice_versa(service: Any) -> None:
    service.update(notifications_new_message_enabled=True)
    s = service.update(notifications_new_message_template="t1")
    assert s.notifications["new_message"] == {"enabled": True, "template": "t1"}
    s = service.update(notifications_new_message_enabled=False)
    assert s.notifications["new_message"] == {"enabled": False, "template": "t1"}


def test_update_empty_template_removes_it(service: Any) -> None:
    service.update(notifications_invited_to_channel_template="hello ${USER}")
    s = service.update(notifications_invited_to_channel_template="")
    assert s.notifications["invited_to_channel"] == {"enabled": False}
    assert service.fetch().notifications == DEFAULT_NOTIFICATIONS


def test_update_template_of_1024_characters_is_accepted(service: Any) -> None:
    s = service.update(notifications_new_message_template="t" * 1024)
    assert s.notifications["new_message"]["template"] == "t" * 1024


def test_update_template_too_long_is_rejected(service: Any) -> None:
    fails_with(400, 50058, service.update, notifications_new_message_template="t" * 1025)
    assert service.fetch().notifications == DEFAULT_NOTIFICATIONS


def test_update_invalid_notification_flag_is_rejected(service: Any) -> None:
    fails_with(400, 20001, service.update, notifications_new_message_enabled="yes")


# --- update: global webhooks --------------------------------------------------------------------


def test_update_pre_and_post_webhook_urls_and_method(service: Any) -> None:
    s = service.update(
        pre_webhook_url="https://example.com/pre",
        post_webhook_url="http://example.com:8080/post?x=1",
        webhook_method="GET",
    )
    assert s.pre_webhook_url == "https://example.com/pre"
    assert s.post_webhook_url == "http://example.com:8080/post?x=1"
    assert s.webhook_method == "GET"
    fetched = service.fetch()
    assert (fetched.pre_webhook_url, fetched.post_webhook_url, fetched.webhook_method) == (
        "https://example.com/pre",
        "http://example.com:8080/post?x=1",
        "GET",
    )


@pytest.mark.parametrize(("sent", "stored"), [("post", "POST"), ("Get", "GET"), ("POST", "POST")])
def test_update_webhook_method_is_case_insensitive_and_stored_upper_case(
    service: Any, sent: str, stored: str
) -> None:
    assert service.update(webhook_method=sent).webhook_method == stored


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "HEAD", "FETCH"])
def test_update_invalid_webhook_method_is_rejected(service: Any, method: str) -> None:
    fails_with(400, 50055, service.update, webhook_method=method)
    assert service.fetch().webhook_method is None


def test_update_empty_strings_clear_webhook_settings(service: Any) -> None:
    service.update(
        pre_webhook_url="https://example.com/pre",
        post_webhook_url="https://example.com/post",
        webhook_method="POST",
        webhook_filters=["onMessageSent"],
    )
    s = service.update(pre_webhook_url="", post_webhook_url="", webhook_method="")
    assert s.pre_webhook_url is None
    assert s.post_webhook_url is None
    assert s.webhook_method is None
    assert s.webhook_filters == ["onMessageSent"]
    s = service.update(webhook_filters=[""])
    assert s.webhook_filters is None
    assert service.fetch().webhook_filters is None


@pytest.mark.parametrize(
    "url",
    [
        "not a url",
        "example.com/hook",
        "ftp://example.com/hook",
        "http://",
        "https:///path",
        "/hook",
    ],
)
def test_update_invalid_pre_webhook_url_is_rejected(service: Any, url: str) -> None:
    fails_with(400, 50077, service.update, pre_webhook_url=url)
    assert service.fetch().pre_webhook_url is None


@pytest.mark.parametrize(
    "url", ["not a url", "example.com/hook", "ftp://example.com/hook", "http://", "/hook"]
)
def test_update_invalid_post_webhook_url_is_rejected(service: Any, url: str) -> None:
    fails_with(400, 50078, service.update, post_webhook_url=url)
    assert service.fetch().post_webhook_url is None


def test_update_webhook_filters(service: Any) -> None:
    s = service.update(webhook_filters=["onMessageSent", "onMemberAdded"])
    assert s.webhook_filters == ["onMessageSent", "onMemberAdded"]
    assert service.fetch().webhook_filters == ["onMessageSent", "onMemberAdded"]


def test_update_webhook_filters_replaces_the_whole_list(service: Any) -> None:
    service.update(webhook_filters=["onMessageSent", "onMemberAdded"])
    assert service.update(webhook_filters=["onChannelAdd"]).webhook_filters == ["onChannelAdd"]


def test_update_accepts_all_eighteen_webhook_filters(service: Any) -> None:
    s = service.update(webhook_filters=ALL_FILTERS)
    assert sorted(s.webhook_filters) == sorted(ALL_FILTERS)


@pytest.mark.parametrize(
    "filters",
    [["bogus"], ["onMessageSent", "onMessageExploded"], ["onmessagesent"], ["onUserAdded"]],
)
def test_update_invalid_webhook_filter_is_rejected(service: Any, filters: list[str]) -> None:
    service.update(webhook_filters=["onMessageSent"])
    fails_with(400, 50054, service.update, webhook_filters=filters)
    assert service.fetch().webhook_filters == ["onMessageSent"]


def test_update_webhook_filters_sent_as_repeated_keys(http: httpx.Client) -> None:
    sid = http.post("/v1/Services", data={"FriendlyName": "f"}).json()["sid"]
    response = http.post(
        f"/v1/Services/{sid}",
        content="WebhookFilters=onMessageSend&WebhookFilters=onUserUpdated",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200
    assert response.json()["webhook_filters"] == ["onMessageSend", "onUserUpdated"]


# --- update: per-event webhooks -----------------------------------------------------------------


def test_update_per_event_webhook_url_defaults_method_to_post(service: Any) -> None:
    s = service.update(webhooks_on_message_send_url="https://example.com/send")
    assert s.webhooks == {
        "on_message_send": {"url": "https://example.com/send", "method": "POST", "format": None}
    }
    assert service.fetch().webhooks == s.webhooks


def test_update_per_event_webhook_url_and_method(service: Any) -> None:
    s = service.update(
        webhooks_on_message_send_url="https://example.com/send",
        webhooks_on_message_send_method="GET",
    )
    assert s.webhooks == {
        "on_message_send": {"url": "https://example.com/send", "method": "GET", "format": None}
    }


def test_update_per_event_webhook_method_alone_changes_configured_entry(service: Any) -> None:
    service.update(webhooks_on_member_added_url="https://example.com/added")
    s = service.update(webhooks_on_member_added_method="get")
    assert s.webhooks == {
        "on_member_added": {"url": "https://example.com/added", "method": "GET", "format": None}
    }
    s = service.update(webhooks_on_member_added_url="https://example.com/added2")
    assert s.webhooks["on_member_added"] == {
        "url": "https://example.com/added2",
        "method": "GET",
        "format": None,
    }


def test_update_per_event_webhook_method_alone_does_not_create_an_entry(service: Any) -> None:
    s = service.update(webhooks_on_message_send_method="GET")
    assert s.webhooks == {}
    assert service.fetch().webhooks == {}


def test_update_per_event_webhook_method_alone_is_still_validated(service: Any) -> None:
    fails_with(400, 50055, service.update, webhooks_on_channel_update_method="PUT")


def test_update_clearing_url_then_sending_method_keeps_entry_removed(service: Any) -> None:
    service.update(webhooks_on_member_add_url="https://example.com/add")
    service.update(webhooks_on_member_add_url="")
    assert service.update(webhooks_on_member_add_method="GET").webhooks == {}


def test_update_every_per_event_webhook(service: Any) -> None:
    kwargs = {}
    expected = {}
    for i, (param, key) in enumerate(WEBHOOK_EVENTS.items()):
        method = "GET" if i % 2 else "POST"
        kwargs[f"webhooks_{param}_url"] = f"https://example.com/{key}"
        kwargs[f"webhooks_{param}_method"] = method
        expected[key] = {"url": f"https://example.com/{key}", "method": method, "format": None}
    s = service.update(**kwargs)
    assert s.webhooks == expected
    assert service.fetch().webhooks == expected


def test_update_empty_per_event_webhook_url_removes_the_entry(service: Any) -> None:
    service.update(
        webhooks_on_channel_add_url="https://example.com/add",
        webhooks_on_channel_destroyed_url="https://example.com/destroyed",
    )
    s = service.update(webhooks_on_channel_add_url="")
    assert s.webhooks == {
        "on_channel_destroyed": {
            "url": "https://example.com/destroyed",
            "method": "POST",
            "format": None,
        }
    }
    s = service.update(webhooks_on_channel_destroyed_url="")
    assert s.webhooks == {}
    assert service.fetch().webhooks == {}


def test_update_per_event_webhooks_are_independent_of_global_ones(service: Any) -> None:
    s = service.update(
        webhooks_on_message_sent_url="https://example.com/sent",
        post_webhook_url="https://example.com/post",
        webhook_filters=["onMessageSent"],
    )
    assert s.post_webhook_url == "https://example.com/post"
    assert s.webhooks == {
        "on_message_sent": {"url": "https://example.com/sent", "method": "POST", "format": None}
    }
    s = service.update(post_webhook_url="")
    assert s.webhooks["on_message_sent"]["url"] == "https://example.com/sent"


@pytest.mark.parametrize("url", ["not a url", "ftp://example.com/x", "http://"])
def test_update_invalid_per_event_webhook_url_is_rejected(service: Any, url: str) -> None:
    fails_with(400, 50054, service.update, webhooks_on_message_update_url=url)
    assert service.fetch().webhooks == {}


@pytest.mark.parametrize("method", ["PUT", "DELETE", "nope"])
def test_update_invalid_per_event_webhook_method_is_rejected(service: Any, method: str) -> None:
    fails_with(
        400,
        50055,
        service.update,
        webhooks_on_message_remove_url="https://example.com/rm",
        webhooks_on_message_remove_method=method,
    )
    assert service.fetch().webhooks == {}


# --- update: default roles ----------------------------------------------------------------------


def test_update_default_role_sids(service: Any) -> None:
    by_name = roles_by_name(service)
    s = service.update(
        default_service_role_sid=by_name["service admin"].sid,
        default_channel_role_sid=by_name["channel admin"].sid,
        default_channel_creator_role_sid=by_name["channel user"].sid,
    )
    assert s.default_service_role_sid == by_name["service admin"].sid
    assert s.default_channel_role_sid == by_name["channel admin"].sid
    assert s.default_channel_creator_role_sid == by_name["channel user"].sid
    fetched = service.fetch()
    assert fetched.default_service_role_sid == by_name["service admin"].sid
    assert fetched.default_channel_role_sid == by_name["channel admin"].sid
    assert fetched.default_channel_creator_role_sid == by_name["channel user"].sid


def test_update_default_role_sids_accept_custom_roles(service: Any) -> None:
    dep = service.roles.create(friendly_name="vip", type="deployment", permission=["joinChannel"])
    chan = service.roles.create(friendly_name="guest", type="channel", permission=["sendMessage"])
    s = service.update(default_service_role_sid=dep.sid, default_channel_role_sid=chan.sid)
    assert (s.default_service_role_sid, s.default_channel_role_sid) == (dep.sid, chan.sid)


def test_new_default_service_role_applies_to_new_users_only(service: Any) -> None:
    before = service.users.create(identity="before")
    admin = roles_by_name(service)["service admin"]
    service.update(default_service_role_sid=admin.sid)
    after = service.users.create(identity="after")
    assert service.users(before.sid).fetch().role_sid != admin.sid
    assert after.role_sid == admin.sid


def test_new_default_channel_role_applies_to_new_members_only(service: Any) -> None:
    channel = service.channels.create(friendly_name="c")
    members = service.channels(channel.sid).members
    before = members.create(identity="before")
    admin = roles_by_name(service)["channel admin"]
    service.update(default_channel_role_sid=admin.sid)
    after = members.create(identity="after")
    assert members(before.sid).fetch().role_sid != admin.sid
    assert after.role_sid == admin.sid


@pytest.mark.parametrize("role_name", ["channel user", "channel admin"])
def test_default_service_role_must_be_a_deployment_role(service: Any, role_name: str) -> None:
    original = service.fetch().default_service_role_sid
    role = roles_by_name(service)[role_name]
    fails_with(400, 50102, service.update, default_service_role_sid=role.sid)
    assert service.fetch().default_service_role_sid == original


@pytest.mark.parametrize("role_name", ["service user", "service admin"])
def test_default_channel_role_must_be_a_channel_role(service: Any, role_name: str) -> None:
    original = service.fetch().default_channel_role_sid
    role = roles_by_name(service)[role_name]
    fails_with(400, 50101, service.update, default_channel_role_sid=role.sid)
    assert service.fetch().default_channel_role_sid == original


@pytest.mark.parametrize("role_name", ["service user", "service admin"])
def test_default_channel_creator_role_must_be_a_channel_role(service: Any, role_name: str) -> None:
    original = service.fetch().default_channel_creator_role_sid
    role = roles_by_name(service)[role_name]
    fails_with(400, 50106, service.update, default_channel_creator_role_sid=role.sid)
    assert service.fetch().default_channel_creator_role_sid == original


@pytest.mark.parametrize(
    ("param", "code"),
    [
        ("default_service_role_sid", 50102),
        ("default_channel_role_sid", 50101),
        ("default_channel_creator_role_sid", 50106),
    ],
)
@pytest.mark.parametrize("value", [UNKNOWN_ROLE, "not-a-role", ""])
def test_default_role_sids_must_name_an_existing_role(
    service: Any, param: str, code: int, value: str
) -> None:
    fails_with(400, code, service.update, **{param: value})


@pytest.mark.parametrize(
    ("param", "role_name", "code"),
    [
        ("default_service_role_sid", "service admin", 50102),
        ("default_channel_role_sid", "channel admin", 50101),
        ("default_channel_creator_role_sid", "channel admin", 50106),
    ],
)
def test_default_role_sids_must_belong_to_the_same_service(
    chat: Any, service: Any, param: str, role_name: str, code: int
) -> None:
    other = chat.services.create(friendly_name="other")
    foreign = roles_by_name(chat.services(other.sid))[role_name]
    fails_with(400, code, service.update, **{param: foreign.sid})


def test_default_role_sid_of_deleted_role_is_rejected(service: Any) -> None:
    role = service.roles.create(friendly_name="gone", type="deployment", permission=["joinChannel"])
    service.roles(role.sid).delete()
    fails_with(400, 50102, service.update, default_service_role_sid=role.sid)


# --- update: errors -----------------------------------------------------------------------------


def test_update_with_no_parameters_is_rejected(service: Any) -> None:
    fails_with(400, 20161, service.update)


def test_update_with_only_unknown_parameters_is_rejected(service: Any, http: httpx.Client) -> None:
    sid = service.fetch().sid
    expect_http_error(http.post(f"/v1/Services/{sid}", data={"Colour": "blue"}), 400, 20161)


def test_update_with_empty_friendly_name_is_rejected(service: Any) -> None:
    fails_with(400, 50000, service.update, friendly_name="")
    assert service.fetch().friendly_name == "test service"


def test_update_with_friendly_name_over_64_characters_is_rejected(service: Any) -> None:
    fails_with(400, 50003, service.update, friendly_name="y" * 65)
    assert service.update(friendly_name="y" * 64).friendly_name == "y" * 64


def test_update_failing_validation_changes_nothing(service: Any) -> None:
    fails_with(
        400,
        50061,
        service.update,
        friendly_name="changed",
        typing_indicator_timeout=99,
        limits_channel_members=0,
    )
    s = service.fetch()
    assert s.friendly_name == "test service"
    assert s.typing_indicator_timeout == 5


def test_update_unknown_service_is_not_found(chat: Any) -> None:
    fails_with(404, 20404, chat.services(UNKNOWN_SERVICE).update, friendly_name="x")


# --- delete -------------------------------------------------------------------------------------


def test_delete_returns_204_then_service_is_gone(chat: Any) -> None:
    s = chat.services.create(friendly_name="doomed")
    response = chat.services(s.sid).delete_with_http_info()
    assert response.status_code == 204
    assert response.data is True
    fails_with(404, 20404, chat.services(s.sid).fetch)
    fails_with(404, 20404, chat.services(s.sid).delete)
    fails_with(404, 20404, chat.services(s.sid).update, friendly_name="x")


def test_delete_answers_with_empty_body(chat: Any, http: httpx.Client) -> None:
    s = chat.services.create(friendly_name="doomed")
    response = http.delete(f"/v1/Services/{s.sid}")
    assert response.status_code == 204
    assert response.content == b""


def test_delete_unknown_service_is_not_found(chat: Any) -> None:
    fails_with(404, 20404, chat.services(UNKNOWN_SERVICE).delete)


def test_delete_cascades_to_channels_users_and_roles(chat: Any, http: httpx.Client) -> None:
    s = chat.services.create(friendly_name="cascade")
    svc = chat.services(s.sid)
    channel = svc.channels.create(friendly_name="general", unique_name="general")
    member = svc.channels(channel.sid).members.create(identity="alice")
    message = svc.channels(channel.sid).messages.create(body="hello", from_="alice")
    svc.users.create(identity="bob")
    invite = svc.channels(channel.sid).invites.create(identity="bob")
    user = svc.users("alice").fetch()
    role = svc.roles.create(friendly_name="custom", type="channel", permission=["sendMessage"])
    default_role = s.default_service_role_sid

    svc.delete()

    base = f"/v1/Services/{s.sid}"
    for path in (
        base,
        f"{base}/Channels",
        f"{base}/Channels/{channel.sid}",
        f"{base}/Channels/general",
        f"{base}/Channels/{channel.sid}/Members",
        f"{base}/Channels/{channel.sid}/Members/{member.sid}",
        f"{base}/Channels/{channel.sid}/Messages",
        f"{base}/Channels/{channel.sid}/Messages/{message.sid}",
        f"{base}/Channels/{channel.sid}/Invites/{invite.sid}",
        f"{base}/Users",
        f"{base}/Users/{user.sid}",
        f"{base}/Users/alice",
        f"{base}/Users/{user.sid}/Channels",
        f"{base}/Roles",
        f"{base}/Roles/{role.sid}",
        f"{base}/Roles/{default_role}",
    ):
        expect_http_error(http.get(path), 404, 20404)
    fails_with(404, 20404, svc.channels.create, friendly_name="late")
    fails_with(404, 20404, svc.users.create, identity="late")


def test_delete_leaves_other_services_and_credentials_alone(chat: Any) -> None:
    keep = chat.services.create(friendly_name="keep")
    chat.services(keep.sid).users.create(identity="carol")
    credential = chat.credentials.create(type="gcm", friendly_name="push", api_key="k")
    doomed = chat.services.create(friendly_name="doomed")
    chat.services(doomed.sid).users.create(identity="carol")
    chat.services(doomed.sid).delete()
    assert chat.services(keep.sid).users("carol").fetch().identity == "carol"
    assert len(chat.services(keep.sid).roles.list()) == 4
    assert chat.credentials(credential.sid).fetch().friendly_name == "push"


# --- list ---------------------------------------------------------------------------------------


def test_list_is_empty_on_a_new_account(clean_chat: Any) -> None:
    assert clean_chat.services.list() == []


def test_list_returns_every_service_in_creation_order(clean_chat: Any) -> None:
    created = [clean_chat.services.create(friendly_name=f"s{i}").sid for i in range(5)]
    listed = clean_chat.services.list()
    assert [s.sid for s in listed] == created
    assert [s.friendly_name for s in listed] == [f"s{i}" for i in range(5)]
    first = listed[0]
    assert first.limits == {"channel_members": 100, "user_channels": 250}
    assert first.notifications == DEFAULT_NOTIFICATIONS
    assert first.webhooks == {}


def test_list_reflects_updates_and_deletes(clean_chat: Any) -> None:
    a = clean_chat.services.create(friendly_name="a")
    b = clean_chat.services.create(friendly_name="b")
    clean_chat.services(a.sid).update(friendly_name="a2")
    clean_chat.services(b.sid).delete()
    assert [(s.sid, s.friendly_name) for s in clean_chat.services.list()] == [(a.sid, "a2")]


def test_list_pages_through_all_services_with_small_pages(clean_chat: Any) -> None:
    created = [clean_chat.services.create(friendly_name=f"s{i}").sid for i in range(5)]
    assert [s.sid for s in clean_chat.services.list(page_size=2)] == created
    assert [s.sid for s in clean_chat.services.stream(page_size=2)] == created
    assert [s.sid for s in clean_chat.services.list(limit=3, page_size=2)] == created[:3]
    assert [s.sid for s in clean_chat.services.list(limit=3)] == created[:3]


def test_page_next_and_previous(clean_chat: Any) -> None:
    created = [clean_chat.services.create(friendly_name=f"s{i}").sid for i in range(5)]
    first = clean_chat.services.page(page_size=2)
    assert [s.sid for s in first] == created[:2]
    assert first.previous_page() is None
    second = first.next_page()
    assert [s.sid for s in second] == created[2:4]
    third = second.next_page()
    assert [s.sid for s in third] == created[4:]
    assert third.next_page() is None
    back = third.previous_page()
    assert [s.sid for s in back] == created[2:4]
    assert [s.sid for s in back.previous_page()] == created[:2]


def test_list_meta_envelope(clean_chat: Any, chinwag_server: Any) -> None:
    for i in range(3):
        clean_chat.services.create(friendly_name=f"s{i}")
    with httpx.Client(base_url=chinwag_server.url, auth=_auth(clean_chat)) as client:
        body = client.get("/v1/Services", params={"PageSize": 2}).json()
        meta = body["meta"]
        assert meta["key"] == "services"
        assert meta["page"] == 0
        assert meta["page_size"] == 2
        assert meta["previous_page_url"] is None
        assert meta["next_page_url"] is not None
        assert meta["first_page_url"].endswith("/v1/Services?PageSize=2&Page=0")
        assert len(body["services"]) == 2
        last = client.get(meta["next_page_url"]).json()
        assert last["meta"]["page"] == 1
        assert last["meta"]["next_page_url"] is None
        assert last["meta"]["previous_page_url"] is not None
        assert len(last["services"]) == 1


def test_list_page_size_above_maximum_is_clamped(http: httpx.Client) -> None:
    body = http.get("/v1/Services", params={"PageSize": 5000}).json()
    assert body["meta"]["page_size"] == 100


@pytest.mark.parametrize("size", ["0", "-1", "abc"])
def test_list_invalid_page_size_is_rejected(http: httpx.Client, size: str) -> None:
    expect_http_error(http.get("/v1/Services", params={"PageSize": size}), 400, 20001)


def test_list_with_a_page_token_not_issued_by_the_server_is_rejected(http: httpx.Client) -> None:
    expect_http_error(http.get("/v1/Services", params={"PageToken": "garbage"}), 400, 21481)


def test_list_page_number_without_token_serves_that_offset(
    clean_chat: Any, chinwag_server: Any
) -> None:
    created = [clean_chat.services.create(friendly_name=f"s{i}").sid for i in range(5)]
    with httpx.Client(base_url=chinwag_server.url, auth=_auth(clean_chat)) as client:
        body = client.get("/v1/Services", params={"PageSize": 2, "Page": 1}).json()
    assert [row["sid"] for row in body["services"]] == created[2:4]
    assert body["meta"]["page"] == 1


def _auth(chat: Any) -> tuple[str, str]:
    """The credentials the SDK client of ``chat`` uses."""
    client = chat.domain.twilio
    return (client.username, client.password)
