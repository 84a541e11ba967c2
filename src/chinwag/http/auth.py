"""HTTP Basic ``AccountSid:AuthToken`` as pure ASGI middleware.

It answers 401 (code 20003) before the framework builds request objects, so unauthenticated
traffic costs almost nothing. The hot path compares the raw header with the one expected value;
only a mismatch pays for decoding, to accept equivalent spellings (``basic`` in lower case).
"""

from __future__ import annotations

import base64
import binascii
import hmac
from typing import Any

from chinwag import errors
from chinwag.http.errors import WWW_AUTHENTICATE, send_error

Scope = dict[str, Any]
ASGIApp = Any

#: Paths that answer without credentials.
OPEN_PATHS = frozenset({"/healthz", "/metrics"})


class BasicAuth:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._expected = b""
        self._credentials = (b"", b"")

    def set_account(self, account_sid: str, auth_token: str) -> None:
        user, password = account_sid.encode(), auth_token.encode()
        self._credentials = (user, password)
        self._expected = b"Basic " + base64.b64encode(user + b":" + password)

    def _allowed(self, header: bytes | None) -> bool:
        if header is None or not self._expected:
            return False
        if hmac.compare_digest(header, self._expected):
            return True
        scheme, _, encoded = header.partition(b" ")
        if scheme.lower() != b"basic":
            return False
        try:
            user, sep, password = base64.b64decode(encoded.strip(), validate=True).partition(b":")
        except (binascii.Error, ValueError):
            return False
        expected_user, expected_password = self._credentials
        return (
            bool(sep)
            and hmac.compare_digest(user, expected_user)
            and hmac.compare_digest(password, expected_password)
        )

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        header = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                header = value
                break
        if self._allowed(header):
            await self.app(scope, receive, send)
            return
        challenge = (b"www-authenticate", WWW_AUTHENTICATE.encode())
        await send_error(send, errors.AuthenticationError(), [challenge])
