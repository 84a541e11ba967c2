"""Schema migrations with Alembic, run programmatically.

``serve`` calls :func:`schema_state` before starting: a new (empty) database is upgraded
automatically so the quick start needs no extra step; a database whose schema is behind is only
upgraded when the operator asks (``chinwag db upgrade`` or ``serve --upgrade``), because
upgrading a production database should be a decision, not a side effect of a restart.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path
from typing import Literal

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from chinwag.storage.engine import sqlite_path

SchemaState = Literal["empty", "current", "behind", "unknown"]


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(files("chinwag.storage") / "migrations"))
    return cfg


@contextmanager
def _connect(url: str) -> Iterator[sa.Connection]:
    path = sqlite_path(url)
    if path not in (None, ":memory:"):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            yield conn
    finally:
        engine.dispose()


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(url: str) -> str | None:
    with _connect(url) as conn:
        return MigrationContext.configure(conn).get_current_revision()


def schema_state(url: str) -> SchemaState:
    """Where a database stands relative to this build's migrations."""
    with _connect(url) as conn:
        current = MigrationContext.configure(conn).get_current_revision()
        has_tables = bool(sa.inspect(conn).get_table_names())
    if current is None:
        return "unknown" if has_tables else "empty"
    if current == head_revision():
        return "current"
    script = ScriptDirectory.from_config(_config())
    known = {rev.revision for rev in script.walk_revisions()}
    return "behind" if current in known else "unknown"


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` in one transaction."""
    cfg = _config()
    with _connect(url) as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
