"""Who is connected to which server process, and which processes are alive."""

from __future__ import annotations

from chinwag.storage.database import Txn

#: a user: (service SID, identity)
UserKey = tuple[str, str]


async def beat_txn(txn: Txn, process_id: str, expires_at: int) -> bool:
    """Extend a process's heartbeat; False if it had none (new, or swept as dead)."""
    if await txn.execute(
        "UPDATE presence_processes SET expires_at = $2 WHERE process_id = $1",
        process_id,
        expires_at,
    ):
        return True
    await txn.execute(
        "INSERT INTO presence_processes (process_id, expires_at) VALUES ($1, $2)",
        process_id,
        expires_at,
    )
    return False


async def expired_processes_txn(txn: Txn, now: int) -> list[str]:
    rows = await txn.fetchall(
        "SELECT process_id FROM presence_processes WHERE expires_at < $1", now
    )
    return [row["process_id"] for row in rows]


async def forget_process_txn(txn: Txn, process_id: str) -> list[UserKey]:
    """Remove a process and its connections; returns the users it held."""
    rows = await txn.fetchall(
        "SELECT service_sid, identity FROM presence_connections WHERE process_id = $1",
        process_id,
    )
    await txn.execute("DELETE FROM presence_connections WHERE process_id = $1", process_id)
    await txn.execute("DELETE FROM presence_processes WHERE process_id = $1", process_id)
    return [(row["service_sid"], row["identity"]) for row in rows]


async def connect_txn(txn: Txn, process_id: str, service_sid: str, identity: str) -> None:
    """Record a user's connection to a process (and that the user was online once)."""
    await txn.execute(
        "INSERT INTO presence_seen (service_sid, identity) VALUES ($1, $2) "
        "ON CONFLICT (service_sid, identity) DO NOTHING",
        service_sid,
        identity,
    )
    await txn.execute(
        "INSERT INTO presence_connections (process_id, service_sid, identity) "
        "VALUES ($1, $2, $3) ON CONFLICT (process_id, service_sid, identity) DO NOTHING",
        process_id,
        service_sid,
        identity,
    )


async def disconnect_txn(txn: Txn, process_id: str, service_sid: str, identity: str) -> None:
    await txn.execute(
        "DELETE FROM presence_connections "
        "WHERE process_id = $1 AND service_sid = $2 AND identity = $3",
        process_id,
        service_sid,
        identity,
    )


async def _has_row_txn(txn: Txn, table: str, service_sid: str, identity: str) -> bool:
    row = await txn.fetchone(
        f"SELECT 1 FROM {table} WHERE service_sid = $1 AND identity = $2 LIMIT 1",
        service_sid,
        identity,
    )
    return row is not None


async def is_connected_txn(txn: Txn, service_sid: str, identity: str) -> bool:
    """Whether the user has a connection open on any process (alive or not yet swept)."""
    return await _has_row_txn(txn, "presence_connections", service_sid, identity)


async def was_seen_txn(txn: Txn, service_sid: str, identity: str) -> bool:
    """Whether the user was ever connected."""
    return await _has_row_txn(txn, "presence_seen", service_sid, identity)


async def online_users_txn(txn: Txn, account_sid: str, limit: int) -> list[UserKey]:
    """The account's users with a connection open on any process, by service and identity
    (the rule :func:`is_connected_txn` applies to one user)."""
    rows = await txn.fetchall(
        "SELECT DISTINCT c.service_sid, c.identity FROM presence_connections c "
        "JOIN services s ON s.sid = c.service_sid AND s.account_sid = $1 "
        "ORDER BY c.service_sid, c.identity LIMIT $2",
        account_sid,
        limit,
    )
    return [(row["service_sid"], row["identity"]) for row in rows]


async def count_processes_txn(txn: Txn) -> int:
    """The server processes with a heartbeat row (alive, or not yet swept as dead)."""
    row = await txn.fetchone("SELECT COUNT(*) AS n FROM presence_processes")
    return 0 if row is None else int(row["n"])
