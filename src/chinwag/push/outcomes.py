"""What became of one push, decided from the provider's answer, never from an exception.

Every call to a provider ends in a :class:`Result`; the sender of the outbox acts on its
:class:`Outcome`::

    DELIVERED   the provider accepted it (APNs 200, FCM 200)
    RETRY       try again later: 429, 5xx, a timeout, a connection or TLS failure;
                ``retry_after`` carries the provider's Retry-After when it sent one
    GONE        the device token is dead: APNs 410 Unregistered or 400 BadDeviceToken,
                FCM 404 UNREGISTERED; the registration is deleted
    CREDENTIAL  the credential cannot work: refused by the provider (APNs 403, FCM 401/403,
                a token endpoint's 4xx), or unusable as stored (no key, a key that does not
                match the certificate, a service-account JSON without its fields); reported
                and not retried, since retries cannot fix it
    REJECTED    the provider refused this push for another reason (413 PayloadTooLarge,
                400 INVALID_ARGUMENT...): reported, not retried, the registration kept

A server certificate the client cannot verify (say ``--push-ca-file`` is missing) is a
``RETRY``: it is the network's or the operator's problem, not the credential's, and the outbox
gives up after its retries.
"""

from __future__ import annotations

import enum
import ssl
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import httpx

#: a Retry-After further out than this is read as this (seconds): a push an hour late is moot
MAX_RETRY_AFTER = 3600.0


#: alerts a server sends about the client's certificate: bad, unknown, expired, revoked,
#: required, of an unknown CA, or signed by a key that does not verify (decrypt error)
_CERTIFICATE_ALERTS = ("CERTIFICATE", "UNKNOWN_CA", "DECRYPT_ERROR", "ACCESS_DENIED")


class Outcome(enum.Enum):
    DELIVERED = "delivered"
    RETRY = "retry"
    GONE = "gone"
    CREDENTIAL = "credential"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Result:
    """The outcome of one attempt.

    Attributes:
        outcome: What to do next (see the module docstring).
        reason: A short text for the push log: "APNs 410 Unregistered", "timeout after 10 s".
        status: The provider's HTTP status; ``None`` when none came (or no request was made).
        retry_after: Seconds the provider asked to wait (``Retry-After``), if it did.
    """

    outcome: Outcome
    reason: str
    status: int | None = None
    retry_after: float | None = None

    @property
    def delivered(self) -> bool:
        return self.outcome is Outcome.DELIVERED


def delivered(reason: str) -> Result:
    return Result(Outcome.DELIVERED, reason, 200)


def credential_failure(reason: str, status: int | None = None) -> Result:
    return Result(Outcome.CREDENTIAL, reason, status)


def retry_after(response: httpx.Response, now_s: float) -> float | None:
    """The response's ``Retry-After`` in seconds (delta or HTTP date), capped; else ``None``."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - now_s
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def network_failure(
    exc: Exception, provider: str, timeout: float, *, client_certificate: bool = False
) -> Result:
    """A request that got no answer: retried later, unless the server refused our certificate.

    With ``client_certificate`` (APNs certificate auth) a TLS alert about a certificate from
    the server (bad, unknown CA, expired, required) means the credential's certificate was
    refused: a credential failure. Any other TLS failure names its reason (certificate verify
    failed: see ``--push-ca-file``) and is retried like a connection error.
    """
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return Result(Outcome.RETRY, f"{provider}: timeout after {timeout:g} s")
    tls = _ssl_error(exc)
    if tls is not None:
        if client_certificate and _refuses_certificate(tls):
            return Result(Outcome.CREDENTIAL, f"{provider}: certificate refused: {tls}")
        return Result(Outcome.RETRY, f"{provider}: TLS: {tls}")
    return Result(Outcome.RETRY, f"{provider}: connection error: {_root(exc)}")


def _refuses_certificate(reason: str) -> bool:
    """Whether an OpenSSL reason is the peer's alert about our certificate."""
    reason = reason.upper()
    return "ALERT_" in reason and any(part in reason for part in _CERTIFICATE_ALERTS)


def _ssl_error(exc: BaseException) -> str | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return seen.reason or str(seen)
        seen = seen.__cause__ or seen.__context__
    return None


def _root(exc: BaseException) -> str:
    """The innermost cause, named: httpx wraps what actually happened."""
    while (cause := exc.__cause__ or exc.__context__) is not None:
        exc = cause
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
