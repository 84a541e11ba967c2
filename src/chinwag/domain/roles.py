"""Roles: named permission sets of a deployment (user) or channel (member) scope."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from chinwag import errors, sids
from chinwag.domain import policy, validation
from chinwag.domain.deps import Caller, Deps
from chinwag.domain.lookups import get_service
from chinwag.domain.permissions import VALID, canonical
from chinwag.domain.policy import Action
from chinwag.model.events import RoleAdded, RoleRemoved, RoleUpdated
from chinwag.model.records import Page, PageRequest, Role, RoleType
from chinwag.storage.database import Txn
from chinwag.storage.stores import roles as store


@dataclass(frozen=True)
class CreateRole:
    friendly_name: str
    type: str
    permissions: tuple[str, ...]


@dataclass(frozen=True)
class UpdateRole:
    permissions: tuple[str, ...]


def check_type(value: str) -> RoleType:
    if value == "channel":
        return "channel"
    if value == "deployment":
        return "deployment"
    raise errors.InvalidRoleTypeError(expected=errors.one_of(("channel", "deployment")))


def check_permissions(role_type: RoleType, permissions: Sequence[str]) -> tuple[str, ...]:
    valid = VALID[role_type]
    if not permissions or any(p not in valid for p in permissions):
        raise errors.PermissionNotFoundError(type=role_type, allowed=", ".join(canonical(valid)))
    return canonical(permissions)


async def _get(txn: Txn, account_sid: str, service_sid: str, sid: str) -> Role:
    await get_service(txn, account_sid, service_sid)
    role = (
        await store.find_role_txn(txn, service_sid, sid)
        if sids.looks_like(sids.ROLE, sid)
        else None
    )
    if role is None:
        raise errors.NotFoundError()
    return role


async def create_role(deps: Deps, caller: Caller, service_sid: str, cmd: CreateRole) -> Role:
    deps.limits.count_service(service_sid)
    policy.authorize(caller.actor, Action.ADMINISTER)

    async def txn_fn(txn: Txn) -> Role:
        await get_service(txn, caller.account_sid, service_sid)
        if cmd.friendly_name == "":
            raise errors.FriendlyNameNotProvidedError()
        validation.check_friendly_name(cmd.friendly_name)
        role_type = check_type(cmd.type)
        permissions = check_permissions(role_type, cmd.permissions)
        now = deps.clock.now_ms()
        role = Role(
            deps.sids.new(sids.ROLE),
            caller.account_sid,
            service_sid,
            cmd.friendly_name,
            role_type,
            permissions,
            now,
            now,
        )
        await store.insert_role_txn(txn, role)
        await deps.emit(txn, RoleAdded(caller.actor, role))
        return role

    return await deps.db.run_in_txn("create_role", txn_fn)


async def fetch_role(deps: Deps, caller: Caller, service_sid: str, sid: str) -> Role:
    policy.authorize(caller.actor, Action.ADMINISTER)
    return await deps.db.run_read("fetch_role", _get, caller.account_sid, service_sid, sid)


async def list_roles(deps: Deps, caller: Caller, service_sid: str, req: PageRequest) -> Page[Role]:
    policy.authorize(caller.actor, Action.ADMINISTER)

    async def read(txn: Txn) -> Page[Role]:
        await get_service(txn, caller.account_sid, service_sid)
        return await store.list_roles_txn(txn, service_sid, req)

    return await deps.db.run_read("list_roles", read)


async def update_role(
    deps: Deps, caller: Caller, service_sid: str, sid: str, cmd: UpdateRole
) -> Role:
    """Replace the role's whole permission set; it applies at once to everyone holding it."""
    deps.limits.count_service(service_sid)
    policy.authorize(caller.actor, Action.ADMINISTER)

    async def txn_fn(txn: Txn) -> Role:
        old = await _get(txn, caller.account_sid, service_sid, sid)
        new = dataclasses.replace(
            old,
            permissions=check_permissions(old.type, cmd.permissions),
            date_updated=deps.clock.now_ms(),
        )
        await store.update_role_txn(txn, new)
        await deps.emit(txn, RoleUpdated(caller.actor, new))
        return new

    return await deps.db.run_in_txn("update_role", txn_fn)


async def delete_role(deps: Deps, caller: Caller, service_sid: str, sid: str) -> None:
    """Deleting a role in use is allowed, as on Twilio; holders keep the dangling SID."""
    deps.limits.count_service(service_sid)
    policy.authorize(caller.actor, Action.ADMINISTER)

    async def txn_fn(txn: Txn) -> None:
        role = await _get(txn, caller.account_sid, service_sid, sid)
        await store.delete_role_txn(txn, role.sid)
        await deps.emit(txn, RoleRemoved(caller.actor, role))

    await deps.db.run_in_txn("delete_role", txn_fn)
