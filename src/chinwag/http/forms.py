"""Reading request parameters: the only place PascalCase names appear.

Bodies are ``application/x-www-form-urlencoded`` UTF-8 (as every Twilio SDK sends). Lists arrive
as repeated keys. Anything that cannot be decoded — invalid UTF-8, NUL characters, too many
fields, a body over the cap — is a 4xx here, before any domain code runs, so bad input can
never reach the database.

Validation order (documented in docs/behaviour.md): parameter presence and wire types
(20001) are checked when the form is parsed, before path objects are resolved (404): like
Twilio's API gateway, which rejects malformed requests before the chat backend sees them.
"""

from __future__ import annotations

import re
from typing import TypeVar
from urllib.parse import parse_qsl

import falcon.asgi

from chinwag import errors
from chinwag.domain.unset import UNSET, Unset
from chinwag.http.observe import CLIENT_GONE

_INT = re.compile(r"[+-]?[0-9]{1,18}")
MAX_FIELDS = 1000
_FORM_TYPE = "application/x-www-form-urlencoded"

T = TypeVar("T")


class Form:
    """Decoded parameters, keeping every value of repeated keys in arrival order."""

    __slots__ = ("_values",)

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        values: dict[str, list[str]] = {}
        for name, value in pairs:
            if "\x00" in name or "\x00" in value:
                raise errors.MalformedRequestError(detail="Parameters must not contain NUL")
            values.setdefault(name, []).append(value)
        self._values = values

    def __contains__(self, name: str) -> bool:
        return name in self._values

    def all(self, name: str) -> list[str]:
        return self._values.get(name, [])

    def get(self, name: str) -> str | None:
        values = self._values.get(name)
        return values[0] if values else None

    def required(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise errors.MissingParameterError(name=name)
        return value

    def text(self, name: str) -> str | Unset:
        """A string parameter that cannot be cleared: sent as-is (even empty) or UNSET."""
        value = self.get(name)
        return UNSET if value is None else value

    def nullable(self, name: str) -> str | Unset | None:
        """A nullable parameter: UNSET if absent, None if sent empty (clear), else the text."""
        value = self.get(name)
        if value is None:
            return UNSET
        return value or None

    def optional(self, name: str) -> str | None:
        """For creates: absent and empty both mean "not given"."""
        return self.get(name) or None

    def boolean(self, name: str) -> bool | Unset:
        value = self.get(name)
        if value is None:
            return UNSET
        lowered = value.lower()
        if lowered == "true":
            return True
        if lowered == "false":
            return False
        raise errors.InvalidParameterError(name=name)

    def integer(
        self, name: str, error: type[errors.ChinwagError] | None = None, *, nullable: bool = False
    ) -> int | Unset | None:
        """An integer; a bad value raises ``error`` (default 20001). Empty is None if nullable."""
        value = self.get(name)
        if value is None:
            return UNSET
        if value == "" and nullable:
            return None
        if not _INT.fullmatch(value):
            raise error() if error else errors.InvalidParameterError(name=name)
        return int(value)

    def choice(self, name: str, allowed: tuple[T, ...], default: T) -> T:
        """One of ``allowed`` (exact match), ``default`` if absent, else 400 20001."""
        value = self.get(name)
        if value is None:
            return default
        for option in allowed:
            if option == value:
                return option
        raise errors.InvalidParameterError(name=name)


def _parse(text: str) -> Form:
    try:
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except UnicodeDecodeError:
        raise errors.MalformedRequestError(detail="Parameters must be valid UTF-8") from None
    except ValueError:
        raise errors.MalformedRequestError(detail="Too many parameters") from None
    return Form(pairs)


async def read_body(req: falcon.asgi.Request, limit: int) -> bytes:
    """The whole request body; bodies over ``limit`` bytes are refused with 413.

    Only a whole body counts: one shorter than its ``Content-Length``, or whose client left
    before its last chunk, is refused before anything acts on it.
    """
    if req.content_length is not None and req.content_length > limit:
        raise errors.PayloadTooLargeError(limit=limit)
    body = await req.stream.read(limit + 1)
    if len(body) > limit:
        raise errors.PayloadTooLargeError(limit=limit)
    if req.scope.get(CLIENT_GONE) or (
        req.content_length is not None and len(body) != req.content_length
    ):
        # The client left mid-body; the stream ended early. Acting on the part would store
        # a cut-off message, so nothing is done (the answer reaches no one).
        raise errors.MalformedRequestError(detail="The request body ended before it was complete")
    return body


async def read_form(req: falcon.asgi.Request, limit: int) -> Form:
    """The POST body as a form (see :func:`read_body`)."""
    body = await read_body(req, limit)
    if not body:
        return Form([])
    media_type, _, params = (req.content_type or _FORM_TYPE).partition(";")
    if media_type.strip().lower() != _FORM_TYPE:
        raise errors.MalformedRequestError(detail=f"Content-Type must be {_FORM_TYPE}")
    charset = params.lower().replace(" ", "").partition("charset=")[2].strip('"')
    if charset not in ("", "utf-8", "utf8"):
        raise errors.MalformedRequestError(detail="Parameters must be UTF-8 encoded")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise errors.MalformedRequestError(detail="Body must be valid UTF-8") from None
    return _parse(text)


def read_query(req: falcon.asgi.Request) -> Form:
    """The query string as a form (list filters and paging)."""
    raw: bytes = req.scope.get("query_string", b"")
    if not raw:
        return Form([])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise errors.MalformedRequestError(detail="Query string must be valid UTF-8") from None
    return _parse(text)
