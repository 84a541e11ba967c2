"""Media over plain HTTP (client-protocol 5.2): what ``@twilio/mcs-client`` calls, outside
the socket, at the ``links.media_service`` the Configuration names.

- ``POST /mcs/v1/Services/{IS}/Media?Category=media[&Filename=…]``: the body is the file, its
  ``Content-Type`` the media's; answers the media's JSON (201).
- ``GET  /mcs/v1/Services/{IS}/Media/{ME}``: the JSON again, with a fresh
  ``links.content_direct_temporary``.
- ``GET  /mcs/v1/Services/{IS}/Media/{ME}/Content``: the bytes, with the media's type.

Callers authenticate with their access token in ``X-Twilio-Token`` (the ``/mcs/`` prefix is
outside Basic auth). The temporary content URL instead carries an expiry and an HMAC signature
made with the account's auth token, so an ``<img src>`` works without headers; it lasts
:data:`TEMPORARY_URL_SECONDS`. Every answer, errors included, carries CORS headers so browser
apps on other origins can call it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import falcon
import falcon.asgi
import orjson

from chinwag import errors
from chinwag.domain import access_tokens, media
from chinwag.domain.deps import Caller
from chinwag.domain.events import Actor
from chinwag.domain.models import Media
from chinwag.http.context import Api
from chinwag.http.forms import read_body
from chinwag.http.observe import OPERATION
from chinwag.http.raw_path import segment
from chinwag.http.render import iso

PREFIX = "/mcs"
BASE = f"{PREFIX}/v1/Services/{{service}}/Media"
TOKEN_HEADER = "X-Twilio-Token"
#: how long a ``content_direct_temporary`` URL works (Twilio's lasted a few minutes)
TEMPORARY_URL_SECONDS = 300

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": f"{TOKEN_HEADER}, Content-Type",
    "Access-Control-Max-Age": "600",
}

#: the account's auth token, which signs temporary content URLs
SigningKey = Callable[[str], str]


def media_base(public_url: str, service_sid: str) -> str:
    """The ``links.media_service`` of a service's Configuration."""
    return f"{public_url}{PREFIX}/v1/Services/{service_sid}/Media"


def _signature(key: str, media_sid: str, expires: int) -> str:
    message = f"{media_sid}:{expires}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


class _MediaResource:
    def __init__(self, api: Api, signing_key: SigningKey) -> None:
        self.api = api
        self.signing_key = signing_key

    async def on_options(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, **_: str
    ) -> None:
        """A browser's CORS preflight: no token is sent with it."""
        resp.set_headers(CORS_HEADERS)
        resp.status = 204

    def _now(self) -> int:
        """Seconds on the app's clock (tests may move it)."""
        return self.api.deps.clock.now_ms() // 1000

    def _start(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, operation: str) -> None:
        req.scope[OPERATION] = operation
        resp.set_headers(CORS_HEADERS)

    async def _caller(self, req: falcon.asgi.Request, service_sid: str) -> tuple[Caller, str]:
        """The token's chat user, who must belong to the service in the path."""
        grant = await access_tokens.authenticate(self.api.deps, req.get_header(TOKEN_HEADER) or "")
        if grant.service_sid != service_sid:
            raise errors.UserNotAuthorizedError()
        return Caller(grant.account_sid, Actor("SDK", grant.identity)), grant.identity

    def _render(self, req: falcon.asgi.Request, m: Media) -> dict[str, Any]:
        base = media_base(self.api.base_url(req), m.service_sid)
        url = f"{base}/{m.sid}"
        expires = self._now() + TEMPORARY_URL_SECONDS
        signature = _signature(self.signing_key(m.account_sid), m.sid, expires)
        return {
            "sid": m.sid,
            "service_sid": m.service_sid,
            "channel_sid": m.channel_sid,
            "message_sid": m.message_sid,
            "date_created": iso(m.date_created),
            "date_upload_updated": iso(m.date_created),
            "date_updated": iso(m.date_updated),
            "size": m.size,
            "content_type": m.content_type,
            "author": m.author,
            "url": url,
            "links": {
                "content": f"{url}/Content",
                "content_direct_temporary": (
                    f"{url}/Content?Expires={expires}&Signature={signature}"
                ),
            },
            "filename": m.filename,
            "category": m.category,
            "is_multipart_upstream": False,
        }


def _json(resp: falcon.asgi.Response, status: int, body: dict[str, Any]) -> None:
    resp.status = status
    resp.content_type = falcon.MEDIA_JSON
    resp.data = orjson.dumps(body)


class MediaCollection(_MediaResource):
    async def on_post(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, service: str
    ) -> None:
        self._start(req, resp, "UploadMedia")
        service = segment(service)
        caller, identity = await self._caller(req, service)
        limit = self.api.settings.media_max_bytes
        content = await read_body(req, limit)
        upload = media.Upload(
            content_type=req.content_type or "application/octet-stream",
            filename=req.get_param("Filename"),
            category=req.get_param("Category") or "media",
            content=content,
        )
        created = await media.upload_media(self.api.deps, caller, service, identity, upload, limit)
        _json(resp, 201, self._render(req, created))


class MediaItem(_MediaResource):
    async def on_get(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, service: str, sid: str
    ) -> None:
        self._start(req, resp, "FetchMedia")
        service, sid = segment(service), segment(sid)
        caller, _ = await self._caller(req, service)
        found = await media.fetch_media(self.api.deps, caller, service, sid)
        _json(resp, 200, self._render(req, found))


class MediaContent(_MediaResource):
    async def on_get(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, service: str, sid: str
    ) -> None:
        self._start(req, resp, "FetchMediaContent")
        service, sid = segment(service), segment(sid)
        if req.get_header(TOKEN_HEADER) is None and req.get_param("Signature") is not None:
            caller = self._signed(req, sid)
        else:
            caller, _ = await self._caller(req, service)
        found, content = await media.fetch_media_content(self.api.deps, caller, service, sid)
        resp.content_type = found.content_type
        resp.data = content
        # The bytes are a user's: never let a browser run them as this origin's page.
        resp.set_header("X-Content-Type-Options", "nosniff")
        resp.set_header("Content-Security-Policy", "sandbox")
        if found.filename is not None:
            resp.set_header(
                "Content-Disposition", f"inline; filename*=UTF-8''{quote(found.filename)}"
            )

    on_head = on_get

    def _signed(self, req: falcon.asgi.Request, sid: str) -> Caller:
        """The served account acting for a temporary URL whose signature and expiry hold."""
        caller = self.api.caller
        try:
            expires = int(req.get_param("Expires") or "")
        except ValueError:
            raise errors.UserNotAuthorizedError() from None
        expected = _signature(self.signing_key(caller.account_sid), sid, expires)
        signature = req.get_param("Signature") or ""
        if expires < self._now() or not hmac.compare_digest(signature, expected):
            raise errors.UserNotAuthorizedError()
        return caller


def add_media_routes(app: falcon.asgi.App[Any, Any], api: Api, signing_key: SigningKey) -> None:
    app.add_route(BASE, MediaCollection(api, signing_key))
    app.add_route(f"{BASE}/{{sid}}", MediaItem(api, signing_key))
    app.add_route(f"{BASE}/{{sid}}/Content", MediaContent(api, signing_key))
