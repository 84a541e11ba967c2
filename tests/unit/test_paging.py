"""Page parameters and tokens."""

from __future__ import annotations

import pytest

from chinwag import errors
from chinwag.api.forms import Form, parse_form
from chinwag.api.paging import envelope, parse_list_query
from chinwag.model.records import Cursor, Page

pytestmark = pytest.mark.unit


def test_defaults() -> None:
    q = parse_list_query(parse_form(""))
    assert (q.request.size, q.page, q.token, q.request.cursor) == (50, 0, None, None)


def test_page_size_is_clamped_to_the_maximum() -> None:
    assert parse_list_query(parse_form("PageSize=5000")).request.size == 1000
    assert parse_list_query(parse_form("PageSize=500"), max_size=100).request.size == 100


@pytest.mark.parametrize("raw", ["0", "-1", "x", "1.5"])
def test_bad_page_size_is_400(raw: str) -> None:
    with pytest.raises(errors.InvalidParameterError):
        parse_list_query(parse_form(f"PageSize={raw}"))


def test_tokens_parse_into_cursors() -> None:
    assert parse_list_query(parse_form("PageToken=PT42")).request.cursor == Cursor(42)
    assert parse_list_query(parse_form("PageToken=PB7")).request.cursor == Cursor(7, backwards=True)


@pytest.mark.parametrize("token", ["garbage", "PT", "PTx", "PX1", "PT1.0", "PT" + "9" * 30])
def test_garbage_tokens_are_21481(token: str) -> None:
    with pytest.raises(errors.InvalidPageTokenError):
        parse_list_query(parse_form(f"PageToken={token}"))


def test_negative_message_tokens_have_their_own_code() -> None:
    with pytest.raises(errors.NegativeMessagePageTokenError):
        parse_list_query(
            parse_form("PageToken=PT-1"), negative_token_error=errors.NegativeMessagePageTokenError
        )


def test_page_without_token_falls_back_to_an_offset() -> None:
    assert parse_list_query(parse_form("PageSize=10&Page=3")).request.offset == 30


def test_meta_urls_put_filters_first_then_paging() -> None:
    q = parse_list_query(
        parse_form("Type=public&Type=private&PageSize=2&Page=1&PageToken=PT2"), filters=("Type",)
    )
    body = envelope("channels", [], Page([], next_key=4, prev_key=3), q, "http://h/v1/X")
    meta = body["meta"]
    assert meta["url"] == "http://h/v1/X?Type=public&Type=private&PageSize=2&Page=1&PageToken=PT2"
    assert meta["first_page_url"] == "http://h/v1/X?Type=public&Type=private&PageSize=2&Page=0"
    assert meta["next_page_url"].endswith("PageSize=2&Page=2&PageToken=PT4")
    assert meta["previous_page_url"].endswith("PageSize=2&Page=0&PageToken=PB3")
    assert set(meta) == {
        "page",
        "page_size",
        "first_page_url",
        "previous_page_url",
        "url",
        "next_page_url",
        "key",
    }


@pytest.mark.parametrize("raw", ["Page=\u0663", "PageSize=\u0663", "PageToken=PT\u0661\u0662"])
def test_paging_parameters_take_only_ascii_digits(raw: str) -> None:
    name, _, value = raw.partition("=")
    with pytest.raises((errors.InvalidParameterError, errors.InvalidPageTokenError)):
        parse_list_query(Form([(name, value)]))
