"""The pytest plugin (entry point ``pytest11: chinwag``): a real chinwag for a test suite.

Installing chinwag installs the plugin. A suite that talks to Twilio Chat asks for
``twilio_client`` (or builds its own client on ``chinwag_server.url``) and runs offline.

- ``chinwag_server`` starts one server per session, in-process on a free loopback port, with a
  migrated SQLite file (``--chinwag-database`` for another database) and a controllable clock;
  ``--chinwag-url`` uses an already running server instead.
- Every test that uses it starts from a clean account: an autouse fixture calls
  ``POST /_chinwag/reset`` before the test (milliseconds, not a restart). Tests that do not
  use chinwag cost nothing: the server starts on first use.
- Override ``chinwag_database_url``, ``chinwag_settings`` or ``chinwag_http_client`` in a
  ``conftest.py`` to choose the database, server settings or the twilio HTTP client.

Environment variables stand in for the options (``CHINWAG_TEST_URL``,
``CHINWAG_TEST_ACCOUNT_SID``…): the plugin runs in the user's test process, not in the
server, so it reads them itself rather than through ``chinwag.config``.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from chinwag import sids
from chinwag.testing.control import ControlClient, ServerClock
from chinwag.testing.webhook_receiver import Record, WebhookReceiver, validate_signature

if TYPE_CHECKING:
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    from chinwag.testing.certificates import CertificateAuthority
    from chinwag.testing.fake_apns import FakeApns
    from chinwag.testing.fake_fcm import FakeFcm

#: option name -> (environment variable, help)
OPTIONS = {
    "database": ("CHINWAG_TEST_DATABASE", "database URL for the server the plugin starts"),
    "url": ("CHINWAG_TEST_URL", "use the chinwag server running at this URL instead"),
    "account-sid": ("CHINWAG_TEST_ACCOUNT_SID", "account SID of the server at --chinwag-url"),
    "auth-token": ("CHINWAG_TEST_AUTH_TOKEN", "auth token of that account"),
    "api-key-sid": ("CHINWAG_TEST_API_KEY_SID", "API key of that account (for chat_token)"),
    "api-key-secret": ("CHINWAG_TEST_API_KEY_SECRET", "secret of that API key"),
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("chinwag", "chinwag: a local Twilio Chat server")
    for name, (env, help_text) in OPTIONS.items():
        group.addoption(f"--chinwag-{name}", default=None, help=f"{help_text} [{env}]")


def _option(config: pytest.Config, name: str) -> str | None:
    value: str | None = config.getoption(f"--chinwag-{name}") or os.environ.get(OPTIONS[name][0])
    return value


@dataclass(frozen=True)
class ChinwagServer:
    """The server a session tests against, and the credentials to call it with."""

    url: str
    account_sid: str
    auth_token: str
    api_key_sid: str | None
    api_key_secret: str | None
    control: ControlClient

    def reset(self) -> None:
        """Delete every resource of the account (the account and its API keys stay)."""
        self.control.reset()


@pytest.fixture(scope="session")
def chinwag_database_url(tmp_path_factory: pytest.TempPathFactory, pytestconfig: Any) -> str:
    """The database of the server the plugin starts: ``--chinwag-database`` or a new SQLite
    file. It is migrated before the server starts."""
    given = _option(pytestconfig, "database")
    if given:
        return given
    return f"sqlite:///{tmp_path_factory.mktemp('chinwag') / 'chinwag.db'}"


@pytest.fixture(scope="session")
def chinwag_settings() -> dict[str, Any]:
    """Extra ``chinwag.config.Settings`` for the server the plugin starts (override it)."""
    return {}


def _external(config: pytest.Config, url: str) -> ChinwagServer:
    account_sid, auth_token = _option(config, "account-sid"), _option(config, "auth-token")
    if not account_sid or not auth_token:
        raise pytest.UsageError(
            "--chinwag-url needs --chinwag-account-sid and --chinwag-auth-token "
            "(or CHINWAG_TEST_ACCOUNT_SID and CHINWAG_TEST_AUTH_TOKEN)"
        )
    return ChinwagServer(
        url.rstrip("/"),
        account_sid,
        auth_token,
        _option(config, "api-key-sid"),
        _option(config, "api-key-secret"),
        ControlClient(url, account_sid, auth_token),
    )


@pytest.fixture(scope="session")
def chinwag_server(pytestconfig: Any, request: pytest.FixtureRequest) -> Iterator[ChinwagServer]:
    """A real chinwag for the session (see the module docstring)."""
    url = _option(pytestconfig, "url")
    if url:
        server = _external(pytestconfig, url)
        yield server
        server.control.close()
        return
    from chinwag.app import create_app
    from chinwag.config import Settings
    from chinwag.storage import migrate
    from chinwag.testing.server import ThreadedServer

    database: str = request.getfixturevalue("chinwag_database_url")
    migrate.upgrade(database)
    generator = sids.SidGenerator()
    settings = Settings(
        database=database,
        account_sid=generator.new(sids.ACCOUNT),
        auth_token=secrets.token_hex(16),
        api_key_sid=generator.new(sids.API_KEY),
        api_key_secret=secrets.token_hex(16),
        **{
            "clock": "controllable",
            "control_api": True,
            **request.getfixturevalue("chinwag_settings"),
        },
    )
    with ThreadedServer(create_app(settings)) as threaded:
        assert settings.account_sid and settings.auth_token  # set just above
        control = ControlClient(threaded.url, settings.account_sid, settings.auth_token)
        yield ChinwagServer(
            threaded.url,
            settings.account_sid,
            settings.auth_token,
            settings.api_key_sid,
            settings.api_key_secret,
            control,
        )
        control.close()


@pytest.fixture(autouse=True)
def _chinwag_clean_state(request: pytest.FixtureRequest) -> None:
    """Reset the account before every test that uses the server (and only those)."""
    if "chinwag_server" in request.fixturenames:
        server: ChinwagServer = request.getfixturevalue("chinwag_server")
        server.reset()


@pytest.fixture
def chinwag_http_client() -> TwilioHttpClient | None:
    """The HTTP client ``twilio_client`` uses (None: twilio's default); override to wrap it."""
    return None


@pytest.fixture
def twilio_client(
    chinwag_server: ChinwagServer, chinwag_http_client: TwilioHttpClient | None
) -> Client:
    """twilio-python's ``Client`` with ``client.chat`` pointed at the server."""
    from twilio.rest import Client

    client = Client(
        chinwag_server.account_sid, chinwag_server.auth_token, http_client=chinwag_http_client
    )
    client.chat.base_url = chinwag_server.url
    return client


@pytest.fixture
def twilio_client_async(chinwag_server: ChinwagServer) -> Client:
    """The same, on twilio-python's ``AsyncTwilioHttpClient`` (``*_async`` methods).

    The HTTP client opens a session per request, so nothing is left open in an event loop
    that may be gone when the test ends.
    """
    from twilio.http.async_http_client import AsyncTwilioHttpClient
    from twilio.rest import Client

    client = Client(
        chinwag_server.account_sid,
        chinwag_server.auth_token,
        http_client=AsyncTwilioHttpClient(pool_connections=False),
    )
    client.chat.base_url = chinwag_server.url
    return client


@pytest.fixture
def chinwag_clock(chinwag_server: ChinwagServer) -> ServerClock:
    """The server's clock: ``now_ms()``, ``set(now_ms)``, ``advance(seconds)``."""
    return ServerClock(chinwag_server.control)


ChatToken = Callable[..., str]


@pytest.fixture
def chat_token(chinwag_server: ChinwagServer) -> ChatToken:
    """``chat_token(identity, service_sid, ttl=3600)``: an access token for a chat client,
    signed with the session's API key and dated by the server's clock."""
    from chinwag.domain.access_tokens import mint_token

    key_sid, secret = chinwag_server.api_key_sid, chinwag_server.api_key_secret
    if not key_sid or not secret:
        raise pytest.UsageError(
            "chat_token needs an API key of the server's account: "
            "--chinwag-api-key-sid and --chinwag-api-key-secret"
        )

    def make(identity: str, service_sid: str, ttl: int = 3600) -> str:
        return mint_token(
            key_sid=key_sid,
            secret=secret,
            account_sid=chinwag_server.account_sid,
            identity=identity,
            service_sid=service_sid,
            now_s=chinwag_server.control.clock()["now_ms"] // 1000,
            ttl_s=ttl,
        )

    return make


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """A real HTTP server on loopback recording the requests it gets (the server's webhooks):
    ``.url(path)``, ``.reply(path, status, json, delay)``, ``.records``, ``.wait_for(n)``."""
    with WebhookReceiver() as receiver:
        yield receiver


@dataclass(frozen=True)
class ChannelWebhookTarget:
    """A channel webhook pointed at the ``webhook_receiver``, on a path of its own.

    ``wait_for(n)`` returns its first ``n`` requests (the path's), each one's
    ``X-Twilio-Signature`` already checked with twilio's RequestValidator; ``events()`` is the
    ``EventType`` of every request so far, in arrival order.
    """

    sid: str
    path: str
    receiver: WebhookReceiver
    auth_token: str

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Record]:
        records = self.receiver.wait_for(count, timeout, path=self.path)
        for record in records:
            assert validate_signature(record, self.auth_token), f"bad signature: {record}"
        return records

    def events(self) -> list[str]:
        return [r.params["EventType"] for r in self.receiver.records if r.path == self.path]


ChannelWebhookFactory = Callable[..., ChannelWebhookTarget]


@pytest.fixture
def channel_webhook(
    chinwag_server: ChinwagServer, webhook_receiver: WebhookReceiver
) -> ChannelWebhookFactory:
    """``channel_webhook(service_sid, channel, filters=("onMessageSent",), **configuration)``:
    a v2 Channel Webhook of ``channel`` (SID or unique name) calling the ``webhook_receiver``.

    ``configuration`` takes ``type`` (``webhook``; ``trigger`` with ``triggers=[...]``),
    ``method`` and ``retry_count``. Its events fire for chat users' actions and for REST
    calls sent with ``X-Twilio-Webhook-Enabled: true``.
    """
    from twilio.rest import Client

    client = Client(chinwag_server.account_sid, chinwag_server.auth_token)
    client.chat.base_url = chinwag_server.url
    made = 0

    def make(
        service_sid: str,
        channel: str,
        filters: Sequence[str] = ("onMessageSent",),
        *,
        type: str = "webhook",
        triggers: Sequence[str] = (),
        method: str = "POST",
        retry_count: int = 0,
    ) -> ChannelWebhookTarget:
        nonlocal made
        made += 1
        path = f"/channel-webhook-{made}"
        hooks = client.chat.v2.services(service_sid).channels(channel).webhooks
        options: dict[str, Any] = {
            "type": type,
            "configuration_url": webhook_receiver.url(path),
            "configuration_method": method,
            "configuration_retry_count": retry_count,
        }
        if type == "trigger":
            options["configuration_triggers"] = list(triggers)
        else:
            options["configuration_filters"] = list(filters)
        created = hooks.create(**options)
        return ChannelWebhookTarget(created.sid, path, webhook_receiver, chinwag_server.auth_token)

    return make


@dataclass(frozen=True)
class PushCA:
    """The CA the fake push providers' certificates chain to: ``file`` is for
    ``--push-ca-file``; ``authority`` issues more certificates (``.apns_client(bundle_id)``)."""

    authority: CertificateAuthority
    file: str


@pytest.fixture(scope="session")
def push_ca(tmp_path_factory: pytest.TempPathFactory) -> PushCA:
    """A throwaway CA for the session's fake push providers."""
    from chinwag.testing.certificates import CertificateAuthority

    authority = CertificateAuthority()
    path = authority.write(tmp_path_factory.mktemp("push-ca") / "ca.pem")
    return PushCA(authority, str(path))


@pytest.fixture(scope="session")
def _chinwag_fake_fcm(push_ca: PushCA) -> Iterator[FakeFcm]:
    from chinwag.testing.fake_fcm import FakeFcm

    with FakeFcm(push_ca.authority) as fake:
        yield fake


@pytest.fixture(scope="session")
def _chinwag_fake_apns(push_ca: PushCA) -> Iterator[FakeApns]:
    from chinwag.testing.fake_apns import FakeApns

    with FakeApns(push_ca.authority) as fake:
        yield fake


@pytest.fixture(scope="session")
def chinwag_push_settings(
    push_ca: PushCA, _chinwag_fake_fcm: FakeFcm, _chinwag_fake_apns: FakeApns
) -> dict[str, Any]:
    """Server settings that send pushes to the session's fake FCM and APNs: return them from
    an overridden ``chinwag_settings`` (``return {**chinwag_push_settings}``) and the plugin's
    server delivers to ``fake_fcm`` and ``fake_apns``."""
    return {
        "push_fcm_url": _chinwag_fake_fcm.url,
        "push_apns_url": _chinwag_fake_apns.url,
        "push_ca_file": push_ca.file,
    }


@pytest.fixture
def fake_fcm(_chinwag_fake_fcm: FakeFcm) -> FakeFcm:
    """A fake FCM (HTTP v1 and its OAuth2 token endpoint, over TLS) for the session, its
    records and scripted replies cleared for each test: ``.url``, ``.service_account()``,
    ``.wait_for(n, token=...)``, ``.reply(status, error_code, token=...)``, ``.unregister``."""
    _chinwag_fake_fcm.reset()
    return _chinwag_fake_fcm


@pytest.fixture
def fake_apns(_chinwag_fake_apns: FakeApns) -> FakeApns:
    """A fake APNs (HTTP/2 over TLS, client certificates verified) for the session, cleared
    for each test: ``.url``, ``.client_certificate(bundle_id)``, ``.signing_key(team_id)``,
    ``.wait_for(n, token=...)``, ``.reply(status, reason, token=...)``, ``.unregister``."""
    _chinwag_fake_apns.reset()
    return _chinwag_fake_apns
