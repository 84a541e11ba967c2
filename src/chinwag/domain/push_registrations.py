"""Push registrations (ERS): the devices a chat user wants notifications on.

The SDK registers through the socket after ``client.setPushRegistrationId(type, token)`` and
deletes the registration when the token changes or is unset (client-protocol 5.1). chinwag
stores them, with the push credential the client's access token named, lists them for an
operator (``chinwag push list``, the v2 Bindings) and sends pushes to them (``chinwag.push``).
A user has one registration per push channel and token: registering the same pair again
replaces it. A user keeps at most :data:`MAX_PER_IDENTITY`: an app that registers a new token
on every start without removing the old one would otherwise grow a list that every message
fans out to; the oldest goes first (its device has most likely re-registered since). A user
with a registration is *notifiable*: registering and unregistering announce the user's
reachability in their own transaction (``reachability_changed_txn``), so subscribed clients
see ``notifiable`` change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chinwag import errors, sids
from chinwag.domain.deps import Caller, Deps
from chinwag.domain.lookups import get_service, get_user
from chinwag.domain.reachability import reachability_changed_txn
from chinwag.model.records import Page, PageRequest, PushRegistration, User
from chinwag.storage.database import Txn
from chinwag.storage.stores import push_registrations as store

CHANNEL_TYPES = frozenset({"fcm", "apn", "gcm"})
#: device tokens are ~150-200 characters (FCM) or 64 hex digits (APNs)
ADDRESS_MAX = 4096
#: the SDK cuts a user agent to 128 characters
ENDPOINT_MAX = 256
MESSAGE_TYPES_MAX = 32
MESSAGE_TYPE_MAX = 128
#: registrations one user keeps; registering one more forgets the oldest
MAX_PER_IDENTITY = 20


@dataclass(frozen=True)
class Register:
    """The SDK's request body: ``channel_type``, ``data.registration_id``,
    ``endpoint_platform``, ``message_types``."""

    channel_type: str
    address: str
    endpoint: str
    message_types: tuple[str, ...]


def _text(value: object, name: str, limit: int) -> str:
    if not isinstance(value, str) or not value or len(value) > limit or "\x00" in value:
        raise errors.InvalidParameterError(
            name=name, expected=f"a non-empty string of at most {limit} characters"
        )
    return value


def parse_register(body: object) -> Register:
    """The registration the SDK's JSON body asks for; 400 (20001) naming the bad field."""
    if not isinstance(body, dict):
        raise errors.MalformedRequestError(detail="Request body must be a JSON object")
    channel_type = body.get("channel_type")
    if channel_type not in CHANNEL_TYPES:
        raise errors.InvalidParameterError(
            name="channel_type", expected=errors.one_of(sorted(CHANNEL_TYPES))
        )
    data = body.get("data")
    address = _text(
        data.get("registration_id") if isinstance(data, dict) else None,
        "data.registration_id",
        ADDRESS_MAX,
    )
    endpoint = _text(body.get("endpoint_platform", "web"), "endpoint_platform", ENDPOINT_MAX)
    types = body.get("message_types", [])
    if not isinstance(types, list) or len(types) > MESSAGE_TYPES_MAX:
        raise errors.InvalidParameterError(
            name="message_types", expected=f"a list of at most {MESSAGE_TYPES_MAX} names"
        )
    message_types = tuple(_text(t, "message_types", MESSAGE_TYPE_MAX) for t in types)
    return Register(str(channel_type), address, endpoint, message_types)


async def register(
    deps: Deps,
    caller: Caller,
    service_sid: str,
    identity: str,
    cmd: Register,
    *,
    credential_sid: str | None = None,
) -> PushRegistration:
    """Register ``identity``'s device, replacing its registration of the same token; pushes
    to it use ``credential_sid`` (the one the client's access token named)."""
    now = deps.clock.now_ms()
    registration = PushRegistration(
        deps.sids.new(sids.PUSH_REGISTRATION),
        caller.account_sid,
        service_sid,
        identity,
        cmd.channel_type,
        cmd.address,
        cmd.endpoint,
        cmd.message_types,
        now,
        now,
        credential_sid,
    )

    async def txn_fn(txn: Txn) -> PushRegistration:
        await get_service(txn, caller.account_sid, service_sid)
        await get_user(txn, service_sid, identity, for_update=True)
        await store.replace_registration_txn(txn, registration)
        await store.trim_registrations_txn(txn, service_sid, identity, MAX_PER_IDENTITY)
        await reachability_changed_txn(deps, txn, service_sid, identity)
        return registration

    return await deps.db.run_in_txn("register_push", txn_fn)


async def unregister(deps: Deps, service_sid: str, identity: str, sid: str) -> None:
    """Delete one of ``identity``'s registrations; 404 if it has none by that id."""

    async def txn_fn(txn: Txn) -> None:
        if not sids.looks_like(sids.PUSH_REGISTRATION, sid) or not (
            await store.delete_registration_txn(txn, service_sid, identity, sid)
        ):
            raise errors.NotFoundError()
        await reachability_changed_txn(deps, txn, service_sid, identity)

    await deps.db.run_in_txn("unregister_push", txn_fn)


async def remove_registration(
    deps: Deps, caller: Caller, service_sid: str, sid: str, identity: str | None = None
) -> None:
    """Delete registration ``sid`` of the service (of ``identity``, if named): the v2
    Binding delete. 404 if there is none."""

    async def txn_fn(txn: Txn) -> None:
        await get_service(txn, caller.account_sid, service_sid)
        found = sids.looks_like(sids.PUSH_REGISTRATION, sid) and (
            await store.find_registration_txn(txn, caller.account_sid, service_sid, sid)
        )
        if not found or (identity is not None and found.identity != identity):
            raise errors.NotFoundError()
        await store.delete_registration_by_sid_txn(txn, service_sid, sid)
        await reachability_changed_txn(deps, txn, service_sid, found.identity)

    await deps.db.run_in_txn("remove_push_registration", txn_fn)


async def get_registration(
    deps: Deps, caller: Caller, service_sid: str, sid: str, identity: str | None = None
) -> PushRegistration:
    """One registration of the service (of ``identity``, if named); 404 if there is none."""

    async def read(txn: Txn) -> PushRegistration:
        await get_service(txn, caller.account_sid, service_sid)
        found = None
        if sids.looks_like(sids.PUSH_REGISTRATION, sid):
            found = await store.find_registration_txn(txn, caller.account_sid, service_sid, sid)
        if found is None or (identity is not None and found.identity != identity):
            raise errors.NotFoundError()
        return found

    return await deps.db.run_read("get_push_registration", read)


async def list_push_registrations(
    deps: Deps, account_sid: str, service_sid: str | None = None
) -> list[PushRegistration]:
    """The account's registrations (of one service, if named), oldest first: an operator's view."""
    return await deps.db.run_read(
        "list_push_registrations", store.list_registrations_txn, account_sid, service_sid
    )


async def list_bindings(
    deps: Deps,
    caller: Caller,
    service_sid: str,
    identities: Sequence[str],
    channel_types: Sequence[str],
    req: PageRequest,
) -> Page[PushRegistration]:
    """A page of the service's registrations (v2's Bindings), filtered by identity and push
    channel type (``BindingType``; 400 naming it if not a push channel)."""
    for channel_type in channel_types:
        if channel_type not in CHANNEL_TYPES:
            raise errors.InvalidParameterError(
                name="BindingType", expected=errors.one_of(sorted(CHANNEL_TYPES))
            )

    async def read(txn: Txn) -> Page[PushRegistration]:
        await get_service(txn, caller.account_sid, service_sid)
        return await store.page_registrations_txn(txn, service_sid, identities, channel_types, req)

    return await deps.db.run_read("list_bindings", read)


async def binding_user(deps: Deps, caller: Caller, service_sid: str, user_key: str) -> User:
    """The user ``user_key`` (US SID or identity) names, for v2's User Bindings; 404 if none."""

    async def read(txn: Txn) -> User:
        await get_service(txn, caller.account_sid, service_sid)
        return await get_user(txn, service_sid, user_key)

    return await deps.db.run_read("binding_user", read)
