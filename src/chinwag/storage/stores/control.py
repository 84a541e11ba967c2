"""Whole-account statements over every table of the schema: reset, export and import.

They are written over ``schema.metadata``, not table by table, so a table added later is
covered without touching this module. Which rows of a table belong to an account:

- a table with an ``account_sid`` column: the rows carrying the account's SID;
- otherwise a table with a ``channel_sid`` (or ``service_sid``, or ``media_sid``) column: the
  rows whose channel (or service, or upload) belongs to the account, e.g.
  ``message_tombstones``.

A table with neither must be listed in :data:`KEPT_TABLES`; importing this module fails
otherwise, so an unscoped table cannot silently survive a reset.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from chinwag.storage.database import Txn
from chinwag.storage.schema import metadata

#: Tables a reset leaves alone: the account itself (its SID and auth token are the credentials
#: every client was configured with), its API keys (they sign the access tokens a test
#: suite minted for the session), and the heartbeats of the running server processes.
KEPT_TABLES = frozenset({"accounts", "api_keys", "presence_processes"})

#: Tables a reset clears but a snapshot does not carry: the webhook and push outboxes and
#: delivery logs and the applied client mutation ids describe past traffic, and the presence
#: rows live connections, not the account's resources. Uploaded media is bytes, which a JSON
#: snapshot does not hold: a media message imported from a snapshot keeps its metadata, not
#: its file.
LOG_TABLES = frozenset(
    {
        "webhook_deliveries",
        "push_events",
        "push_deliveries",
        "presence_connections",
        "presence_seen",
        "chat_mutations",
        "media",
        "media_chunks",
    }
)

#: Columns a snapshot row never carries: the surrogate key (rows are exported and inserted in
#: its order, so lists keep their order) and the account, which is the importing one.
_IMPLIED = frozenset({"id", "account_sid"})

_PARENTS = (("channel_sid", "channels"), ("service_sid", "services"), ("media_sid", "media"))


@dataclass(frozen=True)
class ColumnInfo:
    """What a snapshot value of a column may be: its Python type, whether it may be null and,
    for integers, the largest magnitude the column holds on every engine."""

    type: type
    nullable: bool
    int_bits: int = 0


def scope(table: sa.Table) -> str:
    """The WHERE condition selecting the account's rows (the account SID is ``$1``)."""
    if "account_sid" in table.c:
        return "account_sid = $1"
    for column, parent in _PARENTS:
        if column in table.c:
            return f"{column} IN (SELECT sid FROM {parent} WHERE account_sid = $1)"
    raise RuntimeError(f"table {table.name} has no account scope; list it in KEPT_TABLES")


def _order(table: sa.Table) -> str:
    return ", ".join(c.name for c in table.primary_key.columns)


def _column_info(column: sa.Column[Any]) -> ColumnInfo:
    nullable = bool(column.nullable)
    if isinstance(column.type, sa.Boolean):
        return ColumnInfo(bool, nullable)
    if isinstance(column.type, sa.BigInteger):
        return ColumnInfo(int, nullable, 64)
    if isinstance(column.type, sa.Integer):
        return ColumnInfo(int, nullable, 32)
    return ColumnInfo(str, nullable)


_TABLES = [t for t in metadata.sorted_tables if t.name not in KEPT_TABLES]
_SCOPES = {t.name: scope(t) for t in _TABLES}
#: Children scoped through a parent are deleted before the parent they are scoped by.
_RESET_ORDER = sorted(_TABLES, key=lambda t: "account_sid" in t.c)
_SNAPSHOT_TABLES = [t for t in _TABLES if t.name not in LOG_TABLES]
SNAPSHOT_COLUMNS: Mapping[str, Mapping[str, ColumnInfo]] = {
    str(t.name): {str(c.name): _column_info(c) for c in t.columns if c.name not in _IMPLIED}
    for t in _SNAPSHOT_TABLES
}


async def reset_account_txn(txn: Txn, account_sid: str) -> int:
    """Delete every row of the account outside :data:`KEPT_TABLES`; returns how many."""
    deleted = 0
    for table in _RESET_ORDER:
        deleted += await txn.execute(
            f"DELETE FROM {table.name} WHERE {_SCOPES[table.name]}", account_sid
        )
    return deleted


def _value(info: ColumnInfo, value: Any) -> Any:
    """A stored value as a snapshot carries it (SQLite keeps booleans as 0 and 1)."""
    return value if value is None else info.type(value)


async def export_account_txn(txn: Txn, account_sid: str) -> dict[str, list[dict[str, Any]]]:
    """The account's rows of every snapshot table, in insertion order."""
    tables: dict[str, list[dict[str, Any]]] = {}
    for table in _SNAPSHOT_TABLES:
        columns = SNAPSHOT_COLUMNS[table.name]
        rows = await txn.fetchall(
            f"SELECT {', '.join(columns)} FROM {table.name} "
            f"WHERE {_SCOPES[table.name]} ORDER BY {_order(table)}",
            account_sid,
        )
        tables[str(table.name)] = [
            {name: _value(info, row[name]) for name, info in columns.items()} for row in rows
        ]
    return tables


async def import_rows_txn(
    txn: Txn, account_sid: str, tables: Mapping[str, Sequence[Mapping[str, Any]]]
) -> int:
    """Insert snapshot rows (already checked against :data:`SNAPSHOT_COLUMNS`) for the account;
    returns how many. Rows go in the order given, which becomes their list order."""
    inserted = 0
    for table in _SNAPSHOT_TABLES:
        columns = list(SNAPSHOT_COLUMNS[table.name])
        if "account_sid" in table.c:
            columns.append("account_sid")
        placeholders = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
        sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({placeholders})"
        for row in tables.get(table.name, ()):
            values = {**row, "account_sid": account_sid}
            await txn.execute(sql, *(values.get(name) for name in columns))
            inserted += 1
    return inserted
