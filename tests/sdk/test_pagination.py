"""Paging of Channels, Members, Invites and Messages: the SDK's list/stream/page, and raw meta."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from sdk_support import expect_http_error

pytestmark = pytest.mark.server

SID_HEX = "0123456789abcdef" * 2
COUNT = 7
KINDS = ["channels", "members", "invites", "messages"]


class Listing:
    """A populated collection: its SDK list resource, raw path, and record SIDs in list order."""

    def __init__(self, resource: Any, path: str, key: str, sids: list[str]) -> None:
        self.resource = resource
        self.path = path
        self.key = key
        self.sids = sids


def populate(service: Any, kind: str, count: int = COUNT) -> Listing:
    """``count`` records of ``kind`` in a fresh service, in creation (= list) order."""
    service_sid = service.fetch().sid
    if kind == "channels":
        sids = [service.channels.create(friendly_name=f"c{i}").sid for i in range(count)]
        return Listing(service.channels, f"/v1/Services/{service_sid}/Channels", kind, sids)
    channel = service.channels.create(unique_name="general")
    path = f"/v1/Services/{service_sid}/Channels/{channel.sid}"
    context = service.channels(channel.sid)
    if kind == "members":
        sids = [context.members.create(identity=f"user{i}").sid for i in range(count)]
        return Listing(context.members, f"{path}/Members", kind, sids)
    if kind == "invites":
        for i in range(count):
            service.users.create(identity=f"user{i}")
        sids = [context.invites.create(identity=f"user{i}").sid for i in range(count)]
        return Listing(context.invites, f"{path}/Invites", kind, sids)
    sids = [context.messages.create(body=f"m{i}").sid for i in range(count)]
    return Listing(context.messages, f"{path}/Messages", kind, sids)


@pytest.fixture(params=KINDS)
def listing(request: pytest.FixtureRequest, service: Any) -> Listing:
    return populate(service, request.param)


def query_of(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


def path_of(url: str) -> str:
    return urlsplit(url).path


def get_page(http: httpx.Client, url: str) -> dict[str, Any]:
    response = http.get(url)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def follow(http: httpx.Client, first: str, key: str) -> list[dict[str, Any]]:
    """Every page from ``first``, following ``next_page_url`` as the SDKs do."""
    pages = [get_page(http, first)]
    while pages[-1]["meta"]["next_page_url"] is not None:
        assert len(pages) < 50, "paging does not terminate"
        pages.append(get_page(http, pages[-1]["meta"]["next_page_url"]))
    for page in pages:
        assert page["meta"]["key"] == key
    return pages


# --- through the SDK ----------------------------------------------------------------------------


def test_list_returns_everything_in_order(listing: Listing) -> None:
    assert [r.sid for r in listing.resource.list(page_size=3)] == listing.sids
    assert [r.sid for r in listing.resource.list()] == listing.sids


def test_stream_returns_everything_in_order(listing: Listing) -> None:
    assert [r.sid for r in listing.resource.stream(page_size=3)] == listing.sids


def test_limit_stops_early(listing: Listing) -> None:
    assert [r.sid for r in listing.resource.list(limit=5, page_size=3)] == listing.sids[:5]
    assert [r.sid for r in listing.resource.list(limit=2)] == listing.sids[:2]


def test_limit_above_the_page_size_cap(listing: Listing) -> None:
    # twilio-python sends list(limit=N) as PageSize=N; the server clamps instead of refusing.
    assert [r.sid for r in listing.resource.list(limit=5000)] == listing.sids
    assert [r.sid for r in listing.resource.list(limit=10**11)] == listing.sids


def test_page_chain_to_the_end(listing: Listing) -> None:
    page = listing.resource.page(page_size=3)
    chunks = [[r.sid for r in page]]
    while (page := page.next_page()) is not None:
        chunks.append([r.sid for r in page])
        assert len(chunks) < 10

    assert chunks == [listing.sids[0:3], listing.sids[3:6], listing.sids[6:7]]


def test_previous_page(listing: Listing) -> None:
    first = listing.resource.page(page_size=3)
    second = first.next_page()
    third = second.next_page()
    assert third.next_page_url is None

    back_to_second = third.previous_page()
    assert [r.sid for r in back_to_second] == listing.sids[3:6]
    back_to_first = back_to_second.previous_page()
    assert [r.sid for r in back_to_first] == listing.sids[0:3]
    assert first.previous_page() is None
    assert back_to_first.previous_page() is None
    # Going forward again from a page reached backwards still works.
    assert [r.sid for r in back_to_first.next_page()] == listing.sids[3:6]


def test_paging_is_stable_when_records_are_deleted(service: Any) -> None:
    listing = populate(service, "messages")
    page = listing.resource.page(page_size=3)

    listing.resource(listing.sids[3]).delete()
    rest = page.next_page()

    assert [r.sid for r in rest] == listing.sids[4:7]
    assert rest.next_page() is None


def test_paging_picks_up_records_added_meanwhile(service: Any) -> None:
    listing = populate(service, "channels")
    page = listing.resource.page(page_size=3)
    added = service.channels.create(friendly_name="late").sid

    seen = [r.sid for r in page]
    while (page := page.next_page()) is not None:
        seen.extend(r.sid for r in page)

    assert seen == [*listing.sids, added]


def test_messages_descending_across_pages(service: Any) -> None:
    listing = populate(service, "messages")
    newest_first = list(reversed(listing.sids))

    assert [m.sid for m in listing.resource.list(order="desc", page_size=3)] == newest_first
    assert [m.sid for m in listing.resource.stream(order="desc", page_size=3)] == newest_first
    assert [m.index for m in listing.resource.list(order="desc", page_size=2)] == list(
        range(COUNT - 1, -1, -1)
    )

    first = listing.resource.page(order="desc", page_size=3)
    second = first.next_page()
    assert "Order=desc" in second.next_page_url
    assert [m.sid for m in second] == newest_first[3:6]
    assert [m.sid for m in second.previous_page()] == newest_first[0:3]
    assert [m.sid for m in second.next_page()] == newest_first[6:7]


def test_messages_descending_with_gaps(service: Any) -> None:
    listing = populate(service, "messages")
    for sid in listing.sids[1::2]:
        listing.resource(sid).delete()

    rows = listing.resource.list(order="desc", page_size=2)

    assert [m.index for m in rows] == [6, 4, 2, 0]


def test_channel_type_filter_survives_paging(service: Any) -> None:
    kinds = ["private", "public", "private", "private", "public", "private", "public"]
    sids = [service.channels.create(type=kind).sid for kind in kinds]
    public = [s for s, k in zip(sids, kinds, strict=True) if k == "public"]
    private = [s for s, k in zip(sids, kinds, strict=True) if k == "private"]

    assert [c.sid for c in service.channels.list(type=["public", "private"], page_size=2)] == sids
    assert [c.sid for c in service.channels.list(type=["private"], page_size=2)] == private
    assert [c.sid for c in service.channels.list(page_size=2)] == public
    assert [c.sid for c in service.channels.stream(type=["private"], page_size=3)] == private


def test_identity_filter_survives_paging(service: Any) -> None:
    members = populate(service, "members")
    wanted = ["user6", "user1", "user4", "user2"]

    rows = members.resource.list(identity=wanted, page_size=2)

    assert [m.identity for m in rows] == ["user1", "user2", "user4", "user6"]
    invites = service.channels("general").invites
    for identity in ("user1", "user2"):
        service.channels("general").members(identity).delete()
        invites.create(identity=identity)
    service.users.create(identity="user7")
    invites.create(identity="user7")
    rows = invites.list(identity=["user7", "user1", "user2"], page_size=1)
    assert [i.identity for i in rows] == ["user1", "user2", "user7"]


# --- meta, raw ----------------------------------------------------------------------------------


def test_meta_of_every_page(http: httpx.Client, service: Any, base_url: str) -> None:
    listing = populate(service, "channels")
    url = f"{base_url}{listing.path}"

    pages = follow(http, f"{listing.path}?PageSize=3", "channels")

    assert [[c["sid"] for c in p["channels"]] for p in pages] == [
        listing.sids[0:3],
        listing.sids[3:6],
        listing.sids[6:7],
    ]
    for number, page in enumerate(pages):
        meta = page["meta"]
        assert set(meta) == {
            "page",
            "page_size",
            "first_page_url",
            "previous_page_url",
            "url",
            "next_page_url",
            "key",
        }
        assert meta["page"] == number
        assert meta["page_size"] == 3
        assert meta["key"] == "channels"
        assert meta["first_page_url"] == f"{url}?PageSize=3&Page=0"
        assert path_of(meta["url"]) == listing.path
        assert query_of(meta["url"])[:2] == [("PageSize", "3"), ("Page", str(number))]
        if number == 0:
            assert meta["previous_page_url"] is None
            assert meta["url"] == f"{url}?PageSize=3&Page=0"
        else:
            previous = query_of(meta["previous_page_url"])
            assert [k for k, _ in previous] == ["PageSize", "Page", "PageToken"]
            assert previous[:2] == [("PageSize", "3"), ("Page", str(number - 1))]
            # The current page's URL carries the token it was requested with.
            assert meta["url"] == pages[number - 1]["meta"]["next_page_url"]
        if number < 2:
            following = query_of(meta["next_page_url"])
            assert [k for k, _ in following] == ["PageSize", "Page", "PageToken"]
            assert following[:2] == [("PageSize", "3"), ("Page", str(number + 1))]
            assert path_of(meta["next_page_url"]) == listing.path
            assert meta["next_page_url"].startswith(f"{url}?")
    assert pages[-1]["meta"]["next_page_url"] is None

    # Following previous_page_url from the last page gives the middle page back.
    back = get_page(http, pages[2]["meta"]["previous_page_url"])
    assert [c["sid"] for c in back["channels"]] == listing.sids[3:6]
    assert back["meta"]["page"] == 1


def test_page_urls_work_with_raw_follow(http: httpx.Client, listing: Listing) -> None:
    pages = follow(http, f"{listing.path}?PageSize=2", listing.key)

    assert [len(p[listing.key]) for p in pages] == [2, 2, 2, 1]
    assert [r["sid"] for p in pages for r in p[listing.key]] == listing.sids


def test_default_page_size(http: httpx.Client, listing: Listing) -> None:
    body = get_page(http, listing.path)

    assert body["meta"]["page_size"] == 50
    assert body["meta"]["next_page_url"] is None
    assert body["meta"]["previous_page_url"] is None
    assert [r["sid"] for r in body[listing.key]] == listing.sids


def test_exact_multiple_of_the_page_size(http: httpx.Client, service: Any) -> None:
    listing = populate(service, "members", count=6)

    pages = follow(http, f"{listing.path}?PageSize=3", "members")

    # No empty trailing page: the second page already knows it is the last.
    assert [len(p["members"]) for p in pages] == [3, 3]
    assert pages[1]["meta"]["next_page_url"] is None


def test_empty_collection(http: httpx.Client, service: Any) -> None:
    service_sid = service.fetch().sid
    service.channels.create(unique_name="empty")
    for sub in ("Members", "Invites", "Messages"):
        body = get_page(http, f"/v1/Services/{service_sid}/Channels/empty/{sub}?PageSize=7")
        assert body[sub.lower()] == []
        assert body["meta"]["page_size"] == 7
        assert body["meta"]["next_page_url"] is None
        assert body["meta"]["previous_page_url"] is None


def test_meta_urls_echo_the_unique_name_path(
    http: httpx.Client, service: Any, base_url: str
) -> None:
    populate(service, "members")
    path = f"/v1/Services/{service.fetch().sid}/Channels/general/Members"

    meta = get_page(http, f"{path}?PageSize=3")["meta"]

    assert meta["first_page_url"] == f"{base_url}{path}?PageSize=3&Page=0"
    assert path_of(meta["next_page_url"]) == path


@pytest.mark.parametrize(("asked", "echoed"), [("1000", 1000), ("1001", 1000), ("5000", 1000)])
def test_page_size_clamps_at_1000(
    http: httpx.Client, listing: Listing, asked: str, echoed: int
) -> None:
    body = get_page(http, f"{listing.path}?PageSize={asked}")

    assert body["meta"]["page_size"] == echoed
    assert f"PageSize={echoed}&" in body["meta"]["first_page_url"]
    assert len(body[listing.key]) == COUNT


@pytest.mark.parametrize("asked", ["99999999999", "1" + "0" * 30, "0001000000000"])
def test_huge_page_size_clamps(http: httpx.Client, service: Any, asked: str) -> None:
    listing = populate(service, "channels", count=2)

    body = get_page(http, f"{listing.path}?PageSize={asked}")

    assert body["meta"]["page_size"] == 1000
    assert [c["sid"] for c in body["channels"]] == listing.sids


def test_leading_zeros_in_page_size(http: httpx.Client, service: Any) -> None:
    listing = populate(service, "channels", count=3)

    body = get_page(http, f"{listing.path}?PageSize=002")

    assert body["meta"]["page_size"] == 2
    assert len(body["channels"]) == 2


@pytest.mark.parametrize("asked", ["100", "500", "1000", "5000"])
def test_services_list_clamps_at_100(http: httpx.Client, service: Any, asked: str) -> None:
    body = get_page(http, f"/v1/Services?PageSize={asked}")

    assert body["meta"]["page_size"] == 100
    assert body["meta"]["key"] == "services"


@pytest.mark.parametrize("asked", ["0", "abc", "-1", "1.5", "", "+3", "00", "3 "])
def test_invalid_page_size(http: httpx.Client, listing: Listing, asked: str) -> None:
    response = http.get(listing.path, params={"PageSize": asked})

    body = expect_http_error(response, 400, 20001)
    assert body["message"] == "PageSize must be a positive integer (above 1000, 1000 is used)"


@pytest.mark.parametrize("token", ["garbage", "PT", "PTabc", "PX3", f"PTCH{SID_HEX}", "pt3"])
def test_garbage_page_token(http: httpx.Client, listing: Listing, token: str) -> None:
    response = http.get(listing.path, params={"PageToken": token})

    body = expect_http_error(response, 400, 21481)
    assert (
        body["message"]
        == "Invalid PageToken: use the one in a page's next_page_url or previous_page_url"
    )


@pytest.mark.parametrize("kind", ["channels", "members", "invites"])
def test_negative_token_outside_messages_is_invalid(
    http: httpx.Client, service: Any, kind: str
) -> None:
    listing = populate(service, kind, count=1)

    expect_http_error(http.get(listing.path, params={"PageToken": "PT-1"}), 400, 21481)


@pytest.mark.parametrize("token", ["PT-1", "PB-1", "PT-42"])
def test_negative_message_page_token(http: httpx.Client, service: Any, token: str) -> None:
    listing = populate(service, "messages", count=2)

    response = http.get(listing.path, params={"PageToken": token})

    body = expect_http_error(response, 400, 19038)
    assert body["message"] == "Page token must be bigger than or equal to 0"


def test_page_number_without_token_is_an_offset(http: httpx.Client, listing: Listing) -> None:
    second = get_page(http, f"{listing.path}?PageSize=3&Page=1")

    assert [r["sid"] for r in second[listing.key]] == listing.sids[3:6]
    meta = second["meta"]
    assert meta["page"] == 1
    assert query_of(meta["url"]) == [("PageSize", "3"), ("Page", "1")]
    assert meta["previous_page_url"] is not None
    back = get_page(http, meta["previous_page_url"])
    assert [r["sid"] for r in back[listing.key]] == listing.sids[0:3]
    onward = get_page(http, meta["next_page_url"])
    assert [r["sid"] for r in onward[listing.key]] == listing.sids[6:7]
    assert onward["meta"]["page"] == 2
    assert onward["meta"]["next_page_url"] is None


def test_page_number_through_sdk(listing: Listing) -> None:
    page = listing.resource.page(page_size=3, page_number=2)

    assert [r.sid for r in page] == listing.sids[6:7]
    assert page.next_page() is None
    assert [r.sid for r in page.previous_page()] == listing.sids[3:6]


def test_page_number_past_the_end(http: httpx.Client, listing: Listing) -> None:
    body = get_page(http, f"{listing.path}?PageSize=3&Page=9")

    assert body[listing.key] == []
    assert body["meta"]["page"] == 9
    assert body["meta"]["next_page_url"] is None


@pytest.mark.parametrize("page", ["-1", "x", "1.0"])
def test_invalid_page_number(http: httpx.Client, service: Any, page: str) -> None:
    listing = populate(service, "channels", count=1)

    expect_http_error(http.get(listing.path, params={"Page": page}), 400, 20001)


def test_type_filter_echoed_in_meta(http: httpx.Client, service: Any, base_url: str) -> None:
    kinds = ["public", "private"] * 3 + ["private"]
    sids = [service.channels.create(type=kind).sid for kind in kinds]
    path = f"/v1/Services/{service.fetch().sid}/Channels"

    pages = follow(http, f"{path}?Type=public&Type=private&PageSize=3", "channels")

    assert [c["sid"] for p in pages for c in p["channels"]] == sids
    first = pages[0]["meta"]
    assert first["first_page_url"] == (
        f"{base_url}{path}?Type=public&Type=private&PageSize=3&Page=0"
    )
    assert first["url"] == first["first_page_url"]
    for page in pages:
        for name in ("first_page_url", "url", "next_page_url", "previous_page_url"):
            if page["meta"][name] is not None:
                query = query_of(page["meta"][name])
                assert query[:3] == [("Type", "public"), ("Type", "private"), ("PageSize", "3")]


def test_identity_filter_echoed_in_meta(http: httpx.Client, service: Any) -> None:
    listing = populate(service, "members")

    pages = follow(
        http, f"{listing.path}?Identity=user5&Identity=user0&Identity=user3&PageSize=2", "members"
    )

    assert [m["identity"] for p in pages for m in p["members"]] == ["user0", "user3", "user5"]
    for url in (pages[0]["meta"]["next_page_url"], pages[1]["meta"]["previous_page_url"]):
        query = query_of(url)
        assert query[:4] == [
            ("Identity", "user5"),
            ("Identity", "user0"),
            ("Identity", "user3"),
            ("PageSize", "2"),
        ]


def test_invite_identity_filter_echoed_in_meta(http: httpx.Client, service: Any) -> None:
    listing = populate(service, "invites")

    pages = follow(http, f"{listing.path}?Identity=user6&Identity=user2&PageSize=1", "invites")

    assert [i["identity"] for p in pages for i in p["invites"]] == ["user2", "user6"]
    assert query_of(pages[0]["meta"]["next_page_url"])[:2] == [
        ("Identity", "user6"),
        ("Identity", "user2"),
    ]


def test_order_echoed_in_meta(http: httpx.Client, service: Any) -> None:
    listing = populate(service, "messages")

    pages = follow(http, f"{listing.path}?Order=desc&PageSize=3", "messages")

    assert [m["index"] for p in pages for m in p["messages"]] == [6, 5, 4, 3, 2, 1, 0]
    for page in pages:
        meta = page["meta"]
        assert query_of(meta["first_page_url"]) == [
            ("Order", "desc"),
            ("PageSize", "3"),
            ("Page", "0"),
        ]
        for name in ("url", "next_page_url", "previous_page_url"):
            if meta[name] is not None:
                assert query_of(meta[name])[:2] == [("Order", "desc"), ("PageSize", "3")]
    back = get_page(http, pages[-1]["meta"]["previous_page_url"])
    assert [m["index"] for m in back["messages"]] == [3, 2, 1]


def test_unrelated_query_parameters_are_not_echoed(http: httpx.Client, service: Any) -> None:
    listing = populate(service, "channels", count=4)

    meta = get_page(http, f"{listing.path}?Foo=bar&PageSize=2")["meta"]

    assert "Foo" not in meta["first_page_url"]
    assert "Foo" not in meta["next_page_url"]


@pytest.fixture
def base_url(http: httpx.Client) -> str:
    return str(http.base_url).rstrip("/")
