"""Validation rules shared by several resources, with the limits Twilio documents or implies.

Limits marked [inferred] in the reference (Twilio does not publish them) are chosen here and
documented in ``docs/behaviour.md``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import orjson

from chinwag import errors, sids

NAME_MAX = 64  # friendly_name (Service, Channel, Role, Credential) and unique_name [doc]
IDENTITY_MAX = 256  # [inferred]
USER_FRIENDLY_NAME_MAX = 256  # [inferred]
ATTRIBUTES_MAX = 16_384  # characters [inferred]
BODY_MAX = 32_768  # characters [inferred]
AUTHOR_MAX = 256  # [inferred]
TEMPLATE_MAX = 1024  # [inferred]
URL_MAX = 2048  # webhook URLs [inferred]
WEBHOOK_METHODS = ("GET", "POST")
RESERVED_IDENTITIES = frozenset({"system"})  # [inferred] the author name REST messages use

# Integer parameters: one range each, the same on both engines (docs/behaviour.md). Values the
# reference leaves open are bounded by what every engine and client can hold exactly: a 32-bit
# column for the service settings, JavaScript's safe integers for a message index.
INT32_MAX = 2_147_483_647
SECONDS_RANGE = range(INT32_MAX + 1)  # TypingIndicatorTimeout, ConsumptionReportInterval
SERVICE_LIMIT_RANGE = range(1, 1001)  # Limits.ChannelMembers, Limits.UserChannels [doc]
MESSAGE_INDEX_RANGE = range(2**53)  # LastConsumedMessageIndex
#: Pre/PostWebhookRetryCount (Chat v2): the channel webhooks' RetryCount bound [inferred]
RETRY_COUNT_RANGE = range(4)
#: dates in epoch milliseconds, up to 9999-12-31T23:59:59.999Z: the last moment a Twilio date
#: (four-digit year) can show
LATEST_MS = 253_402_300_799_999
DATE_RANGE = range(LATEST_MS + 1)


def check_text(value: str, where: str = "A parameter") -> str:
    """Text either door may store or look up: no NUL character, which PostgreSQL text cannot
    hold (SQLite would store it). The REST forms, the client gateway's JSON fields and query
    parameters, tokens' identities and the control API all call this one rule; invalid UTF-8
    never gets this far (forms decode strictly, JSON parsers refuse it)."""
    if "\x00" in value:
        raise errors.MalformedRequestError(detail=f"{where} contains a NUL character")
    return value


def check_author(value: str) -> str:
    """An identity named as the author or creator of something (``From``, ``CreatedBy``,
    ``LastUpdatedBy``)."""
    if len(value) > AUTHOR_MAX:
        raise errors.AuthorTooLongError(limit=AUTHOR_MAX)
    return value


def check_friendly_name(value: str | None, limit: int = NAME_MAX) -> str | None:
    if value is not None and len(value) > limit:
        raise errors.FriendlyNameTooLongError(limit=limit)
    return value


def check_attributes(value: str | None) -> str | None:
    """Attributes must be a JSON document (any JSON value) of bounded size."""
    if value is None:
        return None
    if len(value) > ATTRIBUTES_MAX:
        raise errors.AttributesTooLongError(limit=ATTRIBUTES_MAX)
    try:
        orjson.loads(value)
    except orjson.JSONDecodeError:
        raise errors.AttributesNotJsonError() from None
    return value


def check_in_range(value: int, allowed: range, error: type[errors.ChinwagError]) -> int:
    """An integer parameter inside its documented range, else ``error`` (a 400)."""
    if value not in allowed:
        raise error(expected=errors.in_range(allowed))
    return value


def check_identity(value: str) -> str:
    check_text(value, "identity")
    if value == "":
        raise errors.IdentityNotProvidedError()
    if len(value) > IDENTITY_MAX:
        raise errors.IdentityTooLongError(limit=IDENTITY_MAX)
    if sids.looks_like(sids.USER, value):
        raise errors.IdentityMatchesSidError()
    if value in RESERVED_IDENTITIES:
        raise errors.IdentityReservedError(identity=value)
    return value


def check_http_url(value: str | None, error: type[errors.ChinwagError]) -> str | None:
    """An absolute http(s) URL with a host, or None (cleared)."""
    if value is None:
        return None
    expected = f"an absolute http or https URL of at most {URL_MAX} characters"
    try:
        parts = urlsplit(value)
    except ValueError:
        raise error(expected=expected) from None
    if parts.scheme not in ("http", "https") or not parts.hostname or len(value) > URL_MAX:
        raise error(expected=expected)
    return value


def check_method(value: str) -> str:
    method = value.upper()
    if method not in WEBHOOK_METHODS:
        raise errors.InvalidWebhookMethodError(expected=errors.one_of(WEBHOOK_METHODS))
    return method
