"""Typed domain events: one per mutation, published on the bus only after its commit.

Webhooks (post-events), the real-time client hub and the admin console will consume these.
Each event carries full snapshots of what changed (so consumers never query back) and the
:class:`Actor` that caused it, which webhooks turn into ``ClientIdentity`` and ``Source``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from chinwag.model.records import Channel, Credential, Invite, Member, Message, Role, Service, User


@dataclass(frozen=True, slots=True)
class Actor:
    """Who performed an action: the REST API (account owner) or a chat user through a client."""

    source: Literal["API", "SDK"]
    identity: str | None = None
    #: a REST request sent with ``X-Twilio-Webhook-Enabled: true``: fire its post-event, as
    #: Twilio's v2 API does (v1 REST calls fire none by default, reference 6.3)
    webhook_enabled: bool = False


API_ACTOR = Actor("API")
API_WEBHOOK_ACTOR = Actor("API", webhook_enabled=True)


@dataclass(frozen=True, slots=True)
class Event:
    actor: Actor


@dataclass(frozen=True, slots=True)
class CredentialAdded(Event):
    credential: Credential


@dataclass(frozen=True, slots=True)
class CredentialUpdated(Event):
    credential: Credential


@dataclass(frozen=True, slots=True)
class CredentialRemoved(Event):
    credential: Credential


@dataclass(frozen=True, slots=True)
class ServiceAdded(Event):
    service: Service
    roles: tuple[Role, ...]


@dataclass(frozen=True, slots=True)
class ServiceUpdated(Event):
    service: Service


@dataclass(frozen=True, slots=True)
class ServiceRemoved(Event):
    service: Service


@dataclass(frozen=True, slots=True)
class RoleAdded(Event):
    role: Role


@dataclass(frozen=True, slots=True)
class RoleUpdated(Event):
    role: Role


@dataclass(frozen=True, slots=True)
class RoleRemoved(Event):
    role: Role


@dataclass(frozen=True, slots=True)
class UserAdded(Event):
    user: User


@dataclass(frozen=True, slots=True)
class UserUpdated(Event):
    user: User


@dataclass(frozen=True, slots=True)
class UserRemoved(Event):
    user: User


@dataclass(frozen=True, slots=True)
class UserReachabilityChanged(Event):
    """A user's first client connection opened or last one closed (on some process), with
    reachability enabled: their ``reachability`` may have changed."""

    user: User


@dataclass(frozen=True, slots=True)
class ChannelAdded(Event):
    channel: Channel


@dataclass(frozen=True, slots=True)
class ChannelUpdated(Event):
    channel: Channel


@dataclass(frozen=True, slots=True)
class ChannelRemoved(Event):
    channel: Channel


@dataclass(frozen=True, slots=True)
class MemberAdded(Event):
    member: Member


@dataclass(frozen=True, slots=True)
class MemberUpdated(Event):
    member: Member
    #: False when only the member's own notification level changed: a private setting of the
    #: user's channel list, which the channel's roster (and other members) do not show
    roster: bool = True


@dataclass(frozen=True, slots=True)
class MemberRemoved(Event):
    member: Member


@dataclass(frozen=True, slots=True)
class InviteAdded(Event):
    invite: Invite


@dataclass(frozen=True, slots=True)
class InviteRemoved(Event):
    invite: Invite


@dataclass(frozen=True, slots=True)
class MessageAdded(Event):
    message: Message


@dataclass(frozen=True, slots=True)
class MessageUpdated(Event):
    message: Message


@dataclass(frozen=True, slots=True)
class MessageRemoved(Event):
    message: Message
