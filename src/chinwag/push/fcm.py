"""FCM's HTTP v1 API: an OAuth2 access token per service account, then ``messages:send``.

The token comes from the service account's ``token_uri`` by the JWT bearer grant (RFC 7523):
an RS256 assertion signed with the account's key, ``iss`` its email, ``aud`` the token URI,
scope ``firebase.messaging``. It is cached until a minute before it expires, and concurrent
sends of one account wait for one fetch rather than each making their own::

    send --cached token--> POST {base}/v1/projects/{project}/messages:send --> classify
      |                                  |
      +--none or stale--> token fetch    +--401--> forget the token, fetch one, send once more

NOTE: google-auth would make the assertion, but its asyncio transport is aiohttp's and its
sync refresh would block the event loop; the grant is one signed JWT and one form POST, made
here with PyJWT and the httpx client every other push request uses.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import orjson

from chinwag.push import outcomes
from chinwag.push.credentials import ServiceAccount
from chinwag.push.outcomes import Outcome, Result
from chinwag.push.payloads import Notice, fcm_message

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
#: lifetime asked for in the assertion; Google's maximum
ASSERTION_LIFETIME = 3600
#: a cached token is renewed this long before it expires, so none expires on the way
EXPIRY_MARGIN = 60.0
#: tokens of at most this many service accounts are kept
MAX_CACHED_TOKENS = 256
#: seconds a token endpoint's refusal is remembered, so a bad credential with 1,000 devices
#: costs one refusal, not 1,000
REFUSAL_MEMORY = 60.0
_FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
_BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"


@dataclass(frozen=True, slots=True)
class _Token:
    """An access token, or (``refusal`` set) the token endpoint's refusal, until ``renew_at``."""

    value: str
    renew_at: float
    refusal: Result | None = None


class FcmClient:
    """Sends FCM messages through ``http``; owns the access-token cache, not the client."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        *,
        timeout: float,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._http = http
        self._base = base_url.rstrip("/")
        self._timeout = timeout
        self._now = now
        self._tokens: OrderedDict[tuple[str, str, str], _Token] = OrderedDict()
        self._locks: dict[tuple[str, str, str], asyncio.Lock] = {}

    async def send(self, account: ServiceAccount, token: str, notice: Notice) -> Result:
        """Push ``notice`` to the FCM registration ``token``; never raises for the network."""
        try:
            async with asyncio.timeout(self._timeout * 2):
                return await self._send(account, token, notice)
        except (TimeoutError, httpx.HTTPError, OSError) as exc:
            return outcomes.network_failure(exc, "FCM", self._timeout)

    async def _send(self, account: ServiceAccount, token: str, notice: Notice) -> Result:
        url = f"{self._base}/v1/projects/{account.project_id}/messages:send"
        body = orjson.dumps(fcm_message(token, notice))
        for fresh in (False, True):
            access = await self._access_token(account, fresh=fresh)
            if isinstance(access, Result):
                return access
            response = await self._http.post(
                url,
                content=body,
                headers={
                    "Authorization": f"Bearer {access}",
                    "Content-Type": "application/json; charset=UTF-8",
                },
            )
            if response.status_code != 401:
                break
        return classify(response, self._now())

    async def _access_token(self, account: ServiceAccount, *, fresh: bool) -> str | Result:
        """A valid access token for ``account``, or the Result of failing to get one."""
        key = (account.token_uri, account.client_email, account.private_key_id or "")
        cached = self._tokens.get(key)
        if not fresh and cached is not None and cached.renew_at > self._now():
            return cached.refusal or cached.value
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            current = self._tokens.get(key)
            if current is not None and current is not cached and current.renew_at > self._now():
                return current.refusal or current.value  # fetched while this one waited
            fetched = await self._fetch_token(account)
            if isinstance(fetched, Result):
                if fetched.outcome is not Outcome.CREDENTIAL:
                    self._tokens.pop(key, None)
                    return fetched
                fetched = _Token("", self._now() + REFUSAL_MEMORY, fetched)
            self._tokens[key] = fetched
            self._tokens.move_to_end(key)
            while len(self._tokens) > MAX_CACHED_TOKENS:
                evicted, _ = self._tokens.popitem(last=False)
                self._locks.pop(evicted, None)
            return fetched.refusal or fetched.value

    async def _fetch_token(self, account: ServiceAccount) -> _Token | Result:
        now = self._now()
        headers = {"kid": account.private_key_id} if account.private_key_id else None
        assertion = jwt.encode(
            {
                "iss": account.client_email,
                "scope": SCOPE,
                "aud": account.token_uri,
                "iat": int(now),
                "exp": int(now) + ASSERTION_LIFETIME,
            },
            account.private_key,
            algorithm="RS256",
            headers=headers,
        )
        response = await self._http.post(
            account.token_uri, data={"grant_type": JWT_BEARER, "assertion": assertion}
        )
        status = response.status_code
        reply = _json(response)
        if status == 200:
            value, expires_in = reply.get("access_token"), reply.get("expires_in", 3600)
            if isinstance(value, str) and value and isinstance(expires_in, int | float):
                return _Token(value, now + max(float(expires_in) - EXPIRY_MARGIN, 0.0))
            return Result(Outcome.RETRY, "FCM token endpoint: 200 without an access_token", 200)
        error = " ".join(
            str(reply[k]) for k in ("error", "error_description") if isinstance(reply.get(k), str)
        )
        reason = f"FCM token endpoint: HTTP {status}" + (f" {error}" if error else "")
        if status == 429 or status >= 500:
            return Result(Outcome.RETRY, reason, status, outcomes.retry_after(response, now))
        return outcomes.credential_failure(reason, status)


def classify(response: httpx.Response, now_s: float) -> Result:
    """What an answer of ``messages:send`` means (see ``outcomes``)."""
    status = response.status_code
    if status == 200:
        return outcomes.delivered("FCM 200")
    error = _json(response).get("error")
    error = error if isinstance(error, dict) else {}
    code = _error_code(error)
    reason = f"FCM {status} {code}".rstrip()
    if status == 404 or code == "UNREGISTERED" or _bad_token_field(error):
        return Result(Outcome.GONE, reason, status)
    if status in (401, 403) or code in ("THIRD_PARTY_AUTH_ERROR", "SENDER_ID_MISMATCH"):
        return outcomes.credential_failure(reason, status)
    if status == 429 or status >= 500:
        return Result(Outcome.RETRY, reason, status, outcomes.retry_after(response, now_s))
    return Result(Outcome.REJECTED, reason, status)


def _error_code(error: dict[str, Any]) -> str:
    """The FcmError ``errorCode`` of the details, else the RPC status name."""
    for detail in _details(error):
        if detail.get("@type") == _FCM_ERROR and isinstance(detail.get("errorCode"), str):
            return str(detail["errorCode"])
    status = error.get("status")
    return status if isinstance(status, str) else ""


def _bad_token_field(error: dict[str, Any]) -> bool:
    """Whether a 400 blames the registration token itself (``message.token`` is invalid)."""
    for detail in _details(error):
        if detail.get("@type") == _BAD_REQUEST:
            violations = detail.get("fieldViolations")
            if isinstance(violations, list) and any(
                isinstance(v, dict) and v.get("field") == "message.token" for v in violations
            ):
                return True
    return False


def _details(error: dict[str, Any]) -> list[dict[str, Any]]:
    details = error.get("details")
    return [d for d in details if isinstance(d, dict)] if isinstance(details, list) else []


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        value = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}
