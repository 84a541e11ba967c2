"""Scratch PostgreSQL databases, through ``psql`` (the bench process needs no driver).

Every server start on PostgreSQL gets its own database (a template copy for chinwag, an empty one
for the asyncpg baseline), so one measurement's rows never slow the next one down.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


@dataclass
class Scratch:
    """The database of one server start: a SQLite file or a PostgreSQL database."""

    url: str = ""  # chinwag --database, or the baseline's PG_DSN
    path: Path | None = None
    pg_db: str | None = None


class Postgres:
    """Scratch databases on one server; every name gets a per-run prefix, :meth:`cleanup` drops
    whatever is left at the end."""

    def __init__(self, url: str) -> None:
        u = urlsplit(url)
        self.base = urlunsplit((u.scheme, u.netloc, "", "", ""))
        self.prefix = f"chinwag_bench_{os.getpid()}_"
        self.created: set[str] = set()
        self.version_num = int(self.sql("postgres", "SHOW server_version_num"))

    def url(self, db: str) -> str:
        return f"{self.base}/{db}"

    def sql(self, db: str, sql: str) -> str:
        """Run ``sql`` (one string, so one implicit transaction) and return psql's output."""
        cmd = ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", self.url(db)]
        out = subprocess.run([*cmd, "-c", sql], capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"psql on {db} failed: {sql[:200]}\n{out.stderr}")
        return out.stdout.strip()

    def create(self, name: str, template: str | None = None) -> str:
        db = (self.prefix + re.sub(r"[^a-z0-9_]", "_", name.lower()))[:63]
        self.drop(db)
        sql = f"CREATE DATABASE {db}"
        if template is not None:
            # FILE_COPY: a checkpoint, then a file copy, both before the measurement starts
            # (WAL_LOG, 15's default, would leave the whole copy in WAL to flush during it)
            sql += f" TEMPLATE {template}"
            if self.version_num >= 150000:
                sql += " STRATEGY FILE_COPY"
        self.sql("postgres", sql)
        self.created.add(db)
        return db

    def drop(self, db: str) -> None:
        force = " WITH (FORCE)" if self.version_num >= 130000 else ""
        self.sql("postgres", f"DROP DATABASE IF EXISTS {db}{force}")
        self.created.discard(db)

    def count(self, db: str) -> int:
        return int(self.sql(db, "SELECT count(*) FROM messages"))

    def cleanup(self) -> None:
        for db in sorted(self.created):
            with contextlib.suppress(RuntimeError):
                self.drop(db)

    def info(self) -> dict[str, str]:
        keys = ("server_version", "fsync", "synchronous_commit", "shared_buffers", "wal_level")
        return {k: self.sql("postgres", f"SHOW {k}") for k in keys}
