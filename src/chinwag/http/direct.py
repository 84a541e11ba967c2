"""The REST table's routes dispatched straight from ASGI, in front of Falcon's ``App``.

For each request, Falcon's ``App.__call__`` runs its middleware loops, its router, its
error-handler lookup and its response assembly for every feature Falcon has (streams, SSE,
media handlers, callbacks): about a third of the CPU time of a message fetch in-process.
Requests for the REST API's own routes need none of that, so :class:`DirectRoutes` routes
them itself and calls the same responders with Falcon's own ``Request`` and ``Response``
objects (so headers, ``Forwarded``, bodies and contexts read exactly as before), the same
error handlers (:data:`chinwag.http.errors.ERROR_HANDLERS`) and the same response rules. A
request it does not route (another path, another method, ``OPTIONS``, the console, the
control API, media) goes on unchanged through the middleware to Falcon, which answers it as
always (404, 405 with ``Allow``).

Responses are byte-for-byte Falcon's: the tests compare both paths for every route.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import falcon.asgi

from chinwag import errors
from chinwag.http.auth import CHALLENGE, BasicAuth, authorization
from chinwag.http.errors import ERROR_HANDLERS, send_error
from chinwag.http.observe import Observe, new_request_id, noting_disconnect, request_id_header
from chinwag.http.raw_path import encoded_path

Responder = Callable[..., Awaitable[None]]
Scope = dict[str, Any]

#: Falcon's statuses that carry no body, and those that carry no ``Content-Type`` either.
_BODILESS = frozenset((100, 101, 204, 304))
_TYPELESS = frozenset((204, 304))


class RouteTable:
    """Exact matching of encoded paths against ``/``-separated templates with ``{name}``
    segments, the shape of every REST route.

    Templates with the same number of segments must have their literal segments at the same
    positions (true of the REST API: ``/v1/Services/{service}/Channels/{channel}``…), so a
    path is matched with one dictionary lookup on its literal segments.
    """

    def __init__(self, templates: Mapping[str, Mapping[str, Responder]]) -> None:
        #: segment count -> positions of its literal segments
        self._literal: dict[int, tuple[int, ...]] = {}
        #: (segment count, literal segments) -> (method -> responder, parameter names by position)
        self._routes: dict[
            tuple[int, tuple[str, ...]], tuple[Mapping[str, Responder], tuple[tuple[int, str], ...]]
        ] = {}
        for template, methods in templates.items():
            parts = template.split("/")
            literal = tuple(i for i, part in enumerate(parts) if not part.startswith("{"))
            names = tuple((i, part[1:-1]) for i, part in enumerate(parts) if part.startswith("{"))
            if self._literal.setdefault(len(parts), literal) != literal:
                raise ValueError(f"{template}: literal segments where other routes have names")
            self._routes[(len(parts), tuple(parts[i] for i in literal))] = (methods, names)

    def match(self, method: str, path: str) -> tuple[Responder, dict[str, str]] | None:
        """The responder for ``method`` on ``path`` and its still-encoded path parameters."""
        parts = path.split("/")
        literal = self._literal.get(len(parts))
        if literal is None:
            return None
        route = self._routes.get((len(parts), tuple([parts[i] for i in literal])))
        if route is None:
            return None
        methods, names = route
        responder = methods.get(method)
        if responder is None:
            return None
        params = {name: parts[i] for i, name in names}
        if "" in params.values():  # Falcon matches no empty segment; it answers 404
            return None
        return responder, params


class DirectRoutes:
    """ASGI app for HTTP: :class:`RouteTable`'s routes served here, everything else by
    ``observe`` (request ids, logs and metrics around Basic auth around Falcon).

    A routed request gets what it would get through those layers, from the same objects: its
    request id, access-log line and metrics from ``observe``, its credentials checked by
    ``observe``'s :class:`~chinwag.http.auth.BasicAuth` (401 and 503 as there), its body
    read with disconnects noted on the scope. Only the nesting is gone: the two middleware
    layers' closures around ``send`` and ``receive`` cost a message fetch about 4 % under load
    (docs/performance.md, round 5).
    """

    def __init__(
        self,
        observe: Observe,
        auth: BasicAuth,
        falcon_app: falcon.asgi.App[Any, Any],
        templates: Mapping[str, Mapping[str, Responder]],
    ) -> None:
        self.observe = observe
        self.auth = auth
        self.table = RouteTable(templates)
        self._req_options = falcon_app.req_options
        self._resp_options = falcon_app.resp_options

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.observe(scope, receive, send)
            return
        path = encoded_path(scope)
        found = self.table.match(scope["method"], path)
        if found is None:
            await self.observe(scope, receive, send)
            return
        request_id = new_request_id()
        rid = request_id_header(request_id)
        start = time.perf_counter()
        status = 0
        try:
            header = authorization(scope)
            try:
                allowed = self.auth.is_account(header) or await self.auth.allows(header)
            except errors.ChinwagError as exc:  # the database is unavailable: 503, not a 401
                status = exc.status
                await send_error(send, exc, [rid])
                return
            if not allowed:
                status = 401
                await send_error(send, errors.AuthenticationError(), [CHALLENGE, rid])
                return
            first = noting_disconnect(scope, await receive())
            if first["type"] == "http.disconnect":
                return  # as Falcon: the client left before its request began, nobody to answer
            if first.get("more_body"):  # the body's later events are read through the stream
                receive = _noting(scope, receive)
            start_message, body = await self._respond(scope, receive, first, path, found)
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

    async def _respond(
        self,
        scope: Scope,
        receive: Any,
        first: dict[str, Any],
        path: str,
        found: tuple[Responder, dict[str, str]],
    ) -> tuple[dict[str, Any], bytes]:
        """The response to a routed request: its ``http.response.start`` message and body."""
        responder, params = found
        req = falcon.asgi.Request(scope, receive, first_event=first, options=self._req_options)
        req.path = path  # what RawPathRouting gives Falcon's responders
        resp = falcon.asgi.Response(options=self._resp_options)
        try:
            await responder(req, resp, **params)
        except Exception as exc:
            resp.text = resp.data = resp.media = None  # as Falcon, before any error handler
            for kind, handler in ERROR_HANDLERS:
                if isinstance(exc, kind):
                    await handler(req, resp, exc, params)
                    break
        return _response(req, resp, self._resp_options.default_media_type)


def _noting(scope: Scope, receive: Any) -> Any:
    async def receive_noting_disconnect() -> dict[str, Any]:
        return noting_disconnect(scope, await receive())

    return receive_noting_disconnect


def _response(
    req: falcon.asgi.Request, resp: falcon.asgi.Response, media_type: str | None
) -> tuple[dict[str, Any], bytes]:
    """Falcon's ``App.__call__`` response rules for a response whose body is ``resp.data``."""
    status = resp.status_code
    data = resp.data
    headers = resp.headers
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
