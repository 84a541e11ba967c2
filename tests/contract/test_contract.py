"""The spec is the contract: every operation routed, every operation's responses conform.

Why: SDK-driven tests only check the operations someone remembered to test. Here the spec
itself is the checklist: the route table must cover exactly its 40 operations, and one run
drives all 40 twice, once through the official SDK (whose every response ``conftest`` checks)
and once through raw HTTP with every optional parameter and multi-page lists, so a schema
drift on a rarely used field or on a second page's ``meta`` is still caught.
"""

from __future__ import annotations

import importlib.resources
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from chinwag.http.routes import V1
from spec_contract import check_exchange, operation_for, spec_operations

pytestmark = pytest.mark.server

SHARED_SPEC = Path(__file__).resolve().parents[3] / "shared" / "spec" / "twilio_chat_v1.yaml"
ALL_OPERATIONS = frozenset(spec_operations())
_PARAM = re.compile(r"\{[^}]*\}")


def _normalized(path: str) -> str:
    return _PARAM.sub("{}", path)


def test_spec_has_forty_operations() -> None:
    assert len(ALL_OPERATIONS) == 40


def test_every_spec_operation_is_routed() -> None:
    spec = {
        (method, _normalized(template)): op_id
        for op_id, (method, template) in spec_operations().items()
    }
    routed = {(route.method, _normalized(route.path)): route.name for route in V1}
    assert len(routed) == len(V1), "a (method, path) appears twice in V1"
    assert sorted(set(spec) - set(routed)) == [], "spec operations without a route"
    assert sorted(set(routed) - set(spec)) == [], "routes the spec does not define"
    mismatched = {key: (routed[key], spec[key]) for key in spec if routed[key] != spec[key]}
    assert mismatched == {}, "route operation_id differs from the spec's operationId"


def test_shipped_spec_matches_shared() -> None:
    if not SHARED_SPEC.exists():  # outside the workspace: nothing to compare with
        return
    shipped = importlib.resources.files("chinwag") / "spec" / "twilio_chat_v1.yaml"
    assert shipped.read_bytes() == SHARED_SPEC.read_bytes()


# --- driving every operation ------------------------------------------------------------------


class CheckedHttp:
    """Raw HTTP that checks each response against the spec and records the operation used."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http
        self.exercised: set[str] = set()

    def call(self, method: str, url: str, expect: int, **kwargs: Any) -> Any:
        response = self.http.request(method, url, **kwargs)
        status, body = response.status_code, response.text
        problems = check_exchange(method, str(response.request.url), status, body)
        assert not problems, f"{method} {url} -> {response.status_code}:\n" + "\n".join(problems)
        assert response.status_code == expect, f"{method} {url}: {response.text}"
        op_id = operation_for(method, response.request.url.path)
        assert op_id is not None
        self.exercised.add(op_id)
        return response.json() if response.content else None

    def pages(self, url: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Every page of a list, following ``meta.next_page_url`` verbatim as SDKs do."""
        page = self.call("GET", url, 200, params=params)
        yield page
        while page["meta"]["next_page_url"] is not None:
            page = self.call("GET", page["meta"]["next_page_url"], 200)
            previous = page["meta"]["previous_page_url"]
            assert previous is not None, "a page after the first has a previous_page_url"
            self.call("GET", previous, 200)  # backwards links conform too
            self.call("GET", page["meta"]["first_page_url"], 200)
            yield page

    def records(self, url: str, **params: Any) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for page in self.pages(url, **params):
            rows += page[page["meta"]["key"]]
        return rows


@pytest.fixture
def sdk_calls(chat: Any, monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """The operationIds of every request the ``chat`` SDK client sends from now on."""
    exercised: set[str] = set()
    http_client = chat.domain.twilio.http_client
    original = http_client.request

    def recording(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        op_id = operation_for(method, url)
        assert op_id is not None, f"the SDK sent {method} {url}, which is no spec operation"
        exercised.add(op_id)
        return original(method, url, *args, **kwargs)

    monkeypatch.setattr(http_client, "request", recording)
    return exercised


def _drive_sdk(chat: Any) -> None:
    """All 40 operations through the official SDK, with its own parameter spelling."""
    credential = chat.credentials.create(type="gcm", friendly_name="push", api_key="key")
    chat.credentials(credential.sid).fetch()
    chat.credentials(credential.sid).update(friendly_name="push 2", secret="s")
    assert credential.sid in {c.sid for c in chat.credentials.list()}

    created = chat.services.create(friendly_name="contract sdk")
    service = chat.services(created.sid)
    service.fetch()
    service.update(friendly_name="contract sdk 2", typing_indicator_timeout=7)
    chat.services.list(limit=3)

    role = service.roles.create(friendly_name="mods", type="channel", permission=["sendMessage"])
    service.roles(role.sid).fetch()
    service.roles(role.sid).update(permission=["sendMessage", "leaveChannel"])
    service.roles.list()

    user = service.users.create(identity="alice", friendly_name="Alice", attributes='{"a": 1}')
    service.users.create(identity="bob")
    service.users(user.sid).fetch()
    service.users("alice").update(friendly_name="Alice 2")
    service.users.list()

    channel = service.channels.create(friendly_name="general", unique_name="general")
    service.channels(channel.sid).fetch()
    service.channels("general").update(attributes='{"topic": "x"}')
    service.channels.list()

    member = service.channels(channel.sid).members.create(identity="alice")
    service.channels(channel.sid).members(member.sid).fetch()
    service.channels(channel.sid).members(member.sid).update(last_consumed_message_index=0)
    service.channels(channel.sid).members.list(identity=["alice"])

    message = service.channels(channel.sid).messages.create(body="hi", from_="alice")
    service.channels(channel.sid).messages(message.sid).fetch()
    service.channels(channel.sid).messages(message.sid).update(body="hi!")
    service.channels(channel.sid).messages.list(order="desc")

    invite = service.channels(channel.sid).invites.create(identity="bob")
    service.channels(channel.sid).invites(invite.sid).fetch()
    service.channels(channel.sid).invites.list()
    service.users("alice").user_channels.list()
    service.users("bob").user_channels.list()

    assert service.channels(channel.sid).invites(invite.sid).delete()
    assert service.channels(channel.sid).messages(message.sid).delete()
    assert service.channels(channel.sid).members(member.sid).delete()
    assert service.channels(channel.sid).delete()
    assert service.users(user.sid).delete()
    assert service.roles(role.sid).delete()
    assert service.delete()
    assert chat.credentials(credential.sid).delete()


def _drive_http(api: CheckedHttp) -> None:
    """All 40 operations over raw HTTP: every optional parameter, lists walked page by page."""
    credential = api.call(
        "POST",
        "/v1/Credentials",
        201,
        data={
            "Type": "apn",
            "FriendlyName": "apn push",
            "Certificate": "-----BEGIN CERTIFICATE-----\nMIIF\n-----END CERTIFICATE-----",
            "PrivateKey": "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----",
            "Sandbox": "true",
        },
    )
    extra_credential = api.call("POST", "/v1/Credentials", 201, data={"Type": "fcm", "Secret": "s"})
    cr_url = f"/v1/Credentials/{credential['sid']}"
    api.call("GET", cr_url, 200)
    api.call("POST", cr_url, 200, data={"Sandbox": "false", "FriendlyName": "apn 2"})
    assert credential["sid"] in {row["sid"] for row in api.records("/v1/Credentials", PageSize=1)}

    service = api.call("POST", "/v1/Services", 201, data={"FriendlyName": "contract http"})
    api.call("POST", "/v1/Services", 201, data={"FriendlyName": "contract http 2"})
    s_url = f"/v1/Services/{service['sid']}"
    api.call("GET", s_url, 200)
    api.call(
        "POST",
        s_url,
        200,
        data={
            "FriendlyName": "contract http renamed",
            "ReadStatusEnabled": "false",
            "ReachabilityEnabled": "true",
            "TypingIndicatorTimeout": "10",
            "ConsumptionReportInterval": "20",
            "Limits.ChannelMembers": "50",
            "Limits.UserChannels": "40",
            "Notifications.NewMessage.Enabled": "true",
            "Notifications.NewMessage.Template": "${USER}: ${MESSAGE}",
            "Notifications.AddedToChannel.Enabled": "true",
            "PreWebhookUrl": "https://hooks.example.com/pre",
            "PostWebhookUrl": "https://hooks.example.com/post",
            "WebhookMethod": "POST",
            "WebhookFilters": ["onMessageSend", "onMessageSent"],
            "Webhooks.OnMessageSend.Url": "https://hooks.example.com/send",
            "Webhooks.OnMessageSend.Method": "GET",
        },
    )
    api.records("/v1/Services", PageSize=1)  # at least two services: a real second page

    roles = api.records(f"{s_url}/Roles", PageSize=3)
    assert len(roles) >= 4
    role = api.call(
        "POST",
        f"{s_url}/Roles",
        201,
        data={"FriendlyName": "ops", "Type": "deployment", "Permission": ["createChannel"]},
    )
    rl_url = f"{s_url}/Roles/{role['sid']}"
    api.call("GET", rl_url, 200)
    api.call("POST", rl_url, 200, data={"Permission": ["createChannel", "joinChannel"]})

    user = api.call(
        "POST",
        f"{s_url}/Users",
        201,
        data={"Identity": "carol", "FriendlyName": "Carol", "Attributes": '{"x": [1, 2]}'},
    )
    api.call("POST", f"{s_url}/Users", 201, data={"Identity": "dave", "RoleSid": role["sid"]})
    api.call("GET", f"{s_url}/Users/carol", 200)
    api.call("POST", f"{s_url}/Users", 201, data={"Identity": "zoë smith"})
    api.call("GET", f"{s_url}/Users/zo%C3%AB%20smith", 200)  # identity needing encoding
    api.call("POST", f"{s_url}/Users/{user['sid']}", 200, data={"Attributes": "{}"})
    assert len(api.records(f"{s_url}/Users", PageSize=1)) == 3

    ch_url = f"{s_url}/Channels/room"
    channel = api.call(
        "POST",
        f"{s_url}/Channels",
        201,
        data={
            "FriendlyName": "Room",
            "UniqueName": "room",
            "Attributes": '{"k": "v"}',
            "Type": "private",
        },
    )
    api.call("POST", f"{s_url}/Channels", 201, data={"Type": "public"})
    api.call("GET", ch_url, 200)
    api.call("GET", f"{s_url}/Channels/{channel['sid']}", 200)
    api.call("POST", ch_url, 200, data={"FriendlyName": "Room 2"})
    channels = api.records(f"{s_url}/Channels", Type=["public", "private"], PageSize=1)
    assert len(channels) == 2

    member = api.call("POST", f"{ch_url}/Members", 201, data={"Identity": "carol"})
    api.call("POST", f"{ch_url}/Members", 201, data={"Identity": "erin"})
    api.call("GET", f"{ch_url}/Members/carol", 200)
    mb_url = f"{ch_url}/Members/{member['sid']}"
    api.call("POST", mb_url, 200, data={"LastConsumedMessageIndex": "0"})
    assert len(api.records(f"{ch_url}/Members", PageSize=1)) == 2
    api.records(f"{ch_url}/Members", Identity=["carol", "nobody"])

    messages = [
        api.call(
            "POST",
            f"{ch_url}/Messages",
            201,
            data={"Body": f"message {i}", "From": "carol", "Attributes": '{"i": 1}'},
        )
        for i in range(3)
    ]
    api.call("POST", f"{ch_url}/Messages", 201, data={"Body": ""})
    im_url = f"{ch_url}/Messages/{messages[0]['sid']}"
    api.call("GET", im_url, 200)
    api.call("POST", im_url, 200, data={"Body": "edited", "Attributes": "[]"})
    assert len(api.records(f"{ch_url}/Messages", Order="desc", PageSize=2)) == 4
    api.call("GET", ch_url, 200)  # links.last_message now set

    invite = api.call("POST", f"{ch_url}/Invites", 201, data={"Identity": "dave"})
    in_url = f"{ch_url}/Invites/{invite['sid']}"
    api.call("GET", in_url, 200)
    api.records(f"{ch_url}/Invites", Identity="dave", PageSize=1)
    api.records(f"{s_url}/Users/carol/Channels", PageSize=1)  # joined
    api.records(f"{s_url}/Users/{user['sid']}/Channels")
    api.records(f"{s_url}/Users/dave/Channels")  # invited

    api.call("DELETE", in_url, 204)
    api.call("DELETE", im_url, 204)
    api.call("DELETE", mb_url, 204)
    api.call("DELETE", ch_url, 204)
    api.call("DELETE", f"{s_url}/Users/carol", 204)
    api.call("DELETE", rl_url, 204)
    api.call("DELETE", s_url, 204)
    api.call("DELETE", cr_url, 204)
    api.call("DELETE", f"/v1/Credentials/{extra_credential['sid']}", 204)


def test_all_operations_conform(chat: Any, sdk_calls: set[str], http: httpx.Client) -> None:
    _drive_sdk(chat)
    assert sorted(ALL_OPERATIONS - sdk_calls) == [], "operations the SDK run did not exercise"

    api = CheckedHttp(http)
    _drive_http(api)
    assert sorted(ALL_OPERATIONS - api.exercised) == [], "operations the HTTP run did not exercise"
