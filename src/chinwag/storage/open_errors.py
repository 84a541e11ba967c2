"""Why a database could not be opened, in one line (the CLI prints it instead of a traceback).

A missing PostgreSQL database, an unknown role, a refused port, a TLS failure or a file that is
not SQLite each end start-up; the operator needs the driver's reason, not 80 lines of frames.
The reason sits at the bottom of a chain (SQLAlchemy wraps the adapter, which wraps asyncpg).
"""

from __future__ import annotations

import sqlite3


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop(0)
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        todo.extend([getattr(current, "orig", None), current.__cause__, current.__context__])
    return seen


def _is_driver_error(exc: BaseException) -> bool:
    import asyncpg

    return isinstance(
        exc, (asyncpg.PostgresError, asyncpg.InterfaceError, sqlite3.DatabaseError, OSError)
    )


def open_failure(exc: BaseException) -> str | None:
    """The driver's own words for why the database did not open, or None if ``exc`` is not that."""
    for link in _chain(exc):
        if _is_driver_error(link):
            text = str(link).strip().splitlines()
            return text[0] if text else type(link).__name__
    return None
