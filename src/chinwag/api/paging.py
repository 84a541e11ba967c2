"""Twilio list paging on the wire: ``PageSize``/``Page``/``PageToken`` in, ``meta`` out.

Tokens are opaque to clients: ``PT<key>`` continues after a row, ``PB<key>`` goes back before
one, where ``key`` is the row's position in list order (its creation sequence, or a message's
index). SDKs only ever follow the ``*_page_url`` values we emit, so the format is ours; it
matches the ``PT…`` shape real Twilio tokens have. Query-string order in emitted URLs is
filters, then PageSize, Page, PageToken, as in every Twilio capture.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

from chinwag import errors
from chinwag.api.forms import Form
from chinwag.model.records import Cursor, Page, PageRequest

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
_TOKEN = re.compile(r"P([TB])(-?[0-9]{1,18})")
_NUMBER = re.compile(r"[0-9]{1,9}")
_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True, slots=True)
class ListQuery:
    request: PageRequest
    page: int
    token: str | None
    filters: tuple[tuple[str, str], ...]


def parse_list_query(
    query: Form,
    *,
    filters: tuple[str, ...] = (),
    max_size: int = MAX_PAGE_SIZE,
    descending: bool = False,
    negative_token_error: type[errors.ChinwagError] = errors.InvalidPageTokenError,
) -> ListQuery:
    """Read paging parameters; ``filters`` names the parameters echoed into meta URLs."""
    size_text = query.get("PageSize")
    if size_text is None:
        size = DEFAULT_PAGE_SIZE
    elif _DIGITS.fullmatch(size_text) and size_text.strip("0"):
        # Any positive integer, however large, is clamped: twilio-python sends list(limit=N)
        # as PageSize=N. Over 9 significant digits is above every cap (and int() stays cheap).
        digits = size_text.lstrip("0")
        size = max_size if len(digits) > 9 else min(int(digits), max_size)
    else:
        raise errors.InvalidParameterError(
            name="PageSize", expected=f"a positive integer (above {max_size}, {max_size} is used)"
        )
    page_text = query.get("Page")
    if page_text is None:
        page = 0
    elif _NUMBER.fullmatch(page_text):
        page = int(page_text)
    else:
        raise errors.InvalidParameterError(name="Page", expected="an integer from 0")
    token = query.get("PageToken") or None
    cursor = None
    if token is not None:
        match = _TOKEN.fullmatch(token)
        if match is None:
            raise errors.InvalidPageTokenError()
        key = int(match[2])
        if key < 0:
            raise negative_token_error()
        cursor = Cursor(key, backwards=match[1] == "B")
    request = PageRequest(
        size=size,
        cursor=cursor,
        offset=page * size if cursor is None else 0,
        descending=descending,
    )
    echoed = tuple((name, value) for name in filters for value in query.all(name))
    return ListQuery(request, page, token, echoed)


def envelope(key: str, rows: list[Any], page: Page[Any], q: ListQuery, url: str) -> dict[str, Any]:
    """The list body: records under ``key`` and all seven ``meta`` fields."""

    # Names and tokens are URL-safe ASCII; only filter values need quoting.
    prefix = f"{url}?" + "".join(f"{name}={quote_plus(value)}&" for name, value in q.filters)
    size = q.request.size

    def page_url(number: int, token: str | None) -> str:
        tail = "" if token is None else f"&PageToken={token}"
        return f"{prefix}PageSize={size}&Page={number}{tail}"

    next_url = None
    if page.next_key is not None:
        next_url = page_url(q.page + 1, f"PT{page.next_key}")
    previous_url = None
    if q.page > 0 and page.prev_key is not None:
        previous_url = page_url(q.page - 1, f"PB{page.prev_key}")
    return {
        key: rows,
        "meta": {
            "page": q.page,
            "page_size": q.request.size,
            "first_page_url": page_url(0, None),
            "previous_page_url": previous_url,
            "url": page_url(q.page, q.token),
            "next_page_url": next_url,
            "key": key,
        },
    }
