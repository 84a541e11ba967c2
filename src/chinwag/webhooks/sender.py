"""The one place that makes webhook HTTP calls.

A call becomes an ``Attempt`` whatever happens on the network, so callers (the pre-event gate
and the outbox dispatcher) decide on data, never on exceptions::

    resolve_target --+-- refused by the policy --> Attempt(None, "blocked: ...", blocked=True)
          |          +-- DNS failure ------------> Attempt(None, "connection error: ...")    *
          v
    HTTP request ----+-- timeout ----------------> Attempt(None, "timeout after 5.0 s")      *
          |          +-- connection error -------> Attempt(None, "connection error: ...")    *
          v
    response --------------------------------------> Attempt(status, error, body[:64 KiB])
                                                     (* = retryable, as are 429 and 5xx)

The request looks like Twilio's (reference section 6.4): form-encoded POST or a GET with the
parameters in the query string, signed with ``X-Twilio-Signature`` over the URL exactly as
requested. Redirects are not followed and environment proxies are ignored: both would send the
request somewhere the target policy did not check.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Mapping
from contextlib import aclosing
from dataclasses import dataclass
from types import TracebackType
from typing import cast
from urllib.parse import urlencode

import httpx

from chinwag.webhooks.signing import signature
from chinwag.webhooks.targets import BlockedTarget, ResolvedTarget, resolve_target

MAX_BODY_BYTES = 64 * 1024
USER_AGENT = "TwilioProxy/1.1"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8"


@dataclass(frozen=True)
class Attempt:
    """The outcome of one webhook call.

    Attributes:
        status: The HTTP status, or ``None`` when no response came (connection error, timeout,
            DNS failure, blocked target).
        error: A short text for the delivery log ("HTTP 500", "timeout after 5.0 s",
            "blocked: 10.0.0.1 is a private address"); ``None`` for a 2xx response.
        body: The response body, cut at 64 KiB: a pre-event reply may carry JSON overrides.
        blocked: The target policy refused the URL; no request was sent.
        timed_out: No answer came within the timeout (Twilio logs this as 50076).
    """

    status: int | None
    error: str | None
    body: bytes
    blocked: bool = False
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        """Whether a pre-event may proceed: Twilio accepts exactly 200 (reference 6.5)."""
        return self.status == 200

    @property
    def delivered(self) -> bool:
        """Whether a post-event reached its receiver: any 2xx counts."""
        return self.status is not None and 200 <= self.status < 300

    @property
    def retryable(self) -> bool:
        """Whether trying again later may succeed: no response, 429 or 5xx.

        A blocked target or another 4xx is a configuration problem that retries cannot fix.
        """
        if self.status is None:
            return not self.blocked
        return self.status == 429 or self.status >= 500


class Sender:
    """Sends webhook requests through one pooled HTTP client.

    The client is bound to the event loop that first uses it: create, use and ``aclose`` a
    Sender within one loop.
    """

    def __init__(self, *, timeout: float = 5.0, block_private: bool = False) -> None:
        """Set the policy and open the client.

        Args:
            timeout: Seconds for the whole call, DNS included; Twilio waits 5 (reference 6.4).
            block_private: Refuse targets that are not globally routable (see ``targets``).
        """
        self._timeout = timeout
        self._block_private = block_private
        self._client = httpx.AsyncClient(
            timeout=timeout,
            follow_redirects=False,
            trust_env=False,
            limits=httpx.Limits(max_connections=50, max_keepalive_connections=10),
        )

    async def send(
        self, url: str, method: str | None, params: Mapping[str, str], auth_token: str
    ) -> Attempt:
        """Call one webhook and report what happened; never raises for network problems.

        Args:
            url: The configured webhook URL.
            method: "GET" (any case) sends ``params`` in the query string; anything else,
                ``None`` included (a Service's unset ``webhook_method``), is a form POST.
            params: The event's parameters, all strings.
            auth_token: The account's Auth Token, to sign the request.
        """
        try:
            async with asyncio.timeout(self._timeout):
                return await self._send(url, method, params, auth_token)
        except (TimeoutError, httpx.TimeoutException):
            return Attempt(None, f"timeout after {self._timeout} s", b"", timed_out=True)
        except BlockedTarget as exc:
            return Attempt(None, f"blocked: {exc}", b"", blocked=True)
        except (httpx.HTTPError, OSError) as exc:
            return Attempt(None, f"connection error: {_describe(exc)}", b"")

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self._client.aclose()

    async def __aenter__(self) -> Sender:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _send(
        self, url: str, method: str | None, params: Mapping[str, str], auth_token: str
    ) -> Attempt:
        target = await resolve_target(url, block_private=self._block_private)
        request = self._build_request(target, method, params, auth_token)
        response = await self._client.send(request, stream=True)
        try:
            body = await _read_capped(response)
        finally:
            await response.aclose()
        status = response.status_code
        return Attempt(status, None if 200 <= status < 300 else f"HTTP {status}", body)

    def _build_request(
        self,
        target: ResolvedTarget,
        method: str | None,
        params: Mapping[str, str],
        auth_token: str,
    ) -> httpx.Request:
        """The signed request; it connects to the pinned address when there is one."""
        is_get = (method or "").upper() == "GET"
        requested = _requested_url(target.url, params if is_get else {})
        form = None if is_get else params
        headers = _headers(str(requested), form, auth_token)
        connect_to = requested
        extensions: dict[str, str] = {}
        if target.pinned_ip is not None:
            connect_to = _pinned_url(requested, target.pinned_ip)
            headers.update(_pinned_headers(requested))
            extensions["sni_hostname"] = requested.raw_host.decode("ascii")
        return self._client.build_request(
            "GET" if is_get else "POST",
            connect_to,
            headers=headers,
            content=None if form is None else urlencode(form).encode("ascii"),
            extensions=extensions,
        )


def _headers(url: str, form: Mapping[str, str] | None, auth_token: str) -> dict[str, str]:
    """Twilio's webhook headers; ``form`` is the POST body's parameters, ``None`` for GET."""
    headers = {
        "X-Twilio-Signature": signature(url, form, auth_token),
        "User-Agent": USER_AGENT,
        "Accept": "*/*",
    }
    if form is not None:
        headers["Content-Type"] = FORM_CONTENT_TYPE
    return headers


def _pinned_headers(requested: httpx.URL) -> dict[str, str]:
    """Headers that keep a request to a pinned IP addressed to the configured host."""
    headers = {"Host": requested.netloc.decode("ascii")}
    if requested.scheme == "https":
        # NOTE: the pool keys connections by the pinned IP; closing each one stops a
        # connection verified for one host name from carrying a request for another.
        headers["Connection"] = "close"
    return headers


def _requested_url(url: str, query_params: Mapping[str, str]) -> httpx.URL:
    """The URL as it goes on the wire: normalised by httpx, no fragment, ``query_params`` added.

    The parameters are appended after any query the configured URL already has, which is
    left as it was (signatures cover it byte for byte).
    """
    parsed = httpx.URL(url).copy_with(fragment=None)
    if not query_params:
        return parsed
    added = urlencode(query_params).encode("ascii")
    query = parsed.query + b"&" + added if parsed.query else added
    return parsed.copy_with(query=query)


def _pinned_url(url: httpx.URL, ip: str) -> httpx.URL:
    """``url`` with its host replaced by ``ip`` (bracketed if IPv6); port, path, query kept."""
    return url.copy_with(host=ip)


async def _read_capped(response: httpx.Response) -> bytes:
    """The first ``MAX_BODY_BYTES`` of the body; a huge reply must not exhaust memory."""
    body = bytearray()
    # NOTE: aiter_bytes is an async generator; closing it on break releases it promptly.
    chunks_iterator = cast("AsyncGenerator[bytes, None]", response.aiter_bytes())
    async with aclosing(chunks_iterator) as chunks:
        async for chunk in chunks:
            body += chunk
            if len(body) >= MAX_BODY_BYTES:
                break
    return bytes(body[:MAX_BODY_BYTES])


def _describe(exc: BaseException) -> str:
    """The root cause of a network error, named ("ConnectionRefusedError: [Errno 111] ...").

    httpx wraps anyio's "All connection attempts failed", which wraps the errors that say what
    actually happened.
    """
    while True:
        if isinstance(exc, BaseExceptionGroup) and exc.exceptions:
            exc = exc.exceptions[0]
            continue
        # NOTE: httpcore's pool re-raises "from None", so the chain continues in __context__.
        cause = exc.__cause__ or exc.__context__
        if cause is None:
            return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        exc = cause
