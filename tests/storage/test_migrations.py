"""Migrations: an empty database upgrades to exactly the declared schema."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from chinwag.storage import migrate
from chinwag.storage.schema import metadata


def test_upgrade_from_empty_matches_the_declared_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    migrate.upgrade(url)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    assert diff == []


def test_schema_state_follows_the_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    assert migrate.schema_state(url) == "empty"
    migrate.upgrade(url)
    assert migrate.schema_state(url) == "current"
    assert migrate.current_revision(url) == migrate.head_revision()


def test_schema_state_is_unknown_for_foreign_tables(tmp_path: Path) -> None:
    path = tmp_path / "f.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (x INTEGER)")
    assert migrate.schema_state(f"sqlite:///{path}") == "unknown"


def test_schema_state_is_unknown_for_an_unrecognised_revision(tmp_path: Path) -> None:
    path = tmp_path / "b.db"
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'not-a-revision'")
    assert migrate.schema_state(url) == "unknown"
