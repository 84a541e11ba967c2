"""Database engines, one module per engine; :func:`create_engine` picks one for a URL.

``base`` is what every engine offers the ``Database``; ``sqlite`` (with its ``commit_groups``
and ``wal`` checkpointer) and ``postgresql`` are the only home of dialect differences.
"""

from __future__ import annotations

from chinwag.storage.engines.base import Connection, Engine, PlainRow, Row, TransactionScope
from chinwag.storage.engines.postgresql import PostgresEngine
from chinwag.storage.engines.sqlite import SqliteEngine

__all__ = [
    "Connection",
    "Engine",
    "PlainRow",
    "PostgresEngine",
    "Row",
    "SqliteEngine",
    "TransactionScope",
    "UnsupportedDatabaseError",
    "create_engine",
    "is_postgres",
    "sqlite_path",
]


def is_postgres(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


def sqlite_path(url: str) -> str | None:
    """The file path of a ``sqlite:///`` URL (SQLAlchemy's form), or None for other URLs."""
    if url in ("sqlite://", "sqlite:///:memory:"):
        return ":memory:"
    if url.startswith("sqlite:///"):
        return url[len("sqlite:///") :]
    return None


class UnsupportedDatabaseError(ValueError):
    pass


def create_engine(url: str, *, sqlite_synchronous: str = "NORMAL", pool_size: int = 10) -> Engine:
    """Pick the engine for a database URL."""
    path = sqlite_path(url)
    if path is not None:
        return SqliteEngine(path, synchronous=sqlite_synchronous)
    if is_postgres(url):
        return PostgresEngine(url, pool_size=pool_size)
    raise UnsupportedDatabaseError(
        f"unsupported database URL {url!r}: use sqlite:///path/to/file.db "
        "or postgresql://user@host:port/database"
    )
