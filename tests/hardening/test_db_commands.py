"""``chinwag db status`` and ``chinwag db upgrade`` as an operator runs them, on the suite's
engine (SQLite, or PostgreSQL with ``CHINWAG_TEST_DATABASE_URL``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_process import run_cli

from chinwag.storage import migrate
from chinwag.storage.engines import sqlite_path
from conftest import Databases

pytestmark = pytest.mark.server

HEAD = migrate.head_revision()
ALL = migrate.pending_revisions(None)


def _status(url: str) -> dict[str, str]:
    result = run_cli("db", "status", "--database", url)
    assert result.returncode == 0, result.stderr
    fields = {}
    for line in result.stdout.splitlines():
        name, colon, value = line.partition(":")
        if colon and not line.startswith(" "):
            fields[name] = value.strip()
    return fields


def test_status_of_a_new_database_lists_every_migration_and_creates_nothing(
    databases: Databases,
) -> None:
    url = databases.empty()
    result = run_cli("db", "status", "--database", url)
    assert result.returncode == 0, result.stderr
    assert f"latest:   {HEAD}" in result.stdout
    assert "current:  none" in result.stdout
    assert f"pending:  {len(ALL)}: run `chinwag db upgrade`" in result.stdout
    for revision, description in ALL:
        assert f"  {revision}  {description}" in result.stdout
    path = sqlite_path(url)
    assert path is None or not Path(path).exists()


def test_upgrade_says_what_it_applied_then_that_there_was_nothing(databases: Databases) -> None:
    url = databases.empty()
    first = run_cli("db", "upgrade", "--database", url)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith(f"chinwag: applied {len(ALL)} migration(s) on a new database")
    assert first.stdout.rstrip().endswith(f"schema at revision {HEAD}")
    second = run_cli("db", "upgrade", "--database", url)
    assert second.stdout == f"chinwag: nothing to apply; schema at revision {HEAD}\n"
    assert _status(url) == {
        "database": _status(url)["database"],
        "current": HEAD,
        "latest": HEAD,
        "pending": "none",
    }


def test_a_database_behind_shows_and_applies_only_what_is_pending(databases: Databases) -> None:
    url = databases.empty()
    older = ALL[-3][0]
    migrate.upgrade(url, older)
    status = _status(url)
    assert status["current"] == older
    assert status["pending"].startswith("2: ")
    result = run_cli("db", "upgrade", "--database", url)
    applied = ", ".join(revision for revision, _ in ALL[-2:])
    assert f"applied 2 migration(s) from revision {older} ({applied})" in result.stdout
    assert _status(url)["pending"] == "none"
