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
RESERVED_IDENTITIES = frozenset({"system"})  # [inferred] the author name REST messages use

# Integer parameters: one range each, the same on both engines (docs/behaviour.md). Values the
# reference leaves open are bounded by what every engine and client can hold exactly: a 32-bit
# column for the service settings, JavaScript's safe integers for a message index.
INT32_MAX = 2_147_483_647
SECONDS_RANGE = range(INT32_MAX + 1)  # TypingIndicatorTimeout, ConsumptionReportInterval
SERVICE_LIMIT_RANGE = range(1, 1001)  # Limits.ChannelMembers, Limits.UserChannels [doc]
MESSAGE_INDEX_RANGE = range(2**53)  # LastConsumedMessageIndex


def check_friendly_name(value: str | None, limit: int = NAME_MAX) -> str | None:
    if value is not None and len(value) > limit:
        raise errors.FriendlyNameTooLongError()
    return value


def check_attributes(value: str | None) -> str | None:
    """Attributes must be a JSON document (any JSON value) of bounded size."""
    if value is None:
        return None
    if len(value) > ATTRIBUTES_MAX:
        raise errors.AttributesTooLongError()
    try:
        orjson.loads(value)
    except orjson.JSONDecodeError:
        raise errors.AttributesNotJsonError() from None
    return value


def check_in_range(value: int, allowed: range, error: type[errors.ChinwagError]) -> int:
    """An integer parameter inside its documented range, else ``error`` (a 400)."""
    if value not in allowed:
        raise error()
    return value


def check_identity(value: str) -> str:
    if value == "":
        raise errors.IdentityNotProvidedError()
    if len(value) > IDENTITY_MAX:
        raise errors.IdentityTooLongError()
    if sids.looks_like(sids.USER, value):
        raise errors.IdentityMatchesSidError()
    if value in RESERVED_IDENTITIES:
        raise errors.IdentityReservedError()
    return value


def check_http_url(value: str | None, error: type[errors.ChinwagError]) -> str | None:
    """An absolute http(s) URL with a host, or None (cleared)."""
    if value is None:
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        raise error() from None
    if parts.scheme not in ("http", "https") or not parts.hostname or len(value) > 2048:
        raise error()
    return value


def check_method(value: str) -> str:
    method = value.upper()
    if method not in ("GET", "POST"):
        raise errors.InvalidWebhookMethodError()
    return method
