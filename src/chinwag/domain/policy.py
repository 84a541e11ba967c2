"""The one authorization policy: may this actor do this, here?

The REST API acts as the account owner (``Actor("API")``) and may do everything, at no cost:
:func:`authorize_txn` returns before any query. A chat user (``Actor("SDK", identity)``) is
judged on its :class:`Standing` where the action happens, read inside the action's own
transaction (no cache), so a role or membership change made a moment earlier through REST is
seen by the next action and cannot slip between the check and the write:

- the *service* role of the user's User row (deployment permissions; an identity without a User
  row yet holds the service's default service role, which its User will get);
- the *channel* role of the user's Member row in that channel (channel permissions; none when
  not a member).

A permission valid in both scopes (reference 5.1) counts from either role, so a service admin
may, say, delete any message in any channel; a channel-only permission counts only from the
Member row. :func:`decide` is the pure rule, pinned by a table test over every permission name.

Refusals (reference 3.3): 403 50107 "User not authorized for command"; 403 50400 "User not
member of channel" when only a channel permission could allow the action and the user is not a
member; choosing a role is 403 50205 (only the account owner assigns roles, through REST). The
message goes on to name the permission that would allow the action ("…: requires permission
sendMediaMessage"), or says that the channel is private or that no role can allow it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from chinwag import errors
from chinwag.domain.permissions import VALID
from chinwag.model.events import Actor
from chinwag.model.records import Channel
from chinwag.model.unset import Unset
from chinwag.storage.database import Txn
from chinwag.storage.stores import members as member_store
from chinwag.storage.stores import roles as role_store


class Action(enum.Enum):
    """What a chat user may ask for; :data:`RULES` says which permission allows each."""

    CREATE_CHANNEL = enum.auto()
    #: see a channel: its name, attributes and counts (a Sync channel document)
    VIEW_CHANNEL = enum.auto()
    #: see who is in a channel (ListMember, the SDK's user descriptors, the Sync roster)
    LIST_MEMBERS = enum.auto()
    #: see a user of one's service: name, attributes, reachability (a Sync user info map)
    VIEW_USER = enum.auto()
    JOIN_CHANNEL = enum.auto()
    EDIT_CHANNEL_NAME = enum.auto()
    EDIT_CHANNEL_ATTRIBUTES = enum.auto()
    DESTROY_CHANNEL = enum.auto()
    ADD_MEMBER = enum.auto()
    REMOVE_MEMBER = enum.auto()
    EDIT_MEMBER_ATTRIBUTES = enum.auto()
    ADVANCE_CONSUMPTION = enum.auto()
    EDIT_NOTIFICATION_LEVEL = enum.auto()
    INVITE_MEMBER = enum.auto()
    DELETE_INVITE = enum.auto()
    READ_MESSAGES = enum.auto()
    #: show others that one is typing: members only, like reading (no permission names it)
    TYPE_IN_CHANNEL = enum.auto()
    SEND_MESSAGE = enum.auto()
    SEND_MEDIA_MESSAGE = enum.auto()
    EDIT_MESSAGE = enum.auto()
    EDIT_MESSAGE_ATTRIBUTES = enum.auto()
    DELETE_MESSAGE = enum.auto()
    EDIT_USER_INFO = enum.auto()
    LIST_USER_CHANNELS = enum.auto()
    #: credentials, services, roles, user create/delete: the account owner's business only
    ADMINISTER = enum.auto()


@dataclass(frozen=True, slots=True)
class Rule:
    #: the permission that allows the action on anyone's resource (None: nobody's)
    any: str | None
    #: the permission that allows it on one's own resource (it also follows from ``any``)
    own: str | None = None
    #: one's own resource needs no permission at all
    own_free: bool = False


RULES: dict[Action, Rule] = {
    Action.CREATE_CHANNEL: Rule("createChannel"),
    Action.JOIN_CHANNEL: Rule("joinChannel"),
    Action.EDIT_CHANNEL_NAME: Rule("editChannelName"),
    Action.EDIT_CHANNEL_ATTRIBUTES: Rule("editChannelAttributes"),
    Action.DESTROY_CHANNEL: Rule("destroyChannel"),
    Action.ADD_MEMBER: Rule("addMember"),
    # leaving is removing one's own membership
    Action.REMOVE_MEMBER: Rule("removeMember", own="leaveChannel"),
    Action.EDIT_MEMBER_ATTRIBUTES: Rule("editAnyMemberAttributes", own="editOwnMemberAttributes"),
    Action.ADVANCE_CONSUMPTION: Rule(None, own_free=True),
    Action.EDIT_NOTIFICATION_LEVEL: Rule(None, own="editNotificationLevel"),
    Action.INVITE_MEMBER: Rule("inviteMember"),
    # declining one's own invite needs nothing; revoking another's is the inviter's business
    Action.DELETE_INVITE: Rule("inviteMember", own_free=True),
    Action.SEND_MESSAGE: Rule("sendMessage"),
    Action.SEND_MEDIA_MESSAGE: Rule("sendMediaMessage"),
    Action.EDIT_MESSAGE: Rule("editAnyMessage", own="editOwnMessage"),
    Action.EDIT_MESSAGE_ATTRIBUTES: Rule(
        "editAnyMessageAttributes", own="editOwnMessageAttributes"
    ),
    Action.DELETE_MESSAGE: Rule("deleteAnyMessage", own="deleteOwnMessage"),
    Action.EDIT_USER_INFO: Rule("editAnyUserInfo", own="editOwnUserInfo"),
    Action.LIST_USER_CHANNELS: Rule(None, own_free=True),
    Action.ADMINISTER: Rule(None),
}


@dataclass(frozen=True, slots=True)
class Standing:
    """What a chat user holds where an action happens (the channel fields describe the channel
    acted on; they keep their defaults for actions outside a channel)."""

    service: frozenset[str]
    channel: frozenset[str] = frozenset()
    member: bool = False
    invited: bool = False
    creator: bool = False
    public: bool = True


def _holds(standing: Standing, permission: str) -> bool:
    return permission in standing.channel or (
        permission in VALID["deployment"] and permission in standing.service
    )


def decide(standing: Standing, action: Action, *, own: bool = False) -> errors.ChinwagError | None:
    """None if allowed, else the error to raise. ``own``: the resource is the actor's own (its
    message, membership, invite, user).

    A refusal names the permission that would allow the action (as Twilio's messages do), so a
    developer knows which role to grant it to, without reading this table.
    """
    if action in (Action.VIEW_CHANNEL, Action.LIST_MEMBERS):
        visible = standing.public or standing.member or standing.invited or standing.creator
        return None if visible else errors.PrivateChannelError()
    if action is Action.VIEW_USER:
        return None
    if action in (Action.READ_MESSAGES, Action.TYPE_IN_CHANNEL):
        return None if standing.member else errors.UserNotMemberError()
    rule = RULES[action]
    if own and rule.own_free:
        return None
    names = [n for n in (rule.own if own else None, rule.any) if n is not None]
    if any(_holds(standing, n) for n in names):
        # a private channel is joined on an invite; its creator needs none [inferred]
        joinable = standing.public or standing.invited or standing.creator
        if action is Action.JOIN_CHANNEL and not joinable:
            return errors.PrivateChannelError()
        return None
    if not names:
        return errors.ChatUserNotAllowedError()
    permission = " or ".join(names)
    if not standing.member and not any(n in VALID["deployment"] for n in names):
        return errors.MemberPermissionRequiredError(permission=permission)
    return errors.PermissionRequiredError(permission=permission)


def is_checked(actor: Actor) -> bool:
    """Whether the policy applies: to chat users, never to the account owner."""
    return actor.source == "SDK"


def chat_identity(actor: Actor) -> str | None:
    """The identity reads are filtered for (None: the account owner sees everything)."""
    return actor.identity if is_checked(actor) else None


def authorize(actor: Actor, action: Action) -> None:
    """For actions that depend on no role at all (``ADMINISTER``); no query."""
    if is_checked(actor):
        refusal = decide(Standing(frozenset()), action)
        if refusal is not None:
            raise refusal


def authorize_role_choice(actor: Actor, role_sid: str | Unset | None) -> None:
    """Only the account owner assigns roles; a chat user naming one gets 403 50205."""
    if is_checked(actor) and isinstance(role_sid, str):
        raise errors.RoleChangeNotAllowedError()


#: what a user may be shown; decided on where the user stands in the channel (member, invited,
#: creator) and the channel's type, never on role permissions, so :class:`Audience` can
#: decide them for many identities from one read
VISIBILITY = frozenset(
    (
        Action.VIEW_CHANNEL,
        Action.LIST_MEMBERS,
        Action.READ_MESSAGES,
        Action.VIEW_USER,
        Action.LIST_USER_CHANNELS,
    )
)


def may_see(standing: Standing, action: Action, *, own: bool = False) -> bool:
    """Whether a chat user standing so may be shown what ``action`` names (one of
    :data:`VISIBILITY`); the REST door, the chat commands and Sync all ask this."""
    if action not in VISIBILITY:
        raise ValueError(f"{action} is not a visibility action")
    return decide(standing, action, own=own) is None


@dataclass(frozen=True, slots=True)
class Audience:
    """Where every identity stands in one channel, read at once: for re-deciding what many
    subscribers may see when someone leaves, without a query each."""

    public: bool
    created_by: str | None
    members: frozenset[str]
    invited: frozenset[str]

    def standing(self, identity: str) -> Standing:
        return Standing(
            frozenset(),
            member=identity in self.members,
            invited=identity in self.invited,
            creator=identity == self.created_by,
            public=self.public,
        )


async def audience_txn(
    txn: Txn, channel_sid: str, *, public: bool, created_by: str | None
) -> Audience:
    members, invited = await member_store.channel_audience_txn(txn, channel_sid)
    return Audience(public, created_by, frozenset(members), frozenset(invited))


async def viewer_standing_txn(
    txn: Txn, channel_sid: str, identity: str, *, public: bool, created_by: str | None
) -> Standing:
    """Where ``identity`` stands in the channel, enough for :data:`VISIBILITY` (one query)."""
    member, invited = await member_store.participation_txn(txn, channel_sid, identity)
    return Standing(
        frozenset(),
        member=member,
        invited=invited,
        creator=identity == created_by,
        public=public,
    )


async def standing_txn(
    txn: Txn, identity: str, service_sid: str, channel: Channel | None
) -> Standing:
    service = frozenset(await role_store.find_user_permissions_txn(txn, service_sid, identity))
    if channel is None:
        return Standing(service)
    permissions, invited = await role_store.find_channel_standing_txn(txn, channel.sid, identity)
    return Standing(
        service,
        frozenset(permissions or ()),
        member=permissions is not None,
        invited=invited,
        creator=channel.created_by == identity,
        public=channel.type == "public",
    )


async def authorize_txn(
    txn: Txn,
    actor: Actor,
    service_sid: str,
    channel: Channel | None,
    *actions: Action,
    owner: str | None = None,
) -> None:
    """Raise unless ``actor`` may do every one of ``actions`` (read the channel, when none are
    given) here, on a resource of ``owner`` (an identity: the author, member, invitee or user
    acted on); free for the REST API.

    Call it inside the transaction that makes the change, after resolving what it acts on.
    """
    if not is_checked(actor):
        return
    if actor.identity is None:  # a chat user always has one; without it, nothing is allowed
        raise errors.UserNotAuthorizedError()
    standing = await standing_txn(txn, actor.identity, service_sid, channel)
    for action in actions or (Action.VIEW_CHANNEL,):
        refusal = decide(standing, action, own=owner == actor.identity)
        if refusal is not None:
            raise refusal
