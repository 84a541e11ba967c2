"""A 400 says what was wrong and what is allowed, with Twilio's code and error body.

Why: a developer who sends ``Type=group`` should read "Type must be one of: public, private",
not only "Invalid value for Type", and find the limit in the message rather than in our docs.
Twilio's own titles stay first where Twilio has one (clients may match on them); the allowed
values come from the code that enforces them, so message and rule cannot drift apart.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from contract.test_error_shape import assert_error

pytestmark = pytest.mark.server

#: (method, path under the service, data or query, code, message)
CASES: list[tuple[str, str, dict[str, Any], int, str]] = [
    ("POST", "/Channels", {"Type": "group"}, 20001, "Type must be one of: public, private"),
    ("GET", "/Channels", {"Type": "group"}, 20001, "Type must be one of: public, private"),
    (
        "GET",
        "/Channels",
        {"PageSize": "many"},
        20001,
        "PageSize must be a positive integer (above 1000, 1000 is used)",
    ),
    ("GET", "/Channels", {"Page": "-1"}, 20001, "Page must be an integer from 0"),
    ("POST", "", {"ReadStatusEnabled": "yes"}, 20001, "ReadStatusEnabled must be true or false"),
    (
        "POST",
        "",
        {"TypingIndicatorTimeout": "soon"},
        50053,
        "Invalid typing indicator format: must be an integer from 0 to 2147483647",
    ),
    (
        "POST",
        "",
        {"Limits.ChannelMembers": "0"},
        50061,
        "Invalid channel members limit format: must be an integer from 1 to 1000",
    ),
    (
        "POST",
        "",
        {"PreWebhookUrl": "ftp://example.com"},
        50077,
        "Invalid pre-webhook url: must be an absolute http or https URL of at most 2048 characters",
    ),
    (
        "POST",
        "",
        {"WebhookMethod": "PUT"},
        50055,
        "Invalid webhook method: must be one of: GET, POST",
    ),
    ("POST", "", {"FriendlyName": ""}, 50000, "FriendlyName not provided: it must not be empty"),
    (
        "POST",
        "/Channels",
        {"FriendlyName": "x" * 65},
        50003,
        "Friendly name too long: at most 64 characters",
    ),
    (
        "POST",
        "/Roles",
        {"FriendlyName": "r", "Type": "room", "Permission": "sendMessage"},
        50105,
        "Invalid role type: must be one of: channel, deployment",
    ),
    ("POST", "/Users", {"Identity": "system"}, 50203, "Identity reserved: system cannot be used"),
    (
        "POST",
        "/Channels",
        {"Attributes": "{"},
        50304,
        'Attributes not valid JSON: send a JSON document, such as {"key": "value"}',
    ),
]


@pytest.mark.parametrize(("method", "path", "params", "code", "message"), CASES)
def test_a_400_says_what_is_allowed(
    http: httpx.Client,
    method: str,
    path: str,
    params: dict[str, Any],
    code: int,
    message: str,
) -> None:
    service = http.post("/v1/Services", data={"FriendlyName": "messages"}).json()["sid"]
    url = f"/v1/Services/{service}{path}"
    response = http.request(
        method,
        url,
        params=params if method == "GET" else None,
        data=None if method == "GET" else params,
    )
    assert_error(response, 400, code, message)


def test_a_permission_not_found_lists_the_permissions_of_the_role_type(http: httpx.Client) -> None:
    service = http.post("/v1/Services", data={"FriendlyName": "roles"}).json()["sid"]
    data = {"FriendlyName": "r", "Type": "deployment", "Permission": "sendMessage"}
    body = assert_error(http.post(f"/v1/Services/{service}/Roles", data=data), 400, 50104)
    assert body["message"] == (
        "Permission not found: a deployment role takes one or more of: createChannel, "
        "joinChannel, editOwnUserInfo, editAnyUserInfo, destroyChannel, inviteMember, "
        "removeMember, editChannelName, editChannelAttributes, addMember, "
        "editAnyMemberAttributes, editAnyMessage, editAnyMessageAttributes, deleteAnyMessage"
    )


def test_a_credential_type_names_the_push_services(http: httpx.Client) -> None:
    response = http.post("/v1/Credentials", data={"Type": "sms"})
    assert_error(response, 400, 20001, "Type must be one of: apn, gcm, fcm")
