"""A fake Apple Push Notification service on loopback: HTTP/2 only, over TLS that verifies
client certificates, recording every push.

Certificate auth: store ``fake.client_certificate(bundle_id)`` (a certificate whose subject
UID is the bundle id, signed by the fake's CA) as an ``apn`` Credential; a push must then
carry ``apns-topic`` equal to that UID. Token auth: ``fake.signing_key(team_id)`` gives a
``.p8`` key whose ES256 bearer tokens the fake verifies (``kid``, ``iss``, at most an hour
old). Point chinwag at it with ``--push-apns-url fake.url`` and trust ``fake.ca`` with
``--push-ca-file``.

It checks what APNs checks (hex device token, push type, priority, expiration, a UUID
``apns-id``, a JSON payload of at most 4096 bytes) and answers as APNs does,
``{"reason": ...}`` with the status; tests script failures::

    fake.reply(503, "ServiceUnavailable", token=device, retry_after="1")
    fake.unregister(device)             # 410 Unregistered from now on
    fake.wait_for(1, token=device)[0].payload["aps"]["alert"]["body"]
"""

from __future__ import annotations

import string
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import jwt
import orjson

from chinwag.testing.certificates import (
    CertificateAuthority,
    KeyPair,
    SigningKey,
    apns_signing_key,
)
from chinwag.testing.scripted import FakeServer, Recorder, Script
from chinwag.testing.tls_server import Request, Response, TlsServer

PUSH_TYPES = frozenset(
    {
        "alert",
        "background",
        "voip",
        "complication",
        "fileprovider",
        "mdm",
        "location",
        "liveactivity",
        "pushtotalk",
        "widgets",
        "controls",
    }
)
MAX_PAYLOAD = 4096
#: provider tokens older than this are refused (403 ExpiredProviderToken)
TOKEN_MAX_AGE = 3600


@dataclass(frozen=True)
class ApnsPush:
    """One push request.

    Attributes:
        device_token: The token in the path.
        topic: ``apns-topic`` (or the certificate's UID when the header was left out).
        auth: ``certificate`` or ``token``; ``None`` when neither was presented.
        headers: Every header, names in lower case.
        payload: The JSON body (``{}`` if it was not JSON).
        status: What the fake answered; ``reason`` its reason (``None`` for 200).
        arrived: ``time.monotonic()`` when it was read.
    """

    device_token: str
    topic: str | None
    auth: str | None
    headers: dict[str, str]
    payload: dict[str, Any]
    status: int
    reason: str | None
    arrived: float


@dataclass(frozen=True)
class ApnsReply:
    status: int
    reason: str | None = None
    retry_after: str | None = None
    delay: float = 0.0


class FakeApns(FakeServer):
    """The fake APNs server; a context manager (``start``/``stop`` keep the port)."""

    def __init__(
        self, ca: CertificateAuthority | None = None, *, now: Callable[[], float] = time.time
    ) -> None:
        self.ca = ca or CertificateAuthority()
        self._now = now
        self._keys: dict[str, tuple[SigningKey, str]] = {}
        self._lock = threading.Lock()
        self._pushes: Recorder[ApnsPush] = Recorder()
        self._replies: Script[ApnsReply] = Script()
        self._server = TlsServer(self._handle, self.ca.server(), client_ca=self.ca.pem, http1=False)

    def client_certificate(self, bundle_id: str, *, rsa_key: bool = False) -> KeyPair:
        """An APNs client certificate for ``bundle_id``, trusted by this fake."""
        return self.ca.apns_client(bundle_id, rsa_key=rsa_key)

    def signing_key(self, team_id: str, key_id: str | None = None) -> SigningKey:
        """A ``.p8`` token-auth key of ``team_id`` that this fake accepts."""
        key = apns_signing_key(key_id)
        self.add_signing_key(key, team_id)
        return key

    def add_signing_key(self, key: SigningKey, team_id: str) -> None:
        with self._lock:
            self._keys[key.key_id] = (key, team_id)

    @property
    def pushes(self) -> list[ApnsPush]:
        """Every push request so far, answered or not, in arrival order."""
        return self._pushes.items

    def delivered(self, token: str | None = None) -> list[ApnsPush]:
        """The pushes answered 200 (to ``token``, if given)."""
        return [p for p in self.pushes if p.status == 200 and token in (None, p.device_token)]

    def wait_for(
        self, count: int, token: str | None = None, timeout: float = 10.0
    ) -> list[ApnsPush]:
        """Wait for ``count`` delivered pushes (to ``token``, if given) and return them."""
        return self._pushes.wait_for(
            count,
            timeout,
            lambda p: p.status == 200 and token in (None, p.device_token),
            "APNs pushes",
        )

    def reply(
        self,
        status: int,
        reason: str | None = None,
        *,
        token: str | None = None,
        times: int | None = 1,
        retry_after: str | None = None,
        delay: float = 0.0,
    ) -> None:
        """Answer the next ``times`` pushes (to ``token``; ``None``: to any) with ``status``
        and ``{"reason": reason}``."""
        self._replies.add(ApnsReply(status, reason, retry_after, delay), token, times)

    def unregister(self, token: str) -> None:
        """From now on, pushes to ``token`` get 410 Unregistered."""
        self.reply(410, "Unregistered", token=token, times=None)

    def reset(self) -> None:
        """Forget records and scripted replies (keys stay)."""
        self._pushes.clear()
        self._replies.clear()

    def _handle(self, request: Request) -> Response:
        path = request.path.split("?", 1)[0]
        token = unquote(path.removeprefix("/3/device/")) if path.startswith("/3/device/") else ""
        try:
            payload = orjson.loads(request.body) if request.body else {}
        except orjson.JSONDecodeError:
            payload = None
        auth, topic, refusal = self._check(request, path, token, payload)
        reply = refusal or self._replies.next(token) or ApnsReply(200)
        self._pushes.add(
            ApnsPush(
                token,
                topic,
                auth,
                dict(request.headers),
                payload if isinstance(payload, dict) else {},
                reply.status,
                reply.reason,
                time.monotonic(),
            )
        )
        headers = [("apns-id", request.headers.get("apns-id") or str(uuid.uuid4()))]
        if reply.status == 200:
            return Response(200, headers, b"", reply.delay)
        body: dict[str, Any] = {"reason": reply.reason or ""}
        if reply.status == 410:
            body["timestamp"] = int(self._now() * 1000)
        if reply.retry_after:
            headers.append(("retry-after", reply.retry_after))
        headers.append(("content-type", "application/json"))
        return Response(reply.status, headers, orjson.dumps(body), reply.delay)

    def _check(
        self, request: Request, path: str, token: str, payload: Any
    ) -> tuple[str | None, str | None, ApnsReply | None]:
        """(auth kind, topic, the refusal APNs would answer or None)."""
        if request.method != "POST":
            return None, None, ApnsReply(405, "MethodNotAllowed")
        if not path.startswith("/3/device/"):
            return None, None, ApnsReply(404, "BadPath")
        topic = request.headers.get("apns-topic")
        uid = _certificate_uid(request.peer_certificate)
        auth: str | None
        if uid is not None:
            auth = "certificate"
            if topic is not None and topic != uid:
                return auth, topic, ApnsReply(400, "BadTopic")
            topic = topic or uid
        else:
            auth = "token" if request.headers.get("authorization") else None
            refusal = self._check_provider_token(request.headers.get("authorization"))
            if refusal is not None:
                return auth, topic, refusal
            if not topic:
                return auth, topic, ApnsReply(400, "MissingTopic")
        return auth, topic, _check_request(request, token, payload)

    def _check_provider_token(self, authorization: str | None) -> ApnsReply | None:
        if not authorization:
            return ApnsReply(403, "MissingProviderToken")
        token = authorization.removeprefix("bearer ")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            return ApnsReply(403, "InvalidProviderToken")
        with self._lock:
            known = self._keys.get(str(header.get("kid")))
        if known is None:
            return ApnsReply(403, "InvalidProviderToken")
        key, team_id = known
        try:
            claims = jwt.decode(
                token, key.public_key, algorithms=["ES256"], options={"verify_iat": False}
            )
        except jwt.PyJWTError:
            return ApnsReply(403, "InvalidProviderToken")
        if claims.get("iss") != team_id or not isinstance(claims.get("iat"), int):
            return ApnsReply(403, "InvalidProviderToken")
        if self._now() - claims["iat"] > TOKEN_MAX_AGE:
            return ApnsReply(403, "ExpiredProviderToken")
        return None


def _check_request(request: Request, token: str, payload: Any) -> ApnsReply | None:
    headers = request.headers
    if not token or any(c not in string.hexdigits for c in token):
        return ApnsReply(400, "BadDeviceToken")
    if headers.get("apns-push-type", "alert") not in PUSH_TYPES:
        return ApnsReply(400, "InvalidPushType")
    if headers.get("apns-priority", "10") not in ("1", "5", "10"):
        return ApnsReply(400, "BadPriority")
    if not headers.get("apns-expiration", "0").isdigit():
        return ApnsReply(400, "BadExpirationDate")
    if "apns-id" in headers and not _is_uuid(headers["apns-id"]):
        return ApnsReply(400, "BadMessageId")
    if len(headers.get("apns-collapse-id", "")) > 64:
        return ApnsReply(400, "BadCollapseId")
    if len(request.body) > MAX_PAYLOAD:
        return ApnsReply(413, "PayloadTooLarge")
    if not isinstance(payload, dict) or not payload:
        return ApnsReply(400, "PayloadEmpty")
    return None


def _certificate_uid(certificate: dict[str, Any] | None) -> str | None:
    """The subject UID of a verified client certificate (``ssl.getpeercert()`` form)."""
    for rdn in (certificate or {}).get("subject", ()):
        for name, value in rdn:
            if name == "userId":
                return str(value)
    return None


def _is_uuid(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) == text.lower()
    except ValueError:
        return False
