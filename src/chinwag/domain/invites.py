"""Invites: pending invitations of existing users to a channel."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chinwag import errors, sids
from chinwag.domain import policy, validation
from chinwag.domain.channels import SYSTEM, check_channel_txn
from chinwag.domain.deps import Caller, Deps
from chinwag.domain.lookups import get_role_of_type, get_service, get_service_channel
from chinwag.domain.once import Once
from chinwag.domain.policy import Action
from chinwag.model.events import InviteAdded, InviteRemoved
from chinwag.model.records import Invite, Page, PageRequest
from chinwag.storage.database import Txn
from chinwag.storage.stores import invites as store
from chinwag.storage.stores import members as member_store
from chinwag.storage.stores import users as user_store


@dataclass(frozen=True)
class CreateInvite:
    identity: str
    role_sid: str | None = None


async def create_invite(
    deps: Deps,
    caller: Caller,
    service_sid: str,
    channel_key: str,
    cmd: CreateInvite,
    *,
    once: Once[Invite] | None = None,
) -> Invite:
    deps.limits.count_channel(service_sid, channel_key)
    policy.authorize_role_choice(caller.actor, cmd.role_sid)
    return await do_create_invite(deps, caller, service_sid, channel_key, cmd, once=once)


async def do_create_invite(
    deps: Deps,
    caller: Caller,
    service_sid: str,
    channel_key: str,
    cmd: CreateInvite,
    *,
    once: Once[Invite] | None = None,
) -> Invite:
    async def txn_fn(txn: Txn) -> Invite:
        service = await get_service(txn, caller.account_sid, service_sid)
        channel = await check_channel_txn(
            txn, caller, service_sid, channel_key, Action.INVITE_MEMBER, for_update=True
        )
        identity = validation.check_identity(cmd.identity)
        role = await get_role_of_type(
            txn,
            service_sid,
            cmd.role_sid or service.default_channel_role_sid,
            "channel",
            errors.ChannelRoleNotFoundError,
        )
        # Twilio answers an invite for an unknown identity with a 404 on the Invites path.
        if await user_store.find_user_txn(txn, service_sid, "identity", identity) is None:
            raise errors.NotFoundError()
        if await member_store.find_member_txn(txn, channel.sid, "identity", identity):
            raise errors.MemberAlreadyExistsError()
        if await store.find_invite_for_txn(txn, channel.sid, identity) is not None:
            raise errors.UserAlreadyInvitedError()
        now = deps.clock.now_ms()
        invite = Invite(
            sid=deps.sids.new(sids.INVITE),
            account_sid=caller.account_sid,
            service_sid=service_sid,
            channel_sid=channel.sid,
            identity=identity,
            role_sid=role.sid,
            created_by=caller.actor.identity or SYSTEM,
            date_created=now,
            date_updated=now,
        )
        with txn.on_unique_violation(errors.UserAlreadyInvitedError):
            await store.insert_invite_txn(txn, invite)
        await deps.emit(txn, InviteAdded(caller.actor, invite))
        return invite

    return await deps.write("create_invite", txn_fn, once)


async def check_invite_txn(
    txn: Txn, caller: Caller, service_sid: str, channel_key: str, sid: str, *actions: Action
) -> Invite:
    """Resolve an invite by SID, or by the invited identity (the SDK declines by identity),
    and authorize ``actions`` on it (viewing, when none are given); an invite is the actor's
    own when it invites them."""
    channel = await get_service_channel(txn, caller.account_sid, service_sid, channel_key)
    if sids.looks_like(sids.INVITE, sid):
        invite = await store.find_invite_txn(txn, channel.sid, sid)
    else:
        invite = await store.find_invite_for_txn(txn, channel.sid, sid)
    if invite is None:
        raise errors.NotFoundError()
    await policy.authorize_txn(
        txn, caller.actor, service_sid, channel, *actions, owner=invite.identity
    )
    return invite


async def fetch_invite(
    deps: Deps, caller: Caller, service_sid: str, channel_key: str, sid: str
) -> Invite:
    return await deps.db.run_read(
        "fetch_invite", check_invite_txn, caller, service_sid, channel_key, sid
    )


async def list_invites(
    deps: Deps,
    caller: Caller,
    service_sid: str,
    channel_key: str,
    identities: Sequence[str],
    req: PageRequest,
) -> Page[Invite]:
    async def read(txn: Txn) -> Page[Invite]:
        channel = await check_channel_txn(txn, caller, service_sid, channel_key)
        return await store.list_invites_txn(txn, channel.sid, identities, req)

    return await deps.db.run_read("list_invites", read)


async def delete_invite(
    deps: Deps,
    caller: Caller,
    service_sid: str,
    channel_key: str,
    sid: str,
    *,
    once: Once[None] | None = None,
) -> None:
    """Revoke an invite (``inviteMember``), or decline one's own (no permission needed)."""
    deps.limits.count_channel(service_sid, channel_key)
    await do_delete_invite(deps, caller, service_sid, channel_key, sid, once=once)


async def do_delete_invite(
    deps: Deps,
    caller: Caller,
    service_sid: str,
    channel_key: str,
    sid: str,
    *,
    once: Once[None] | None = None,
) -> None:
    async def txn_fn(txn: Txn) -> None:
        invite = await check_invite_txn(
            txn, caller, service_sid, channel_key, sid, Action.DELETE_INVITE
        )
        await store.delete_invite_txn(txn, invite.sid)
        await deps.emit(txn, InviteRemoved(caller.actor, invite))

    await deps.write("delete_invite", txn_fn, once)
