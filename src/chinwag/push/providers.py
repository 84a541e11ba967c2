"""One object a process sends every push through: picks the provider, keeps the connections.

A registration's push channel (``fcm``/``gcm`` or ``apn``) picks the provider; its credential
must be of the same family. FCM traffic of every credential shares one HTTP/2 client (the
access token is per request). APNs certificate auth binds a connection to a certificate, so
each APNs credential gets its own client, kept while the credential is unchanged (an update
makes a new one) and closed when :data:`MAX_APNS_CLIENTS` newer ones push it out.

Every TLS connection trusts the usual public roots plus ``ca_file`` (``--push-ca-file``), the
way a test suite or a corporate proxy gets its own CA trusted.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import tempfile
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from chinwag.config import Settings
from chinwag.push.apns import ApnsClient, host_for
from chinwag.push.credentials import (
    ApnsCertificate,
    ApnsToken,
    CredentialError,
    ProviderCredential,
    ServiceAccount,
    StoredCredential,
    parse_credential,
)
from chinwag.push.fcm import FcmClient
from chinwag.push.outcomes import Outcome, Result, credential_failure
from chinwag.push.payloads import Notice

DEFAULT_FCM_URL = "https://fcm.googleapis.com"
#: APNs clients (one per credential) kept open at once
MAX_APNS_CLIENTS = 64
#: parsed credentials remembered (by SID and version)
MAX_PARSED = 256


@dataclass(frozen=True, slots=True)
class ProviderSettings:
    """Where the providers are and how long they may take.

    Attributes:
        fcm_url: FCM's base URL (``--push-fcm-url``).
        apns_url: APNs's base URL for every credential (``--push-apns-url``); ``None``
            chooses Apple's production or sandbox host by the credential's ``Sandbox``.
        ca_file: A PEM bundle of extra CAs to trust (``--push-ca-file``).
        timeout: Seconds for each request to a provider (connect, write, read).
    """

    fcm_url: str = DEFAULT_FCM_URL
    apns_url: str | None = None
    ca_file: str | None = None
    timeout: float = 10.0


def provider_settings(settings: Settings) -> ProviderSettings:
    """The providers' settings from the server's (``--push-*``)."""
    return ProviderSettings(
        fcm_url=settings.push_fcm_url,
        apns_url=settings.push_apns_url,
        ca_file=settings.push_ca_file,
    )


class Providers:
    """Sends pushes to FCM and APNs. Create, use and close it within one event loop."""

    def __init__(self, settings: ProviderSettings, *, now: Callable[[], float] = time.time):
        self._settings = settings
        self._now = now
        self._fcm_http = self._client(None)
        self._fcm = FcmClient(self._fcm_http, settings.fcm_url, timeout=settings.timeout, now=now)
        self._apns: OrderedDict[tuple[str, int], ApnsClient] = OrderedDict()
        self._parsed: OrderedDict[tuple[str, int], ProviderCredential | CredentialError] = (
            OrderedDict()
        )
        self._closing: set[asyncio.Task[None]] = set()

    async def send(
        self, credential: StoredCredential, channel_type: str, address: str, notice: Notice
    ) -> Result:
        """Push ``notice`` to the device ``address`` of push channel ``channel_type``."""
        parsed = self._parse(credential)
        if isinstance(parsed, CredentialError):
            return credential_failure(f"credential {credential.sid}: {parsed}")
        if channel_type in ("fcm", "gcm") and isinstance(parsed, ServiceAccount):
            return await self._fcm.send(parsed, address, notice)
        if channel_type == "apn" and isinstance(parsed, ApnsCertificate | ApnsToken):
            try:
                client = self._apns_client(credential, parsed)
            except (ssl.SSLError, OSError) as exc:
                return credential_failure(f"credential {credential.sid}: cannot load: {exc}")
            return await client.send(address, notice)
        return Result(
            Outcome.CREDENTIAL,
            f"credential {credential.sid} is {credential.type}, the registration {channel_type}",
        )

    async def aclose(self) -> None:
        """Close every connection."""
        clients, self._apns = list(self._apns.values()), OrderedDict()
        for client in clients:
            await client.aclose()
        await asyncio.gather(*self._closing)
        await self._fcm_http.aclose()

    def _parse(self, credential: StoredCredential) -> ProviderCredential | CredentialError:
        key = (credential.sid, credential.date_updated)
        if key not in self._parsed:
            try:
                self._parsed[key] = parse_credential(credential)
            except CredentialError as exc:
                self._parsed[key] = exc
            while len(self._parsed) > MAX_PARSED:
                self._parsed.popitem(last=False)
        return self._parsed[key]

    def _apns_client(
        self, credential: StoredCredential, parsed: ApnsCertificate | ApnsToken
    ) -> ApnsClient:
        key = (credential.sid, credential.date_updated)
        client = self._apns.get(key)
        if client is None:
            http = self._client(parsed if isinstance(parsed, ApnsCertificate) else None)
            base = host_for(parsed.sandbox, self._settings.apns_url)
            client = ApnsClient(http, parsed, base, timeout=self._settings.timeout, now=self._now)
            self._apns[key] = client
            stale = [k for k in self._apns if k[0] == credential.sid and k != key]
            while len(self._apns) > MAX_APNS_CLIENTS or stale:
                evicted = self._apns.pop(stale.pop()) if stale else self._apns.popitem(False)[1]
                self._close_later(evicted)
        self._apns.move_to_end(key)
        return client

    def _close_later(self, client: ApnsClient) -> None:
        """Close an evicted client without making this send wait (a send still using it
        fails as a connection error and is retried)."""
        task = asyncio.get_running_loop().create_task(client.aclose())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def _client(self, certificate: ApnsCertificate | None) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            http2=True,
            verify=self._ssl_context(certificate),
            timeout=self._settings.timeout,
            trust_env=False,
            follow_redirects=False,
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=4),
        )

    def _ssl_context(self, certificate: ApnsCertificate | None) -> ssl.SSLContext:
        context = httpx.create_ssl_context(trust_env=False)
        if self._settings.ca_file:
            context.load_verify_locations(cafile=self._settings.ca_file)
        if certificate is not None:
            _load_client_certificate(context, certificate)
            # NOTE: in TLS 1.3 a server refuses a client certificate after the handshake, and
            # the refusal surfaces as a broken pipe on the first write; in TLS 1.2 (which APNs
            # speaks) it is an alert in the handshake that names the reason.
            context.maximum_version = ssl.TLSVersion.TLSv1_2
        return context


def _load_client_certificate(context: ssl.SSLContext, certificate: ApnsCertificate) -> None:
    """Load a PEM certificate and key held in memory: ``ssl`` reads them only from files, so
    they pass through a file readable only by this user, removed at once."""
    with tempfile.TemporaryDirectory(prefix="chinwag-apns-") as directory:
        path = os.path.join(directory, "client.pem")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as pem:
            pem.write(certificate.certificate.strip() + "\n" + certificate.private_key.strip())
            pem.write("\n")
        context.load_cert_chain(path)
