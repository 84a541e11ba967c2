"""Messages through the official twilio SDK: indexes, authors, edits, deletes, ordering."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import orjson
import pytest
from twilio.base.exceptions import TwilioException

from chinwag.clock import FakeClock
from conftest import ACCOUNT_SID, AUTH_TOKEN, Databases, start_server
from sdk_support import expect_error, expect_http_error

pytestmark = pytest.mark.server

SID_HEX = "0123456789abcdef" * 2
BODY_MAX = 32_768


@pytest.fixture
def svc(service: Any) -> Any:
    return service.fetch()


@pytest.fixture
def channel(service: Any) -> Any:
    return service.channels.create(unique_name="general")


@pytest.fixture
def messages(service: Any, channel: Any) -> Any:
    return service.channels(channel.sid).messages


def channel_state(service: Any) -> tuple[int, str | None]:
    """(messages_count, links.last_message) of the "general" channel."""
    fetched = service.channels("general").fetch()
    return fetched.messages_count, fetched.links["last_message"]


# --- create -------------------------------------------------------------------------------------


def test_create_defaults(messages: Any, svc: Any, channel: Any) -> None:
    message = messages.create(body="Hello")

    assert message.sid.startswith("IM") and len(message.sid) == 34
    assert message.account_sid == svc.account_sid
    assert message.service_sid == svc.sid
    assert message.to == channel.sid
    assert message.channel_sid == channel.sid
    assert message.body == "Hello"
    assert message._from == "system"
    assert message.attributes == "{}"
    assert message.index == 0
    assert message.was_edited is False
    assert isinstance(message.date_created, datetime)
    assert message.date_updated == message.date_created
    assert message.url == f"{channel.url}/Messages/{message.sid}"

    fetched = messages(message.sid).fetch()
    assert fetched.attributes == "{}"
    assert fetched._from == "system"
    assert fetched.to == channel.sid


def test_create_through_unique_name_path(service: Any, channel: Any) -> None:
    message = service.channels("general").messages.create(body="via name")

    assert message.to == channel.sid
    assert message.channel_sid == channel.sid
    assert message.url == f"{channel.url}/Messages/{message.sid}"
    fetched = service.channels("general").messages(message.sid).fetch()
    assert fetched.to == fetched.channel_sid == channel.sid


def test_indexes_count_from_zero(messages: Any) -> None:
    indexes = [messages.create(body=str(i)).index for i in range(5)]

    assert indexes == [0, 1, 2, 3, 4]


def test_indexes_are_per_channel(service: Any, messages: Any) -> None:
    other = service.channels.create()
    messages.create(body="a")
    messages.create(body="b")

    assert service.channels(other.sid).messages.create(body="c").index == 0
    assert messages.create(body="d").index == 2


def test_indexes_are_never_reused(service: Any, messages: Any) -> None:
    created = [messages.create(body=str(i)) for i in range(3)]

    messages(created[2].sid).delete()
    assert messages.create(body="after newest deleted").index == 3
    messages(created[0].sid).delete()
    assert messages.create(body="after oldest deleted").index == 4

    assert [m.index for m in messages.list()] == [1, 3, 4]
    assert service.channels("general").fetch().messages_count == 3


def test_indexes_continue_after_all_deleted(messages: Any) -> None:
    for m in [messages.create(body=str(i)) for i in range(2)]:
        messages(m.sid).delete()

    assert messages.list() == []
    assert messages.create(body="next").index == 2


def test_custom_author(service: Any, messages: Any) -> None:
    message = messages.create(body="hi", from_="alice")

    assert message._from == "alice"
    assert messages(message.sid).fetch()._from == "alice"
    # The author is free text: no user is created for it.
    assert service.users.list() == []


def test_empty_author_means_system(messages: Any) -> None:
    assert messages.create(body="hi", from_="")._from == "system"


def test_author_too_long(messages: Any) -> None:
    assert messages.create(body="ok", from_="a" * 256)._from == "a" * 256

    error = expect_error(lambda: messages.create(body="hi", from_="a" * 257), 400, 50310)

    assert (
        error.msg == "Unable to create record: Author parameter is too long: at most 256 characters"
    )


def test_empty_body_is_allowed(messages: Any) -> None:
    message = messages.create(body="")

    assert message.body == ""
    assert messages(message.sid).fetch().body == ""


def test_body_missing(http: httpx.Client, svc: Any, channel: Any) -> None:
    response = http.post(f"/v1/Services/{svc.sid}/Channels/{channel.sid}/Messages", data={})

    body = expect_http_error(response, 400, 20001)
    assert body["message"] == "Missing required parameter Body in the post body"


def test_body_length_limit(service: Any, messages: Any) -> None:
    longest = messages.create(body="x" * BODY_MAX)
    assert len(longest.body) == BODY_MAX

    error = expect_error(lambda: messages.create(body="x" * (BODY_MAX + 1)), 400, 50504)

    assert (
        error.msg
        == "Unable to create record: Message body parameter is too long: at most 32768 characters"
    )
    assert channel_state(service)[0] == 1
    assert messages.create(body="next").index == 1


def test_body_limit_counts_characters_not_bytes(messages: Any) -> None:
    body = "é" * BODY_MAX  # 65,536 bytes of UTF-8
    assert messages.create(body=body).body == body


def test_unicode_and_structured_body_round_trips(messages: Any) -> None:
    body = 'multi\nline "quoted" & <tagged> 👋 — {"json": true}'
    message = messages.create(body=body)

    assert message.body == body
    assert messages(message.sid).fetch().body == body


def test_attributes(messages: Any) -> None:
    message = messages.create(body="hi", attributes='{"importance": "high"}')

    assert message.attributes == '{"importance": "high"}'
    assert messages(message.sid).fetch().attributes == '{"importance": "high"}'


def test_attributes_invalid_json(service: Any, messages: Any) -> None:
    error = expect_error(lambda: messages.create(body="hi", attributes="{nope"), 400, 50304)

    assert (
        error.msg == "Unable to create record: Attributes not valid JSON: send a "
        'JSON document, such as {"key": "value"}'
    )
    assert channel_state(service) == (0, None)
    assert messages.create(body="first").index == 0


def test_create_in_unknown_channel_is_404(service: Any, svc: Any) -> None:
    error = expect_error(lambda: service.channels("nowhere").messages.create(body="x"), 404, 20404)

    assert error.msg == (
        f"Unable to create record: The requested resource /Services/{svc.sid}/Channels/nowhere"
        "/Messages was not found"
    )
    expect_error(lambda: service.channels("CH" + SID_HEX).messages.create(body="x"), 404, 20404)


def test_create_in_channel_of_another_service_is_404(chat: Any, channel: Any) -> None:
    other = chat.services(chat.services.create(friendly_name="other").sid)

    expect_error(lambda: other.channels(channel.sid).messages.create(body="x"), 404, 20404)
    expect_error(lambda: other.channels("general").messages.create(body="x"), 404, 20404)


def test_create_counts_and_last_message(service: Any, messages: Any, channel: Any) -> None:
    first = messages.create(body="one")
    assert channel_state(service) == (1, f"{channel.url}/Messages/{first.sid}")

    second = messages.create(body="two")
    assert channel_state(service) == (2, f"{channel.url}/Messages/{second.sid}")


# --- fetch --------------------------------------------------------------------------------------


def test_fetch_unknown_message_is_404(messages: Any, svc: Any, channel: Any) -> None:
    error = expect_error(messages("IM" + SID_HEX).fetch, 404, 20404)

    assert error.msg == (
        f"Unable to fetch record: The requested resource /Services/{svc.sid}/Channels/"
        f"{channel.sid}/Messages/IM{SID_HEX} was not found"
    )
    expect_error(messages("not-a-sid").fetch, 404, 20404)


def test_message_of_another_channel_is_not_found(service: Any, messages: Any) -> None:
    other = service.channels.create()
    elsewhere = service.channels(other.sid).messages.create(body="elsewhere")

    expect_error(messages(elsewhere.sid).fetch, 404, 20404)
    expect_error(lambda: messages(elsewhere.sid).update(body="hijack"), 404, 20404)
    expect_error(messages(elsewhere.sid).delete, 404, 20404)
    untouched = service.channels(other.sid).messages(elsewhere.sid).fetch()
    assert (untouched.body, untouched.was_edited) == ("elsewhere", False)


# --- update -------------------------------------------------------------------------------------


def test_update_body(messages: Any) -> None:
    message = messages.create(body="original", from_="alice", attributes='{"a": 1}')
    time.sleep(1.1)  # dates have whole-second resolution

    updated = messages(message.sid).update(body="edited")

    assert updated.body == "edited"
    assert updated.was_edited is True
    assert updated.date_created == message.date_created
    assert updated.date_updated > message.date_updated
    assert (updated.index, updated._from, updated.to) == (0, "alice", message.to)
    assert updated.attributes == '{"a": 1}'
    fetched = messages(message.sid).fetch()
    assert (fetched.body, fetched.was_edited) == ("edited", True)
    assert fetched.date_updated == updated.date_updated


def test_update_attributes_only(messages: Any) -> None:
    message = messages.create(body="same")

    updated = messages(message.sid).update(attributes='{"pinned": true}')

    assert updated.attributes == '{"pinned": true}'
    assert updated.body == "same"
    assert updated.was_edited is False
    assert messages(message.sid).fetch().attributes == '{"pinned": true}'


def test_update_clears_attributes_with_empty_value(messages: Any) -> None:
    message = messages.create(body="x", attributes='{"a": 1}')

    assert messages(message.sid).update(attributes="").attributes == "{}"
    assert messages(message.sid).fetch().attributes == "{}"


def test_update_body_to_empty(messages: Any) -> None:
    message = messages.create(body="something")

    updated = messages(message.sid).update(body="")

    assert updated.body == ""
    assert updated.was_edited is True


def test_was_edited_stays_true(messages: Any) -> None:
    message = messages.create(body="v1")
    messages(message.sid).update(body="v2")

    assert messages(message.sid).update(attributes='{"x": 1}').was_edited is True


def test_update_through_unique_name_path(service: Any, channel: Any) -> None:
    message = service.channels("general").messages.create(body="before")

    updated = service.channels("general").messages(message.sid).update(body="after")

    assert updated.body == "after"
    assert updated.channel_sid == updated.to == channel.sid


def test_update_without_parameters(messages: Any) -> None:
    message = messages.create(body="x")

    error = expect_error(messages(message.sid).update, 400, 20161)

    assert (
        error.msg == "Unable to update record: Parameters are not specified for "
        "update request: send at least one parameter to change"
    )
    assert messages(message.sid).fetch().was_edited is False


def test_update_validation(messages: Any) -> None:
    message = messages.create(body="keep", attributes='{"k": 1}')
    context = messages(message.sid)

    expect_error(lambda: context.update(body="x" * (BODY_MAX + 1)), 400, 50504)
    expect_error(lambda: context.update(attributes="[1,"), 400, 50304)
    expect_error(lambda: context.update(body="changed", attributes="[1,"), 400, 50304)

    fetched = context.fetch()
    assert (fetched.body, fetched.attributes, fetched.was_edited) == ("keep", '{"k": 1}', False)


def test_update_ignores_immutable_fields(
    http: httpx.Client, svc: Any, channel: Any, messages: Any
) -> None:
    message = messages.create(body="x", from_="alice")

    response = http.post(
        f"/v1/Services/{svc.sid}/Channels/{channel.sid}/Messages/{message.sid}",
        data={"Body": "y", "From": "mallory", "Index": "99"},
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["body"], body["from"], body["index"]) == ("y", "alice", 0)


def test_update_does_not_change_counts(service: Any, messages: Any) -> None:
    message = messages.create(body="x")
    before = channel_state(service)

    messages(message.sid).update(body="y")

    assert channel_state(service) == before


# --- delete -------------------------------------------------------------------------------------


def test_delete_newest_falls_back_to_previous(
    http: httpx.Client, service: Any, messages: Any, svc: Any, channel: Any
) -> None:
    first = messages.create(body="one")
    second = messages.create(body="two")
    third = messages.create(body="three")

    response = http.delete(f"/v1/Services/{svc.sid}/Channels/{channel.sid}/Messages/{third.sid}")
    assert response.status_code == 204
    assert response.content == b""
    assert channel_state(service) == (2, f"{channel.url}/Messages/{second.sid}")

    assert messages(second.sid).delete() is True
    assert channel_state(service) == (1, f"{channel.url}/Messages/{first.sid}")

    assert messages(first.sid).delete() is True
    assert channel_state(service) == (0, None)
    assert messages.list() == []


def test_delete_older_message_keeps_last_message(service: Any, messages: Any, channel: Any) -> None:
    first = messages.create(body="one")
    second = messages.create(body="two")

    messages(first.sid).delete()

    assert channel_state(service) == (1, f"{channel.url}/Messages/{second.sid}")
    expect_error(messages(first.sid).fetch, 404, 20404)
    expect_error(messages(first.sid).delete, 404, 20404)
    assert channel_state(service)[0] == 1


def test_delete_through_unique_name_path(service: Any, messages: Any) -> None:
    message = messages.create(body="x")

    assert service.channels("general").messages(message.sid).delete() is True

    assert channel_state(service) == (0, None)


def test_last_message_after_delete_then_create(service: Any, messages: Any, channel: Any) -> None:
    first = messages.create(body="one")
    doomed = messages.create(body="two")
    messages(doomed.sid).delete()

    newest = messages.create(body="three")

    assert newest.index == 2
    assert channel_state(service) == (2, f"{channel.url}/Messages/{newest.sid}")
    assert [m.sid for m in messages.list()] == [first.sid, newest.sid]


# --- list ---------------------------------------------------------------------------------------


def test_list_ascending_by_default(messages: Any, channel: Any) -> None:
    created = [messages.create(body=f"m{i}", attributes=f'{{"i": {i}}}') for i in range(4)]

    rows = messages.list()

    assert [m.sid for m in rows] == [m.sid for m in created]
    assert [m.index for m in rows] == [0, 1, 2, 3]
    assert [m.body for m in rows] == ["m0", "m1", "m2", "m3"]
    # chinwag keeps message attributes in list rows (docs/behaviour.md).
    assert [m.attributes for m in rows] == [f'{{"i": {i}}}' for i in range(4)]
    assert {m.to for m in rows} == {channel.sid}
    assert [m.sid for m in messages.list(order="asc")] == [m.sid for m in created]


def test_list_descending(service: Any, messages: Any) -> None:
    created = [messages.create(body=f"m{i}") for i in range(4)]

    rows = service.channels("general").messages.list(order="desc")

    assert [m.sid for m in rows] == [m.sid for m in reversed(created)]
    assert [m.index for m in rows] == [3, 2, 1, 0]


def test_list_with_limit_takes_from_the_requested_end(messages: Any) -> None:
    for i in range(5):
        messages.create(body=f"m{i}")

    assert [m.index for m in messages.list(limit=2)] == [0, 1]
    assert [m.index for m in messages.list(order="desc", limit=2)] == [4, 3]


@pytest.mark.parametrize("order", ["up", "DESC", "", "ascending"])
def test_list_invalid_order(http: httpx.Client, svc: Any, channel: Any, order: str) -> None:
    response = http.get(
        f"/v1/Services/{svc.sid}/Channels/{channel.sid}/Messages", params={"Order": order}
    )
    expect_http_error(response, 400, 20001)


def test_list_invalid_order_through_sdk(messages: Any) -> None:
    with pytest.raises(TwilioException) as info:
        messages.list(order="sideways")
    assert info.value.args[1].status_code == 400


def test_list_of_unknown_channel_is_404(http: httpx.Client, svc: Any) -> None:
    response = http.get(f"/v1/Services/{svc.sid}/Channels/missing/Messages")
    body = expect_http_error(response, 404, 20404)
    assert body["message"] == (
        f"The requested resource /Services/{svc.sid}/Channels/missing/Messages was not found"
    )


@pytest.fixture
def clocked(databases: Databases) -> Iterator[tuple[httpx.Client, FakeClock]]:
    """Raw HTTP to a server of its own on a FakeClock, so edits move dates by whole seconds."""
    clock = FakeClock()
    srv = start_server(databases, clock=clock)
    with httpx.Client(base_url=srv.url, auth=(ACCOUNT_SID, AUTH_TOKEN)) as client:
        yield client, clock
    srv.stop()


def test_list_rows_are_the_fetched_messages(clocked: tuple[httpx.Client, FakeClock]) -> None:
    http, clock = clocked
    service = http.post("/v1/Services", data={"FriendlyName": "s"}).json()["sid"]
    http.post(f"/v1/Services/{service}/Channels", data={"UniqueName": "general"})
    path = f"/v1/Services/{service}/Channels/general/Messages"
    sids = []
    for i in range(6):
        clock.advance(0.7)
        form = {"Body": f"m{i}", "From": "alice" if i % 2 else ""}
        if i % 3 == 0:
            form["Attributes"] = f'{{"i": {i}}}'
        sids.append(http.post(path, data=form).json()["sid"])
    clock.advance(5)
    http.post(f"{path}/{sids[1]}", data={"Body": "edited"})
    http.post(f"{path}/{sids[3]}", data={"Attributes": ""})
    http.delete(f"{path}/{sids[4]}")
    fetched = {sid: http.get(f"{path}/{sid}").content for sid in sids if sid != sids[4]}

    pages = [
        http.get(path, params=params).json()["messages"]
        for params in (
            {},
            {"Order": "desc"},
            {"PageSize": "2", "Page": "1", "PageToken": "PT1"},
            {"PageSize": "2", "Page": "1", "PageToken": "PB5"},
            {"PageSize": "2", "Page": "1", "Order": "desc", "PageToken": "PT3"},
        )
    ]

    # orjson keeps key order, so dumping a row gives the bytes a fetch of it sends.
    assert [[row["index"] for row in page] for page in pages] == [
        [0, 1, 2, 3, 5],
        [5, 3, 2, 1, 0],
        [2, 3],
        [2, 3],
        [2, 1],
    ]
    for page in pages:
        assert [orjson.dumps(row) for row in page] == [fetched[row["sid"]] for row in page]
    edited = pages[0][1]
    assert (edited["date_created"], edited["date_updated"]) == (
        "2023-11-14T22:13:21Z",
        "2023-11-14T22:13:29Z",
    )
    assert [row["attributes"] for row in pages[0]] == ['{"i": 0}', "{}", "{}", "{}", "{}"]
