"""Reachability (client-protocol 4.2): whether a user is online, and whether notifiable.

With the service's ``reachability_enabled``, a user is **online** while one of their client
connections is open on any server process. Each process records in the database which users
it holds (a row per process and user, written when the user's first connection there opens,
deleted when the last one closes) and keeps a heartbeat row alive; when a process dies without
cleaning up, a surviving process sweeps its rows once the heartbeat expires. A user is
**notifiable** when they have a push registration (``push_registrations``).

Every change of the rows emits :class:`~chinwag.model.events.UserReachabilityChanged`, so
the user info map's ``reachability`` item gets a Sync event in the same transaction; its data
is read when the event is delivered, so racing processes converge on the truth. With
reachability disabled nothing is emitted. REST follows Twilio's rules: ``is_online`` and
``is_notifiable`` are ``null`` when reachability is disabled, for a user never online, and in
lists; booleans in a fetched user otherwise.
"""

from __future__ import annotations

import dataclasses

from chinwag.domain.deps import Deps
from chinwag.model.events import Actor, UserReachabilityChanged
from chinwag.model.records import User
from chinwag.storage.database import Txn
from chinwag.storage.stores import presence as store
from chinwag.storage.stores import push_registrations as push_store
from chinwag.storage.stores import services as service_store
from chinwag.storage.stores import users as user_store


async def online_txn(txn: Txn, service_sid: str, identity: str) -> tuple[bool, bool]:
    """``(online, notifiable)`` of a user, whatever the service's setting."""
    online = await store.is_connected_txn(txn, service_sid, identity)
    return online, await push_store.has_registration_txn(txn, service_sid, identity)


async def with_reachability_txn(txn: Txn, enabled: bool, user: User) -> User:
    """``user`` with ``is_online``/``is_notifiable`` filled in when ``enabled`` (the
    service's ``reachability_enabled``) and the user was ever online; unchanged (None)
    otherwise."""
    if not enabled or not await store.was_seen_txn(txn, user.service_sid, user.identity):
        return user
    online, notifiable = await online_txn(txn, user.service_sid, user.identity)
    return dataclasses.replace(user, is_online=online, is_notifiable=notifiable)


async def reachability_changed_txn(deps: Deps, txn: Txn, service_sid: str, identity: str) -> None:
    """Announce (in ``txn``) that a user's reachability may have changed: a connection row
    here, or a push registration (call it where registrations are stored, for
    ``notifiable``). Does nothing unless the service enables reachability."""
    user = await user_store.find_user_txn(txn, service_sid, "identity", identity)
    if user is None:
        return
    service = await service_store.find_service_txn(txn, user.account_sid, service_sid)
    if service is None or not service.reachability_enabled:
        return
    user = await with_reachability_txn(txn, True, user)
    await deps.emit(txn, UserReachabilityChanged(Actor("SDK", identity), user))


async def user_connected(deps: Deps, process_id: str, service_sid: str, identity: str) -> None:
    """The user's first connection on process ``process_id`` opened."""

    async def txn_fn(txn: Txn) -> None:
        await store.connect_txn(txn, process_id, service_sid, identity)
        await reachability_changed_txn(deps, txn, service_sid, identity)

    await deps.db.run_in_txn("user_connected", txn_fn)


async def user_disconnected(deps: Deps, process_id: str, service_sid: str, identity: str) -> None:
    """The user's last connection on process ``process_id`` closed."""

    async def txn_fn(txn: Txn) -> None:
        await store.disconnect_txn(txn, process_id, service_sid, identity)
        await reachability_changed_txn(deps, txn, service_sid, identity)

    await deps.db.run_in_txn("user_disconnected", txn_fn)


async def forget_process(deps: Deps, process_id: str) -> None:
    """A process is gone: its users are offline unless connected elsewhere."""

    async def txn_fn(txn: Txn) -> None:
        for service_sid, identity in await store.forget_process_txn(txn, process_id):
            await reachability_changed_txn(deps, txn, service_sid, identity)

    await deps.db.run_in_txn("forget_process", txn_fn)


async def heartbeat(deps: Deps, process_id: str, ttl_ms: int) -> bool:
    """Keep process ``process_id`` alive for ``ttl_ms`` more, and forget processes whose
    heartbeat has expired. False if the process had no heartbeat (it is new, or was taken
    for dead): its users must then be written again."""
    now = deps.clock.now_ms()
    alive = await deps.db.run_in_txn("presence_heartbeat", store.beat_txn, process_id, now + ttl_ms)
    dead = await deps.db.run_read("presence_expired", store.expired_processes_txn, now)
    for other in dead:
        if other != process_id:
            await forget_process(deps, other)
    return alive


@dataclasses.dataclass(frozen=True, slots=True)
class Online:
    """Who is online across every server process (the console's "connected clients")."""

    #: server processes with a heartbeat (alive, or not yet swept)
    processes: int
    #: (service SID, identity) of each user with a connection open on any process
    users: list[tuple[str, str]]


async def online_users(deps: Deps, account_sid: str, limit: int) -> Online:
    """The account's online users on every process, from the rows each process writes: one
    process only knows its own connections."""

    async def read(txn: Txn) -> Online:
        users = await store.online_users_txn(txn, account_sid, limit)
        return Online(await store.count_processes_txn(txn), users)

    return await deps.db.run_read("online_users", read)
