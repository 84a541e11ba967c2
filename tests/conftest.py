"""Shared fixtures: a real chinwag server on a migrated SQLite copy, and clients to drive it.

- The schema is migrated once per session into a template database; each server gets a copy.
  SQLite by default; PostgreSQL when ``CHINWAG_TEST_DATABASE_URL=postgresql://…`` is set.
- ``server`` is shared by the session; tests isolate themselves by creating their own Service.
  ``fresh_server`` gives a test its own server and database (for account-level lists).
- ``chat`` is the official twilio SDK's ``client.chat.v1`` pointed at the server. Every response
  it receives is checked against ``shared/spec/twilio_chat_v1.yaml`` (``spec_contract``), so
  the whole SDK suite is also a contract test.
- ``http`` is an httpx client with credentials, for requests no SDK would send.
- The pytest plugin (``chinwag.testing.plugin``) is loaded too: its ``chinwag_server`` runs on
  a copy of the template here and its ``twilio_client`` checks the spec like ``chat``; tests
  of the control API and of the plugin itself use those fixtures, and ``clean_chat`` gives the
  SDK tests of account-level lists a reset account instead of a server of their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from hypothesis import HealthCheck, settings
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

import spec_contract
from chinwag.app import create_app
from chinwag.clock import Clock
from chinwag.config import Settings
from chinwag.lifeline import become_subreaper, die_with_parent
from chinwag.storage import migrate
from chinwag.testing import ThreadedServer
from chinwag.testing.processes import lifeline, sweep
from chinwag.testing.webhook_receiver import WebhookReceiver

pytest_plugins = ["pytester"]  # the plugin's own tests run inner suites (tests/plugin)

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "test-auth-token-0123456789abcdef"


#: Property tests judge correctness, not speed: on a loaded machine (a CI runner, two suites at
#: once) Hypothesis's per-example deadline and its slow-generation health check fail tests that
#: are right. Tests that set their own ``settings`` still override these fields.
settings.register_profile(
    "chinwag", deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)
settings.load_profile("chinwag")

TEST_DATABASE_URL = os.environ.get("CHINWAG_TEST_DATABASE_URL")

#: the test tiers (pyproject's markers): each test module names the ones its tests need
TIERS = ("unit", "server", "sdk", "browser", "postgres")


def pytest_configure(config: pytest.Config) -> None:
    """Nothing a test starts outlives the run.

    Servers are started with :func:`lifeline` (killed when this process dies, even by
    ``kill -9``); an xdist worker dies with the process that runs it, taking its servers along;
    and this process adopts orphaned descendants, so :func:`pytest_unconfigure` finds them.
    """
    become_subreaper()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        die_with_parent(signal.SIGKILL, os.getppid())


def pytest_unconfigure(config: pytest.Config) -> None:
    """The session-end sweep: kill whatever a test left running, and say so."""
    for command in sweep():
        print(f"chinwag tests: killed a process left running: {command}", file=sys.stderr)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test belongs to a tier, so ``pytest -m unit`` is exactly the in-process tier."""
    untiered = [item.nodeid for item in items if not any(item.get_closest_marker(t) for t in TIERS)]
    if untiered:
        raise pytest.UsageError(
            "tests without a tier marker (pytestmark = pytest.mark.unit, server, sdk, browser "
            "or postgres): " + ", ".join(untiered[:5])
        )


def free_port() -> int:
    """A loopback port that was free a moment ago, for server processes started by tests."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(**extra: str) -> dict[str, str]:
    """This process's environment without any CHINWAG_* setting, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHINWAG_")}
    env.update(extra)
    return env


def spawn_server(
    database: str,
    *args: str,
    env: dict[str, str] | None = None,
    capture: bool = False,
    port: int | None = None,
    log: Path | None = None,
) -> tuple[subprocess.Popen[str], str]:
    """Start a real ``chinwag serve`` process and wait until /healthz answers.

    Returns the process and its base URL. With ``capture`` its output is readable from
    ``proc.stdout``; with ``log`` it is written to that file; otherwise it is discarded.
    ``port`` defaults to a free one.
    """
    port = port or free_port()
    output: Any = subprocess.PIPE if capture else subprocess.DEVNULL
    if log is not None:
        output = log.open("w")
    try:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "chinwag.cli",
                "serve",
                "--port",
                str(port),
                "--database",
                database,
                *args,
            ],
            env=env if env is not None else server_env(),
            stdout=output,
            stderr=subprocess.STDOUT if capture or log is not None else subprocess.DEVNULL,
            text=True,
            # its own process group, so a failed start can kill the workers of `--workers N` too
            start_new_session=True,
            # killed with this test process, however it ends (its workers die with it)
            preexec_fn=lifeline(),
        )
    finally:
        if log is not None:
            output.close()  # the child holds its own copy
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60  # generous: a loaded CI machine starts servers slowly
    try:
        while True:
            assert proc.poll() is None, "chinwag serve exited before becoming healthy"
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    return proc, base
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "chinwag serve did not become healthy"
            time.sleep(0.05)
    except BaseException:
        # never leave a server behind a failed start: a killed supervisor would leave its workers
        # holding the output pipe open, and communicate() would wait for them forever
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise


class Databases:
    """Fresh databases for test servers, each a copy of one migrated template.

    SQLite copies the template file; PostgreSQL (``CHINWAG_TEST_DATABASE_URL`` set) clones it
    with ``CREATE DATABASE … TEMPLATE``, which takes milliseconds.
    """

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._count = 0
        self._created: list[str] = []
        if TEST_DATABASE_URL:
            base, _, self._prefix = TEST_DATABASE_URL.rpartition("/")
            self._admin = f"{base}/postgres"
            self._server = base
            self.template = f"{self._prefix}_template_{os.getpid()}"
            self._admin_sql(f'DROP DATABASE IF EXISTS "{self.template}"')
            self._admin_sql(f'CREATE DATABASE "{self.template}"')
            migrate.upgrade(f"{base}/{self.template}")
        else:
            self.template = str(directory / "template.db")
            migrate.upgrade(f"sqlite:///{self.template}")

    def _admin_sql(self, sql: str) -> None:
        async def run() -> None:
            conn = await asyncpg.connect(self._admin)
            try:
                await conn.execute(sql)
            finally:
                await conn.close()

        asyncio.run(run())

    def new(self) -> str:
        """The URL of a new database holding the migrated, empty schema."""
        self._count += 1
        if TEST_DATABASE_URL:
            name = f"{self._prefix}_{os.getpid()}_{self._count}"
            self._admin_sql(f'DROP DATABASE IF EXISTS "{name}"')
            self._admin_sql(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
            self._created.append(name)
            return f"{self._server}/{name}"
        path = self._directory / f"db{self._count}.db"
        shutil.copy(self.template, path)
        return f"sqlite:///{path}"

    def empty(self) -> str:
        """The URL of a new database with nothing in it (for migration tests)."""
        self._count += 1
        if TEST_DATABASE_URL:
            name = f"{self._prefix}_{os.getpid()}_{self._count}"
            self._admin_sql(f'DROP DATABASE IF EXISTS "{name}"')
            self._admin_sql(f'CREATE DATABASE "{name}"')
            self._created.append(name)
            return f"{self._server}/{name}"
        return f"sqlite:///{self._directory / f'db{self._count}.db'}"

    def drop_all(self) -> None:
        for name in [*self._created, self.template] if TEST_DATABASE_URL else []:
            self._admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    dbs = Databases(tmp_path_factory.mktemp("databases"))
    yield dbs
    dbs.drop_all()


def start_server(
    databases: Databases, *, clock: Clock | None = None, **overrides: Any
) -> ThreadedServer:
    """A started server on a fresh copy of the template database (on ``clock`` if given)."""
    settings = Settings(
        database=databases.new(), account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, **overrides
    )
    return ThreadedServer(create_app(settings, clock=clock)).start()


@pytest.fixture(scope="session")
def server(databases: Databases) -> Iterator[ThreadedServer]:
    srv = start_server(databases)
    yield srv
    srv.stop()


@pytest.fixture
def fresh_server(databases: Databases) -> Iterator[ThreadedServer]:
    srv = start_server(databases)
    yield srv
    srv.stop()


class ContractCheckingHttpClient(TwilioHttpClient):
    """The SDK's own HTTP client, checking each response against the spec as it arrives."""

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        response = super().request(method, url, *args, **kwargs)
        problems = spec_contract.check_exchange(method, url, response.status_code, response.text)
        assert not problems, f"{method} {url} -> {response.status_code}:\n" + "\n".join(problems)
        return response


def sdk_client(srv: ThreadedServer) -> Client:
    client = Client(ACCOUNT_SID, AUTH_TOKEN, http_client=ContractCheckingHttpClient())
    client.chat.base_url = srv.url
    return client


@pytest.fixture
def chat(server: ThreadedServer) -> Any:
    """``client.chat.v1`` of the official SDK, against the shared server."""
    return sdk_client(server).chat.v1


@pytest.fixture
def fresh_chat(fresh_server: ThreadedServer) -> Any:
    return sdk_client(fresh_server).chat.v1


@pytest.fixture
def service(chat: Any) -> Any:
    """A new Service (its SDK context) for the test to work in."""
    created = chat.services.create(friendly_name="test service")
    return chat.services(created.sid)


@pytest.fixture
def http(server: ThreadedServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, auth=(ACCOUNT_SID, AUTH_TOKEN)) as client:
        yield client


@pytest.fixture
def receiver(webhook_receiver: WebhookReceiver) -> WebhookReceiver:
    """The plugin's ``webhook_receiver`` under the name the webhook tests use."""
    return webhook_receiver


# --- the pytest plugin's fixtures (chinwag.testing.plugin), adapted to this suite -------------


@pytest.fixture(scope="session")
def chinwag_database_url(databases: Databases) -> str:
    """The plugin's server runs on a fresh copy of the template (PostgreSQL when asked)."""
    return databases.new()


@pytest.fixture
def clean_chat(twilio_client: Client) -> Any:
    """``client.chat.v1`` on the plugin's server: an account of the test's own (reset before
    it), for account-level lists, without a server per test as ``fresh_chat`` costs."""
    return twilio_client.chat.v1


@pytest.fixture
def chinwag_http_client() -> TwilioHttpClient:
    """``twilio_client`` checks every response against the spec, as ``chat`` does."""
    return ContractCheckingHttpClient()
