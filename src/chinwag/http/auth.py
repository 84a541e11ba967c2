"""HTTP Basic ``AccountSid:AuthToken`` or ``ApiKeySid:ApiKeySecret`` as pure ASGI middleware.

It answers 401 (code 20003) before the framework builds request objects, so unauthenticated
traffic costs almost nothing. The hot path compares the raw header with the one expected value;
only a mismatch pays for decoding, to accept equivalent spellings (``basic`` in lower case) and
API keys (as Twilio allows: the key's account is the account). A key is looked up in the
database on every request, never cached, so a key deleted by any process stops working at once.

The REST routes, served by ``chinwag.http.direct`` without the middleware nesting, are checked
with the same :meth:`BasicAuth.is_account` and :meth:`BasicAuth.allows`.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from chinwag import errors
from chinwag.http.errors import WWW_AUTHENTICATE, send_error

Scope = dict[str, Any]
ASGIApp = Any

#: Whether ``(key_sid, secret)`` are a live API key of the served account.
KeyCheck = Callable[[str, bytes], Awaitable[bool]]

#: Paths that answer without credentials.
OPEN_PATHS = frozenset({"/healthz", "/metrics"})
#: The admin console's page and assets: public files, its login form sends the credentials.
OPEN_PREFIX = "/_chinwag/ui"
#: Media (``http/media.py``) checks the chat user's access token itself.
TOKEN_PREFIX = "/mcs/"
API_KEY_PREFIX = b"SK"
#: The header a 401 carries, naming the scheme and realm Twilio's do.
CHALLENGE = (b"www-authenticate", WWW_AUTHENTICATE.encode())


def _open(path: str) -> bool:
    return (
        path in OPEN_PATHS
        or path == OPEN_PREFIX
        or path.startswith((OPEN_PREFIX + "/", TOKEN_PREFIX))
    )


class BasicAuth:
    def __init__(self, app: ASGIApp, check_key: KeyCheck | None = None) -> None:
        self.app = app
        self._check_key = check_key
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

    async def _allowed(self, header: bytes | None) -> bool:
        """The slow path, after the raw header did not match the account's exactly."""
        if header is None or not self._expected:
            return False
        scheme, _, encoded = header.partition(b" ")
        if scheme.lower() != b"basic":
            return False
        try:
            user, sep, password = base64.b64decode(encoded.strip(), validate=True).partition(b":")
        except (binascii.Error, ValueError):
            return False
        if not sep:
            return False
        expected_user, expected_password = self._credentials
        if hmac.compare_digest(user, expected_user):
            return hmac.compare_digest(password, expected_password)
        if self._check_key is None or not user.startswith(API_KEY_PREFIX) or not user.isascii():
            return False
        return await self._check_key(user.decode("ascii"), password)

    async def allows(self, header: bytes | None) -> bool:
        """Whether ``header`` (the raw ``Authorization`` value) admits the request.

        Raises :class:`~chinwag.errors.ChinwagError` when the key lookup cannot be made (the
        database is unavailable): that is a 503 for the caller, not a 401.
        """
        return self.is_account(header) or await self._allowed(header)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or _open(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        try:
            allowed = await self.allows(authorization(scope))
        except errors.ChinwagError as exc:  # the database is unavailable: 503, not a 401
            await send_error(send, exc)
            return
        if allowed:
            await self.app(scope, receive, send)
        else:
            await send_error(send, errors.AuthenticationError(), [CHALLENGE])


def authorization(scope: Scope) -> bytes | None:
    """The request's raw ``Authorization`` header, if it has one (the first, if several)."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            return value  # type: ignore[no-any-return]
    return None
