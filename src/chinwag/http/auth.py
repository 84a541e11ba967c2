"""HTTP Basic ``AccountSid:AuthToken`` or ``ApiKeySid:ApiKeySecret``, checked by the HTTP door
(``chinwag.http.server``) for the routes that need the account's credentials.

A refusal is a 401 (code 20003) answered before any request object is built, so
unauthenticated traffic costs almost nothing. The hot path compares the raw header with the one
expected value; only a mismatch pays for decoding, to accept equivalent spellings (``basic`` in
lower case) and API keys (as Twilio allows: the key's account is the account). A key is looked
up in the database on every request, never cached, so a key deleted by any process stops
working at once.

Browsers remember Basic credentials once they have prompted for them, and send them along with
requests other sites make them send (a form posted from another origin). So:

- the 401's ``WWW-Authenticate`` challenge (which makes a browser prompt) goes only with the
  REST API's paths (:data:`API_PREFIXES`), where HTTP clients that wait for a challenge need
  it; never with ``/_chinwag/`` or paths a browser fetches by itself (``/favicon.ico``);
- a request that changes state (any method but GET, HEAD and OPTIONS) that a browser marks
  as coming from another site (``Sec-Fetch-Site``, else an ``Origin`` that is not this
  server's) is refused with 403 before its credentials are looked at (:func:`cross_site`);
- routes of ``Access.ACCOUNT_ONLY`` (the control API, which can wipe the account) take the
  account's own credentials, not an API key: back ends hold keys to mint tokens, not to reset
  servers.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Awaitable, Callable
from typing import Any, Literal
from urllib.parse import urlsplit

from chinwag.http.errors import WWW_AUTHENTICATE

Scope = dict[str, Any]

#: Whether ``(key_sid, secret)`` are a live API key of the served account.
KeyCheck = Callable[[str, bytes], Awaitable[bool]]

#: Paths that answer without credentials, whether or not they are served: an unknown path
#: among them is a plain 404 (any other unknown path needs the account's credentials first, so
#: the API's paths cannot be probed without them).
OPEN_PATHS = frozenset({"/", "/healthz", "/metrics"})
#: chinwag's own endpoints (console, control API): an unknown one is a plain 404, so a control
#: API that is off answers 404 whatever the credentials.
OPEN_PREFIX = "/_chinwag"
#: Media (``http/media.py``) checks the chat user's access token itself.
TOKEN_PREFIX = "/mcs/"
API_KEY_PREFIX = b"SK"
#: The header a 401 carries, naming the scheme and realm Twilio's do.
CHALLENGE = (b"www-authenticate", WWW_AUTHENTICATE.encode())
#: The REST API's paths: the only ones a 401 challenges on.
API_PREFIXES = ("/v1/", "/v2/", "/v3/")
#: Methods that never change state (a browser may send them cross-site freely).
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: ``Sec-Fetch-Site`` values of a request this server's own pages (or the user) made.
_OWN_SITE = frozenset({b"same-origin", b"none"})

Credential = Literal["account", "key"]


def is_open(path: str) -> bool:
    """Whether ``path`` is one that answers without credentials (see :data:`OPEN_PATHS`)."""
    return (
        path in OPEN_PATHS
        or path == OPEN_PREFIX
        or path.startswith((OPEN_PREFIX + "/", TOKEN_PREFIX))
    )


def cross_site(scope: Scope, public_url: str | None = None) -> bool:
    """Whether a browser made this state-changing request for another site.

    ``Sec-Fetch-Site`` (every current browser sends it) decides; without it, an ``Origin``
    (sent with every cross-origin POST) must name this server: its ``Host``, the
    ``X-Forwarded-Host`` a proxy set, or ``public_url``. HTTP clients that are not browsers
    send neither header.
    """
    if scope.get("method") in SAFE_METHODS:
        return False
    fetch_site = origin = None
    hosts: set[bytes] = set()
    for name, value in scope["headers"]:
        if name == b"sec-fetch-site":
            fetch_site = value
        elif name == b"origin":
            origin = value
        elif name in (b"host", b"x-forwarded-host"):
            hosts.add(value)
    if fetch_site is not None:
        return fetch_site not in _OWN_SITE
    if origin is None:
        return False
    if public_url:
        hosts.add(urlsplit(public_url).netloc.encode())
    netloc = urlsplit(origin.decode("latin-1")).netloc.encode("latin-1")  # "null": b""
    return netloc not in hosts


class BasicAuth:
    def __init__(self, check_key: KeyCheck | None = None, *, public_url: str | None = None) -> None:
        self._check_key = check_key
        self.public_url = public_url
        self._expected = b""
        self._credentials = (b"", b"")

    def set_account(self, account_sid: str, auth_token: str) -> None:
        user, password = account_sid.encode(), auth_token.encode()
        self._credentials = (user, password)
        self._expected = b"Basic " + base64.b64encode(user + b":" + password)

    def is_account(self, header: bytes | None) -> bool:
        """The hot path: a byte compare of the raw header with the account's credentials."""
        return (
            bool(self._expected)
            and header is not None
            and hmac.compare_digest(header, self._expected)
        )

    async def _decoded(self, header: bytes | None) -> Credential | None:
        """The slow path, after the raw header did not match the account's exactly."""
        if header is None or not self._expected:
            return None
        scheme, _, encoded = header.partition(b" ")
        if scheme.lower() != b"basic":
            return None
        try:
            user, sep, password = base64.b64decode(encoded.strip(), validate=True).partition(b":")
        except (binascii.Error, ValueError):
            return None
        if not sep:
            return None
        expected_user, expected_password = self._credentials
        if hmac.compare_digest(user, expected_user):
            return "account" if hmac.compare_digest(password, expected_password) else None
        if self._check_key is None or not user.startswith(API_KEY_PREFIX) or not user.isascii():
            return None
        return "key" if await self._check_key(user.decode("ascii"), password) else None

    async def credential(self, header: bytes | None) -> Credential | None:
        """Which credentials ``header`` (the raw ``Authorization`` value) holds, if any.

        Raises :class:`~chinwag.errors.ChinwagError` when the key lookup cannot be made (the
        database is unavailable): that is a 503 for the caller, not a 401.
        """
        return "account" if self.is_account(header) else await self._decoded(header)

    async def allows(self, header: bytes | None) -> bool:
        """Whether ``header`` admits a REST request (the account's credentials or a key's)."""
        return await self.credential(header) is not None


def authorization(scope: Scope) -> bytes | None:
    """The request's raw ``Authorization`` header, if it has one (the first, if several)."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            return value  # type: ignore[no-any-return]
    return None
