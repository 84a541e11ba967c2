"""FCM over HTTP v1 against the fake FCM (real TLS, HTTP/2, the OAuth2 token endpoint)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest
from push_support import StoredCredential

from chinwag.push.outcomes import Outcome, Result
from chinwag.push.payloads import Notice
from chinwag.push.providers import Providers, ProviderSettings
from chinwag.testing.certificates import ServiceAccountKey, service_account
from chinwag.testing.fake_fcm import FakeFcm
from chinwag.testing.plugin import PushCA

pytestmark = pytest.mark.unit

T = TypeVar("T")
NOTICE = Notice("new_message", "general;alice: hi", "CH" + "1" * 32, "general", "IM" + "2" * 32, 0)


class Now:
    """A clock both sides read, stepped by the test."""

    def __init__(self) -> None:
        self.t = time.time()

    def __call__(self) -> float:
        return self.t


def credential(account: ServiceAccountKey, sid: str = "CR" + "f" * 32) -> StoredCredential:
    return StoredCredential(sid, "fcm", secret=account.json)


def with_providers(
    settings: ProviderSettings,
    use: Callable[[Providers], Awaitable[T]],
    now: Callable[[], float] = time.time,
) -> T:
    async def run() -> T:
        providers = Providers(settings, now=now)
        try:
            return await use(providers)
        finally:
            await providers.aclose()

    return asyncio.run(run())


def send_many(
    fake: FakeFcm, ca_file: str, cred: StoredCredential, tokens: list[str], **settings: object
) -> list[Result]:
    async def use(providers: Providers) -> list[Result]:
        return [await providers.send(cred, "fcm", t, NOTICE) for t in tokens]

    return with_providers(ProviderSettings(fcm_url=fake.url, ca_file=ca_file, **settings), use)  # type: ignore[arg-type]


def test_a_message_is_delivered_over_http2_with_a_token_from_the_token_uri(
    fake_fcm: FakeFcm, push_ca: PushCA
) -> None:
    account = fake_fcm.service_account("my-project")
    [result] = send_many(fake_fcm, push_ca.file, credential(account), ["tok-1"])
    assert result.outcome is Outcome.DELIVERED
    [message] = fake_fcm.delivered("tok-1")
    assert message.project_id == "my-project"
    assert message.http_version == "2"
    assert message.data["twi_body"] == "general;alice: hi"
    assert fake_fcm.token_requests[0].client_email == account.client_email


def test_the_access_token_is_fetched_once_for_concurrent_sends(
    fake_fcm: FakeFcm, push_ca: PushCA
) -> None:
    cred = credential(fake_fcm.service_account())

    async def use(providers: Providers) -> list[Result]:
        return list(
            await asyncio.gather(*(providers.send(cred, "fcm", f"t{i}", NOTICE) for i in range(20)))
        )

    results = with_providers(ProviderSettings(fcm_url=fake_fcm.url, ca_file=push_ca.file), use)
    assert all(r.delivered for r in results)
    assert len(fake_fcm.token_requests) == 1
    assert len(fake_fcm.delivered()) == 20


def test_the_access_token_is_cached_until_shortly_before_it_expires(push_ca: PushCA) -> None:
    now = Now()
    with FakeFcm(push_ca.authority, now=now, token_lifetime=600) as fake:
        cred = credential(fake.service_account())

        async def use(providers: Providers) -> list[Result]:
            results = [await providers.send(cred, "fcm", "t", NOTICE)]
            now.t += 500  # within the token's life, before its last minute
            results.append(await providers.send(cred, "fcm", "t", NOTICE))
            now.t += 50  # in its last minute: renewed before it can expire on the way
            results.append(await providers.send(cred, "fcm", "t", NOTICE))
            return results

        results = with_providers(ProviderSettings(fcm_url=fake.url, ca_file=push_ca.file), use, now)
        assert all(r.delivered for r in results)
        assert len(fake.token_requests) == 2


def test_a_revoked_access_token_is_replaced_once_and_the_send_repeated(
    fake_fcm: FakeFcm, push_ca: PushCA
) -> None:
    cred = credential(fake_fcm.service_account())

    async def use(providers: Providers) -> list[Result]:
        first = await providers.send(cred, "fcm", "t", NOTICE)
        fake_fcm.revoke_access_tokens()
        return [first, await providers.send(cred, "fcm", "t", NOTICE)]

    results = with_providers(ProviderSettings(fcm_url=fake_fcm.url, ca_file=push_ca.file), use)
    assert [r.outcome for r in results] == [Outcome.DELIVERED, Outcome.DELIVERED]
    assert len(fake_fcm.token_requests) == 2
    assert [m.status for m in fake_fcm.messages] == [200, 401, 200]


def test_a_401_that_persists_is_a_credential_failure(fake_fcm: FakeFcm, push_ca: PushCA) -> None:
    fake_fcm.reply(401, times=None)
    [result] = send_many(fake_fcm, push_ca.file, credential(fake_fcm.service_account()), ["t"])
    assert result.outcome is Outcome.CREDENTIAL
    assert result.status == 401
    assert len(fake_fcm.messages) == 2  # one retry with a fresh token, then reported


def test_a_refused_assertion_is_a_credential_failure(fake_fcm: FakeFcm, push_ca: PushCA) -> None:
    account = service_account(fake_fcm.token_uri)  # a key the fake was never given
    [result] = send_many(fake_fcm, push_ca.file, credential(account), ["t"])
    assert result.outcome is Outcome.CREDENTIAL
    assert result.reason.startswith("FCM token endpoint: HTTP 400 invalid_grant")
    assert fake_fcm.messages == []


@pytest.mark.parametrize(
    ("status", "outcome"),
    [(401, Outcome.CREDENTIAL), (403, Outcome.CREDENTIAL), (503, Outcome.RETRY)],
)
def test_token_endpoint_failures(
    fake_fcm: FakeFcm, push_ca: PushCA, status: int, outcome: Outcome
) -> None:
    fake_fcm.reply_token(status, "invalid_client")
    [result] = send_many(fake_fcm, push_ca.file, credential(fake_fcm.service_account()), ["t"])
    assert result.outcome is outcome
    assert result.status == status


def test_unregistered_and_404_mean_the_registration_is_gone(
    fake_fcm: FakeFcm, push_ca: PushCA
) -> None:
    fake_fcm.unregister("dead")
    fake_fcm.reply(404, token="gone")
    results = send_many(
        fake_fcm, push_ca.file, credential(fake_fcm.service_account()), ["dead", "gone"]
    )
    assert [(r.outcome, r.reason) for r in results] == [
        (Outcome.GONE, "FCM 404 UNREGISTERED"),
        (Outcome.GONE, "FCM 404 NOT_FOUND"),
    ]


def test_unavailable_and_quota_are_retried_after_retry_after(
    fake_fcm: FakeFcm, push_ca: PushCA
) -> None:
    fake_fcm.reply(503, token="a", retry_after="7")
    fake_fcm.reply(429, "QUOTA_EXCEEDED", token="b", retry_after="30")
    fake_fcm.reply(500, token="c")
    results = send_many(
        fake_fcm, push_ca.file, credential(fake_fcm.service_account()), ["a", "b", "c"]
    )
    assert [(r.outcome, r.retry_after) for r in results] == [
        (Outcome.RETRY, 7.0),
        (Outcome.RETRY, 30.0),
        (Outcome.RETRY, None),
    ]
    assert results[1].reason == "FCM 429 QUOTA_EXCEEDED"


def test_other_refusals_are_rejected_not_retried(fake_fcm: FakeFcm, push_ca: PushCA) -> None:
    fake_fcm.reply(400, "INVALID_ARGUMENT", token="t")
    fake_fcm.reply(403, "SENDER_ID_MISMATCH", token="u")
    results = send_many(fake_fcm, push_ca.file, credential(fake_fcm.service_account()), ["t", "u"])
    assert [r.outcome for r in results] == [Outcome.REJECTED, Outcome.CREDENTIAL]


def test_a_timeout_is_retried(fake_fcm: FakeFcm, push_ca: PushCA) -> None:
    fake_fcm.reply(200, token="slow", delay=2.0)
    [result] = send_many(
        fake_fcm, push_ca.file, credential(fake_fcm.service_account()), ["slow"], timeout=0.3
    )
    assert result.outcome is Outcome.RETRY
    assert "timeout" in result.reason


def test_a_provider_that_is_down_is_retried(fake_fcm: FakeFcm, push_ca: PushCA) -> None:
    cred = credential(fake_fcm.service_account())
    fake_fcm.stop()
    [result] = send_many(fake_fcm, push_ca.file, cred, ["t"])
    fake_fcm.start()
    assert result.outcome is Outcome.RETRY
    assert "connection error" in result.reason


def test_the_providers_ca_is_trusted_only_through_the_ca_file(fake_fcm: FakeFcm) -> None:
    cred = credential(fake_fcm.service_account())

    async def use(providers: Providers) -> Result:
        return await providers.send(cred, "fcm", "t", NOTICE)

    result = with_providers(ProviderSettings(fcm_url=fake_fcm.url), use)
    assert result.outcome is Outcome.RETRY
    assert "CERTIFICATE_VERIFY_FAILED" in result.reason
    assert fake_fcm.token_requests == []


@pytest.mark.parametrize(
    ("secret", "reason"),
    [
        (None, "no service-account JSON"),
        ("AAAA-legacy-server-key", "legacy FCM server key"),
        ("{not json", "not valid JSON"),
        ('{"project_id": "p"}', "lacks client_email, private_key"),
        (
            '{"project_id": "p", "client_email": "e", "private_key": "nope"}',
            "not a PEM private key",
        ),
    ],
)
def test_an_unusable_service_account_is_a_credential_failure(
    fake_fcm: FakeFcm, push_ca: PushCA, secret: str | None, reason: str
) -> None:
    cred = StoredCredential("CR" + "9" * 32, "fcm", secret=secret)
    [result] = send_many(fake_fcm, push_ca.file, cred, ["t"])
    assert result.outcome is Outcome.CREDENTIAL
    assert reason in result.reason and result.reason.startswith("credential CR")
    assert fake_fcm.token_requests == []


def test_a_gcm_credential_sends_through_fcm_with_the_json_in_api_key(
    fake_fcm: FakeFcm, push_ca: PushCA
) -> None:
    account = fake_fcm.service_account()
    cred = StoredCredential("CR" + "8" * 32, "gcm", api_key=account.json)
    [result] = send_many(fake_fcm, push_ca.file, cred, ["t"])
    assert result.delivered


def test_a_credential_of_the_other_provider_is_a_credential_failure(
    fake_fcm: FakeFcm, push_ca: PushCA
) -> None:
    cred = credential(fake_fcm.service_account())

    async def use(providers: Providers) -> Result:
        return await providers.send(cred, "apn", "0a" * 32, NOTICE)

    result = with_providers(ProviderSettings(fcm_url=fake_fcm.url, ca_file=push_ca.file), use)
    assert result.outcome is Outcome.CREDENTIAL
    assert "is fcm, the registration apn" in result.reason


def test_a_refusal_is_remembered_for_a_minute_not_asked_again_per_device(
    fake_fcm: FakeFcm, push_ca: PushCA
) -> None:
    now = Now()
    fake_fcm.reply_token(400, "invalid_grant", times=None)
    cred = credential(fake_fcm.service_account())

    async def use(providers: Providers) -> list[Result]:
        results = list(
            await asyncio.gather(*(providers.send(cred, "fcm", f"t{i}", NOTICE) for i in range(50)))
        )
        now.t += 61
        return [*results, await providers.send(cred, "fcm", "t", NOTICE)]

    settings = ProviderSettings(fcm_url=fake_fcm.url, ca_file=push_ca.file)
    results = with_providers(settings, use, now)
    assert {r.outcome for r in results} == {Outcome.CREDENTIAL}
    assert len(fake_fcm.token_requests) == 2
