"""Media over plain HTTP (client-protocol 5.2): what ``@twilio/mcs-client`` calls, outside
the socket, at the ``links.media_service`` the Configuration names.

- ``POST /mcs/v1/Services/{IS}/Media?Category=media[&Filename=…]``: the body is the file, its
  ``Content-Type`` the media's, or a browser's ``FormData`` whose file part carries the file,
  its type and its name (:mod:`chinwag.http.uploads`); answers the media's JSON (201).
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
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import quote

import falcon
import falcon.asgi
import orjson

from chinwag import errors
from chinwag.api.dates import iso
from chinwag.api.routing import Route
from chinwag.api.urls import PREFIX, media_base
from chinwag.domain import access_tokens, media
from chinwag.domain.deps import Caller
from chinwag.http.context import Api
from chinwag.http.observe import OPERATION
from chinwag.http.raw_path import segment
from chinwag.http.routes import Access, Endpoint, resource_routes
from chinwag.http.uploads import least_file_size, read_upload
from chinwag.model.events import Actor
from chinwag.model.records import Media

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


def limits(api: Api) -> media.MediaLimits:
    settings = api.settings
    return media.MediaLimits(
        max_bytes=settings.media_max_bytes,
        quota_bytes=settings.media_quota_bytes,
        uploads_per_minute=settings.media_upload_rate,
    )


async def _stream(chunks: list[bytes]) -> AsyncIterator[bytes]:
    while chunks:
        yield chunks.pop(0)  # each chunk goes as soon as it is sent


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
        bounds, deps = limits(self.api), self.api.deps
        declared = least_file_size(req)
        await media.check_may_upload(deps, caller, service, identity, declared, bounds)
        received = await read_upload(req, bounds.max_bytes)
        upload = media.Upload(
            content_type=received.content_type or "application/octet-stream",
            filename=req.get_param("Filename") or received.filename,
            category=req.get_param("Category") or "media",
            chunks=received.chunks,
        )
        created = await media.upload_media(deps, caller, service, identity, upload, bounds)
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
        caller = await self._reader(req, service, sid)
        found, chunks = await media.fetch_media_content(self.api.deps, caller, service, sid)
        self._headers(resp, found)
        resp.stream = _stream(chunks)

    async def on_head(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, service: str, sid: str
    ) -> None:
        self._start(req, resp, "FetchMediaContent")
        service, sid = segment(service), segment(sid)
        caller = await self._reader(req, service, sid)
        self._headers(resp, await media.fetch_media(self.api.deps, caller, service, sid))

    async def _reader(self, req: falcon.asgi.Request, service: str, sid: str) -> Caller:
        if req.get_header(TOKEN_HEADER) is None and req.get_param("Signature") is not None:
            return self._signed(req, sid)
        caller, _ = await self._caller(req, service)
        return caller

    @staticmethod
    def _headers(resp: falcon.asgi.Response, found: Media) -> None:
        resp.content_type = found.content_type
        resp.content_length = found.size
        # The bytes are a user's: never let a browser run them as this origin's page.
        resp.set_header("X-Content-Type-Options", "nosniff")
        resp.set_header("Content-Security-Policy", "sandbox")
        if found.filename is not None:
            resp.set_header(
                "Content-Disposition", f"inline; filename*=UTF-8''{quote(found.filename)}"
            )

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


def media_routes(api: Api, signing_key: SigningKey) -> list[Route[Endpoint]]:
    """The media routes: outside Basic auth (each checks the chat user's token itself)."""
    return [
        *resource_routes(BASE, MediaCollection(api, signing_key), Access.OPEN),
        *resource_routes(f"{BASE}/{{sid}}", MediaItem(api, signing_key), Access.OPEN),
        *resource_routes(f"{BASE}/{{sid}}/Content", MediaContent(api, signing_key), Access.OPEN),
    ]
