"""Channels through the official twilio SDK: defaults, aliases, validation, filters, cascades."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import httpx
import pytest
from twilio.base.exceptions import TwilioException

from sdk_support import expect_error, expect_http_error

pytestmark = pytest.mark.server

SID_HEX = "0123456789abcdef" * 2


@pytest.fixture
def service_sid(service: Any) -> str:
    return str(service.fetch().sid)


@pytest.fixture
def base_url(http: httpx.Client) -> str:
    return str(http.base_url).rstrip("/")


# --- create / fetch -----------------------------------------------------------------------------


def test_create_defaults(service: Any, service_sid: str, base_url: str) -> None:
    channel = service.channels.create()

    assert channel.sid.startswith("CH") and len(channel.sid) == 34
    assert channel.account_sid.startswith("AC")
    assert channel.service_sid == service_sid
    assert channel.friendly_name is None
    assert channel.unique_name is None
    assert channel.attributes == "{}"
    assert channel.type == "public"
    assert channel.created_by == "system"
    assert channel.members_count == 0
    assert channel.messages_count == 0
    assert isinstance(channel.date_created, datetime)
    assert channel.date_updated == channel.date_created
    url = f"{base_url}/v1/Services/{service_sid}/Channels/{channel.sid}"
    assert channel.url == url
    assert channel.links == {
        "members": f"{url}/Members",
        "messages": f"{url}/Messages",
        "invites": f"{url}/Invites",
        "last_message": None,
    }

    fetched = service.channels(channel.sid).fetch()
    assert fetched.attributes == "{}"
    assert fetched.type == "public"
    assert fetched.created_by == "system"
    assert fetched.links["last_message"] is None
    assert fetched.date_created == channel.date_created


def test_create_with_every_parameter(service: Any) -> None:
    channel = service.channels.create(
        friendly_name="General chat",
        unique_name="general",
        attributes='{"topic": "anything", "n": [1, 2]}',
        type="private",
    )

    assert channel.friendly_name == "General chat"
    assert channel.unique_name == "general"
    assert channel.attributes == '{"topic": "anything", "n": [1, 2]}'
    assert channel.type == "private"
    fetched = service.channels("general").fetch()
    assert fetched.sid == channel.sid
    assert fetched.attributes == '{"topic": "anything", "n": [1, 2]}'
    assert fetched.type == "private"


def test_create_with_empty_optional_values_uses_defaults(
    http: httpx.Client, service_sid: str
) -> None:
    response = http.post(
        f"/v1/Services/{service_sid}/Channels",
        data={"FriendlyName": "", "UniqueName": "", "Attributes": ""},
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["friendly_name"] is None
    assert body["unique_name"] is None
    assert body["attributes"] == "{}"
    assert body["type"] == "public"


def test_list_rows_have_null_attributes(service: Any) -> None:
    created = service.channels.create(attributes='{"color": "blue"}')

    [row] = service.channels.list()
    assert row.sid == created.sid
    assert row.attributes is None
    assert service.channels(created.sid).fetch().attributes == '{"color": "blue"}'


def test_fetch_by_sid_and_by_unique_name(service: Any) -> None:
    channel = service.channels.create(unique_name="lobby", friendly_name="Lobby")

    by_sid = service.channels(channel.sid).fetch()
    by_name = service.channels("lobby").fetch()

    assert by_sid.sid == by_name.sid == channel.sid
    assert by_name.url == by_sid.url
    assert by_name.friendly_name == "Lobby"


def test_fetch_unknown_channel_is_404(service: Any, service_sid: str) -> None:
    error = expect_error(service.channels("nope").fetch, 404, 20404)
    assert error.msg == (
        f"Unable to fetch record: The requested resource /Services/{service_sid}/Channels/nope "
        "was not found"
    )
    expect_error(service.channels("CH" + SID_HEX).fetch, 404, 20404)


def test_channel_of_another_service_is_not_found(chat: Any, service: Any) -> None:
    channel = service.channels.create(unique_name="mine")
    other = chat.services(chat.services.create(friendly_name="other").sid)

    expect_error(other.channels(channel.sid).fetch, 404, 20404)
    expect_error(other.channels("mine").fetch, 404, 20404)
    expect_error(other.channels(channel.sid).delete, 404, 20404)
    assert service.channels(channel.sid).fetch().sid == channel.sid


def test_unique_name_is_case_sensitive_and_per_service(chat: Any, service: Any) -> None:
    lower = service.channels.create(unique_name="general")
    upper = service.channels.create(unique_name="General")
    other = chat.services(chat.services.create(friendly_name="other").sid)
    elsewhere = other.channels.create(unique_name="general")

    assert len({lower.sid, upper.sid, elsewhere.sid}) == 3
    assert service.channels("general").fetch().sid == lower.sid
    assert service.channels("General").fetch().sid == upper.sid
    assert other.channels("general").fetch().sid == elsewhere.sid


def test_friendly_and_unique_name_of_64_characters_are_accepted(service: Any) -> None:
    channel = service.channels.create(friendly_name="f" * 64, unique_name="u" * 64)

    assert channel.friendly_name == "f" * 64
    assert channel.unique_name == "u" * 64
    assert service.channels("u" * 64).fetch().sid == channel.sid


# --- create validation --------------------------------------------------------------------------


def test_unique_name_too_long(service: Any) -> None:
    error = expect_error(lambda: service.channels.create(unique_name="u" * 65), 400, 50004)
    assert error.msg == "Unable to create record: Unique Name too long: at most 64 characters"
    assert service.channels.list(type=["public", "private"]) == []


def test_unique_name_looking_like_a_channel_sid(service: Any) -> None:
    expect_error(lambda: service.channels.create(unique_name="CH" + SID_HEX), 400, 50306)


def test_duplicate_unique_name_on_create(service: Any) -> None:
    first = service.channels.create(unique_name="general")

    error = expect_error(lambda: service.channels.create(unique_name="general"), 409, 50307)
    assert error.msg == (
        "Unable to create record: Channel with provided unique name already exists"
    )
    [row] = service.channels.list(type=["public", "private"])
    assert row.sid == first.sid


def test_friendly_name_too_long(service: Any) -> None:
    error = expect_error(lambda: service.channels.create(friendly_name="f" * 65), 400, 50003)
    assert error.msg == "Unable to create record: Friendly name too long: at most 64 characters"


@pytest.mark.parametrize("attributes", ["{not json", "{'single': 1}", "[1, 2", "nul"])
def test_attributes_must_be_json(service: Any, attributes: str) -> None:
    error = expect_error(lambda: service.channels.create(attributes=attributes), 400, 50304)
    assert (
        error.msg == "Unable to create record: Attributes not valid JSON: send a "
        'JSON document, such as {"key": "value"}'
    )


def test_attributes_too_long(service: Any) -> None:
    attributes = '"' + "a" * 16_400 + '"'
    expect_error(lambda: service.channels.create(attributes=attributes), 400, 50303)


@pytest.mark.parametrize("kind", ["secret", "PUBLIC", ""])
def test_invalid_type(http: httpx.Client, service: Any, service_sid: str, kind: str) -> None:
    if kind:
        expect_error(lambda: service.channels.create(type=kind), 400, 20001)
    response = http.post(f"/v1/Services/{service_sid}/Channels", data={"Type": kind})
    expect_http_error(response, 400, 20001)


def test_create_in_unknown_service_is_404(chat: Any) -> None:
    expect_error(lambda: chat.services("IS" + SID_HEX).channels.create(), 404, 20404)


# --- update -------------------------------------------------------------------------------------


def test_update_every_field(service: Any) -> None:
    channel = service.channels.create(
        friendly_name="Old", unique_name="old-name", attributes='{"v": 1}'
    )

    updated = service.channels(channel.sid).update(
        friendly_name="New", unique_name="new-name", attributes='{"v": 2}'
    )

    assert updated.sid == channel.sid
    assert updated.friendly_name == "New"
    assert updated.unique_name == "new-name"
    assert updated.attributes == '{"v": 2}'
    assert updated.type == "public"
    assert updated.created_by == "system"
    assert updated.date_created == channel.date_created
    fetched = service.channels("new-name").fetch()
    assert (fetched.friendly_name, fetched.attributes) == ("New", '{"v": 2}')
    expect_error(service.channels("old-name").fetch, 404, 20404)


def test_update_by_unique_name_path(service: Any) -> None:
    channel = service.channels.create(unique_name="general")

    updated = service.channels("general").update(friendly_name="General")

    assert updated.sid == channel.sid
    assert updated.friendly_name == "General"
    assert updated.unique_name == "general"


def test_update_is_partial(service: Any) -> None:
    service.channels.create(friendly_name="Name", unique_name="keep", attributes='{"a": 1}')

    updated = service.channels("keep").update(friendly_name="Renamed")

    assert updated.unique_name == "keep"
    assert updated.attributes == '{"a": 1}'
    updated = service.channels("keep").update(attributes='{"b": 2}')
    assert updated.friendly_name == "Renamed"
    assert updated.unique_name == "keep"
    assert updated.attributes == '{"b": 2}'


def test_update_moves_date_updated_only(service: Any) -> None:
    channel = service.channels.create()
    time.sleep(1.1)  # dates have whole-second resolution

    updated = service.channels(channel.sid).update(friendly_name="later")

    assert updated.date_created == channel.date_created
    assert updated.date_updated > channel.date_updated
    assert service.channels(channel.sid).fetch().date_updated == updated.date_updated


def test_update_clears_with_empty_values_and_frees_unique_name(service: Any) -> None:
    channel = service.channels.create(
        friendly_name="Name", unique_name="reusable", attributes='{"a": 1}'
    )

    cleared = service.channels(channel.sid).update(friendly_name="", unique_name="", attributes="")

    assert cleared.friendly_name is None
    assert cleared.unique_name is None
    assert cleared.attributes == "{}"
    fetched = service.channels(channel.sid).fetch()
    assert (fetched.friendly_name, fetched.unique_name, fetched.attributes) == (None, None, "{}")
    expect_error(service.channels("reusable").fetch, 404, 20404)
    again = service.channels.create(unique_name="reusable")
    assert again.sid != channel.sid
    assert service.channels("reusable").fetch().sid == again.sid


def test_renamed_unique_name_is_reusable(service: Any) -> None:
    channel = service.channels.create(unique_name="first")
    service.channels(channel.sid).update(unique_name="second")

    reuse = service.channels.create(unique_name="first")

    assert reuse.sid != channel.sid
    assert service.channels("second").fetch().sid == channel.sid


def test_update_to_own_unique_name_is_not_a_conflict(service: Any) -> None:
    channel = service.channels.create(unique_name="same")

    updated = service.channels("same").update(unique_name="same", friendly_name="x")

    assert updated.sid == channel.sid
    assert updated.unique_name == "same"


def test_update_to_taken_unique_name(service: Any) -> None:
    service.channels.create(unique_name="taken")
    channel = service.channels.create(unique_name="mine")

    error = expect_error(
        lambda: service.channels(channel.sid).update(unique_name="taken"), 409, 50307
    )
    assert error.msg == (
        "Unable to update record: Channel with provided unique name already exists"
    )
    assert service.channels(channel.sid).fetch().unique_name == "mine"


def test_update_validation(service: Any) -> None:
    channel = service.channels.create(friendly_name="ok", unique_name="ok")
    context = service.channels(channel.sid)

    expect_error(lambda: context.update(unique_name="u" * 65), 400, 50004)
    expect_error(lambda: context.update(unique_name="CH" + SID_HEX), 400, 50306)
    expect_error(lambda: context.update(friendly_name="f" * 65), 400, 50003)
    expect_error(lambda: context.update(attributes="{broken"), 400, 50304)
    # A rejected update changes nothing, even when other parameters were valid.
    expect_error(lambda: context.update(friendly_name="new", attributes="{broken"), 400, 50304)
    fetched = context.fetch()
    assert (fetched.friendly_name, fetched.unique_name, fetched.attributes) == ("ok", "ok", "{}")


def test_update_without_parameters(http: httpx.Client, service: Any, service_sid: str) -> None:
    channel = service.channels.create(friendly_name="unchanged")

    error = expect_error(service.channels(channel.sid).update, 400, 50347)
    assert (
        error.msg == "Unable to update record: Parameters are missing for channel "
        "update request: send at least one parameter to change"
    )
    response = http.post(f"/v1/Services/{service_sid}/Channels/{channel.sid}", data={"Foo": "x"})
    expect_http_error(response, 400, 50347)
    assert service.channels(channel.sid).fetch().friendly_name == "unchanged"


def test_type_cannot_be_changed(http: httpx.Client, service: Any, service_sid: str) -> None:
    channel = service.channels.create()

    response = http.post(
        f"/v1/Services/{service_sid}/Channels/{channel.sid}",
        data={"Type": "private", "FriendlyName": "still public"},
    )

    assert response.status_code == 200, response.text
    assert response.json()["type"] == "public"
    assert response.json()["friendly_name"] == "still public"


def test_update_unknown_channel_is_404(service: Any) -> None:
    expect_error(lambda: service.channels("ghost").update(friendly_name="x"), 404, 20404)


# --- list ---------------------------------------------------------------------------------------


@pytest.fixture
def mixed(service: Any) -> dict[str, list[str]]:
    """Channels of both types, interleaved, as SIDs in creation order."""
    kinds = ["public", "private", "public", "private", "private", "public"]
    result: dict[str, list[str]] = {"public": [], "private": [], "all": []}
    for i, kind in enumerate(kinds):
        sid = service.channels.create(friendly_name=f"c{i}", type=kind).sid
        result[kind].append(sid)
        result["all"].append(sid)
    return result


def test_list_without_type_returns_public_only(service: Any, mixed: dict[str, list[str]]) -> None:
    rows = service.channels.list()

    assert [c.sid for c in rows] == mixed["public"]
    assert {c.type for c in rows} == {"public"}


def test_list_private(service: Any, mixed: dict[str, list[str]]) -> None:
    rows = service.channels.list(type=["private"])

    assert [c.sid for c in rows] == mixed["private"]
    assert {c.type for c in rows} == {"private"}


def test_list_both_types(service: Any, mixed: dict[str, list[str]]) -> None:
    both = service.channels.list(type=["public", "private"])
    reversed_filter = service.channels.list(type=["private", "public"])

    assert [c.sid for c in both] == mixed["all"]
    assert [c.sid for c in reversed_filter] == mixed["all"]


def test_list_rows_carry_counters_and_links(service: Any) -> None:
    channel = service.channels.create(unique_name="busy")
    service.channels("busy").members.create(identity="alice")
    message = service.channels("busy").messages.create(body="hi")

    [row] = service.channels.list()

    assert row.sid == channel.sid
    assert row.members_count == 1
    assert row.messages_count == 1
    assert row.created_by == "system"
    assert row.links["last_message"] == f"{channel.url}/Messages/{message.sid}"


@pytest.mark.parametrize("query", ["Type=bogus", "Type=public&Type=bogus", "Type=", "Type=Public"])
def test_list_invalid_type(http: httpx.Client, service_sid: str, query: str) -> None:
    response = http.get(f"/v1/Services/{service_sid}/Channels?{query}")
    expect_http_error(response, 400, 20001)


def test_list_invalid_type_through_sdk(service: Any) -> None:
    with pytest.raises(TwilioException) as info:
        service.channels.list(type=["bogus"])
    assert info.value.args[1].status_code == 400


def test_list_empty(service: Any, http: httpx.Client, service_sid: str) -> None:
    assert service.channels.list() == []
    assert service.channels.list(type=["public", "private"]) == []
    body = http.get(f"/v1/Services/{service_sid}/Channels").json()
    assert body["channels"] == []
    assert body["meta"]["key"] == "channels"
    assert body["meta"]["page_size"] == 50
    assert body["meta"]["next_page_url"] is None
    assert body["meta"]["previous_page_url"] is None


def test_list_of_unknown_service_is_404(http: httpx.Client) -> None:
    response = http.get(f"/v1/Services/IS{SID_HEX}/Channels")
    expect_http_error(response, 404, 20404)


# --- delete -------------------------------------------------------------------------------------


def test_delete_by_sid(http: httpx.Client, service: Any, service_sid: str) -> None:
    keep = service.channels.create()
    channel = service.channels.create()

    assert service.channels(channel.sid).delete() is True

    expect_error(service.channels(channel.sid).fetch, 404, 20404)
    assert [c.sid for c in service.channels.list()] == [keep.sid]
    expect_error(service.channels(channel.sid).delete, 404, 20404)


def test_delete_by_unique_name(service: Any) -> None:
    channel = service.channels.create(unique_name="doomed")

    assert service.channels("doomed").delete() is True

    expect_error(service.channels(channel.sid).fetch, 404, 20404)
    expect_error(service.channels("doomed").fetch, 404, 20404)


def test_delete_responds_204_with_empty_body(
    http: httpx.Client, service: Any, service_sid: str
) -> None:
    channel = service.channels.create()

    response = http.delete(f"/v1/Services/{service_sid}/Channels/{channel.sid}")

    assert response.status_code == 204
    assert response.content == b""


def test_delete_cascades(http: httpx.Client, service: Any, service_sid: str) -> None:
    service.users.create(identity="carol")
    doomed = service.channels.create(unique_name="doomed", type="private")
    other = service.channels.create(unique_name="other")
    for identity in ("alice", "bob"):
        service.channels("doomed").members.create(identity=identity)
    service.channels("other").members.create(identity="alice")
    service.channels("doomed").invites.create(identity="carol")
    service.channels("other").invites.create(identity="carol")
    doomed_message = service.channels("doomed").messages.create(body="gone", from_="alice")
    kept_message = service.channels("other").messages.create(body="stays", from_="alice")
    assert service.users("alice").fetch().joined_channels_count == 2
    assert service.users("bob").fetch().joined_channels_count == 1

    service.channels("doomed").delete()

    assert service.users("alice").fetch().joined_channels_count == 1
    assert service.users("bob").fetch().joined_channels_count == 0
    assert service.users("carol").fetch().joined_channels_count == 0
    assert [uc.channel_sid for uc in service.users("alice").user_channels.list()] == [other.sid]
    assert [uc.channel_sid for uc in service.users("bob").user_channels.list()] == []
    base = f"/v1/Services/{service_sid}/Channels/{doomed.sid}"
    for sub in ("Members", "Messages", "Invites", f"Messages/{doomed_message.sid}"):
        expect_http_error(http.get(f"{base}/{sub}"), 404, 20404)

    # The other channel is untouched.
    survivor = service.channels("other").fetch()
    assert (survivor.members_count, survivor.messages_count) == (1, 1)
    assert [m.identity for m in service.channels("other").members.list()] == ["alice"]
    assert [i.identity for i in service.channels("other").invites.list()] == ["carol"]
    assert [m.sid for m in service.channels("other").messages.list()] == [kept_message.sid]

    # The unique name is free again, and the new channel starts empty.
    again = service.channels.create(unique_name="doomed")
    assert again.sid != doomed.sid
    assert (again.members_count, again.messages_count) == (0, 0)
    assert service.channels("doomed").members.list() == []
    assert service.channels("doomed").messages.list() == []
    assert service.channels("doomed").invites.list() == []
    assert service.channels("doomed").messages.create(body="first").index == 0
    # Members can rejoin: counts are consistent after the cascade.
    service.channels("doomed").members.create(identity="bob")
    assert service.users("bob").fetch().joined_channels_count == 1


def test_delete_unknown_channel_is_404(service: Any) -> None:
    expect_error(service.channels("missing").delete, 404, 20404)
    expect_error(service.channels("CH" + SID_HEX).delete, 404, 20404)


def test_counters_do_not_move_date_updated(service: Any) -> None:
    channel = service.channels.create(unique_name="quiet")
    time.sleep(1.1)
    service.channels("quiet").members.create(identity="alice")
    service.channels("quiet").messages.create(body="hello")

    fetched = service.channels("quiet").fetch()

    assert (fetched.members_count, fetched.messages_count) == (1, 1)
    assert fetched.date_updated == channel.date_updated
