"""A fake Firebase Cloud Messaging on loopback: the HTTP v1 send endpoint and the OAuth2 token
endpoint, over HTTPS (HTTP/2 or HTTP/1.1), recording every message.

Point chinwag at it with ``--push-fcm-url fake.url --push-ca-file <fake.ca written>`` and
store ``fake.service_account().json`` as an ``fcm`` Credential's ``Secret``: its
``token_uri`` is this server. The token endpoint checks the JWT bearer assertion as Google
does (RS256 signature by the account's key, ``aud`` the token URI, the FCM scope, at most an
hour's lifetime); ``messages:send`` checks the access token, the project and that every data
value is a string, then answers 200 or what the test scripted::

    fake.reply(503, token="tok-1", retry_after="2")   # the next send to tok-1 gets 503
    fake.unregister("tok-2")                           # every send to tok-2: 404 UNREGISTERED
    fake.wait_for(1, token="tok-3")[0].data["twi_body"]
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import jwt
import orjson

from chinwag.testing.certificates import CertificateAuthority, ServiceAccountKey, service_account
from chinwag.testing.scripted import FakeServer, Recorder, Script
from chinwag.testing.tls_server import Request, Response, TlsServer

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
_FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


@dataclass(frozen=True)
class FcmMessage:
    """One ``messages:send`` request.

    Attributes:
        project_id: The project in the URL.
        token: The message's registration token.
        data: The message's ``data`` (all strings if it was accepted).
        message: The whole ``message`` object.
        status: What the fake answered.
        http_version: "2" or "1.1".
        arrived: ``time.monotonic()`` when it was read.
    """

    project_id: str
    token: str
    data: dict[str, Any]
    message: dict[str, Any]
    status: int
    http_version: str
    arrived: float


@dataclass(frozen=True)
class TokenRequest:
    """One request to the token endpoint: whose assertion, and whether a token was granted."""

    client_email: str | None
    granted: bool
    error: str | None


@dataclass(frozen=True)
class FcmReply:
    status: int
    error_code: str | None = None
    retry_after: str | None = None
    delay: float = 0.0


@dataclass(frozen=True)
class _Issued:
    client_email: str
    project_id: str
    expires_at: float


class FakeFcm(FakeServer):
    """The fake FCM server; a context manager (``start``/``stop`` keep the port)."""

    def __init__(
        self,
        ca: CertificateAuthority | None = None,
        *,
        now: Callable[[], float] = time.time,
        token_lifetime: int = 3600,
    ) -> None:
        self.ca = ca or CertificateAuthority()
        self._now = now
        self._token_lifetime = token_lifetime
        self._accounts: dict[str, ServiceAccountKey] = {}
        self._issued: dict[str, _Issued] = {}
        self._lock = threading.Lock()
        self._messages: Recorder[FcmMessage] = Recorder()
        self._token_requests: Recorder[TokenRequest] = Recorder()
        self._replies: Script[FcmReply] = Script()
        self._token_replies: Script[FcmReply] = Script()
        self._server = TlsServer(self._handle, self.ca.server())

    @property
    def token_uri(self) -> str:
        return f"{self._server.url}/token"

    def service_account(self, project_id: str = "chinwag-test") -> ServiceAccountKey:
        """A new service account this fake grants tokens to; ``.json`` is the Secret."""
        key = service_account(self.token_uri, project_id)
        self.add_service_account(key)
        return key

    def add_service_account(self, key: ServiceAccountKey) -> None:
        with self._lock:
            self._accounts[key.client_email] = key

    @property
    def messages(self) -> list[FcmMessage]:
        """Every send request so far, answered or not, in arrival order."""
        return self._messages.items

    @property
    def token_requests(self) -> list[TokenRequest]:
        return self._token_requests.items

    def delivered(self, token: str | None = None) -> list[FcmMessage]:
        """The messages answered 200 (to ``token``, if given)."""
        return [m for m in self.messages if m.status == 200 and (token is None or m.token == token)]

    def wait_for(
        self, count: int, token: str | None = None, timeout: float = 10.0
    ) -> list[FcmMessage]:
        """Wait for ``count`` delivered messages (to ``token``, if given) and return them."""
        return self._messages.wait_for(
            count,
            timeout,
            lambda m: m.status == 200 and (token is None or m.token == token),
            "FCM messages",
        )

    def reply(
        self,
        status: int,
        error_code: str | None = None,
        *,
        token: str | None = None,
        times: int | None = 1,
        retry_after: str | None = None,
        delay: float = 0.0,
    ) -> None:
        """Answer the next ``times`` sends (to ``token``; ``None``: to any) with ``status``,
        an FcmError ``error_code`` (``UNREGISTERED``, ``QUOTA_EXCEEDED``...) if given."""
        self._replies.add(FcmReply(status, error_code, retry_after, delay), token, times)

    def unregister(self, token: str) -> None:
        """From now on, sends to ``token`` get 404 UNREGISTERED."""
        self.reply(404, "UNREGISTERED", token=token, times=None)

    def reply_token(
        self, status: int, error: str = "invalid_grant", *, times: int | None = 1
    ) -> None:
        """Answer the next ``times`` token requests with ``status`` and OAuth2 ``error``."""
        self._token_replies.add(FcmReply(status, error), None, times)

    def revoke_access_tokens(self) -> None:
        """Every access token granted so far stops working (sends get 401)."""
        with self._lock:
            self._issued.clear()

    def reset(self) -> None:
        """Forget records and scripted replies (accounts and tokens stay)."""
        self._messages.clear()
        self._token_requests.clear()
        self._replies.clear()
        self._token_replies.clear()

    def _handle(self, request: Request) -> Response:
        path = request.path.split("?", 1)[0]
        if request.method != "POST":
            return _error(405, "method not allowed")
        if path == "/token":
            return self._token(request)
        parts = path.split("/")
        if len(parts) == 5 and parts[:3] == ["", "v1", "projects"] and parts[4] == "messages:send":
            return self._send(parts[3], request)
        return _error(404, "not found")

    def _token(self, request: Request) -> Response:
        form = dict(parse_qsl(request.body.decode("utf-8", "replace")))
        email, error = self._check_assertion(form)
        scripted = self._token_replies.next("")
        if error is None and scripted is not None:
            error = scripted.error_code or "scripted"
        self._token_requests.add(TokenRequest(email, error is None, error))
        if scripted is not None:
            return _json(
                scripted.status, {"error": scripted.error_code, "error_description": "scripted"}
            )
        if error is not None or email is None:
            return _json(400, {"error": "invalid_grant", "error_description": error})
        access = "ya29.fake-" + secrets.token_urlsafe(24)
        with self._lock:
            account = self._accounts[email]
            self._issued[access] = _Issued(
                email, account.project_id, self._now() + self._token_lifetime
            )
        return _json(
            200,
            {"access_token": access, "expires_in": self._token_lifetime, "token_type": "Bearer"},
        )

    def _check_assertion(self, form: dict[str, str]) -> tuple[str | None, str | None]:
        """(the assertion's client email, why it is refused or None)."""
        if form.get("grant_type") != JWT_BEARER:
            return None, "unsupported grant_type"
        assertion = form.get("assertion", "")
        try:
            header = jwt.get_unverified_header(assertion)
            claims = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            return None, f"malformed assertion: {exc}"
        email = claims.get("iss")
        with self._lock:
            account = self._accounts.get(email) if isinstance(email, str) else None
        if account is None:
            return None, f"unknown service account {email!r}"
        if header.get("kid") not in (None, account.private_key_id):
            return email, "kid is not the account's private_key_id"
        try:
            jwt.decode(
                assertion,
                account.public_key,
                algorithms=["RS256"],
                audience=self.token_uri,
                options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
            )
        except jwt.PyJWTError as exc:
            return email, f"invalid assertion: {exc}"
        now = self._now()
        iat, exp = claims.get("iat"), claims.get("exp")
        if not isinstance(iat, int) or not isinstance(exp, int):
            return email, "iat and exp are required"
        if iat > now + 60 or exp <= now or exp - iat > 3600:
            return email, "assertion is not valid now (iat/exp)"
        if SCOPE not in str(claims.get("scope", "")).split():
            return email, "scope lacks firebase.messaging"
        return email, None

    def _send(self, project_id: str, request: Request) -> Response:
        try:
            body = orjson.loads(request.body)
        except orjson.JSONDecodeError:
            body = None
        message = body.get("message") if isinstance(body, dict) else None
        message = message if isinstance(message, dict) else {}
        raw_token, raw_data = message.get("token"), message.get("data")
        token = raw_token if isinstance(raw_token, str) else ""
        data: dict[str, Any] = raw_data if isinstance(raw_data, dict) else {}
        response = self._check_send(project_id, request, message, token, data)

        self._messages.add(
            FcmMessage(
                project_id,
                token,
                data,
                message,
                response.status,
                request.http_version,
                time.monotonic(),
            )
        )
        return response

    def _check_send(
        self,
        project_id: str,
        request: Request,
        message: dict[str, Any],
        token: str,
        data: dict[str, Any],
    ) -> Response:
        authorization = request.headers.get("authorization", "")
        with self._lock:
            issued = self._issued.get(authorization.removeprefix("Bearer "))
        if (
            not authorization.startswith("Bearer ")
            or issued is None
            or issued.expires_at <= self._now()
        ):
            return _fcm_error(401, None, "Request had invalid authentication credentials.")
        if issued.project_id != project_id:
            return _fcm_error(403, None, "Permission denied on the project.")
        if not token:
            return _fcm_error(400, "INVALID_ARGUMENT", "message.token is required")
        if any(not isinstance(v, str) for v in data.values()):
            return _fcm_error(400, "INVALID_ARGUMENT", "data values must be strings")
        if len(orjson.dumps(data)) > 4096:
            return _fcm_error(400, "INVALID_ARGUMENT", "Message is too big")
        scripted = self._replies.next(token)
        if scripted is not None and scripted.status != 200:
            headers = [("retry-after", scripted.retry_after)] if scripted.retry_after else []
            response = _fcm_error(scripted.status, scripted.error_code, "scripted")
            return Response(response.status, headers, response.body, scripted.delay)
        name = f"projects/{project_id}/messages/0:{secrets.token_hex(8)}"
        return Response(
            200,
            [("content-type", "application/json")],
            orjson.dumps({"name": name}),
            scripted.delay if scripted else 0.0,
        )


def _fcm_error(status: int, error_code: str | None, text: str) -> Response:
    error: dict[str, Any] = {
        "code": status,
        "message": text,
        "status": _STATUS_NAMES.get(status, "UNKNOWN"),
    }
    if error_code is not None:
        error["details"] = [{"@type": _FCM_ERROR, "errorCode": error_code}]
    return _json(status, {"error": error})


def _error(status: int, text: str) -> Response:
    return _fcm_error(status, None, text)


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(status, [("content-type", "application/json")], orjson.dumps(body))
