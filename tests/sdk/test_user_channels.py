"""UserChannels through the official twilio SDK: joined and invited rows, unread counts, paging."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sdk_support import expect_list_error

pytestmark = pytest.mark.server

UNKNOWN_USER = "US" + "0" * 32
UNKNOWN_SERVICE = "IS" + "0" * 32
ROW_KEYS = {
    "account_sid",
    "service_sid",
    "channel_sid",
    "member_sid",
    "status",
    "last_consumed_message_index",
    "unread_messages_count",
    "links",
}


def channel_with_messages(service: Any, count: int, name: str = "c") -> Any:
    channel = service.channels.create(friendly_name=name)
    for i in range(count):
        service.channels(channel.sid).messages.create(body=f"m{i}")
    return channel


def set_horizon(service: Any, channel_sid: str, identity: str, index: Any) -> Any:
    return service.channels(channel_sid).members(identity).update(last_consumed_message_index=index)


def unread(service: Any, identity: str) -> dict[str, Any]:
    return {
        r.channel_sid: r.unread_messages_count for r in service.users(identity).user_channels.list()
    }


# --- rows ---------------------------------------------------------------------------------------


def test_user_without_channels_has_an_empty_list(service: Any) -> None:
    service.users.create(identity="alice")
    assert service.users("alice").user_channels.list() == []


def test_joined_rows(service: Any) -> None:
    s = service.fetch()
    channels = [service.channels.create(friendly_name=f"c{i}") for i in range(2)]
    members = [service.channels(ch.sid).members.create(identity="alice") for ch in channels]
    rows = service.users("alice").user_channels.list()
    assert len(rows) == 2
    for row, ch, member in zip(rows, channels, members, strict=True):
        assert row.account_sid == s.account_sid
        assert row.service_sid == s.sid
        assert row.channel_sid == ch.sid
        assert row.member_sid == member.sid
        assert row.status == "joined"
        assert row.last_consumed_message_index is None
        assert row.unread_messages_count is None
        assert row.links == {"channel": ch.url, "member": member.url}


def test_joined_row_links_point_at_the_channel_and_member(service: Any, http: httpx.Client) -> None:
    ch = service.channels.create(friendly_name="c")
    member = service.channels(ch.sid).members.create(identity="alice")
    (row,) = service.users("alice").user_channels.list()
    assert http.get(row.links["channel"]).json()["sid"] == ch.sid
    assert http.get(row.links["member"]).json()["sid"] == member.sid


def test_invited_rows(service: Any) -> None:
    service.users.create(identity="bob")
    ch = service.channels.create(friendly_name="c", type="private")
    service.channels(ch.sid).invites.create(identity="bob")
    (row,) = service.users("bob").user_channels.list()
    assert row.channel_sid == ch.sid
    assert row.status == "invited"
    assert row.member_sid is None
    assert row.last_consumed_message_index is None
    assert row.unread_messages_count is None
    assert row.links == {"channel": ch.url, "member": None}


def test_rows_have_exactly_the_spec_properties(service: Any, http: httpx.Client) -> None:
    ch = service.channels.create(friendly_name="c")
    other = service.channels.create(friendly_name="d")
    service.channels(ch.sid).members.create(identity="carl")
    service.channels(other.sid).invites.create(identity="carl")
    sid = service.fetch().sid
    body = http.get(f"/v1/Services/{sid}/Users/carl/Channels").json()
    assert body["meta"]["key"] == "channels"
    assert len(body["channels"]) == 2
    for row in body["channels"]:
        assert set(row) == ROW_KEYS
        assert set(row["links"]) == {"channel", "member"}
    invited = next(r for r in body["channels"] if r["status"] == "invited")
    assert invited["member_sid"] is None
    assert invited["links"]["member"] is None
    assert invited["unread_messages_count"] is None


def test_joined_and_invited_rows_together(service: Any) -> None:
    joined = service.channels.create(friendly_name="joined")
    invited = service.channels.create(friendly_name="invited")
    service.channels(joined.sid).members.create(identity="dana")
    service.channels(invited.sid).invites.create(identity="dana")
    rows = service.users("dana").user_channels.list()
    assert {(r.channel_sid, r.status) for r in rows} == {
        (joined.sid, "joined"),
        (invited.sid, "invited"),
    }


def test_joined_rows_come_first_in_join_order_then_invites(clean_chat: Any) -> None:
    s = clean_chat.services.create(friendly_name="order")
    service = clean_chat.services(s.sid)
    crowd = service.channels.create(friendly_name="crowd")
    for i in range(5):
        service.channels(crowd.sid).members.create(identity=f"other{i}")
    joined = service.channels.create(friendly_name="joined first")
    invited = service.channels.create(friendly_name="invited second")
    later = service.channels.create(friendly_name="joined third")
    service.users.create(identity="late")
    service.channels(invited.sid).invites.create(identity="late")
    service.channels(joined.sid).members.create(identity="late")
    service.channels(later.sid).members.create(identity="late")
    rows = service.users("late").user_channels.list(page_size=1)
    assert [(r.channel_sid, r.status) for r in rows] == [
        (joined.sid, "joined"),
        (later.sid, "joined"),
        (invited.sid, "invited"),
    ]


def test_adding_an_invited_user_as_member_turns_the_row_into_joined(service: Any) -> None:
    service.users.create(identity="eve")
    ch = service.channels.create(friendly_name="c")
    service.channels(ch.sid).invites.create(identity="eve")
    member = service.channels(ch.sid).members.create(identity="eve")
    (row,) = service.users("eve").user_channels.list()
    assert (row.status, row.member_sid) == ("joined", member.sid)


def test_revoked_invite_removes_the_row(service: Any) -> None:
    service.users.create(identity="fay")
    ch = service.channels.create(friendly_name="c")
    invite = service.channels(ch.sid).invites.create(identity="fay")
    service.channels(ch.sid).invites(invite.sid).delete()
    assert service.users("fay").user_channels.list() == []


def test_removed_member_and_deleted_channel_remove_rows(service: Any) -> None:
    left = service.channels.create(friendly_name="left")
    deleted = service.channels.create(friendly_name="deleted")
    kept = service.channels.create(friendly_name="kept")
    for ch in (left, deleted, kept):
        service.channels(ch.sid).members.create(identity="gus")
    service.channels(left.sid).members("gus").delete()
    service.channels(deleted.sid).delete()
    assert [r.channel_sid for r in service.users("gus").user_channels.list()] == [kept.sid]


def test_rows_only_list_the_users_own_channels(service: Any) -> None:
    mine = service.channels.create(friendly_name="mine")
    theirs = service.channels.create(friendly_name="theirs")
    service.channels(mine.sid).members.create(identity="hal")
    service.channels(theirs.sid).members.create(identity="ida")
    assert [r.channel_sid for r in service.users("hal").user_channels.list()] == [mine.sid]
    assert [r.channel_sid for r in service.users("ida").user_channels.list()] == [theirs.sid]


def test_private_channels_are_listed(service: Any) -> None:
    ch = service.channels.create(friendly_name="secret", type="private")
    service.channels(ch.sid).members.create(identity="ian")
    assert [r.channel_sid for r in service.users("ian").user_channels.list()] == [ch.sid]


def test_channel_addressed_by_unique_name_is_listed_by_sid(service: Any) -> None:
    ch = service.channels.create(unique_name="lobby")
    service.channels("lobby").members.create(identity="jo")
    (row,) = service.users("jo").user_channels.list()
    assert row.channel_sid == ch.sid


# --- addressing the user ------------------------------------------------------------------------


def test_list_by_identity_and_by_sid_agree(service: Any) -> None:
    ch = service.channels.create(friendly_name="c")
    other = service.channels.create(friendly_name="d")
    service.channels(ch.sid).members.create(identity="kim")
    service.channels(other.sid).invites.create(identity="kim")
    user = service.users("kim").fetch()
    by_identity = service.users("kim").user_channels.list()
    by_sid = service.users(user.sid).user_channels.list()
    assert [(r.channel_sid, r.member_sid, r.status) for r in by_identity] == [
        (r.channel_sid, r.member_sid, r.status) for r in by_sid
    ]
    assert len(by_sid) == 2


def test_list_via_the_user_instance_links(service: Any, http: httpx.Client) -> None:
    ch = service.channels.create(friendly_name="c")
    service.channels(ch.sid).members.create(identity="lou")
    user = service.users("lou").fetch()
    body = http.get(user.links["user_channels"]).json()
    assert [row["channel_sid"] for row in body["channels"]] == [ch.sid]
    assert [r.channel_sid for r in user.user_channels.list()] == [ch.sid]


@pytest.mark.parametrize("segment", [UNKNOWN_USER, "nobody"])
def test_unknown_user_is_not_found(service: Any, segment: str) -> None:
    expect_list_error(404, 20404, service.users(segment).user_channels.list)


def test_deleted_user_is_not_found(service: Any) -> None:
    user = service.users.create(identity="max")
    service.users(user.sid).delete()
    expect_list_error(404, 20404, service.users(user.sid).user_channels.list)
    expect_list_error(404, 20404, service.users("max").user_channels.list)


def test_user_of_another_service_is_not_found(chat: Any, service: Any) -> None:
    user = service.users.create(identity="ned")
    other = chat.services.create(friendly_name="other")
    expect_list_error(404, 20404, chat.services(other.sid).users(user.sid).user_channels.list)


def test_unknown_service_is_not_found(chat: Any) -> None:
    expect_list_error(404, 20404, chat.services(UNKNOWN_SERVICE).users("x").user_channels.list)


def test_user_channels_are_read_only(service: Any, http: httpx.Client) -> None:
    service.users.create(identity="oli")
    sid = service.fetch().sid
    path = f"/v1/Services/{sid}/Users/oli/Channels"
    for method in ("POST", "DELETE", "PUT"):
        response = http.request(method, path)
        assert response.status_code == 405, method
        assert response.json()["code"] == 20004


# --- consumption horizon and unread counts ------------------------------------------------------


def test_unread_count_is_null_without_a_consumption_horizon(service: Any) -> None:
    ch = channel_with_messages(service, 3)
    service.channels(ch.sid).members.create(identity="pam")
    (row,) = service.users("pam").user_channels.list()
    assert row.last_consumed_message_index is None
    assert row.unread_messages_count is None


def test_unread_count_counts_messages_after_the_horizon(service: Any) -> None:
    ch = channel_with_messages(service, 5)
    service.channels(ch.sid).members.create(identity="quin")
    set_horizon(service, ch.sid, "quin", 1)
    (row,) = service.users("quin").user_channels.list()
    assert row.last_consumed_message_index == 1
    assert row.unread_messages_count == 3


@pytest.mark.parametrize(("horizon", "expected"), [(0, 4), (2, 2), (3, 1), (4, 0), (50, 0)])
def test_unread_count_for_each_horizon(service: Any, horizon: int, expected: int) -> None:
    ch = channel_with_messages(service, 5)
    service.channels(ch.sid).members.create(identity="ray")
    set_horizon(service, ch.sid, "ray", horizon)
    (row,) = service.users("ray").user_channels.list()
    assert (row.last_consumed_message_index, row.unread_messages_count) == (horizon, expected)


def test_unread_count_is_zero_in_an_empty_channel_with_a_horizon(service: Any) -> None:
    ch = service.channels.create(friendly_name="empty")
    service.channels(ch.sid).members.create(identity="sue")
    set_horizon(service, ch.sid, "sue", 0)
    assert unread(service, "sue") == {ch.sid: 0}


def test_unread_count_follows_new_and_deleted_messages(service: Any) -> None:
    ch = channel_with_messages(service, 2)
    service.channels(ch.sid).members.create(identity="ted")
    set_horizon(service, ch.sid, "ted", 1)
    assert unread(service, "ted") == {ch.sid: 0}
    new = [service.channels(ch.sid).messages.create(body=f"n{i}") for i in range(3)]
    assert unread(service, "ted") == {ch.sid: 3}
    service.channels(ch.sid).messages(new[0].sid).delete()
    assert unread(service, "ted") == {ch.sid: 2}


def test_deleting_a_consumed_message_does_not_change_the_unread_count(service: Any) -> None:
    ch = channel_with_messages(service, 4)
    service.channels(ch.sid).members.create(identity="uli")
    set_horizon(service, ch.sid, "uli", 1)
    first = service.channels(ch.sid).messages.list()[0]
    service.channels(ch.sid).messages(first.sid).delete()
    assert unread(service, "uli") == {ch.sid: 2}


def test_clearing_the_horizon_makes_the_unread_count_null_again(service: Any) -> None:
    ch = channel_with_messages(service, 3)
    service.channels(ch.sid).members.create(identity="val")
    set_horizon(service, ch.sid, "val", 0)
    assert unread(service, "val") == {ch.sid: 2}
    set_horizon(service, ch.sid, "val", "")
    (row,) = service.users("val").user_channels.list()
    assert (row.last_consumed_message_index, row.unread_messages_count) == (None, None)


def test_unread_counts_are_per_channel_and_per_member(service: Any) -> None:
    a = channel_with_messages(service, 3, "a")
    b = channel_with_messages(service, 6, "b")
    for ch in (a, b):
        service.channels(ch.sid).members.create(identity="wes")
        service.channels(ch.sid).members.create(identity="xia")
    set_horizon(service, a.sid, "wes", 0)
    set_horizon(service, b.sid, "wes", 4)
    set_horizon(service, b.sid, "xia", 1)
    assert unread(service, "wes") == {a.sid: 2, b.sid: 1}
    assert unread(service, "xia") == {a.sid: None, b.sid: 4}


def test_unread_count_is_null_when_read_status_is_disabled(service: Any) -> None:
    ch = channel_with_messages(service, 5)
    service.channels(ch.sid).members.create(identity="yan")
    set_horizon(service, ch.sid, "yan", 1)
    service.update(read_status_enabled=False)
    (row,) = service.users("yan").user_channels.list()
    assert row.last_consumed_message_index == 1
    assert row.unread_messages_count is None
    service.update(read_status_enabled=True)
    assert unread(service, "yan") == {ch.sid: 3}


# --- paging -------------------------------------------------------------------------------------


def test_list_pages_through_channels_with_small_pages(service: Any) -> None:
    channels = [service.channels.create(friendly_name=f"c{i}") for i in range(5)]
    for ch in channels:
        service.channels(ch.sid).members.create(identity="zed")
    expected = [ch.sid for ch in channels]
    rows = service.users("zed").user_channels
    assert [r.channel_sid for r in rows.list()] == expected
    assert [r.channel_sid for r in rows.list(page_size=2)] == expected
    assert [r.channel_sid for r in rows.stream(page_size=2)] == expected
    assert [r.channel_sid for r in rows.list(limit=3, page_size=2)] == expected[:3]


def test_page_next_and_previous(service: Any) -> None:
    channels = [service.channels.create(friendly_name=f"c{i}") for i in range(5)]
    for ch in channels:
        service.channels(ch.sid).members.create(identity="zed")
    expected = [ch.sid for ch in channels]
    first = service.users("zed").user_channels.page(page_size=2)
    assert [r.channel_sid for r in first] == expected[:2]
    assert first.previous_page() is None
    second = first.next_page()
    assert [r.channel_sid for r in second] == expected[2:4]
    third = second.next_page()
    assert [r.channel_sid for r in third] == expected[4:]
    assert third.next_page() is None
    assert [r.channel_sid for r in third.previous_page()] == expected[2:4]
    assert [r.channel_sid for r in second.previous_page()] == expected[:2]


def test_paging_covers_joined_and_invited_rows(service: Any) -> None:
    service.users.create(identity="mix")
    expected = set()
    for i in range(6):
        ch = service.channels.create(friendly_name=f"c{i}")
        if i % 2:
            service.channels(ch.sid).invites.create(identity="mix")
            expected.add((ch.sid, "invited"))
        else:
            service.channels(ch.sid).members.create(identity="mix")
            expected.add((ch.sid, "joined"))
    rows = list(service.users("mix").user_channels.stream(page_size=2))
    assert len(rows) == 6
    assert {(r.channel_sid, r.status) for r in rows} == expected


def test_list_meta_uses_the_path_as_requested(service: Any, http: httpx.Client) -> None:
    for i in range(3):
        ch = service.channels.create(friendly_name=f"c{i}")
        service.channels(ch.sid).members.create(identity="meta")
    sid = service.fetch().sid
    body = http.get(f"/v1/Services/{sid}/Users/meta/Channels", params={"PageSize": 2}).json()
    meta = body["meta"]
    assert meta["key"] == "channels"
    assert meta["page_size"] == 2
    assert meta["previous_page_url"] is None
    assert meta["next_page_url"] is not None
    second = http.get(meta["next_page_url"]).json()
    assert len(second["channels"]) == 1
    assert second["meta"]["next_page_url"] is None


def test_unread_count_skips_deleted_messages_and_never_goes_negative(service: Any) -> None:
    service.channels.create(unique_name="gaps")
    room = service.channels("gaps")
    room.members.create(identity="reader")
    sids = [room.messages.create(body=f"m{i}").sid for i in range(6)]  # indexes 0..5
    room.members("reader").update(last_consumed_message_index=1)
    room.messages(sids[3]).delete()
    room.messages(sids[0]).delete()  # below the horizon: does not count either way
    (row,) = service.users("reader").user_channels.list()
    assert row.unread_messages_count == 3  # indexes 2, 4, 5
    room.members("reader").update(last_consumed_message_index=50)
    (row,) = service.users("reader").user_channels.list()
    assert row.unread_messages_count == 0
