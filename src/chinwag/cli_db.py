"""The database side of the ``chinwag`` command: ``db status`` and ``db upgrade``, and how
every command names a database and reports one it cannot open.

``db status`` changes nothing (it never creates a SQLite file by looking); ``db upgrade`` says
whether it applied anything, so a deploy script's log shows what happened.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from chinwag.config import ConfigError, Settings
from chinwag.storage import migrate
from chinwag.storage.engines import create_engine, sqlite_path
from chinwag.storage.open_errors import open_failure
from chinwag.storage.pg_url import redacted


def describe_database(url: str) -> str:
    """The database as an operator recognises it: an absolute path, or the URL sans password."""
    path = sqlite_path(url)
    if path is None:
        return redacted(url)
    return path if path == ":memory:" else str(Path(path).resolve())


@contextmanager
def opening(url: str) -> Iterator[None]:
    """Turn a database that cannot be opened into one :class:`ConfigError` line."""
    try:
        yield
    except Exception as exc:
        reason = open_failure(exc)
        if reason is None:
            raise
        raise ConfigError(f"cannot open the database {describe_database(url)}: {reason}") from None


def add_db_commands(db: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """``db upgrade`` and ``db status``; returns their parsers, for the database flag."""
    commands = db.add_subparsers(dest="db_command", required=True)
    return [
        commands.add_parser("upgrade", help="apply pending migrations; says what it applied"),
        commands.add_parser(
            "status", help="current and latest schema revision, pending migrations (no changes)"
        ),
    ]


def run_db(args: argparse.Namespace, settings: Settings) -> int:
    create_engine(settings.database)  # reject unsupported URLs before touching anything
    if args.db_command == "status":
        return _status(settings)
    return _upgrade(settings)


def _upgrade(settings: Settings) -> int:
    with opening(settings.database):
        before = migrate.current_revision(settings.database)
        pending = migrate.pending_revisions(before)
        if pending:
            migrate.upgrade(settings.database)
        revision = migrate.current_revision(settings.database)
    if not pending:
        print(f"chinwag: nothing to apply; schema at revision {revision}")
    else:
        applied = ", ".join(rev for rev, _ in pending)
        start = f"from revision {before}" if before else "on a new database"
        print(f"chinwag: applied {len(pending)} migration(s) {start} ({applied}); ", end="")
        print(f"schema at revision {revision}")
    return 0


def _status(settings: Settings) -> int:
    url = settings.database
    head = migrate.head_revision()
    path = sqlite_path(url)
    missing = path is not None and (path == ":memory:" or not Path(path).is_file())
    with opening(url):
        state = "empty" if missing else migrate.schema_state(url)
        current = None if missing else migrate.current_revision(url)
    if state == "unknown":
        raise ConfigError(
            f"{describe_database(url)} has tables chinwag does not know (revision {current})"
        )
    pending = migrate.pending_revisions(current)
    print(f"database: {describe_database(url)}" + (" (does not exist yet)" if missing else ""))
    print(f"current:  {current or 'none (no chinwag schema yet)'}")
    print(f"latest:   {head}")
    if not pending:
        print("pending:  none")
    else:
        print(f"pending:  {len(pending)}: run `chinwag db upgrade` (after a backup)")
        for revision, description in pending:
            print(f"  {revision}  {description}")
    return 0
