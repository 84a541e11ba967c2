"""The control API's rules (``/_chinwag/``): reset, snapshot export/import, seed and clock.

These exist for test suites driving a running server: a reset between tests instead of a
restart, a known starting state loaded from a file, and a clock that can be moved so tokens
expire and webhook retries fall due on demand. Every change runs in one transaction, so a
failed import leaves the account as it was.

A snapshot is ``{"version": 1, "tables": {name: [row, ...]}}``: every account table's rows in
insertion order, without the surrogate ``id`` and the ``account_sid`` (the importing account
owns them). Its shape follows the schema, so it needs no change when a table is added; the
version changes when a release changes what a row means.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from chinwag import errors
from chinwag.clock import ControllableClock
from chinwag.domain import channels, members, messages, services, snapshot_rows, users, validation
from chinwag.domain.deps import Caller, Deps
from chinwag.model.records import ChannelType
from chinwag.storage.database import Txn
from chinwag.storage.stores import control as store

SNAPSHOT_VERSION = 1

#: Columns an export leaves out (null), because they hold secrets: a snapshot is a test
#: fixture, shared and committed, never a backup. API keys and the account's auth token are in
#: tables a snapshot never carries.
REDACTED: Mapping[str, tuple[str, ...]] = {
    "credentials": ("certificate", "private_key", "api_key", "secret"),
}


def _invalid(detail: str) -> errors.ChinwagError:
    return errors.MalformedRequestError(detail=detail)


async def reset(deps: Deps, caller: Caller) -> int:
    """Delete everything of the account but the account and its API keys, and put a
    controllable clock back on system time; returns the number of rows deleted."""
    deleted = await deps.db.run_in_txn("control_reset", store.reset_account_txn, caller.account_sid)
    if isinstance(deps.clock, ControllableClock):
        deps.clock.follow_system()
    return deleted


async def export_snapshot(deps: Deps, caller: Caller) -> dict[str, Any]:
    """The account's state, secrets left out (listed under ``redacted``)."""
    tables = await deps.db.run_read("control_export", store.export_account_txn, caller.account_sid)
    for table, columns in REDACTED.items():
        for row in tables.get(table, ()):
            row.update(dict.fromkeys(columns))
    redacted = [f"{table}.{column}" for table, columns in REDACTED.items() for column in columns]
    return {"version": SNAPSHOT_VERSION, "redacted": redacted, "tables": tables}


def _check_row(table: str, row: Any) -> Mapping[str, Any]:
    columns = store.SNAPSHOT_COLUMNS[table]
    if not isinstance(row, dict):
        raise _invalid(f"Every row of {table} must be an object")
    unknown = sorted(set(row) - set(columns))
    if unknown:
        raise _invalid(f"Unknown column {table}.{unknown[0]}")
    for name, info in columns.items():
        value = row.get(name)
        if value is None:
            if not info.nullable:
                raise _invalid(f"Missing value for {table}.{name}")
        elif type(value) is not info.type:  # bool is an int subclass: compare exactly
            raise _invalid(f"{table}.{name} must be of type {info.type.__name__}")
        elif info.int_bits and not -(2 ** (info.int_bits - 1)) <= value < 2 ** (info.int_bits - 1):
            raise _invalid(f"{table}.{name} is out of range")
        elif isinstance(value, str):
            validation.check_text(value, f"{table}.{name}")
    return row


def check_snapshot(data: Any) -> dict[str, list[Mapping[str, Any]]]:
    """The snapshot's tables, each row checked against the schema, or a 400."""
    if not isinstance(data, dict) or data.get("version") != SNAPSHOT_VERSION:
        raise _invalid(f"A snapshot is an object with version {SNAPSHOT_VERSION}")
    unknown_keys = sorted(set(data) - {"version", "redacted", "tables"})
    if unknown_keys:
        raise _invalid(f"Unknown snapshot key {unknown_keys[0]}")
    tables = data.get("tables")
    if not isinstance(tables, dict):
        raise _invalid("A snapshot has an object of tables")
    unknown = sorted(set(tables) - set(store.SNAPSHOT_COLUMNS))
    if unknown:
        raise _invalid(f"Unknown table {unknown[0]}")
    checked: dict[str, list[Mapping[str, Any]]] = {}
    for table, rows in tables.items():
        if not isinstance(rows, list):
            raise _invalid(f"Table {table} must be a list of rows")
        checked[table] = [_check_row(table, row) for row in rows]
    snapshot_rows.check_rows(checked)
    return checked


async def import_snapshot(deps: Deps, caller: Caller, data: Any) -> int:
    """Replace the account's state with the snapshot's; returns the number of rows imported."""
    tables = check_snapshot(data)

    async def replace(txn: Txn) -> int:
        await store.reset_account_txn(txn, caller.account_sid)
        with txn.on_unique_violation(errors.SnapshotConflictError):
            return await store.import_rows_txn(txn, caller.account_sid, tables)

    return await deps.db.run_in_txn("control_import", replace)


# --- seed ---------------------------------------------------------------------------------------


def _list(obj: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = obj.get(key, [])
    if not isinstance(value, list):
        raise _invalid(f"{where}.{key} must be a list")
    return value


def _object(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise _invalid(f"{where} must be an object")
    return value


Entry = tuple[str, Mapping[str, Any]]


def _entries(obj: Mapping[str, Any], key: str, where: str) -> Iterator[Entry]:
    """Each object of the list ``obj[key]``, with its place in the file for error messages."""
    for i, entry in enumerate(_list(obj, key, where)):
        at = f"{where}.{key}[{i}]"
        yield at, _object(entry, at)


def _text(obj: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> str | None:
    value = obj.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise _invalid(f"{where}.{key} must be a string")
    return validation.check_text(value, f"{where}.{key}")


def _attributes(obj: Mapping[str, Any], where: str) -> str | None:
    """Attributes as the API stores them (JSON text); a seed file may give an object."""
    value = obj.get("attributes")
    if value is None:
        return value
    if isinstance(value, str):
        return validation.check_text(value, f"{where}.attributes")
    if isinstance(value, dict):
        return orjson.dumps(value).decode()  # JSON escapes a NUL character as \u0000
    raise _invalid(f"{where}.attributes must be an object or a string")


@dataclass
class SeededService:
    """What a seed created in one Service: SIDs by the names the seed file used."""

    sid: str
    friendly_name: str
    users: dict[str, str] = field(default_factory=dict)
    channels: dict[str, str] = field(default_factory=dict)


async def seed(deps: Deps, caller: Caller, data: Any) -> list[SeededService]:
    """Create the seed file's Services, Users, Channels, Members and Messages through the same
    domain operations as the REST API (so every rule applies), in the order given.

    A seed adds to the account's state; reset first for a known one. An invalid entry stops
    the seed there with a 400: what came before it stays created.
    """
    doc = _object(data, "The seed")
    created = []
    for where, spec in _entries(doc, "services", "seed"):
        name = _text(spec, "friendly_name", where, required=True) or ""
        service = await services.create_service(deps, caller, services.CreateService(name))
        seeded = SeededService(service.sid, name)
        await _seed_users(deps, caller, seeded, spec, where)
        await _seed_channels(deps, caller, seeded, spec, where)
        created.append(seeded)
    return created


async def _seed_users(
    deps: Deps, caller: Caller, seeded: SeededService, spec: Mapping[str, Any], where: str
) -> None:
    for at, user in _entries(spec, "users", where):
        cmd = users.CreateUser(
            identity=_text(user, "identity", at, required=True) or "",
            friendly_name=_text(user, "friendly_name", at),
            attributes=_attributes(user, at),
        )
        created = await users.create_user(deps, caller, seeded.sid, cmd)
        seeded.users[created.identity] = created.sid


async def _seed_channels(
    deps: Deps, caller: Caller, seeded: SeededService, spec: Mapping[str, Any], where: str
) -> None:
    for at, chan in _entries(spec, "channels", where):
        kind: ChannelType = "private" if _text(chan, "type", at) == "private" else "public"
        if chan.get("type") not in (None, "public", "private"):
            raise _invalid(f"{at}.type must be public or private")
        cmd = channels.CreateChannel(
            friendly_name=_text(chan, "friendly_name", at),
            unique_name=_text(chan, "unique_name", at),
            attributes=_attributes(chan, at),
            type=kind,
        )
        channel = await channels.create_channel(deps, caller, seeded.sid, cmd)
        seeded.channels[channel.unique_name or channel.sid] = channel.sid
        for k, identity in enumerate(_list(chan, "members", at)):
            if not isinstance(identity, str):
                raise _invalid(f"{at}.members[{k}] must be an identity")
            validation.check_text(identity, f"{at}.members[{k}]")
            member = members.CreateMember(identity=identity)
            await members.create_member(deps, caller, seeded.sid, channel.sid, member)
        for msg_at, msg in _entries(chan, "messages", at):
            send = messages.CreateMessage(
                body=_text(msg, "body", msg_at, required=True) or "",
                from_=_text(msg, "from", msg_at),
                attributes=_attributes(msg, msg_at),
            )
            await messages.send_message(deps, caller, seeded.sid, channel.sid, send)


# --- clock --------------------------------------------------------------------------------------


def _controllable(deps: Deps) -> ControllableClock:
    if not isinstance(deps.clock, ControllableClock):
        raise errors.ClockNotControllableError()
    return deps.clock


def _milliseconds(value: Any, name: str) -> int:
    if type(value) is not int:
        raise _invalid(f"{name} must be an integer number of milliseconds")
    return value


def clock_now(deps: Deps) -> tuple[int, bool]:
    """The server's time and whether the control API may move it."""
    return deps.clock.now_ms(), isinstance(deps.clock, ControllableClock)


def move_clock(deps: Deps, data: Any) -> None:
    """Apply ``{"now_ms": N}`` (set) or ``{"advance_ms": N}`` (advance)."""
    body = _object(data, "The body")
    if ("now_ms" in body) == ("advance_ms" in body):
        raise _invalid("Give exactly one of now_ms and advance_ms")
    clock = _controllable(deps)
    if "now_ms" in body:
        now = _milliseconds(body["now_ms"], "now_ms")
    else:
        now = clock.now_ms() + _milliseconds(body["advance_ms"], "advance_ms")
    if now not in validation.DATE_RANGE:
        raise _invalid("The clock must stay between 1970 and the end of 9999")
    clock.set(now)
