"""The pytest plugin as a user's suite sees it: inner test runs through ``pytester``.

Each inner run is a separate pytest process (``runpytest_subprocess``) with the plugin loaded
from its entry point, exactly as in a project that only installed chinwag.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from conftest import ACCOUNT_SID, AUTH_TOKEN, Databases, server_env, spawn_server

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def run(pytester: pytest.Pytester, databases: Databases) -> Any:
    """Run the inner suite on a fresh database of this run's kind (SQLite or PostgreSQL)."""

    def go(*args: str) -> pytest.RunResult:
        return pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", "--chinwag-database", databases.new(), *args, timeout=240
        )

    return go


def test_the_example_suite_runs_offline(pytester: pytest.Pytester, run: Any) -> None:
    for path in (ROOT / "examples" / "chat_suite").glob("*.py"):
        shutil.copy(path, pytester.path / path.name)
    run().assert_outcomes(passed=3)


def test_fixtures_reset_clock_tokens_and_webhooks(pytester: pytest.Pytester, run: Any) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import httpx
        import jwt

        def test_state_is_made(twilio_client):
            twilio_client.chat.v1.services.create(friendly_name="left behind")

        def test_state_is_reset(twilio_client, chinwag_server):
            assert twilio_client.chat.v1.services.list() == []
            assert chinwag_server.url.startswith("http://127.0.0.1:")

        def test_async_client(twilio_client_async):
            services = twilio_client_async.chat.v1.services
            created = asyncio.run(services.create_async(friendly_name="async"))
            assert created.sid.startswith("IS")

        def test_clock_and_tokens(chinwag_server, chinwag_clock, chat_token):
            chinwag_clock.set(1_900_000_000_000)
            assert chinwag_clock.advance(60) >= 1_900_000_060_000
            token = chat_token("alice", "IS" + "0" * 32, ttl=600)
            secret = chinwag_server.api_key_secret
            claims = jwt.decode(token, secret, algorithms=["HS256"], options={"verify_nbf": False})
            assert claims["iss"] == chinwag_server.api_key_sid
            assert claims["sub"] == chinwag_server.account_sid
            assert claims["grants"]["identity"] == "alice"
            assert 1_900_000_060 <= claims["nbf"] < 1_900_000_120
            assert claims["exp"] - claims["nbf"] == 600

        def test_clock_is_back_on_system_time(chinwag_clock):
            import time
            assert abs(chinwag_clock.now_ms() - time.time() * 1000) < 60_000

        def test_webhooks_reach_the_receiver(twilio_client, webhook_receiver, chinwag_server):
            from chinwag.testing.webhook_receiver import validate_signature

            chat = twilio_client.chat.v1
            service = chat.services.create(friendly_name="hooks")
            chat.services(service.sid).update(
                post_webhook_url=webhook_receiver.url("/events"),
                webhook_filters=["onChannelAdded"],
            )
            webhook_receiver.reply("/events", status=200)
            # twilio-python's Chat v1 has no X-Twilio-Webhook-Enabled argument: plain HTTP
            httpx.post(
                f"{chinwag_server.url}/v1/Services/{service.sid}/Channels",
                data={"FriendlyName": "c"},
                headers={"X-Twilio-Webhook-Enabled": "true"},
                auth=(chinwag_server.account_sid, chinwag_server.auth_token),
            ).raise_for_status()
            (record,) = webhook_receiver.wait_for(1)
            assert (record.method, record.path) == ("POST", "/events")
            assert record.params["EventType"] == "onChannelAdded"
            assert validate_signature(record, chinwag_server.auth_token)
        """
    )
    run().assert_outcomes(passed=6)


def test_settings_can_be_overridden(pytester: pytest.Pytester, run: Any) -> None:
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session")
        def chinwag_settings():
            return {"public_url": "https://chat.example.test"}
        """
    )
    pytester.makepyfile(
        """
        def test_urls_use_it(twilio_client):
            created = twilio_client.chat.v1.services.create(friendly_name="s")
            assert created.url.startswith("https://chat.example.test/v1/Services/IS")
        """
    )
    run().assert_outcomes(passed=1)


def test_reset_runs_only_for_tests_that_use_the_server(pytester: pytest.Pytester, run: Any) -> None:
    pytester.makepyfile(
        """
        def test_no_server_needed(request):
            assert "chinwag_server" not in request.fixturenames
        """
    )
    run().assert_outcomes(passed=1)


def test_an_external_server_by_options_and_by_environment(
    pytester: pytest.Pytester, databases: Databases, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = ("SK" + "2" * 32, "external-key-secret")
    env = server_env(
        CHINWAG_ACCOUNT_SID=ACCOUNT_SID,
        CHINWAG_AUTH_TOKEN=AUTH_TOKEN,
        CHINWAG_API_KEY_SID=key[0],
        CHINWAG_API_KEY_SECRET=key[1],
    )
    dev = ("--development", "true", "--clock", "controllable")  # development: control API on
    proc, url = spawn_server(databases.new(), *dev, env=env)
    try:
        pytester.makepyfile(
            f"""
            def test_uses_it(chinwag_server, twilio_client, chat_token):
                assert chinwag_server.url == "{url}"
                assert twilio_client.chat.v1.services.list() == []
                twilio_client.chat.v1.services.create(friendly_name="external")
                assert chat_token("bob", "IS" + "0" * 32).count(".") == 2
            """
        )
        options = ["--chinwag-url", url, "--chinwag-account-sid", ACCOUNT_SID]
        options += ["--chinwag-auth-token", AUTH_TOKEN, "--chinwag-api-key-sid", key[0]]
        options += ["--chinwag-api-key-secret", key[1]]
        pytester.runpytest_subprocess("-p", "no:cacheprovider", *options).assert_outcomes(passed=1)
        monkeypatch.setenv("CHINWAG_TEST_URL", url)
        monkeypatch.setenv("CHINWAG_TEST_ACCOUNT_SID", ACCOUNT_SID)
        monkeypatch.setenv("CHINWAG_TEST_AUTH_TOKEN", AUTH_TOKEN)
        monkeypatch.setenv("CHINWAG_TEST_API_KEY_SID", key[0])
        monkeypatch.setenv("CHINWAG_TEST_API_KEY_SECRET", key[1])
        pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
        monkeypatch.delenv("CHINWAG_TEST_API_KEY_SID")
        without_key = pytester.runpytest_subprocess("-p", "no:cacheprovider")
        without_key.assert_outcomes(errors=1)
        without_key.stdout.fnmatch_lines(["*chat_token needs an API key*"])
        monkeypatch.delenv("CHINWAG_TEST_AUTH_TOKEN")
        no_credentials = pytester.runpytest_subprocess("-p", "no:cacheprovider")
        no_credentials.assert_outcomes(errors=1)
        no_credentials.stdout.fnmatch_lines(["*--chinwag-url needs --chinwag-account-sid*"])
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_a_suite_asserts_that_bobs_phone_was_notified(pytester: pytest.Pytester, run: Any) -> None:
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session")
        def chinwag_settings(chinwag_push_settings):
            return {**chinwag_push_settings}
        """
    )
    pytester.makepyfile(
        """
        import json

        def test_bob_is_notified(twilio_client, chinwag_server, fake_fcm):
            chat = twilio_client.chat.v1
            service = chat.services.create(friendly_name="app")
            service.update(notifications_new_message_enabled=True)
            account = fake_fcm.service_account()
            credential = chat.credentials.create(type="fcm", secret=account.json)
            channel = service.channels.create(unique_name="general")
            for identity in ("alice", "bob"):
                service.users.create(identity=identity)
                channel.members.create(identity=identity)
            # bob's app registered its phone (the SDK's setPushRegistrationId): seeded here
            snapshot = chinwag_server.control.export_snapshot()
            snapshot["tables"]["push_registrations"] = [{
                "sid": "BS" + "0" * 32, "service_sid": service.sid, "identity": "bob",
                "channel_type": "fcm", "address": "bob-phone", "endpoint": "android",
                "message_types": json.dumps(["twilio.channel.new_message"]),
                "credential_sid": credential.sid,
                "date_created": 0, "date_updated": 0,
            }]
            chinwag_server.control.import_snapshot(snapshot)
            chat.credentials(credential.sid).update(secret=account.json)  # never exported

            channel.messages.create(from_="alice", body="hi bob")
            [message] = fake_fcm.wait_for(1, token="bob-phone")
            assert message.data["twi_body"] == "general;alice: hi bob"
            assert message.data["twi_message_type"] == "twilio.channel.new_message"
        """
    )
    run().assert_outcomes(passed=1)
