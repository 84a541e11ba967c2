"""Members: users in a channel. Adding one may create the user; counters stay exact.

Check order on add (reference 4.7): already a member (409 50404), channel full (403 50403),
user at their channel limit (403 50208). The channel row is read for update first, so racing
adds to one channel queue behind each other and the limit cannot be overshot.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from chinwag import errors, sids
from chinwag.domain import policy, validation
from chinwag.domain.channels import check_channel_txn
from chinwag.domain.deps import Caller, Deps
from chinwag.domain.lookups import (
    get_member,
    get_role_of_type,
    get_service,
    get_service_channel,
)
from chinwag.domain.once import Once
from chinwag.domain.policy import Action
from chinwag.domain.pre_events import MemberAdd, MemberRemove
from chinwag.domain.users import new_user_txn
from chinwag.model.events import (
    InviteRemoved,
    MemberAdded,
    MemberRemoved,
    MemberUpdated,
    UserAdded,
)
from chinwag.model.records import (
    Channel,
    Member,
    NotificationLevel,
    Page,
    PageRequest,
    Service,
    User,
)
from chinwag.model.unset import UNSET, Unset, is_empty_update, pick
from chinwag.storage.database import Txn
from chinwag.storage.stores import channels as channel_store
from chinwag.storage.stores import invites as invite_store
from chinwag.storage.stores import members as store
from chinwag.storage.stores import users as user_store


@dataclass(frozen=True)
class CreateMember:
    identity: str
    role_sid: str | None = None
    #: Chat v2's REST parameters: attributes, a read horizon (its time defaults to now) and
    #: the dates of an import of history (``date_updated`` defaults to ``date_created``)
    attributes: str | None = None
    last_consumed_message_index: int | None = None
    last_consumption_timestamp: int | None = None
    date_created: int | None = None
    date_updated: int | None = None


@dataclass(frozen=True)
class UpdateMember:
    """A partial update. Chat v1's REST Member has neither ``notification_level`` nor
    ``attributes``; v2 sets both (the level through the User Channel), as chat clients do.
    An explicit ``last_consumption_timestamp`` wins over the time the horizon moved."""

    role_sid: str | Unset = UNSET
    last_consumed_message_index: int | Unset | None = UNSET
    notification_level: NotificationLevel | Unset = UNSET
    attributes: str | Unset | None = UNSET
    last_consumption_timestamp: int | Unset = UNSET
    date_created: int | Unset = UNSET
    date_updated: int | Unset = UNSET


def _actions(cmd: UpdateMember) -> tuple[Action, ...]:
    """What the update asks the policy for, one action per kind of field it changes."""
    wanted = (
        (cmd.last_consumed_message_index, Action.ADVANCE_CONSUMPTION),
        (cmd.last_consumption_timestamp, Action.ADVANCE_CONSUMPTION),
        (cmd.notification_level, Action.EDIT_NOTIFICATION_LEVEL),
        (cmd.attributes, Action.EDIT_MEMBER_ATTRIBUTES),
    )
    # a role change alone is the account owner's (authorize_role_choice); viewing suffices
    return tuple(action for value, action in wanted if value is not UNSET) or (Action.VIEW_CHANNEL,)


async def create_member(
    deps: Deps,
    caller: Caller,
    service_sid: str,
    channel_key: str,
    cmd: CreateMember,
    *,
    once: Once[Member] | None = None,
) -> Member:
    """Add a member; a chat user adding themselves joins (``joinChannel``, and an invite for a
    private channel they did not create), adding anyone else needs ``addMember``."""
    deps.limits.count_channel(service_sid, channel_key)
    policy.authorize_role_choice(caller.actor, cmd.role_sid)
    validation.check_attributes(cmd.attributes)
    if cmd.last_consumed_message_index is not None:
        validation.check_in_range(
            cmd.last_consumed_message_index,
            validation.MESSAGE_INDEX_RANGE,
            errors.InvalidConsumedIndexError,
        )

    async def build(txn: Txn) -> MemberAdd:
        service, channel, identity = await check_create_member_txn(
            txn, caller, service_sid, channel_key, cmd
        )
        role_sid, _ = _role_for(service, channel, identity, cmd.role_sid)
        return MemberAdd(channel, identity, role_sid)

    await deps.pre_event(caller, service_sid, build)
    return await do_create_member(deps, caller, service_sid, channel_key, cmd, once=once)


async def check_create_member_txn(
    txn: Txn,
    caller: Caller,
    service_sid: str,
    channel_key: str,
    cmd: CreateMember,
    *,
    for_update: bool = False,
) -> tuple[Service, Channel, str]:
    """The service, the channel and the checked identity, once the actor may add it."""
    service = await get_service(txn, caller.account_sid, service_sid)
    channel = await get_service_channel(
        txn, caller.account_sid, service_sid, channel_key, for_update=for_update
    )
    identity = validation.check_identity(cmd.identity)
    action = Action.JOIN_CHANNEL if identity == caller.actor.identity else Action.ADD_MEMBER
    await policy.authorize_txn(txn, caller.actor, service_sid, channel, action)
    return service, channel, identity


def _role_for(
    service: Service, channel: Channel, identity: str, role_sid: str | None
) -> tuple[str | None, type[errors.ChinwagError]]:
    """The role a new member gets, and the error if it is not a channel role: the one named,
    else the service's creator role for the channel's creator (who can only be a chat user:
    REST channels are created by ``system``, which is no identity), else its default role."""
    if role_sid:
        return role_sid, errors.ChannelRoleNotFoundError
    if identity == channel.created_by:
        return service.default_channel_creator_role_sid, errors.ChannelCreatorRoleNotFoundError
    return service.default_channel_role_sid, errors.ChannelRoleNotFoundError


async def do_create_member(
    deps: Deps,
    caller: Caller,
    service_sid: str,
    channel_key: str,
    cmd: CreateMember,
    *,
    once: Once[Member] | None = None,
) -> Member:
    async def txn_fn(txn: Txn) -> Member:
        service, channel, identity = await check_create_member_txn(
            txn, caller, service_sid, channel_key, cmd, for_update=True
        )
        role_sid, role_error = _role_for(service, channel, identity, cmd.role_sid)
        role = await get_role_of_type(txn, service_sid, role_sid, "channel", role_error)
        if await store.find_member_txn(txn, channel.sid, "identity", identity) is not None:
            raise errors.MemberAlreadyExistsError()
        if channel.members_count >= service.limits.channel_members:
            raise errors.ChannelMemberLimitError()
        user = await user_store.find_user_txn(
            txn, service_sid, "identity", identity, for_update=True
        )
        if user is None:
            created = await new_user_txn(txn, deps, service, identity)
            if created is not None:
                await deps.emit(txn, UserAdded(caller.actor, created))
                user = created
            else:  # created by a concurrent request a moment ago: use that one
                user = await user_store.find_user_txn(
                    txn, service_sid, "identity", identity, for_update=True
                )
                assert user is not None
        if user.joined_channels_count >= service.limits.user_channels:
            raise errors.UserChannelLimitError()
        now = deps.clock.now_ms()
        joined = now if cmd.date_created is None else cmd.date_created
        stamp = cmd.last_consumption_timestamp
        if stamp is None and cmd.last_consumed_message_index is not None:
            stamp = now
        member = Member(
            sid=deps.sids.new(sids.MEMBER),
            account_sid=caller.account_sid,
            service_sid=service_sid,
            channel_sid=channel.sid,
            identity=identity,
            role_sid=role.sid,
            last_consumed_message_index=cmd.last_consumed_message_index,
            last_consumption_timestamp=stamp,
            date_created=joined,
            date_updated=joined if cmd.date_updated is None else cmd.date_updated,
            attributes=cmd.attributes,
        )
        with txn.on_unique_violation(errors.MemberAlreadyExistsError):
            await store.insert_member_txn(txn, member)
        await channel_store.add_members_count_txn(txn, channel.sid, 1)
        await user_store.add_joined_channels_txn(txn, service_sid, identity, 1)
        invite = await invite_store.find_invite_for_txn(txn, channel.sid, identity)
        if invite is not None:
            await invite_store.delete_invite_txn(txn, invite.sid)
            await deps.emit(txn, InviteRemoved(caller.actor, invite))
        await deps.emit(txn, MemberAdded(caller.actor, member))
        return member

    return await deps.write("create_member", txn_fn, once)


async def check_member_txn(
    txn: Txn,
    caller: Caller,
    service_sid: str,
    channel_key: str,
    key: str,
    *actions: Action,
    for_update: bool = False,
    lock_channel: bool = False,
) -> Member:
    """Resolve a member and authorize ``actions`` on it (viewing, when none are given); the
    member is the actor's own when it is the actor's membership."""
    channel = await get_service_channel(
        txn, caller.account_sid, service_sid, channel_key, for_update=lock_channel
    )
    member = await get_member(txn, channel.sid, key, for_update=for_update)
    await policy.authorize_txn(
        txn, caller.actor, service_sid, channel, *actions, owner=member.identity
    )
    return member


async def fetch_member(
    deps: Deps, caller: Caller, service_sid: str, channel_key: str, key: str
) -> Member:
    return await deps.db.run_read(
        "fetch_member", check_member_txn, caller, service_sid, channel_key, key
    )


async def list_members(
    deps: Deps,
    caller: Caller,
    service_sid: str,
    channel_key: str,
    identities: Sequence[str],
    req: PageRequest,
) -> Page[Member]:
    async def read(txn: Txn) -> Page[Member]:
        channel = await check_channel_txn(
            txn, caller, service_sid, channel_key, Action.LIST_MEMBERS
        )
        return await store.list_members_txn(txn, channel.sid, identities, req)

    return await deps.db.run_read("list_members", read)


async def list_member_users(
    deps: Deps, caller: Caller, service_sid: str, channel_key: str, req: PageRequest
) -> Page[User]:
    """A page of the channel's members as users (the SDK's ``getUserDescriptors``), paged by
    membership, in a constant number of queries (the members, then their users) whatever the
    page size. Reachability is not filled in: the descriptors it serves leave it out."""

    async def read(txn: Txn) -> Page[User]:
        channel = await check_channel_txn(
            txn, caller, service_sid, channel_key, Action.LIST_MEMBERS
        )
        page = await store.list_members_txn(txn, channel.sid, (), req)
        found = await user_store.find_users_txn(txn, service_sid, [m.identity for m in page.items])
        users = [found[m.identity] for m in page.items if m.identity in found]
        return Page(users, page.next_key, page.prev_key)

    return await deps.db.run_read("list_member_users", read)


async def update_member(
    deps: Deps,
    caller: Caller,
    service_sid: str,
    channel_key: str,
    key: str,
    cmd: UpdateMember,
    *,
    once: Once[Member] | None = None,
) -> Member:
    """Change a member's role, consumption horizon (which also stamps the time it moved),
    notification level or attributes.

    A chat user may move only their own horizon, may not change roles, and needs
    ``editNotificationLevel`` (own membership) or ``edit{Own,Any}MemberAttributes`` for the
    client-only fields.
    """
    check_update(deps, caller, service_sid, channel_key, cmd)
    return await do_update_member(deps, caller, service_sid, channel_key, key, cmd, once=once)


def check_update(
    deps: Deps, caller: Caller, service_sid: str, channel_key: str, cmd: UpdateMember
) -> None:
    """The checks of a member update that need no transaction (rate limit and values)."""
    deps.limits.count_channel(service_sid, channel_key)
    if is_empty_update(cmd):
        raise errors.NoUpdateParametersError()
    if isinstance(cmd.last_consumed_message_index, int):
        validation.check_in_range(
            cmd.last_consumed_message_index,
            validation.MESSAGE_INDEX_RANGE,
            errors.InvalidConsumedIndexError,
        )
    if isinstance(cmd.attributes, str):
        validation.check_attributes(cmd.attributes)
    policy.authorize_role_choice(caller.actor, cmd.role_sid)


async def do_update_member(
    deps: Deps,
    caller: Caller,
    service_sid: str,
    channel_key: str,
    key: str,
    cmd: UpdateMember,
    *,
    once: Once[Member] | None = None,
) -> Member:
    async def txn_fn(txn: Txn) -> Member:
        return await update_member_txn(deps, txn, caller, service_sid, channel_key, key, cmd)

    return await deps.write("update_member", txn_fn, once)


async def update_member_txn(
    deps: Deps,
    txn: Txn,
    caller: Caller,
    service_sid: str,
    channel_key: str,
    key: str,
    cmd: UpdateMember,
) -> Member:
    """The update itself, checked again inside ``txn`` (shared with the user's own channel
    settings, ``user_channels.update_user_channel``)."""
    old = await check_member_txn(
        txn, caller, service_sid, channel_key, key, *_actions(cmd), for_update=True
    )
    role_sid = old.role_sid
    if cmd.role_sid is not UNSET:
        role = await get_role_of_type(
            txn, service_sid, cmd.role_sid, "channel", errors.ChannelRoleNotFoundError
        )
        role_sid = role.sid
    # the level alone is the user's private setting: the member (REST, roster) is unchanged
    private = dataclasses.replace(cmd, notification_level=UNSET) == UpdateMember()
    now = deps.clock.now_ms()
    index = pick(cmd.last_consumed_message_index, old.last_consumed_message_index)
    stamp = old.last_consumption_timestamp
    if cmd.last_consumption_timestamp is not UNSET:
        stamp = cmd.last_consumption_timestamp
    elif cmd.last_consumed_message_index is not UNSET:
        stamp = None if index is None else now
    new = dataclasses.replace(
        old,
        role_sid=role_sid,
        last_consumed_message_index=index,
        last_consumption_timestamp=stamp,
        notification_level=pick(cmd.notification_level, old.notification_level),
        attributes=pick(cmd.attributes, old.attributes),
        date_created=pick(cmd.date_created, old.date_created),
        date_updated=pick(cmd.date_updated, old.date_updated if private else now),
    )
    await store.update_member_txn(txn, new)
    await deps.emit(txn, MemberUpdated(caller.actor, new, roster=not private))
    return new


async def delete_member(
    deps: Deps,
    caller: Caller,
    service_sid: str,
    channel_key: str,
    key: str,
    *,
    once: Once[None] | None = None,
) -> None:
    """Remove a member; a chat user removing themselves leaves (``leaveChannel``), removing
    anyone else needs ``removeMember``."""
    deps.limits.count_channel(service_sid, channel_key)

    async def build(txn: Txn) -> MemberRemove:
        doomed = await check_member_txn(
            txn, caller, service_sid, channel_key, key, Action.REMOVE_MEMBER
        )
        return MemberRemove(doomed)

    await deps.pre_event(caller, service_sid, build)
    await do_delete_member(deps, caller, service_sid, channel_key, key, once=once)


async def do_delete_member(
    deps: Deps,
    caller: Caller,
    service_sid: str,
    channel_key: str,
    key: str,
    *,
    once: Once[None] | None = None,
) -> None:
    async def txn_fn(txn: Txn) -> None:
        member = await check_member_txn(
            txn,
            caller,
            service_sid,
            channel_key,
            key,
            Action.REMOVE_MEMBER,
            for_update=True,
            lock_channel=True,
        )
        await store.delete_member_txn(txn, member.sid)
        await channel_store.add_members_count_txn(txn, member.channel_sid, -1)
        await user_store.add_joined_channels_txn(txn, service_sid, member.identity, -1)
        await deps.emit(txn, MemberRemoved(caller.actor, member))

    await deps.write("delete_member", txn_fn, once)
