"""Start-up and the read-only commands, as a newcomer meets them: the real CLI in a subprocess.

Failures are one ``chinwag:`` line (exit 2), every start names its database and account, a
configured account that hides stored data is warned about, and looking never creates anything.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from cli_process import run_cli, serving

from chinwag.http.control import CONTROL_ROUTES
from chinwag.http.routes import V1, V2, V3
from chinwag.webhooks.log import TEXT_HEADER
from conftest import ACCOUNT_SID, AUTH_TOKEN, TEST_DATABASE_URL, Databases, free_port, server_env

pytestmark = pytest.mark.server

ENV = server_env(CHINWAG_ACCOUNT_SID=ACCOUNT_SID, CHINWAG_AUTH_TOKEN=AUTH_TOKEN)
PG_SERVER = TEST_DATABASE_URL.rpartition("/")[0] if TEST_DATABASE_URL else None


def _credentials(text: str) -> tuple[str, str]:
    sid = re.search(r"CHINWAG_ACCOUNT_SID=(AC[0-9a-f]{32})", text)
    token = re.search(r"CHINWAG_AUTH_TOKEN=([0-9a-f]{32})", text)
    assert sid and token, text
    return sid[1], token[1]


def _failures(tmp_path: Path) -> list[tuple[list[str], str]]:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database\n" * 100)
    port = free_port()
    cases = [
        (["--database", f"sqlite:///{junk}"], "file is not a database"),
        (["--log-level", "verbose"], "log_level must be one of"),
        (["--database", f"postgresql://postgres@127.0.0.1:{port}/x"], "Connect call failed"),
        (["--database", "postgresql://u:hunter2@127.0.0.1/x?ssl=maybe"], "use sslmode="),
    ]
    if PG_SERVER:
        host = PG_SERVER.partition("@")[2]
        cases += [
            (["--database", f"{PG_SERVER}/cw_harden_cli_missing"], "does not exist"),
            (["--database", f"postgresql://no_such_role@{host}/postgres"], 'role "no_such_role"'),
        ]
    return cases


def test_start_up_failures_are_one_line(tmp_path: Path) -> None:
    for args, reason in _failures(tmp_path):
        result = run_cli("serve", "--port", "0", *args, cwd=tmp_path)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stdout == ""
        (line,) = result.stderr.splitlines()
        assert line.startswith("chinwag: ") and reason in line, (args, line)
        assert "hunter2" not in line


def test_every_start_names_its_database_and_account(databases: Databases) -> None:
    database = databases.new()
    with serving("--database", database, env=ENV) as (_, output):
        pass
    shown = database if PG_SERVER else database.removeprefix("sqlite:///")
    assert f"chinwag: database {shown}" in output.stderr
    assert f"chinwag: serving account {ACCOUNT_SID} on http://" in output.stderr
    assert "warning" not in output.stderr
    assert output.stdout == ""


def test_a_start_in_another_folder_says_it_made_a_new_database(tmp_path: Path) -> None:
    with serving(cwd=tmp_path) as (_, output):
        pass
    assert f"chinwag: new database {tmp_path / 'chinwag.db'}" in output.stderr
    sid, _ = _credentials(output.stderr)
    assert f"serving account {sid}" in output.stderr


def test_account_show_finds_a_lost_token(databases: Databases) -> None:
    database = databases.empty()
    with serving("--database", database) as (url, first):
        pass
    sid, token = _credentials(first.stderr)
    shown = run_cli("account", "show", "--database", database)
    assert shown.returncode == 0, shown.stderr
    assert _credentials(shown.stdout) == (sid, token)
    with serving("--database", database) as (url, second):
        assert httpx.get(f"{url}/v1/Services", auth=(sid, token)).status_code == 200
    assert "CHINWAG_AUTH_TOKEN" not in second.stderr
    assert f"serving account {sid}" in second.stderr


def test_account_show_says_when_only_a_configured_account_was_served(
    databases: Databases,
) -> None:
    result = run_cli("account", "show", "--database", databases.new())
    assert result.returncode == 2
    assert "no account is stored" in result.stderr


def test_a_configured_account_hiding_stored_data_is_warned_about(databases: Databases) -> None:
    database = databases.empty()
    with serving("--database", database) as (url, first):
        pass
    sid, token = _credentials(first.stderr)
    with serving("--database", database) as (url, _):
        created = httpx.post(f"{url}/v1/Services", data={"FriendlyName": "x"}, auth=(sid, token))
        assert created.status_code == 201
    with serving("--database", database, env=ENV) as (url, second):
        listed = httpx.get(f"{url}/v1/Services", auth=(ACCOUNT_SID, AUTH_TOKEN)).json()
        assert listed["services"] == []
    (warning,) = [line for line in second.stderr.splitlines() if "warning" in line]
    assert sid in warning and ACCOUNT_SID in warning and "hides" in warning


def test_read_only_commands_create_nothing(tmp_path: Path, databases: Databases) -> None:
    commands = [
        ["webhooks", "log"],
        ["account", "show"],
        ["webhooks", "log", "--database", "sqlite:///nope/x.db"],
        ["account", "show", "--database", f"sqlite:///{tmp_path}/deeper/x.db"],
    ]
    for command in commands:
        result = run_cli(*command, cwd=tmp_path)
        assert result.returncode == 2, (command, result.stdout)
        assert result.stderr.startswith("chinwag: no chinwag database at /"), result.stderr
    assert list(tmp_path.iterdir()) == []
    if PG_SERVER:
        result = run_cli("webhooks", "log", "--database", databases.empty())
        assert result.returncode == 2
        assert "no chinwag database at postgresql://" in result.stderr


def test_webhooks_log_says_when_empty_and_has_a_header(databases: Databases) -> None:
    database = databases.new()
    empty = run_cli("webhooks", "log", "--database", database)
    assert (empty.returncode, empty.stdout) == (0, "no webhook deliveries\n")
    auth = (ACCOUNT_SID, AUTH_TOKEN)
    with serving("--database", database, env=ENV) as (url, _):
        service = httpx.post(
            f"{url}/v1/Services", data={"FriendlyName": "hooks"}, auth=auth
        ).json()["sid"]
        httpx.post(
            f"{url}/v1/Services/{service}",
            data={
                "PostWebhookUrl": f"http://127.0.0.1:{free_port()}/hook",
                "WebhookFilters": "onChannelAdded",
            },
            auth=auth,
        ).raise_for_status()
        httpx.post(
            f"{url}/v1/Services/{service}/Channels",
            headers={"X-Twilio-Webhook-Enabled": "true"},
            auth=auth,
        ).raise_for_status()
    listed = run_cli("webhooks", "log", "--database", database).stdout.splitlines()
    assert listed[0] == TEXT_HEADER
    assert len(listed) == 2 and "onChannelAdded" in listed[1]


def test_routes_keep_columns_apart_and_list_the_open_paths() -> None:
    result = run_cli("routes")
    rows = [re.split(r"\s{2,}", line.strip()) for line in result.stdout.splitlines()]
    assert (
        len(rows) == len(V1) + len(V2) + len(V3) + len(CONTROL_ROUTES) + 3
    )  # /, /healthz, /metrics
    assert all(len(row) == 3 for row in rows), [r for r in rows if len(r) != 3]
    assert ["GET", "/", "(no credentials)"] in rows
    assert ["GET", "/healthz", "(no credentials)"] in rows
    assert ["GET", "/metrics", "(no credentials)"] in rows
    assert [
        "DELETE",
        "/v1/Services/{service}/Channels/{channel}/Invites/{invite}",
        "DeleteInvite",
    ] in rows


@pytest.mark.parametrize("command", [[], ["serve"], ["webhooks", "log"], ["account", "show"]])
def test_help_shows_plain_text_and_defaults(command: list[str]) -> None:
    result = run_cli(*command, "--help")
    assert result.returncode == 0
    assert "``" not in result.stdout
    if command == ["serve"]:
        text = " ".join(result.stdout.split())
        assert "(default: 8080) [CHINWAG_PORT]" in text
        assert "(default: sqlite:///chinwag.db) [CHINWAG_DATABASE]" in text
