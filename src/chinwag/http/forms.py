"""Reading a REST request's body and query string as a :class:`~chinwag.api.forms.Form`.

Bodies are ``application/x-www-form-urlencoded`` UTF-8 (as every Twilio SDK sends). A body
over the cap, cut short, of another type or not UTF-8 is a 4xx here, before any domain code
runs, so bad input can never reach the database.

Validation order (documented in docs/behaviour.md): parameter presence and wire types
(20001) are checked when the form is parsed, before path objects are resolved (404): like
Twilio's API gateway, which rejects malformed requests before the chat backend sees them.
"""

from __future__ import annotations

import falcon.asgi

from chinwag import errors
from chinwag.api.forms import Form, parse_form
from chinwag.http.observe import CLIENT_GONE

_FORM_TYPE = "application/x-www-form-urlencoded"


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
    check_complete(req, len(body))
    return body


def check_complete(req: falcon.asgi.Request, received: int) -> None:
    """Refuse a body whose client left mid-body: the stream ended early, and acting on the part
    would store a cut-off message, so nothing is done (the answer reaches no one)."""
    if req.scope.get(CLIENT_GONE) or (
        req.content_length is not None and received != req.content_length
    ):
        raise errors.MalformedRequestError(detail="The request body ended before it was complete")


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
    return parse_form(text)


def read_query(req: falcon.asgi.Request) -> Form:
    """The query string as a form (list filters and paging)."""
    raw: bytes = req.scope.get("query_string", b"")
    if not raw:
        return Form([])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise errors.MalformedRequestError(detail="Query string must be valid UTF-8") from None
    return parse_form(text)
