"""APNs over HTTP/2 against the fake APNs (TLS with client-certificate verification)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

import pytest
from push_support import StoredCredential

from chinwag.push.apns import PRODUCTION_URL, SANDBOX_URL, apns_id, host_for
from chinwag.push.outcomes import Outcome, Result
from chinwag.push.payloads import Notice
from chinwag.push.providers import Providers, ProviderSettings
from chinwag.testing.certificates import CertificateAuthority, KeyPair, SigningKey
from chinwag.testing.fake_apns import FakeApns
from chinwag.testing.plugin import PushCA

pytestmark = pytest.mark.unit

BUNDLE = "com.example.chat"
DEVICE = "5e" * 32
NOTICE = Notice(
    "new_message",
    "general;alice: hi",
    "CH" + "1" * 32,
    "general",
    "IM" + "2" * 32,
    4,
    push_id="RU" + "3" * 32,
)


def certificate_credential(pair: KeyPair, sid: str = "CR" + "a" * 32) -> StoredCredential:
    return StoredCredential(sid, "apn", certificate=pair.certificate, private_key=pair.private_key)


def token_credential(key: SigningKey, team_id: str, bundle_id: str = BUNDLE) -> StoredCredential:
    ids = {"key_id": key.key_id, "team_id": team_id, "bundle_id": bundle_id}
    return StoredCredential("CR" + "b" * 32, "apn", private_key=key.p8, secret=json.dumps(ids))


def send_all(
    fake: FakeApns,
    ca_file: str | None,
    sends: list[tuple[StoredCredential, str]],
    *,
    timeout: float = 10.0,
    now: Callable[[], float] = time.time,
    between: Callable[[], None] | None = None,
) -> list[Result]:
    async def run() -> list[Result]:
        settings = ProviderSettings(apns_url=fake.url, ca_file=ca_file, timeout=timeout)
        providers = Providers(settings, now=now)
        try:
            results = []
            for cred, device in sends:
                results.append(await providers.send(cred, "apn", device, NOTICE))
                if between is not None:
                    between()
            return results
        finally:
            await providers.aclose()

    return asyncio.run(run())


def test_certificate_auth_delivers_with_apples_headers(
    fake_apns: FakeApns, push_ca: PushCA
) -> None:
    cred = certificate_credential(fake_apns.client_certificate(BUNDLE))
    before = int(time.time())
    [result] = send_all(fake_apns, push_ca.file, [(cred, DEVICE)])
    assert result.outcome is Outcome.DELIVERED
    [push] = fake_apns.delivered(DEVICE)
    assert push.auth == "certificate"
    assert push.topic == BUNDLE
    headers = push.headers
    assert headers["apns-topic"] == BUNDLE
    assert headers["apns-push-type"] == "alert"
    assert headers["apns-priority"] == "10"
    assert before + 23 * 3600 < int(headers["apns-expiration"]) <= int(time.time()) + 24 * 3600
    assert headers["apns-id"] == headers["apns-collapse-id"] == apns_id(NOTICE.push_id)
    assert push.payload["aps"]["alert"]["body"] == "general;alice: hi"
    assert push.payload["message_index"] == "4"


def test_an_rsa_certificate_like_apples_works_too(fake_apns: FakeApns, push_ca: PushCA) -> None:
    cred = certificate_credential(fake_apns.client_certificate(BUNDLE, rsa_key=True))
    [result] = send_all(fake_apns, push_ca.file, [(cred, DEVICE)])
    assert result.delivered


def test_the_same_push_carries_the_same_apns_id_on_every_attempt() -> None:
    assert apns_id("RU1") == apns_id("RU1") != apns_id("RU2")


def test_unregistered_and_bad_device_tokens_mean_the_registration_is_gone(
    fake_apns: FakeApns, push_ca: PushCA
) -> None:
    cred = certificate_credential(fake_apns.client_certificate(BUNDLE))
    fake_apns.unregister("ab" * 32)
    sends = [(cred, "ab" * 32), (cred, "not-hex"), (cred, "../../3/device/" + DEVICE)]
    results = send_all(fake_apns, push_ca.file, sends)
    assert [(r.outcome, r.reason) for r in results] == [
        (Outcome.GONE, "APNs 410 Unregistered"),
        (Outcome.GONE, "APNs 400 BadDeviceToken"),
        (Outcome.GONE, "APNs 400 BadDeviceToken"),
    ]
    assert fake_apns.delivered() == []


@pytest.mark.parametrize(
    ("status", "reason", "outcome"),
    [
        (503, "ServiceUnavailable", Outcome.RETRY),
        (500, "InternalServerError", Outcome.RETRY),
        (429, "TooManyRequests", Outcome.RETRY),
        (403, "BadCertificate", Outcome.CREDENTIAL),
        (400, "TopicDisallowed", Outcome.CREDENTIAL),
        (413, "PayloadTooLarge", Outcome.REJECTED),
        (400, "DeviceTokenNotForTopic", Outcome.REJECTED),
    ],
)
def test_answers_are_classified(
    fake_apns: FakeApns, push_ca: PushCA, status: int, reason: str, outcome: Outcome
) -> None:
    cred = certificate_credential(fake_apns.client_certificate(BUNDLE))
    fake_apns.reply(status, reason, retry_after="3" if outcome is Outcome.RETRY else None)
    [result] = send_all(fake_apns, push_ca.file, [(cred, DEVICE)])
    assert (result.outcome, result.status, result.reason) == (
        outcome,
        status,
        f"APNs {status} {reason}",
    )
    assert result.retry_after == (3.0 if outcome is Outcome.RETRY else None)


def test_a_certificate_the_provider_does_not_trust_is_a_credential_failure(
    fake_apns: FakeApns, push_ca: PushCA
) -> None:
    foreign = CertificateAuthority("another CA").apns_client(BUNDLE)
    [result] = send_all(fake_apns, push_ca.file, [(certificate_credential(foreign), DEVICE)])
    assert result.outcome is Outcome.CREDENTIAL
    assert "certificate refused" in result.reason
    assert fake_apns.pushes == []


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"private_key": None}, "needs its PrivateKey"),
        ({"certificate": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}, "PEM"),
        ("other key", "does not belong to the Certificate"),
        ("no uid", "has no UID"),
    ],
)
def test_an_unusable_certificate_is_a_credential_failure(
    fake_apns: FakeApns, push_ca: PushCA, change: object, reason: str
) -> None:
    pair = fake_apns.client_certificate(BUNDLE)
    cred = certificate_credential(pair)
    if change == "other key":
        cred = certificate_credential(
            KeyPair(pair.certificate, push_ca.authority.apns_client(BUNDLE).private_key)
        )
    elif change == "no uid":
        server = push_ca.authority.server("localhost")
        cred = certificate_credential(server)
    else:
        assert isinstance(change, dict)
        fields = {**cred.__dict__, **change}
        cred = StoredCredential(**fields)
    [result] = send_all(fake_apns, push_ca.file, [(cred, DEVICE)])
    assert result.outcome is Outcome.CREDENTIAL
    assert reason in result.reason
    assert fake_apns.pushes == []


def test_token_auth_signs_a_provider_token_and_reuses_it(
    fake_apns: FakeApns, push_ca: PushCA
) -> None:
    key = fake_apns.signing_key("TEAM123456")
    cred = token_credential(key, "TEAM123456")
    results = send_all(fake_apns, push_ca.file, [(cred, DEVICE), (cred, DEVICE)])
    assert all(r.delivered for r in results)
    first, second = fake_apns.delivered(DEVICE)
    assert first.auth == "token" and first.topic == BUNDLE
    assert first.headers["authorization"] == second.headers["authorization"]


def test_an_expired_provider_token_is_renewed_and_the_push_repeated(
    fake_apns: FakeApns, push_ca: PushCA
) -> None:
    cred = token_credential(fake_apns.signing_key("TEAM123456"), "TEAM123456")
    fake_apns.reply(403, "ExpiredProviderToken")
    [result] = send_all(fake_apns, push_ca.file, [(cred, DEVICE)])
    assert result.delivered
    assert [p.status for p in fake_apns.pushes] == [403, 200]


def test_the_provider_token_is_signed_again_after_forty_minutes(push_ca: PushCA) -> None:
    now = [time.time()]
    with FakeApns(push_ca.authority, now=lambda: now[0]) as fake:
        cred = token_credential(fake.signing_key("TEAM123456"), "TEAM123456")

        def later() -> None:
            now[0] += 41 * 60

        results = send_all(
            fake, push_ca.file, [(cred, DEVICE)] * 3, now=lambda: now[0], between=later
        )
        pushes = fake.delivered()
    assert all(r.delivered for r in results)
    assert len({p.headers["authorization"] for p in pushes}) == 3


def test_a_token_the_provider_does_not_know_is_a_credential_failure(
    fake_apns: FakeApns, push_ca: PushCA
) -> None:
    key = fake_apns.signing_key("TEAM123456")
    [result] = send_all(fake_apns, push_ca.file, [(token_credential(key, "OTHERTEAM1"), DEVICE)])
    assert (result.outcome, result.reason) == (Outcome.CREDENTIAL, "APNs 403 InvalidProviderToken")


@pytest.mark.parametrize(
    ("private_key", "secret", "reason"),
    [
        (None, None, "needs a Certificate and PrivateKey"),
        ("p8", "{}", "needs key_id, team_id and bundle_id"),
        ("rsa", '{"key_id": "K", "team_id": "T", "bundle_id": "B"}', "P-256"),
    ],
)
def test_an_unusable_signing_key_is_a_credential_failure(
    fake_apns: FakeApns,
    push_ca: PushCA,
    private_key: str | None,
    secret: str | None,
    reason: str,
) -> None:
    keys = {
        "p8": fake_apns.signing_key("T").p8,
        "rsa": push_ca.authority.apns_client(BUNDLE, rsa_key=True).private_key,
    }
    cred = StoredCredential(
        "CR" + "c" * 32, "apn", private_key=keys.get(private_key or ""), secret=secret
    )
    [result] = send_all(fake_apns, push_ca.file, [(cred, DEVICE)])
    assert result.outcome is Outcome.CREDENTIAL
    assert reason in result.reason


def test_a_timeout_is_retried(fake_apns: FakeApns, push_ca: PushCA) -> None:
    cred = certificate_credential(fake_apns.client_certificate(BUNDLE))
    fake_apns.reply(200, delay=2.0)
    [result] = send_all(fake_apns, push_ca.file, [(cred, DEVICE)], timeout=0.3)
    assert result.outcome is Outcome.RETRY
    assert "timeout" in result.reason


def test_the_providers_ca_is_trusted_only_through_the_ca_file(fake_apns: FakeApns) -> None:
    cred = certificate_credential(fake_apns.client_certificate(BUNDLE))
    [result] = send_all(fake_apns, None, [(cred, DEVICE)])
    assert result.outcome is Outcome.RETRY
    assert "CERTIFICATE_VERIFY_FAILED" in result.reason


def test_an_updated_credential_gets_a_new_connection(fake_apns: FakeApns, push_ca: PushCA) -> None:
    old = certificate_credential(fake_apns.client_certificate(BUNDLE))
    other = fake_apns.client_certificate("com.example.other")
    new = StoredCredential(
        old.sid,
        "apn",
        certificate=other.certificate,
        private_key=other.private_key,
        date_updated=2,
    )
    results = send_all(fake_apns, push_ca.file, [(old, DEVICE), (new, DEVICE)])
    assert all(r.delivered for r in results)
    assert [p.topic for p in fake_apns.delivered()] == [BUNDLE, "com.example.other"]


def test_sandbox_chooses_apples_development_host_unless_a_url_is_set() -> None:
    assert host_for(False, None) == PRODUCTION_URL == "https://api.push.apple.com"
    assert host_for(True, None) == SANDBOX_URL == "https://api.sandbox.push.apple.com"
    assert host_for(True, "https://127.0.0.1:9999/") == "https://127.0.0.1:9999"
