"""The HTTP door as one ASGI app: every HTTP route is a row of one :class:`RouteTable`.

The REST API's versions, the control API, the console, media, ``/healthz`` and ``/metrics`` are
tables of :class:`~chinwag.http.routes.Endpoint` rows, matched by the route-table type both
doors share (``chinwag.api.routing``); Falcon provides the request and response objects and
their parsing, not the routing. For each request :class:`HttpDoor`:

1. gives it a request id and a start time (:class:`~chinwag.http.observe.Observe`);
2. matches its encoded path: no route is a 404, a route without the method a 405 (``HEAD``
   is served by a ``GET`` route, without the body);
3. where the endpoint asks for credentials (and for unknown paths, so they are not probed
   without them): refuses a state-changing request a browser made for another site, then
   checks HTTP Basic credentials (an API key is refused where only the account's own will
   do), before any request object is built;
4. calls the responder with Falcon's ``Request`` and ``Response``; whatever it raises goes to
   the one error renderer (``chinwag.http.errors``);
5. sends the response in one head and one body, or piece by piece (a stream, or server-sent
   events);
6. counts and logs the request (``Observe.finish``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import falcon
import falcon.asgi

from chinwag import errors
from chinwag.api.routing import Found, RouteTable
from chinwag.http.auth import (
    API_PREFIXES,
    CHALLENGE,
    BasicAuth,
    authorization,
    cross_site,
    is_open,
)
from chinwag.http.errors import ERROR_HANDLERS, send_error
from chinwag.http.observe import Observe, new_request_id, noting_disconnect, request_id_header
from chinwag.http.raw_path import encoded_path
from chinwag.http.routes import Access, Endpoint, Responder

Scope = dict[str, Any]
Send = Callable[[dict[str, Any]], Awaitable[None]]

#: statuses that carry no body, and those that carry no ``Content-Type`` either (as Falcon)
_BODILESS = frozenset((100, 101, 204, 304))
_TYPELESS = frozenset((204, 304))


class HttpDoor:
    """ASGI app for HTTP scopes: the routes of ``table``, nothing else."""

    def __init__(
        self,
        table: RouteTable[Endpoint],
        observe: Observe,
        auth: BasicAuth,
        *,
        request_options: falcon.RequestOptions | None = None,
        response_options: falcon.ResponseOptions | None = None,
    ) -> None:
        self.table = table
        self.observe = observe
        self.auth = auth
        self._req_options = request_options or falcon.RequestOptions()
        self._resp_options = response_options or falcon.ResponseOptions()

    async def __call__(self, scope: Scope, receive: Any, send: Send) -> None:
        path = encoded_path(scope)
        responder, access, params = _route(self.table.find(path), scope["method"], path)
        request_id = new_request_id()
        rid = request_id_header(request_id)
        start = time.perf_counter()
        status = 0
        try:
            if access is not Access.OPEN:
                if cross_site(scope, self.auth.public_url):
                    status = 403
                    refused = errors.ForbiddenError(detail="cross-site request refused")
                    await send_error(send, refused, [rid])
                    return
                header = authorization(scope)
                try:  # the account's own header, byte for byte, needs no coroutine
                    found = (
                        "account"
                        if self.auth.is_account(header)
                        else await self.auth.credential(header)
                    )
                except errors.ChinwagError as exc:  # the database is unavailable: 503
                    status = exc.status
                    await send_error(send, exc, [rid])
                    return
                if found is None:
                    status = 401
                    challenge = [CHALLENGE] if path.startswith(API_PREFIXES) else []
                    await send_error(send, errors.AuthenticationError(), [*challenge, rid])
                    return
                if found == "key" and access is Access.ACCOUNT_ONLY:
                    status = 403
                    detail = "this endpoint takes the account's credentials, not an API key"
                    await send_error(send, errors.ForbiddenError(detail=detail), [rid])
                    return
            first = noting_disconnect(scope, await receive())
            if first["type"] == "http.disconnect":
                return  # the client left before its request began: nobody to answer
            if first.get("more_body"):  # the body's later events are read through the stream
                receive = _noting(scope, receive)
            req = falcon.asgi.Request(scope, receive, first_event=first, options=self._req_options)
            req.path = path
            resp = falcon.asgi.Response(options=self._resp_options)
            await _call(responder, req, resp, params)
            if resp.sse is not None:
                status = resp.status_code
                await self._events(req, resp, receive, send, rid)
                return
            if resp.stream is not None and req.method != "HEAD":
                status = resp.status_code
                await self._stream(resp, send, rid)
                return
            start_message, body = await self._response(req, resp)
            start_message["headers"].append(rid)
            status = start_message["status"]
            await send(start_message)
            await send({"type": "http.response.body", "body": body})
        except Exception:
            if status:
                raise  # the response has started: only closing the connection is left
            await self.observe.fail(scope, send, rid)
            status = 500
        finally:
            self.observe.finish(scope, status, start, request_id)

    async def _response(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response
    ) -> tuple[dict[str, Any], bytes]:
        """Falcon's response rules for a whole body: ``Content-Length``, HEAD, 204/304."""
        status = resp.status_code
        data = resp.data
        if data is None and (resp.text is not None or resp.media is not None):
            data = await resp.render_body()
        headers = resp.headers
        media_type: str | None = self._resp_options.default_media_type
        bodiless = status in _BODILESS
        if req.method == "HEAD" or bodiless:
            if status in _TYPELESS:
                media_type = None
            elif not bodiless and "content-length" not in headers:
                headers["content-length"] = str(len(data)) if data else "0"
            body = b""
        else:
            body = data or b""
            headers["content-length"] = str(len(body))
        if media_type is not None and "content-type" not in headers:
            headers["content-type"] = media_type
        start = {
            "type": "http.response.start",
            "status": status,
            "headers": [(k.encode("latin1"), v.encode("latin1")) for k, v in headers.items()],
        }
        return start, body

    async def _stream(
        self, resp: falcon.asgi.Response, send: Send, rid: tuple[bytes, bytes]
    ) -> None:
        """A body sent as its pieces come (media content, read a chunk at a time), so it is
        never held whole; its ``Content-Length`` is the responder's."""
        stream = resp.stream
        assert stream is not None  # the caller streams only a response that has a stream
        headers = [(k.encode("latin1"), v.encode("latin1")) for k, v in resp.headers.items()]
        await send(
            {"type": "http.response.start", "status": resp.status_code, "headers": [*headers, rid]}
        )
        async for piece in stream:
            await send({"type": "http.response.body", "body": piece, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    async def _events(
        self,
        req: falcon.asgi.Request,
        resp: falcon.asgi.Response,
        receive: Any,
        send: Send,
        rid: tuple[bytes, bytes],
    ) -> None:
        """Server-sent events (the console's live feed), until the stream or the client ends.

        The client's disconnect is watched in a task of its own, since ``receive`` blocks
        until the connection closes; ``send`` does nothing once the client has gone.
        """
        gone = asyncio.Event()

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            gone.set()

        watcher = asyncio.get_running_loop().create_task(watch())
        headers = resp.headers
        headers.setdefault("content-type", "text/event-stream")
        encoded = [(k.encode("latin1"), v.encode("latin1")) for k, v in headers.items()]
        await send(
            {"type": "http.response.start", "status": resp.status_code, "headers": [*encoded, rid]}
        )
        events = resp.sse
        assert events is not None  # the caller streams only a response that has events
        try:
            async for event in events:
                body = (event or falcon.asgi.SSEvent()).serialize()
                await send({"type": "http.response.body", "body": body, "more_body": True})
                if gone.is_set():
                    break
        finally:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
        await send({"type": "http.response.body", "body": b""})


def _route(
    found: Found[Endpoint] | None, method: str, path: str
) -> tuple[Responder, Access, dict[str, str]]:
    """The responder for ``method`` on a matched path, or one that raises its 404 or 405.

    A path no route serves needs the account's credentials all the same, so the API's paths
    cannot be probed without them, unless it lies where paths are open
    (:func:`~chinwag.http.auth.is_open`).
    """
    if found is None:
        return _not_found, Access.OPEN if is_open(path) else Access.ACCOUNT, {}
    route = found.routes.get(method)
    if route is None and method == "HEAD":  # HEAD is GET without the body (RFC 9110 9.3.2)
        route = found.routes.get("GET")
    if route is None:
        return _not_allowed(found.routes), Access.ACCOUNT, {}
    return route.handler.responder, route.handler.access, found.params


async def _not_found(req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
    raise errors.NotFoundError()


def _not_allowed(routes: Mapping[str, Any]) -> Responder:
    """A 405 naming the path's methods in the table's order (``HEAD`` after ``GET``)."""
    allowed = []
    for method in routes:
        if method != "HEAD":
            allowed.append(method)
        if method == "GET":
            allowed.append("HEAD")

    async def refuse(req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        raise falcon.HTTPMethodNotAllowed(allowed)

    return refuse


async def _call(
    responder: Responder,
    req: falcon.asgi.Request,
    resp: falcon.asgi.Response,
    params: dict[str, str],
) -> None:
    """Run ``responder``; what it raises is rendered by the first matching error handler."""
    try:
        await responder(req, resp, **params)
    except Exception as exc:
        resp.text = resp.data = resp.media = None  # as Falcon, before any error handler
        resp.sse = None
        for kind, handler in ERROR_HANDLERS:
            if isinstance(exc, kind):
                await handler(req, resp, exc, params)
                break


def _noting(scope: Scope, receive: Any) -> Any:
    async def receive_noting_disconnect() -> dict[str, Any]:
        return noting_disconnect(scope, await receive())

    return receive_noting_disconnect
