"""Route on the path as it was sent, so no percent-encoded character can change the resource.

ASGI servers hand applications ``scope["path"]`` already percent-decoded. Routed on that, an
alias holding a ``/`` became a path separator: with a channel named ``room/Members/bob``,
``DELETE …/Channels/room%2FMembers%2Fbob`` deleted member bob of channel ``room``, and an
identity ``dept/alice`` could be created but never addressed. The HTTP door routes on
:func:`encoded_path` (from ``scope["raw_path"]``, still encoded), and :func:`segment` decodes
each captured segment exactly once, after the route is chosen. Any alias Twilio accepts is then
addressable, and a ``%252F`` stays the three characters ``%2F``.
"""

from __future__ import annotations

from urllib.parse import quote, quote_from_bytes, unquote

from chinwag import errors

#: RFC 3986 path characters besides the unreserved ones, plus ``%`` to keep escapes as sent.
_KEEP = "/%!$&'()*+,;=:@"


def encoded_path(scope: dict[str, object]) -> str:
    """The request path, percent-encoded as on the wire (query string excluded)."""
    raw = scope.get("raw_path")
    if isinstance(raw, bytes):
        # httpx's ASGI transport includes the query; servers do not.
        return quote_from_bytes(raw.partition(b"?")[0], safe=_KEEP)
    return quote(str(scope["path"]), safe=_KEEP.replace("%", ""))


def segment(value: str) -> str:
    """One routed path segment, decoded. Invalid UTF-8 or NUL can name no resource: 404."""
    try:
        text = unquote(value, errors="strict")
    except UnicodeDecodeError:
        raise errors.NotFoundError() from None
    # No SID, name or identity contains NUL, and PostgreSQL text cannot hold one.
    if "\x00" in text:
        raise errors.NotFoundError()
    return text
