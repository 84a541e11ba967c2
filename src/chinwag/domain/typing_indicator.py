"""Typing indicators: a member tells the other members of a channel that it is typing.

The only door is the client's ``typing`` call (there is no REST operation). The check (the
caller is a member: 403 50400 otherwise) reads the database; the event itself is ephemeral
(``publish_ephemeral``): never stored, never replayed, throttled per (service, channel,
identity) by ``Deps.limits``. The reply carries the service's ``typing_indicator_timeout``,
which the SDK uses as its own pause between two calls.
"""

from __future__ import annotations

from chinwag.domain.deps import Caller, Deps
from chinwag.domain.lookups import get_service, get_service_channel
from chinwag.domain.policy import Action, authorize_txn, chat_identity
from chinwag.model.ephemeral import TypingStarted
from chinwag.storage.database import Txn
from chinwag.storage.stores import members as member_store


async def _typing_txn(
    txn: Txn, caller: Caller, service_sid: str, channel_key: str, identity: str
) -> TypingStarted:
    service = await get_service(txn, caller.account_sid, service_sid)
    channel = await get_service_channel(txn, caller.account_sid, service_sid, channel_key)
    await authorize_txn(txn, caller.actor, service_sid, channel, Action.TYPE_IN_CHANNEL)
    members = await member_store.member_identities_txn(txn, channel.sid)
    return TypingStarted(
        service_sid,
        channel.sid,
        identity,
        service.typing_indicator_timeout,
        tuple(m for m in members if m != identity),
        caller.account_sid,
    )


async def start_typing(deps: Deps, caller: Caller, service_sid: str, channel_key: str) -> int:
    """Announce that the caller is typing in a channel; returns the timeout in seconds."""
    identity = chat_identity(caller.actor) or ""
    event = await deps.db.run_read(
        "typing", _typing_txn, caller, service_sid, channel_key, identity
    )
    if deps.limits.typing_allowed(service_sid, event.channel_sid, identity):
        deps.bus.publish_ephemeral(event)
    return event.typing_timeout
