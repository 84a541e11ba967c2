"""Twilio's form parameters (PascalCase names, repeated keys for lists), decoded and typed.

Both doors read them: REST from ``application/x-www-form-urlencoded`` bodies and query strings
(``chinwag.http.forms`` reads the bytes), the client gateway from the query strings of the
requests the SDK sends inside the socket. Anything that cannot be decoded (invalid UTF-8, NUL
characters, too many fields) is a 4xx here, before any domain code runs.
"""

from __future__ import annotations

import re
from typing import TypeVar
from urllib.parse import parse_qsl

from chinwag import errors
from chinwag.domain.validation import check_text
from chinwag.model.unset import UNSET, Unset

_INT = re.compile(r"[+-]?[0-9]{1,18}")
MAX_FIELDS = 1000

T = TypeVar("T")


class Form:
    """Decoded parameters, keeping every value of repeated keys in arrival order."""

    __slots__ = ("_values",)

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        values: dict[str, list[str]] = {}
        for name, value in pairs:
            values.setdefault(check_text(name), []).append(check_text(value))
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
        raise errors.InvalidParameterError(name=name, expected="true or false")

    def integer(
        self,
        name: str,
        error: type[errors.ChinwagError] | None = None,
        *,
        expected: str = "an integer",
        nullable: bool = False,
    ) -> int | Unset | None:
        """An integer; a bad value raises ``error`` (default 20001) saying it must be
        ``expected`` (the range the domain checks next, when there is one). Empty is None if
        nullable."""
        value = self.get(name)
        if value is None:
            return UNSET
        if value == "" and nullable:
            return None
        if not _INT.fullmatch(value):
            if error is None:
                raise errors.InvalidParameterError(name=name, expected=expected)
            raise error(expected=expected)
        return int(value)

    def choice(self, name: str, allowed: tuple[T, ...], default: T) -> T:
        """One of ``allowed`` (exact match), ``default`` if absent, else 400 20001."""
        value = self.get(name)
        if value is None:
            return default
        for option in allowed:
            if option == value:
                return option
        raise errors.InvalidParameterError(name=name, expected=errors.one_of(map(str, allowed)))


def parse_form(text: str) -> Form:
    """``name=value&…`` text (already percent-encoded UTF-8) as a :class:`Form`."""
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
