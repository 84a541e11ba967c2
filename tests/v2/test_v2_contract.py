"""The v2 and v3 specs are the contract: every operation routed (or owned by a named branch),
the shipped specs are the shared ones, and raw HTTP with every v2 parameter conforms.

Why: the SDK walk (``test_v2_python_sdk.py``) sends what twilio-python sends; here the spec is
the checklist, and each v2 parameter is sent as the wire carries it, its effect asserted and
its response checked against the spec.
"""

from __future__ import annotations

import importlib.resources
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from chinwag.http.routes import V2, V3
from spec_contract import check_exchange, spec_operations

pytestmark = pytest.mark.server

SHARED = Path(__file__).resolve().parents[3] / "shared" / "spec"
_PARAM = re.compile(r"\{[^}]*\}")


def _normalized(path: str) -> str:
    return _PARAM.sub("{}", path)


@pytest.mark.parametrize(("version", "table"), [("v2", V2), ("v3", V3)])
def test_every_spec_operation_is_routed(version: str, table: Any) -> None:
    spec = {
        (method, _normalized(template)): op_id
        for op_id, (method, template) in spec_operations(version).items()
    }
    routed = {(route.method, _normalized(route.path)): route.name for route in table}
    assert len(routed) == len(table), f"a (method, path) appears twice in {version}"
    assert sorted(set(spec) - set(routed)) == [], "spec operations without a route"
    assert sorted(set(routed) - set(spec)) == [], "routes the spec does not define"
    assert {key: routed[key] for key in spec} == spec, "route names differ from operationIds"


def test_the_specs_count_what_the_issue_says() -> None:
    assert (len(spec_operations("v2")), len(spec_operations("v3"))) == (54, 1)


@pytest.mark.parametrize("version", ["v2", "v3"])
def test_shipped_spec_matches_shared(version: str) -> None:
    shared = SHARED / f"twilio_chat_{version}.yaml"
    if not shared.exists():  # outside the workspace: nothing to compare with
        return
    shipped = importlib.resources.files("chinwag") / "spec" / f"twilio_chat_{version}.yaml"
    assert shipped.read_bytes() == shared.read_bytes()


class Checked:
    """Raw HTTP whose every answer is checked against the spec of its version."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http

    def call(self, method: str, url: str, expect: int, **kwargs: Any) -> Any:
        response = self.http.request(method, url, **kwargs)
        problems = check_exchange(
            method, str(response.request.url), response.status_code, response.text
        )
        assert not problems, f"{method} {url}:\n" + "\n".join(problems)
        assert response.status_code == expect, f"{method} {url}: {response.text}"
        return response.json() if response.content else None


@pytest.fixture
def api(http: httpx.Client) -> Checked:
    return Checked(http)


@pytest.fixture
def service(api: Checked) -> str:
    return str(api.call("POST", "/v2/Services", 201, data={"FriendlyName": "raw"})["sid"])


def test_service_v2_settings_and_no_per_event_webhooks(api: Checked, service: str) -> None:
    url = f"/v2/Services/{service}"
    body = api.call(
        "POST",
        url,
        200,
        data={
            "Notifications.RemovedFromChannel.Sound": "bye",
            "Notifications.InvitedToChannel.Sound": "knock",
            "Notifications.NewMessage.BadgeCountEnabled": "true",
            "Media.CompatibilityMessage": "see the app",
            "Webhooks.OnMessageSend.Url": "https://example.com/ignored",
        },
    )
    assert body["notifications"]["removed_from_channel"] == {"enabled": False, "sound": "bye"}
    assert body["notifications"]["invited_to_channel"]["sound"] == "knock"
    assert body["notifications"]["new_message"]["badge_count_enabled"] is True
    assert body["media"]["compatibility_message"] == "see the app"
    assert "webhooks" not in body
    v1 = api.http.get(f"/v1/Services/{service}").json()
    assert v1["webhooks"] == {}  # v2 has no Webhooks.* parameters: nothing was set
    cleared = api.call("POST", url, 200, data={"Notifications.RemovedFromChannel.Sound": ""})
    assert cleared["notifications"]["removed_from_channel"] == {"enabled": False}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"PreWebhookRetryCount": "4"}, "PreWebhookRetryCount must be an integer from 0 to 3"),
        ({"PostWebhookRetryCount": "x"}, "PostWebhookRetryCount must be an integer from 0 to 3"),
        ({"Notifications.LogEnabled": "yes"}, "Notifications.LogEnabled must be true or false"),
    ],
)
def test_service_v2_settings_say_what_they_take(
    api: Checked, service: str, data: dict[str, str], message: str
) -> None:
    body = api.call("POST", f"/v2/Services/{service}", 400, data=data)
    assert (body["code"], body["message"]) == (20001, message)


def test_imports_of_history_keep_their_dates_and_authors(api: Checked, service: str) -> None:
    channels = f"/v2/Services/{service}/Channels"
    channel = api.call(
        "POST",
        channels,
        201,
        data={
            "DateCreated": "2019-05-01T10:00:00Z",
            "DateUpdated": "2019-05-02T10:00:00+00:00",
            "CreatedBy": "archive",
        },
    )
    assert (channel["date_created"], channel["date_updated"]) == (
        "2019-05-01T10:00:00Z",
        "2019-05-02T10:00:00Z",
    )
    assert channel["created_by"] == "archive"
    base = f"{channels}/{channel['sid']}"
    member = api.call(
        "POST",
        f"{base}/Members",
        201,
        data={
            "Identity": "ann",
            "DateCreated": "2019-05-01T11:00:00Z",
            "LastConsumedMessageIndex": "0",
            "LastConsumptionTimestamp": "2019-05-01T12:00:00Z",
            "Attributes": '{"team": "a"}',
        },
    )
    assert (member["date_created"], member["date_updated"]) == ("2019-05-01T11:00:00Z",) * 2
    assert (member["last_consumed_message_index"], member["last_consumption_timestamp"]) == (
        0,
        "2019-05-01T12:00:00Z",
    )
    message = api.call(
        "POST",
        f"{base}/Messages",
        201,
        data={
            "From": "ann",
            "Body": "old news",
            "DateCreated": "2019-05-01T12:00:00Z",
            "LastUpdatedBy": "ann",
        },
    )
    assert (message["date_created"], message["date_updated"]) == ("2019-05-01T12:00:00Z",) * 2
    assert message["last_updated_by"] == "ann"
    moved = api.call(
        "POST",
        f"{base}/Messages/{message['sid']}",
        200,
        data={"DateUpdated": "2019-06-01T00:00:00Z", "From": "bea"},
    )
    assert (moved["from"], moved["date_updated"], moved["was_edited"]) == (
        "bea",
        "2019-06-01T00:00:00Z",
        False,
    )
    empty = api.call("POST", f"{base}/Messages", 201, data={"From": "ann"})
    assert (empty["body"], empty["type"]) == ("", "text")


@pytest.mark.parametrize(
    ("path", "data", "message"),
    [
        (
            "/Channels",
            {"DateCreated": "yesterday"},
            "DateCreated must be an ISO 8601 date such as 2016-03-24T21:05:50Z, "
            "between 1970 and 9999",
        ),
        (
            "/Channels",
            {"CreatedBy": "x" * 300},
            "Author parameter is too long: at most 256 characters",
        ),
    ],
)
def test_bad_overrides_say_what_is_allowed(
    api: Checked, service: str, path: str, data: dict[str, str], message: str
) -> None:
    body = api.call("POST", f"/v2/Services/{service}{path}", 400, data=data)
    assert body["message"] == message


def test_user_channel_settings_and_leave(api: Checked, service: str) -> None:
    channels = f"/v2/Services/{service}/Channels"
    channel = api.call("POST", channels, 201, data={"UniqueName": "room"})
    api.call("POST", f"{channels}/room/Members", 201, data={"Identity": "cy"})
    mine = f"/v2/Services/{service}/Users/cy/Channels/room"
    row = api.call("GET", mine, 200)
    assert (row["status"], row["notification_level"]) == ("joined", "default")
    bad = api.call("POST", mine, 400, data={"NotificationLevel": "loud"})
    assert bad["message"] == "NotificationLevel must be one of: default, muted"
    row = api.call(
        "POST",
        mine,
        200,
        data={"NotificationLevel": "muted", "LastConsumptionTimestamp": "2021-01-01T00:00:00Z"},
    )
    assert row["notification_level"] == "muted"
    member = api.call("GET", f"{channels}/room/Members/cy", 200)
    assert member["last_consumption_timestamp"] == "2021-01-01T00:00:00Z"
    nothing = api.call("POST", mine, 400, data={})
    assert nothing["code"] == 20161  # send at least one parameter to change
    api.call("DELETE", mine, 204)
    api.call("GET", mine, 404)
    api.call("DELETE", mine, 404)
    assert api.call("GET", f"{channels}/{channel['sid']}", 200)["members_count"] == 0


def test_v3_changes_the_type_and_says_what_it_takes(api: Checked, service: str) -> None:
    channel = api.call("POST", f"/v2/Services/{service}/Channels", 201, data={"UniqueName": "t"})
    url = f"/v3/Services/{service}/Channels/t"
    changed = api.call("POST", url, 200, data={"Type": "private"})
    assert (changed["type"], changed["sid"]) == ("private", channel["sid"])
    assert changed["url"].endswith(f"/v3/Services/{service}/Channels/{channel['sid']}")
    bad = api.call("POST", url, 400, data={"Type": "secret"})
    assert bad["message"] == "Type must be one of: public, private"
    assert api.call("GET", f"/v1/Services/{service}/Channels/t", 200)["type"] == "private"
    assert api.call("POST", url, 400, data={})["code"] == 50347  # no parameter to change


def test_media_messages_say_what_they_take(api: Checked, service: str) -> None:
    channel = api.call("POST", f"/v2/Services/{service}/Channels", 201)["sid"]
    messages = f"/v2/Services/{service}/Channels/{channel}/Messages"
    unknown = api.call("POST", messages, 400, data={"MediaSid": "ME" + "0" * 32, "From": "ann"})
    assert (unknown["code"], unknown["message"]) == (
        20001,
        "media_sid must be the SID of the sender's own upload in this service, not sent before",
    )
    both = api.call("POST", messages, 400, data={"MediaSid": "ME" + "0" * 32, "Body": "hi"})
    assert both["message"] == "body must be empty in a media message"
