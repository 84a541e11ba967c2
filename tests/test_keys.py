"""API keys through real interfaces: ``chinwag keys``/``chinwag token`` as processes on a real
database, and REST calls from twilio-python's ``Client(key_sid, key_secret, account_sid)``
against a running ``chinwag serve``.

Runs on SQLite, and on PostgreSQL when CHINWAG_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from chinwag.app import open_deps
from chinwag.config import Settings
from chinwag.domain.access_tokens import ClientGrant, authenticate
from conftest import ACCOUNT_SID, AUTH_TOKEN, Databases, server_env, spawn_server

pytestmark = pytest.mark.server

ACCOUNT_ENV = {"CHINWAG_ACCOUNT_SID": ACCOUNT_SID, "CHINWAG_AUTH_TOKEN": AUTH_TOKEN}
CONFIGURED_KEY = "SK" + "c0ffee00" * 4
CONFIGURED_SECRET = "configured-secret-0123456789abcdef"


def chinwag(database: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run a ``chinwag`` command on ``database`` with the test account configured."""
    return subprocess.run(
        [sys.executable, "-m", "chinwag.cli", *args, "--database", database],
        env=server_env(**ACCOUNT_ENV, **env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def create_key(database: str, name: str) -> tuple[str, str]:
    result = chinwag(database, "keys", "create", "--friendly-name", name)
    assert result.returncode == 0, result.stderr
    found = re.fullmatch(r"sid:    (SK[0-9a-f]{32})\nsecret: ([0-9a-f]{32})\n", result.stdout)
    assert found, result.stdout
    assert "shown only this once" in result.stderr
    return found[1], found[2]


@contextmanager
def serving(database: str, *args: str, **env: str) -> Iterator[str]:
    proc, url = spawn_server(database, *args, env=server_env(**ACCOUNT_ENV, **env))
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def chat(url: str, user: str, password: str) -> Any:
    """twilio-python's Chat v1 client; with an API key, the account SID is passed beside it."""
    client = Client(user, password, ACCOUNT_SID)
    client.chat.base_url = url
    return client.chat.v1


def assert_401(chat_v1: Any) -> None:
    """A create is refused before it is looked at: nothing is written."""
    with pytest.raises(TwilioRestException) as info:
        chat_v1.services.create(friendly_name="refused")
    assert (info.value.status, info.value.code) == (401, 20003)


def test_read_only_key_commands_do_not_create_a_database(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'absent.db'}"
    for args in (("keys", "list"), ("keys", "delete", CONFIGURED_KEY)):
        result = chinwag(database, *args)
        assert result.returncode == 2
        assert result.stderr.startswith("chinwag: no chinwag database at ")
    assert list(tmp_path.iterdir()) == []


def test_keys_are_created_listed_and_deleted(databases: Databases) -> None:
    database = databases.new()
    first, _ = create_key(database, "back end")
    second, _ = create_key(database, "ci")
    listed = chinwag(database, "keys", "list")
    lines = listed.stdout.splitlines()
    assert [line.split()[0] for line in lines] == [first, second]
    assert lines[0].endswith("  back end") and lines[1].endswith("  ci")
    assert re.search(r"  \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ  ", lines[0])
    deleted = chinwag(database, "keys", "delete", first)
    assert (deleted.returncode, deleted.stdout) == (0, f"chinwag: deleted API key {first}\n")
    assert chinwag(database, "keys", "list").stdout.split()[0] == second
    again = chinwag(database, "keys", "delete", first)
    assert (again.returncode, again.stderr) == (
        1,
        f"chinwag: no API key {first} in this database\n",
    )


def test_a_key_calls_the_api_until_it_is_deleted_in_another_process(
    databases: Databases,
) -> None:
    database = databases.new()
    sid, secret = create_key(database, "back end")
    with serving(database, "--workers", "2") as url:
        by_key = chat(url, sid, secret)
        created = by_key.services.create(friendly_name="made with a key")
        assert created.account_sid == ACCOUNT_SID
        by_token = chat(url, ACCOUNT_SID, AUTH_TOKEN)
        assert by_token.services(created.sid).fetch().friendly_name == "made with a key"
        assert_401(chat(url, sid, "0" * 32))
        assert_401(chat(url, "SK" + "0" * 32, secret))
        assert chinwag(database, "keys", "delete", sid).returncode == 0
        for _ in range(6):  # whichever worker answers, the key is gone at once
            assert_401(by_key)
        assert len(by_token.services.list()) == 1


def test_serve_makes_the_configured_key_exist(databases: Databases) -> None:
    database = databases.new()
    env = {"CHINWAG_API_KEY_SID": CONFIGURED_KEY, "CHINWAG_API_KEY_SECRET": CONFIGURED_SECRET}
    with serving(database, "--workers", "2", **env) as url:  # both workers make it exist
        assert chat(url, CONFIGURED_KEY, CONFIGURED_SECRET).services.list() == []
    assert chinwag(database, "keys", "list").stdout.split()[0] == CONFIGURED_KEY


def test_serve_rejects_a_malformed_key_sid_in_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "chinwag.cli", "serve", "--api-key-sid", "SK123"],
        env=server_env(CHINWAG_API_KEY_SECRET="x"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr == "chinwag: api_key_sid must be SK followed by 32 hex digits\n"


def verify(database: str, token: str) -> ClientGrant:
    settings = Settings(database=database, account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN)

    async def run() -> ClientGrant:
        async with open_deps(settings) as deps:
            return await authenticate(deps, token)

    return asyncio.run(run())


def mint(database: str, service_sid: str, *args: str, **env: str) -> tuple[str, str]:
    """``chinwag token`` for alice; returns the token and what it said on stderr."""
    result = chinwag(
        database, "token", "--identity", "alice", "--service", service_sid, *args, **env
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip(), result.stderr


def test_chinwag_token_prints_a_token_that_authenticates(databases: Databases) -> None:
    database = databases.new()
    with serving(database) as url:
        service = chat(url, ACCOUNT_SID, AUTH_TOKEN).services.create(friendly_name="s")
    token, said = mint(database, service.sid, "--ttl", "120")
    own_key = re.fullmatch(r'chinwag: created API key (SK[0-9a-f]{32}) \("chinwag token"\)\n', said)
    assert own_key, said
    grant = verify(database, token)
    assert (grant.identity, grant.service_sid, grant.key_sid) == ("alice", service.sid, own_key[1])
    _, said_again = mint(database, service.sid)
    assert said_again == ""  # its key is reused, not made again
    chosen, _ = create_key(database, "chosen")
    assert verify(database, mint(database, service.sid, "--key", chosen)[0]).key_sid == chosen
    configured = {"CHINWAG_API_KEY_SID": CONFIGURED_KEY, "CHINWAG_API_KEY_SECRET": "s" * 32}
    assert verify(database, mint(database, service.sid, **configured)[0]).key_sid == CONFIGURED_KEY


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("--service", "IS" + "0" * 32), 1, "no Service IS" + "0" * 32 + " in this database"),
        (("--service", "IS" + "0" * 32, "--ttl", "86401"), 2, "--ttl must be between 1 and"),
        (("--service", "IS" + "0" * 32, "--key", "SK" + "0" * 32), 1, "no "),
    ],
)
def test_chinwag_token_explains_what_it_cannot_do(
    databases: Databases, args: tuple[str, ...], code: int, message: str
) -> None:
    result = chinwag(databases.new(), "token", "--identity", "alice", *args)
    assert result.returncode == code
    assert result.stderr.startswith(f"chinwag: {message}")
