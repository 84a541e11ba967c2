"""Resolving path segments and body references to rows, inside a transaction.

``get_*`` raise :class:`NotFoundError` (404 20404); role references in a *body* raise the
role-type error the reference assigns to each place (400 50101/50102/50106) instead.

A channel segment is a CH SID or a unique name, a user segment a US SID or an identity, a member
segment an MB SID or an identity: creates reject names shaped like SIDs, so the shape decides.
"""

from __future__ import annotations

from typing import Literal

from chinwag import errors, sids
from chinwag.model.records import Channel, Member, Role, RoleType, Service, User
from chinwag.storage.database import Txn
from chinwag.storage.stores import channels, members, roles, services, users


async def get_service(txn: Txn, account_sid: str, sid: str, *, for_update: bool = False) -> Service:
    service = None
    if sids.looks_like(sids.SERVICE, sid):
        service = await services.find_service_txn(txn, account_sid, sid, for_update=for_update)
    if service is None:
        raise errors.NotFoundError()
    return service


def channel_column(key: str) -> Literal["sid", "unique_name"]:
    """Which column a channel path segment names: a CH SID, or else a unique name."""
    return "sid" if sids.looks_like(sids.CHANNEL, key) else "unique_name"


async def get_service_channel(
    txn: Txn, account_sid: str, service_sid: str, key: str, *, for_update: bool = False
) -> Channel:
    """The channel of a service of the caller's account, in one query.

    Channel rows carry the account SID, so this also answers "does the service exist and
    belong to the caller": a channel of a missing or foreign service is not found either.
    """
    channel = await channels.find_channel_txn(
        txn, account_sid, service_sid, channel_column(key), key, for_update=for_update
    )
    if channel is None:
        raise errors.NotFoundError()
    return channel


async def get_user(txn: Txn, service_sid: str, key: str, *, for_update: bool = False) -> User:
    by: Literal["sid", "identity"] = "sid" if sids.looks_like(sids.USER, key) else "identity"
    user = await users.find_user_txn(txn, service_sid, by, key, for_update=for_update)
    if user is None:
        raise errors.NotFoundError()
    return user


async def get_member(txn: Txn, channel_sid: str, key: str, *, for_update: bool = False) -> Member:
    by: Literal["sid", "identity"] = "sid" if sids.looks_like(sids.MEMBER, key) else "identity"
    member = await members.find_member_txn(txn, channel_sid, by, key, for_update=for_update)
    if member is None:
        raise errors.NotFoundError()
    return member


async def get_role_of_type(
    txn: Txn,
    service_sid: str,
    sid: str | None,
    role_type: RoleType,
    error: type[errors.ChinwagError],
) -> Role:
    """The role ``sid`` of this service if it has ``role_type``; else raise ``error``."""
    role = await roles.find_role_txn(txn, service_sid, sid) if sid else None
    if role is None or role.type != role_type:
        raise error()
    return role
