"""Keys and certificates for testing pushes offline: a CA, server certificates it signs, an
APNs client certificate with a UID, a Google service-account JSON and an APNs ``.p8`` key.

Everything is made fresh with ``cryptography`` and lives in memory (PEM text); ``write``
puts what a server or ``--push-ca-file`` needs into files.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_VALIDITY = datetime.timedelta(days=30)


@dataclass(frozen=True)
class KeyPair:
    """A certificate and its private key, both PEM."""

    certificate: str
    private_key: str

    def write(self, directory: Path, name: str) -> tuple[Path, Path]:
        """Write ``name.crt`` and ``name.key`` into ``directory``; returns their paths."""
        cert, key = directory / f"{name}.crt", directory / f"{name}.key"
        cert.write_text(self.certificate)
        key.write_text(self.private_key)
        key.chmod(0o600)
        return cert, key


@dataclass(frozen=True)
class ServiceAccountKey:
    """A service-account JSON (the FCM credential's ``Secret``) and its public key (PEM)."""

    json: str
    client_email: str
    project_id: str
    private_key_id: str
    public_key: str


@dataclass(frozen=True)
class SigningKey:
    """An APNs token-auth key: the ``.p8`` PEM, its key id, and the public half (PEM)."""

    p8: str
    key_id: str
    public_key: str


class CertificateAuthority:
    """A throwaway CA: trust ``ca.pem`` (``--push-ca-file``), get certificates from it."""

    def __init__(self, name: str = "chinwag test CA") -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        self._name = subject
        self._cert = (
            _builder(subject, subject, self._key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(self._key, hashes.SHA256())
        )

    @property
    def pem(self) -> str:
        """The CA certificate, PEM: what a client must trust."""
        return self._cert.public_bytes(serialization.Encoding.PEM).decode()

    def write(self, path: Path) -> Path:
        """Write the CA certificate to ``path`` (for ``--push-ca-file``)."""
        path.write_text(self.pem)
        return path

    def server(self, *hostnames: str) -> KeyPair:
        """A TLS server certificate for ``hostnames`` (``127.0.0.1`` and ``localhost``)."""
        names: list[x509.GeneralName] = []
        for host in hostnames or ("127.0.0.1", "localhost"):
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name(
            [x509.NameAttribute(NameOID.COMMON_NAME, hostnames[0] if hostnames else "localhost")]
        )
        cert = (
            _builder(subject, self._name, key.public_key())
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(self._key, hashes.SHA256())
        )
        return KeyPair(_cert_pem(cert), _key_pem(key))

    def apns_client(self, bundle_id: str, *, rsa_key: bool = False) -> KeyPair:
        """An APNs client certificate: subject UID = ``bundle_id`` (the push topic), as Apple
        issues them (``Apple Push Services: <bundle id>``). ``rsa_key`` makes an RSA 2048 key
        like Apple's; the default P-256 key is quicker to make."""
        key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey = (
            rsa.generate_private_key(65537, 2048)
            if rsa_key
            else ec.generate_private_key(ec.SECP256R1())
        )
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.USER_ID, bundle_id),
                x509.NameAttribute(NameOID.COMMON_NAME, f"Apple Push Services: {bundle_id}"),
            ]
        )
        cert = (
            _builder(subject, self._name, key.public_key())
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(self._key, hashes.SHA256())
        )
        return KeyPair(_cert_pem(cert), _key_pem(key))


def service_account(
    token_uri: str, project_id: str = "chinwag-test", client_email: str | None = None
) -> ServiceAccountKey:
    """A Google service-account JSON whose ``token_uri`` is ``token_uri`` (a fake's)."""
    key = rsa.generate_private_key(65537, 2048)
    email = client_email or f"firebase-adminsdk@{project_id}.iam.gserviceaccount.com"
    key_id = secrets.token_hex(20)
    info = {
        "type": "service_account",
        "project_id": project_id,
        "private_key_id": key_id,
        "private_key": _key_pem(key),
        "client_email": email,
        "client_id": str(secrets.randbelow(10**21)),
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
    }
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return ServiceAccountKey(json.dumps(info), email, project_id, key_id, public.decode())


def apns_signing_key(key_id: str | None = None) -> SigningKey:
    """An APNs ``.p8`` key (P-256, PKCS#8 PEM, as Apple's downloads are) with a 10-char id."""
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return SigningKey(_key_pem(key), key_id or secrets.token_hex(5).upper(), public.decode())


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey,
) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + _VALIDITY)
    )


def _cert_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _key_pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
