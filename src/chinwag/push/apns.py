"""APNs over HTTP/2: ``POST {host}/3/device/{token}`` with the alert payload.

Certificate auth presents the credential's client certificate in the TLS handshake, so each
such credential has its own connection (an httpx client with its own SSL context); token auth
signs an ES256 JWT (``kid`` the key id, ``iss`` the team id) and sends it as a bearer token,
renewed every :data:`TOKEN_RENEW` seconds: Apple refuses tokens older than an hour and
answers 429 TooManyProviderTokenUpdates to renewals faster than every 20 minutes.

Headers: ``apns-topic`` (the bundle id), ``apns-push-type: alert``, ``apns-priority: 10``
(deliver now), ``apns-expiration`` (give up after :data:`EXPIRATION` seconds, as a chat
notification a day late is noise), and ``apns-id``/``apns-collapse-id`` from the push's id:
if a process dies after sending and the push is sent again, the phone replaces the first
notification instead of showing two.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx
import jwt
import orjson

from chinwag.push import outcomes
from chinwag.push.credentials import ApnsCertificate, ApnsToken
from chinwag.push.outcomes import Outcome, Result
from chinwag.push.payloads import Notice, apns_payload

PRODUCTION_URL = "https://api.push.apple.com"
SANDBOX_URL = "https://api.sandbox.push.apple.com"
#: seconds APNs keeps trying to reach an offline device
EXPIRATION = 24 * 3600
#: seconds a provider token is used before a new one is signed (Apple: 20 to 60 minutes)
TOKEN_RENEW = 40 * 60
#: answers that mean the device token is dead
_GONE = frozenset({"BadDeviceToken", "Unregistered", "ExpiredToken"})
#: 400 answers that blame the credential's topic or auth, not the push
_CREDENTIAL = frozenset(
    {"BadTopic", "TopicDisallowed", "MissingTopic", "BadCertificate", "BadCertificateEnvironment"}
)
_NAMESPACE = uuid.UUID("5f0c1f8e-7d2b-4c55-9b8e-0c3f2a6d9e41")


def host_for(sandbox: bool, override: str | None) -> str:
    """The APNs base URL: ``override`` (``--push-apns-url``) or Apple's host for ``Sandbox``."""
    if override:
        return override.rstrip("/")
    return SANDBOX_URL if sandbox else PRODUCTION_URL


def apns_id(push_id: str | None) -> str:
    """A UUID for ``apns-id``: derived from the push's id, so every attempt carries the same."""
    return str(uuid.uuid5(_NAMESPACE, push_id) if push_id else uuid.uuid4())


class ApnsClient:
    """Sends to APNs over one HTTP/2 client bound to one credential (it owns the client)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        credential: ApnsCertificate | ApnsToken,
        base_url: str,
        *,
        timeout: float,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._http = http
        self._credential = credential
        self._base = base_url
        self._timeout = timeout
        self._now = now
        self._bearer: tuple[str, float] | None = None

    async def send(self, device_token: str, notice: Notice) -> Result:
        """Push ``notice`` to ``device_token``; never raises for the network."""
        try:
            async with asyncio.timeout(self._timeout * 2):
                return await self._send(device_token, notice)
        except (TimeoutError, httpx.HTTPError, OSError) as exc:
            return outcomes.network_failure(
                exc,
                "APNs",
                self._timeout,
                client_certificate=isinstance(self._credential, ApnsCertificate),
            )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _send(self, device_token: str, notice: Notice) -> Result:
        identifier = apns_id(notice.push_id)
        headers = {
            "apns-topic": self._credential.topic,
            "apns-push-type": "alert",
            "apns-priority": "10",
            "apns-expiration": str(int(self._now()) + EXPIRATION),
            "apns-id": identifier,
            "apns-collapse-id": identifier,
            "content-type": "application/json",
        }
        body = apns_payload(notice)
        # NOTE: the token is the client's word; quoted, it stays one path segment (APNs then
        # answers BadDeviceToken for anything that is not hex, and the registration is pruned)
        url = f"{self._base}/3/device/{quote(device_token, safe='')}"
        for renewed in (False, True):
            if isinstance(self._credential, ApnsToken):
                headers["authorization"] = f"bearer {self._provider_token(renew=renewed)}"
            response = await self._http.post(url, content=body, headers=headers)
            if _reason(response) != "ExpiredProviderToken" or renewed:
                break
        return classify(response, self._now())

    def _provider_token(self, *, renew: bool) -> str:
        assert isinstance(self._credential, ApnsToken)
        now = self._now()
        if renew or self._bearer is None or self._bearer[1] <= now:
            token = jwt.encode(
                {"iss": self._credential.team_id, "iat": int(now)},
                self._credential.private_key,
                algorithm="ES256",
                headers={"kid": self._credential.key_id},
            )
            self._bearer = (token, now + TOKEN_RENEW)
        return self._bearer[0]


def classify(response: httpx.Response, now_s: float) -> Result:
    """What an APNs answer means (see ``outcomes``)."""
    status = response.status_code
    if status == 200:
        return outcomes.delivered("APNs 200")
    reason_code = _reason(response)
    reason = f"APNs {status} {reason_code}".rstrip()
    if status == 410 or reason_code in _GONE:
        return Result(Outcome.GONE, reason, status)
    if status == 403 or reason_code in _CREDENTIAL:
        return outcomes.credential_failure(reason, status)
    if status == 429 or status >= 500:
        return Result(Outcome.RETRY, reason, status, outcomes.retry_after(response, now_s))
    return Result(Outcome.REJECTED, reason, status)


def _reason(response: httpx.Response) -> str:
    try:
        body: Any = orjson.loads(response.content) if response.content else {}
    except orjson.JSONDecodeError:
        return ""
    reason = body.get("reason") if isinstance(body, dict) else None
    return reason if isinstance(reason, str) else ""
