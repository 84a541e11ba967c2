"""Users: the identities of a Service."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from chinwag import errors, sids
from chinwag.domain import policy, validation
from chinwag.domain.deps import Caller, Deps
from chinwag.domain.lookups import get_role_of_type, get_service, get_user
from chinwag.domain.once import Once
from chinwag.domain.policy import Action
from chinwag.domain.pre_events import UserUpdate
from chinwag.domain.reachability import with_reachability_txn
from chinwag.model.events import UserAdded, UserRemoved, UserUpdated
from chinwag.model.records import Page, PageRequest, Service, User
from chinwag.model.unset import UNSET, Unset, is_empty_update, pick
from chinwag.storage.database import Txn
from chinwag.storage.stores import users as store


@dataclass(frozen=True)
class CreateUser:
    identity: str
    role_sid: str | None = None
    attributes: str | None = None
    friendly_name: str | None = None


@dataclass(frozen=True)
class UpdateUser:
    role_sid: str | Unset = UNSET
    attributes: str | Unset | None = UNSET
    friendly_name: str | Unset | None = UNSET


async def new_user_txn(
    txn: Txn,
    deps: Deps,
    service: Service,
    identity: str,
    *,
    role_sid: str | None = None,
    attributes: str | None = None,
    friendly_name: str | None = None,
) -> User | None:
    """Insert a user; also used when adding a member creates the user on the fly.

    The caller has validated the identity. Returns None if a concurrent transaction created
    the same identity first (after waiting for it to commit, on PostgreSQL).
    """
    role = await get_role_of_type(
        txn,
        service.sid,
        role_sid or service.default_service_role_sid,
        "deployment",
        errors.DeploymentRoleNotFoundError,
    )
    now = deps.clock.now_ms()
    user = User(
        sid=deps.sids.new(sids.USER),
        account_sid=service.account_sid,
        service_sid=service.sid,
        identity=identity,
        friendly_name=friendly_name,
        role_sid=role.sid,
        attributes=attributes,
        joined_channels_count=0,
        date_created=now,
        date_updated=now,
    )
    return user if await store.insert_user_txn(txn, user) else None


async def create_user(deps: Deps, caller: Caller, service_sid: str, cmd: CreateUser) -> User:
    deps.limits.count_service(service_sid)
    policy.authorize(caller.actor, Action.ADMINISTER)
    return await do_create_user(deps, caller, service_sid, cmd)


async def do_create_user(deps: Deps, caller: Caller, service_sid: str, cmd: CreateUser) -> User:
    """Store a new user, unchecked: for :func:`create_user` once authorized, and for a chat
    user's first connect, where the server itself signs the identity in (a chat user may not
    create users, but a valid token creates its own)."""

    async def txn_fn(txn: Txn) -> User:
        service = await get_service(txn, caller.account_sid, service_sid)
        identity = validation.check_identity(cmd.identity)
        attributes = validation.check_attributes(cmd.attributes)
        validation.check_friendly_name(cmd.friendly_name, validation.USER_FRIENDLY_NAME_MAX)
        if await store.find_user_txn(txn, service.sid, "identity", identity) is not None:
            raise errors.UserAlreadyExistsError()
        user = await new_user_txn(
            txn,
            deps,
            service,
            identity,
            role_sid=cmd.role_sid,
            attributes=attributes,
            friendly_name=cmd.friendly_name,
        )
        if user is None:
            raise errors.UserAlreadyExistsError()
        await deps.emit(txn, UserAdded(caller.actor, user))
        return user

    return await deps.db.run_in_txn("create_user", txn_fn)


async def _get(txn: Txn, account_sid: str, service_sid: str, key: str) -> User:
    service = await get_service(txn, account_sid, service_sid)
    user = await get_user(txn, service_sid, key)
    return await with_reachability_txn(txn, service.reachability_enabled, user)


async def fetch_user(deps: Deps, caller: Caller, service_sid: str, key: str) -> User:
    return await deps.db.run_read("fetch_user", _get, caller.account_sid, service_sid, key)


async def list_users(deps: Deps, caller: Caller, service_sid: str, req: PageRequest) -> Page[User]:
    async def read(txn: Txn) -> Page[User]:
        await get_service(txn, caller.account_sid, service_sid)
        return await store.list_users_txn(txn, service_sid, req)

    return await deps.db.run_read("list_users", read)


async def check_user_txn(
    txn: Txn, caller: Caller, service_sid: str, key: str, *, for_update: bool = False
) -> User:
    """Resolve a user a chat user may edit: themselves (``editOwnUserInfo``) or anyone
    (``editAnyUserInfo``)."""
    await get_service(txn, caller.account_sid, service_sid)
    user = await get_user(txn, service_sid, key, for_update=for_update)
    await policy.authorize_txn(
        txn,
        caller.actor,
        service_sid,
        None,
        Action.EDIT_USER_INFO,
        owner=user.identity,
    )
    return user


async def update_user(
    deps: Deps,
    caller: Caller,
    service_sid: str,
    key: str,
    cmd: UpdateUser,
    *,
    once: Once[User] | None = None,
) -> User:
    deps.limits.count_service(service_sid)
    if is_empty_update(cmd):
        raise errors.NoUpdateParametersError()
    policy.authorize_role_choice(caller.actor, cmd.role_sid)

    async def build(txn: Txn) -> UserUpdate:
        current = await check_user_txn(txn, caller, service_sid, key)
        proposed = dataclasses.replace(
            current,
            role_sid=pick(cmd.role_sid, current.role_sid),
            attributes=pick(cmd.attributes, current.attributes),
            friendly_name=pick(cmd.friendly_name, current.friendly_name),
        )
        return UserUpdate(proposed)

    await deps.pre_event(caller, service_sid, build)
    return await do_update_user(deps, caller, service_sid, key, cmd, once=once)


async def do_update_user(
    deps: Deps,
    caller: Caller,
    service_sid: str,
    key: str,
    cmd: UpdateUser,
    *,
    once: Once[User] | None = None,
) -> User:
    async def txn_fn(txn: Txn) -> User:
        old = await check_user_txn(txn, caller, service_sid, key, for_update=True)
        role_sid = old.role_sid
        if cmd.role_sid is not UNSET:
            role = await get_role_of_type(
                txn, service_sid, cmd.role_sid, "deployment", errors.DeploymentRoleNotFoundError
            )
            role_sid = role.sid
        new = dataclasses.replace(
            old,
            role_sid=role_sid,
            attributes=validation.check_attributes(pick(cmd.attributes, old.attributes)),
            friendly_name=validation.check_friendly_name(
                pick(cmd.friendly_name, old.friendly_name), validation.USER_FRIENDLY_NAME_MAX
            ),
            date_updated=deps.clock.now_ms(),
        )
        await store.update_user_txn(txn, new)
        await deps.emit(txn, UserUpdated(caller.actor, new))
        return new

    return await deps.write("update_user", txn_fn, once)


async def delete_user(deps: Deps, caller: Caller, service_sid: str, key: str) -> None:
    deps.limits.count_service(service_sid)
    policy.authorize(caller.actor, Action.ADMINISTER)

    async def txn_fn(txn: Txn) -> None:
        await get_service(txn, caller.account_sid, service_sid)
        user = await get_user(txn, service_sid, key, for_update=True)
        await store.delete_user_txn(txn, user)
        await deps.emit(txn, UserRemoved(caller.actor, user))

    await deps.db.run_in_txn("delete_user", txn_fn)
