"""Schema migrations with Alembic, run programmatically.

``serve`` calls :func:`schema_state` before starting: a new (empty) database is upgraded
automatically so the quick start needs no extra step; a database whose schema is behind is only
upgraded when the operator asks (``chinwag db upgrade`` or ``serve --upgrade``), because
upgrading a production database should be a decision, not a side effect of a restart.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Literal, TypeVar

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import create_async_engine

from chinwag.storage import pg_url
from chinwag.storage.engines import is_postgres, sqlite_path

SchemaState = Literal["empty", "current", "behind", "unknown"]
T = TypeVar("T")


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(files("chinwag.storage") / "migrations"))
    return cfg


def _run(url: str, fn: Callable[[sa.Connection], T]) -> T:
    """Run ``fn`` with a connection in one transaction, on either engine.

    PostgreSQL goes through SQLAlchemy's asyncpg dialect, so chinwag needs no second driver;
    connections are made by :func:`pg_url.connect`, which reads the URL as the server does.
    """
    if is_postgres(url):
        return asyncio.run(_run_async(url, fn))
    path = sqlite_path(url)
    if path not in (None, ":memory:"):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            return fn(conn)
    finally:
        engine.dispose()


async def _run_async(url: str, fn: Callable[[sa.Connection], T]) -> T:
    engine = create_async_engine(
        "postgresql+asyncpg://",
        async_creator=lambda: pg_url.connect(url),
        poolclass=sa.pool.NullPool,
    )
    try:
        async with engine.begin() as conn:
            return await conn.run_sync(fn)
    finally:
        await engine.dispose()


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(url: str) -> str | None:
    return _run(url, lambda conn: MigrationContext.configure(conn).get_current_revision())


def schema_state(url: str) -> SchemaState:
    """Where a database stands relative to this build's migrations."""

    def inspect(conn: sa.Connection) -> tuple[str | None, bool]:
        current = MigrationContext.configure(conn).get_current_revision()
        return current, bool(sa.inspect(conn).get_table_names())

    current, has_tables = _run(url, inspect)
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

    def run(conn: sa.Connection) -> None:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)

    _run(url, run)


def pending_revisions(current: str | None) -> list[tuple[str, str]]:
    """The migrations an upgrade from ``current`` (None: an empty database) would apply,
    oldest first, each with the first line of its description."""
    script = ScriptDirectory.from_config(_config())
    revisions = list(script.iterate_revisions("head", current or "base"))
    return [(rev.revision, (rev.doc or "").splitlines()[0]) for rev in reversed(revisions)]
