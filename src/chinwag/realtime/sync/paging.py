"""Sync item page tokens: each names the query that reads the page it points to.

twilio-sync 3 (twilio-chat 6) pages by ``From`` and only tests whether a token is set, but
twilio-sync 0.12 to 1.0 (twilio-chat 3 to 5) ask for the next or previous page with
``?PageToken=<token>`` alone: no ``From``, ``PageSize`` or ``Order`` (``syncmap.js`` and
``synclist.js``, ``queryItems({pageToken})``). So a token carries everything: where the page
starts, in which order it is shown, its size, whether the start key itself is excluded, and
whether it is the page *before* the key (read in the opposite order, then shown flipped).

Tokens are opaque to clients: URL-safe base64 of a small JSON array. A token that does not
decode, or names a key of the wrong kind, is ``400`` (21481, "Invalid PageToken"), as REST.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

import orjson

from chinwag import errors

#: a token names one key (a member or channel SID, a user info key, or an index): short
MAX_TOKEN_LENGTH = 512


@dataclass(frozen=True, slots=True)
class ItemQuery:
    """S4/S5: one ``key`` (or index), or a page of items from ``start`` in key order
    (``descending`` reversed: the order the page is shown in).

    ``exclusive``: the page begins after ``start``. ``before``: it is the page that ends just
    before ``start`` in the order shown (read walking away from ``start``, then flipped).
    """

    key: str | int | None = None
    start: str | int | None = None
    descending: bool = False
    page_size: int = 50
    exclusive: bool = False
    before: bool = False


def encode(query: ItemQuery) -> str:
    flags = (
        (1 if query.descending else 0) | (2 if query.exclusive else 0) | (4 if query.before else 0)
    )
    raw = orjson.dumps([query.start, query.page_size, flags])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode(token: str, key_type: type[str] | type[int], max_page_size: int) -> ItemQuery:
    """The query a token names; ``key_type`` is ``int`` for lists, ``str`` for maps."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise errors.InvalidPageTokenError()
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        start, size, flags = orjson.loads(raw)
    except (binascii.Error, ValueError, TypeError):
        raise errors.InvalidPageTokenError() from None
    well_formed = (
        type(start) is key_type
        and type(size) is int
        and 0 < size <= max_page_size
        and type(flags) is int
        and 0 <= flags < 8
    )
    if not well_formed:
        raise errors.InvalidPageTokenError()
    return ItemQuery(None, start, bool(flags & 1), size, bool(flags & 2), bool(flags & 4))
