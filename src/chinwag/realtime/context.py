"""What a handler of a request inside the socket receives and returns: the client, the
request, the response (as ``http/context.py`` is what every REST handler gets).

Kept apart from the route table (``routes.py``) so handler modules import these types without
importing the table that imports them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import orjson

from chinwag import errors
from chinwag.domain.deps import Caller, Deps
from chinwag.realtime.sync.subscriptions import SyncConnection

Params = Mapping[str, "str | list[str]"]


@dataclass(frozen=True, slots=True)
class Client:
    """The connected client a handler acts for: its account, identity and service."""

    deps: Deps
    #: ``Caller(account_sid, Actor("SDK", identity))``
    caller: Caller
    service_sid: str
    identity: str
    #: scheme://host[:port] of this server over plain HTTP (media, which bypasses the socket)
    public_url: str
    #: the connection's Sync subscriptions (``realtime/sync``)
    sync: SyncConnection | None = None
    #: the gateway's router, for adapters that answer a request by making another one (the
    #: twilio-chat 3/4 commands become the 6.x requests: ``legacy_chat.py``)
    dispatch: Dispatch | None = None
    #: the token's ``ChatGrant.push_credential_sid``: kept with the devices it registers
    push_credential_sid: str | None = None


@dataclass(frozen=True, slots=True)
class Request:
    """One ``message`` frame's ``http_request`` and payload. ``params`` are as the SDK sent
    them: split on ``&`` and ``=`` but not percent-decoded (client-protocol 1.6)."""

    method: str
    host: str
    path: str
    params: Params = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    @classmethod
    def of(cls, http: object, body: bytes) -> Request | None:
        """The request a ``message`` frame's ``http_request`` describes, with the frame's
        payload as its body; ``None`` if it is not well formed."""
        if not isinstance(http, dict):
            return None
        method, path, host = http.get("method"), http.get("path"), http.get("host", "")
        params, headers = http.get("params") or {}, http.get("headers") or {}
        if not (isinstance(method, str) and isinstance(path, str) and isinstance(host, str)):
            return None
        if not (isinstance(params, dict) and isinstance(headers, dict)):
            return None
        return cls(method.upper(), host, path, params, headers, body)

    def json(self) -> Any:
        """The body as JSON, leniently: an empty body or ``null`` (a Chat DELETE) is ``{}``."""
        if not self.body.strip():
            return {}
        try:
            value = orjson.loads(self.body)
        except orjson.JSONDecodeError:
            raise errors.MalformedRequestError(detail="Request body is not valid JSON") from None
        return {} if value is None else value


#: ``Router.dispatch``: the route's name (for metrics) and its response
Dispatch = Callable[["Client", "Request"], Awaitable[tuple[str, "Response"]]]


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes

    @property
    def reason(self) -> str:
        try:
            return HTTPStatus(self.status).phrase
        except ValueError:
            return ""


def json_response(body: Any, status: int = 200) -> Response:
    return Response(status, orjson.dumps(body))


def error_response(error: errors.ChinwagError) -> Response:
    """The Twilio error body REST would send, with its status (``ChinwagError.to_dict``)."""
    return json_response(error.to_dict(), error.status)
