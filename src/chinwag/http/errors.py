"""The one error renderer: every failure leaves as Twilio's JSON with the right status.

Handlers raise; nothing else builds error responses. Falcon's own HTTP errors (wrong method,
unparseable request) are mapped onto the catalogue. Unexpected exceptions are
logged with their traceback and answered with a generic 500: their text never reaches clients.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import falcon
import falcon.asgi
import orjson

from chinwag import errors

log = logging.getLogger(__name__)

WWW_AUTHENTICATE = 'Basic realm="Twilio API"'


def resource_path(path: str) -> str:
    """The path as Twilio names it in 20404 messages: without the version prefix."""
    return path[3:] if path.startswith(("/v1/", "/v2/", "/v3/")) else path


def error_body(error: errors.ChinwagError) -> bytes:
    return orjson.dumps(error.to_dict())


async def send_error(
    send: Callable[[dict[str, Any]], Awaitable[None]],
    error: errors.ChinwagError,
    headers: Sequence[tuple[bytes, bytes]] = (),
) -> None:
    """Answer ``error`` through a raw ASGI ``send``, before any request object exists."""
    body = error_body(error)
    await send(
        {
            "type": "http.response.start",
            "status": error.status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _render(
    req: falcon.asgi.Request, resp: falcon.asgi.Response, error: errors.ChinwagError
) -> None:
    if isinstance(error, errors.NotFoundError):
        error = errors.NotFoundError(resource_path(req.path))
    resp.status = error.status
    resp.content_type = falcon.MEDIA_JSON
    resp.data = error_body(error)
    if isinstance(error, errors.AuthenticationError):
        resp.set_header("WWW-Authenticate", WWW_AUTHENTICATE)


async def handle_chinwag_error(
    req: falcon.asgi.Request,
    resp: falcon.asgi.Response,
    ex: errors.ChinwagError,
    params: dict[str, Any],
    **_: Any,
) -> None:
    _render(req, resp, ex)


def _from_falcon(ex: falcon.HTTPError) -> errors.ChinwagError:
    if ex.status_code == 404:
        return errors.NotFoundError()
    if ex.status_code == 405:
        return errors.MethodNotAllowedError()
    if ex.status_code == 413:
        return errors.PayloadTooLargeError(message="Request body too large")
    if 400 <= ex.status_code < 500:
        return errors.MalformedRequestError(detail=ex.title or "Bad request")
    return errors.InternalError()


async def handle_http_error(
    req: falcon.asgi.Request,
    resp: falcon.asgi.Response,
    ex: falcon.HTTPError,
    params: dict[str, Any],
    **_: Any,
) -> None:
    error = _from_falcon(ex)
    _render(req, resp, error)
    if isinstance(error, errors.MethodNotAllowedError) and ex.headers:
        allow = dict(ex.headers).get("Allow", "")
        methods = [m for m in allow.split(", ") if m and m != "OPTIONS"]
        if methods:
            resp.set_header("Allow", ", ".join(methods))


async def handle_unexpected(
    req: falcon.asgi.Request,
    resp: falcon.asgi.Response,
    ex: Exception,
    params: dict[str, Any],
    **_: Any,
) -> None:
    log.exception("unhandled error on %s %s", req.method, req.path)
    _render(req, resp, errors.InternalError())


ErrorHandler = Callable[
    [falcon.asgi.Request, falcon.asgi.Response, Any, dict[str, Any]], Awaitable[None]
]

#: Every exception's handler, most specific first (``chinwag.http.server`` runs the first that
#: matches).
ERROR_HANDLERS: tuple[tuple[type[Exception], ErrorHandler], ...] = (
    (errors.ChinwagError, handle_chinwag_error),
    (falcon.HTTPError, handle_http_error),
    (Exception, handle_unexpected),
)
