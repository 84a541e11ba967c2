"""A stored Credential read as what a provider needs, or a :class:`CredentialError` saying why
it cannot work.

- ``fcm`` (and ``gcm``, whose legacy API is gone too): ``Secret`` (for ``gcm`` also
  ``ApiKey``) holds a Google service-account JSON, the key FCM's HTTP v1 API needs. This
  departs from Chat v1's text, where ``Secret`` was the legacy server key; such a key is
  refused here with that reason.
- ``apn`` with ``Certificate`` and ``PrivateKey`` (PEM): certificate auth. The push topic is
  the certificate subject's UID, which Apple sets to the app's bundle id.
- ``apn`` without a ``Certificate``, with a ``.p8`` signing key in ``PrivateKey`` and
  ``{"key_id": ..., "team_id": ..., "bundle_id": ...}`` in ``Secret``: token auth, a chinwag
  extension (Chat v1 has no fields for it).

Parsing is pure and cheap enough to repeat; the provider clients cache its result per
credential version.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

#: the token endpoint a service-account JSON names when it names none
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"


class StoredCredential(Protocol):
    """The fields of a stored Credential that delivery reads."""

    @property
    def sid(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def sandbox(self) -> bool | None: ...
    @property
    def certificate(self) -> str | None: ...
    @property
    def private_key(self) -> str | None: ...
    @property
    def api_key(self) -> str | None: ...
    @property
    def secret(self) -> str | None: ...
    @property
    def date_updated(self) -> int: ...


class CredentialError(Exception):
    """The credential cannot be used as stored; the message says why (for the push log)."""


@dataclass(frozen=True, slots=True)
class ServiceAccount:
    """The parts of a Google service-account JSON that FCM's HTTP v1 API needs."""

    project_id: str
    client_email: str
    private_key: str
    private_key_id: str | None
    token_uri: str


@dataclass(frozen=True, slots=True)
class ApnsCertificate:
    """APNs certificate auth: a client certificate (PEM, leaf first) and its key."""

    certificate: str
    private_key: str
    topic: str
    sandbox: bool


@dataclass(frozen=True, slots=True)
class ApnsToken:
    """APNs token auth: a ``.p8`` ES256 key, its key id, the team id and the app's bundle id."""

    private_key: str
    key_id: str
    team_id: str
    topic: str
    sandbox: bool


ProviderCredential = ServiceAccount | ApnsCertificate | ApnsToken


def parse_credential(credential: StoredCredential) -> ProviderCredential:
    """What ``credential`` is to its provider; ``CredentialError`` when it cannot work."""
    if credential.type == "apn":
        if credential.certificate:
            return parse_apns_certificate(
                credential.certificate, credential.private_key, bool(credential.sandbox)
            )
        return parse_apns_token(credential.private_key, credential.secret, bool(credential.sandbox))
    if credential.type in ("fcm", "gcm"):
        text = credential.secret
        if credential.type == "gcm" and not _looks_like_json(text):
            text = credential.api_key
        return parse_service_account(text)
    raise CredentialError(f"credential type {credential.type!r} cannot send pushes")


def parse_service_account(text: str | None) -> ServiceAccount:
    """A service-account JSON as FCM needs it."""
    if not text:
        raise CredentialError("no service-account JSON in the credential's Secret")
    if not _looks_like_json(text):
        raise CredentialError(
            "Secret is not a service-account JSON (a legacy FCM server key cannot send since "
            "FCM's legacy API was shut down)"
        )
    try:
        info = json.loads(text)
    except ValueError as exc:
        raise CredentialError(f"Secret is not valid JSON: {exc}") from None
    if not isinstance(info, dict):
        raise CredentialError("Secret is not a JSON object")
    missing = [k for k in ("project_id", "client_email", "private_key") if not _text(info, k)]
    if missing:
        raise CredentialError(f"service-account JSON lacks {', '.join(missing)}")
    token_uri = _text(info, "token_uri") or GOOGLE_TOKEN_URI
    if not token_uri.startswith("https://"):
        raise CredentialError("service-account token_uri must be an https:// URL")
    key = _private_key(info["private_key"], "service-account private_key")
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CredentialError("service-account private_key is not an RSA key")
    return ServiceAccount(
        project_id=info["project_id"],
        client_email=info["client_email"],
        private_key=info["private_key"],
        private_key_id=_text(info, "private_key_id"),
        token_uri=token_uri,
    )


def parse_apns_certificate(
    certificate: str, private_key: str | None, sandbox: bool
) -> ApnsCertificate:
    """Certificate auth: the certificate must carry a UID and match the private key."""
    try:
        chain = x509.load_pem_x509_certificates(certificate.encode())
    except ValueError as exc:
        raise CredentialError(f"Certificate is not a PEM certificate: {exc}") from None
    leaf = chain[0]
    if not private_key:
        raise CredentialError("an APNs certificate credential needs its PrivateKey")
    key = _private_key(private_key, "PrivateKey")
    if _public(key) != leaf.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ):
        raise CredentialError("PrivateKey does not belong to the Certificate")
    uids = leaf.subject.get_attributes_for_oid(NameOID.USER_ID)
    if not uids or not isinstance(uids[0].value, str) or not uids[0].value:
        raise CredentialError("Certificate has no UID (the app's bundle id, the push topic)")
    return ApnsCertificate(certificate, private_key, uids[0].value, sandbox)


def parse_apns_token(private_key: str | None, secret: str | None, sandbox: bool) -> ApnsToken:
    """Token auth (extension): a P-256 key and its ids in ``Secret``."""
    if not private_key:
        raise CredentialError("an apn credential needs a Certificate and PrivateKey")
    try:
        ids = json.loads(secret or "")
    except ValueError:
        ids = None
    if not isinstance(ids, dict) or not all(
        _text(ids, k) for k in ("key_id", "team_id", "bundle_id")
    ):
        raise CredentialError(
            "APNs token auth needs key_id, team_id and bundle_id as JSON in Secret"
        )
    key = _private_key(private_key, "PrivateKey")
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise CredentialError("an APNs signing key (.p8) is a P-256 EC key")
    return ApnsToken(private_key, ids["key_id"], ids["team_id"], ids["bundle_id"], sandbox)


def _private_key(pem: str, name: str) -> Any:
    try:
        return serialization.load_pem_private_key(pem.encode(), password=None)
    except TypeError:
        raise CredentialError(f"{name} is encrypted; store it without a passphrase") from None
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise CredentialError(f"{name} is not a PEM private key: {exc}") from None


def _public(key: Any) -> bytes:
    public: bytes = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return public


def _looks_like_json(text: str | None) -> bool:
    return text is not None and text.lstrip().startswith("{")


def _text(info: dict[str, Any], key: str) -> str | None:
    value = info.get(key)
    return value if isinstance(value, str) and value else None
