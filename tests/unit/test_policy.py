"""The authorization rule, as a table: (what the user holds, action, own or other's) -> verdict.

Every permission name appears as the one that allows something, and its absence as a refusal.
Verdicts are the Twilio codes: None (allowed), 50107 (not authorized), 50400 (not a member).
"""

from __future__ import annotations

import pytest

from chinwag import errors
from chinwag.domain import policy
from chinwag.domain.permissions import CANONICAL_ORDER, VALID
from chinwag.domain.policy import RULES, Action, Standing, decide
from chinwag.model.events import Actor

pytestmark = pytest.mark.unit

A = Action
NO, NOT_MEMBER = 50107, 50400


def svc(
    *permissions: str, public: bool = True, invited: bool = False, creator: bool = False
) -> Standing:
    """A user whose service role holds ``permissions``, not a member of the channel."""
    return Standing(frozenset(permissions), public=public, invited=invited, creator=creator)


def mem(*permissions: str, service: tuple[str, ...] = (), public: bool = True) -> Standing:
    """A member whose channel role holds ``permissions``."""
    return Standing(frozenset(service), frozenset(permissions), member=True, public=public)


OWN, OTHER = True, False

TABLE: list[tuple[Standing, Action, bool, int | None]] = [
    # createChannel / joinChannel: service role only
    (svc("createChannel"), A.CREATE_CHANNEL, OTHER, None),
    (svc("joinChannel"), A.CREATE_CHANNEL, OTHER, NO),
    (mem("destroyChannel"), A.CREATE_CHANNEL, OTHER, NO),
    (svc("joinChannel"), A.JOIN_CHANNEL, OWN, None),
    (svc("createChannel"), A.JOIN_CHANNEL, OWN, NO),
    (svc("joinChannel", public=False), A.JOIN_CHANNEL, OWN, NO),
    (svc("joinChannel", public=False, invited=True), A.JOIN_CHANNEL, OWN, None),
    (svc("joinChannel", public=False, creator=True), A.JOIN_CHANNEL, OWN, None),
    (svc(public=False, invited=True), A.JOIN_CHANNEL, OWN, NO),
    # sendMessage / sendMediaMessage: channel role only; a non-member is told so
    (mem("sendMessage"), A.SEND_MESSAGE, OTHER, None),
    (mem("leaveChannel"), A.SEND_MESSAGE, OTHER, NO),
    (svc(), A.SEND_MESSAGE, OTHER, NOT_MEMBER),
    (mem(service=("sendMessage",)), A.SEND_MESSAGE, OTHER, NO),
    (mem("sendMediaMessage"), A.SEND_MEDIA_MESSAGE, OTHER, None),
    (mem("sendMessage"), A.SEND_MEDIA_MESSAGE, OTHER, NO),
    # leaveChannel (own membership) / removeMember (anyone's)
    (mem("leaveChannel"), A.REMOVE_MEMBER, OWN, None),
    (mem("leaveChannel"), A.REMOVE_MEMBER, OTHER, NO),
    (mem("sendMessage"), A.REMOVE_MEMBER, OWN, NO),
    (mem("removeMember"), A.REMOVE_MEMBER, OTHER, None),
    (mem("removeMember"), A.REMOVE_MEMBER, OWN, None),
    (svc("removeMember"), A.REMOVE_MEMBER, OTHER, None),
    (svc(), A.REMOVE_MEMBER, OTHER, NO),
    # editNotificationLevel: one's own membership only
    (mem("editNotificationLevel"), A.EDIT_NOTIFICATION_LEVEL, OWN, None),
    (mem("editNotificationLevel"), A.EDIT_NOTIFICATION_LEVEL, OTHER, NO),
    (mem(), A.EDIT_NOTIFICATION_LEVEL, OWN, NO),
    (svc(), A.EDIT_NOTIFICATION_LEVEL, OWN, NOT_MEMBER),
    # editOwnUserInfo / editAnyUserInfo: service role
    (svc("editOwnUserInfo"), A.EDIT_USER_INFO, OWN, None),
    (svc("editOwnUserInfo"), A.EDIT_USER_INFO, OTHER, NO),
    (svc("editAnyUserInfo"), A.EDIT_USER_INFO, OTHER, None),
    (svc("editAnyUserInfo"), A.EDIT_USER_INFO, OWN, None),
    (svc("createChannel"), A.EDIT_USER_INFO, OWN, NO),
    # destroyChannel, editChannelName, editChannelAttributes, addMember, inviteMember:
    # either role; a service role's grant holds in every channel
    (mem("destroyChannel"), A.DESTROY_CHANNEL, OTHER, None),
    (svc("destroyChannel"), A.DESTROY_CHANNEL, OTHER, None),
    (mem("sendMessage"), A.DESTROY_CHANNEL, OTHER, NO),
    (svc(), A.DESTROY_CHANNEL, OTHER, NO),
    (mem("editChannelName"), A.EDIT_CHANNEL_NAME, OTHER, None),
    (svc("editChannelName"), A.EDIT_CHANNEL_NAME, OTHER, None),
    (mem("editChannelAttributes"), A.EDIT_CHANNEL_NAME, OTHER, NO),
    (mem("editChannelAttributes"), A.EDIT_CHANNEL_ATTRIBUTES, OTHER, None),
    (svc("editChannelAttributes"), A.EDIT_CHANNEL_ATTRIBUTES, OTHER, None),
    (mem("editChannelName"), A.EDIT_CHANNEL_ATTRIBUTES, OTHER, NO),
    (mem("addMember"), A.ADD_MEMBER, OTHER, None),
    (svc("addMember"), A.ADD_MEMBER, OTHER, None),
    (mem("inviteMember"), A.ADD_MEMBER, OTHER, NO),
    (mem("inviteMember"), A.INVITE_MEMBER, OTHER, None),
    (svc("inviteMember"), A.INVITE_MEMBER, OTHER, None),
    (mem("addMember"), A.INVITE_MEMBER, OTHER, NO),
    # invites: declining one's own needs nothing, revoking another's needs inviteMember
    (svc(), A.DELETE_INVITE, OWN, None),
    (mem("inviteMember"), A.DELETE_INVITE, OTHER, None),
    (mem("addMember"), A.DELETE_INVITE, OTHER, NO),
    # editOwnMemberAttributes (channel) / editAnyMemberAttributes (either)
    (mem("editOwnMemberAttributes"), A.EDIT_MEMBER_ATTRIBUTES, OWN, None),
    (mem("editOwnMemberAttributes"), A.EDIT_MEMBER_ATTRIBUTES, OTHER, NO),
    (mem("editAnyMemberAttributes"), A.EDIT_MEMBER_ATTRIBUTES, OTHER, None),
    (svc("editAnyMemberAttributes"), A.EDIT_MEMBER_ATTRIBUTES, OTHER, None),
    (svc(), A.EDIT_MEMBER_ATTRIBUTES, OWN, NO),
    # messages: own (channel role) and any (either role)
    (mem("editOwnMessage"), A.EDIT_MESSAGE, OWN, None),
    (mem("editOwnMessage"), A.EDIT_MESSAGE, OTHER, NO),
    (mem("editAnyMessage"), A.EDIT_MESSAGE, OTHER, None),
    (svc("editAnyMessage"), A.EDIT_MESSAGE, OTHER, None),
    (mem("editOwnMessageAttributes"), A.EDIT_MESSAGE, OWN, NO),
    (mem("editOwnMessageAttributes"), A.EDIT_MESSAGE_ATTRIBUTES, OWN, None),
    (mem("editOwnMessageAttributes"), A.EDIT_MESSAGE_ATTRIBUTES, OTHER, NO),
    (mem("editAnyMessageAttributes"), A.EDIT_MESSAGE_ATTRIBUTES, OTHER, None),
    (svc("editAnyMessageAttributes"), A.EDIT_MESSAGE_ATTRIBUTES, OTHER, None),
    (mem("editOwnMessage"), A.EDIT_MESSAGE_ATTRIBUTES, OWN, NO),
    (mem("deleteOwnMessage"), A.DELETE_MESSAGE, OWN, None),
    (mem("deleteOwnMessage"), A.DELETE_MESSAGE, OTHER, NO),
    (mem("deleteAnyMessage"), A.DELETE_MESSAGE, OTHER, None),
    (svc("deleteAnyMessage"), A.DELETE_MESSAGE, OTHER, None),
    (mem(service=("deleteOwnMessage",)), A.DELETE_MESSAGE, OWN, NO),
    # reads and one's own things, which no permission names
    (svc(), A.VIEW_CHANNEL, OTHER, None),
    (svc(public=False), A.VIEW_CHANNEL, OTHER, NO),
    (svc(public=False, invited=True), A.VIEW_CHANNEL, OTHER, None),
    (svc(public=False, creator=True), A.VIEW_CHANNEL, OTHER, None),
    (mem(public=False), A.VIEW_CHANNEL, OTHER, None),
    (mem(), A.READ_MESSAGES, OTHER, None),
    (svc("deleteAnyMessage"), A.READ_MESSAGES, OTHER, NOT_MEMBER),
    (mem(), A.TYPE_IN_CHANNEL, OTHER, None),
    (svc(*CANONICAL_ORDER), A.TYPE_IN_CHANNEL, OTHER, NOT_MEMBER),
    (mem(), A.ADVANCE_CONSUMPTION, OWN, None),
    (mem("editAnyMessage"), A.ADVANCE_CONSUMPTION, OTHER, NO),
    (svc(), A.LIST_USER_CHANNELS, OWN, None),
    (svc("editAnyUserInfo"), A.LIST_USER_CHANNELS, OTHER, NO),
    (mem(*CANONICAL_ORDER, service=CANONICAL_ORDER), A.ADMINISTER, OTHER, NO),
]


@pytest.mark.parametrize(("standing", "action", "own", "expected"), TABLE)
def test_decide(standing: Standing, action: Action, own: bool, expected: int | None) -> None:
    refusal = decide(standing, action, own=own)
    assert (None if refusal is None else refusal.code) == expected


def test_the_table_exercises_every_permission_name() -> None:
    granting = {
        name
        for standing, _, _, expected in TABLE
        if expected is None and len(standing.service | standing.channel) == 1
        for name in standing.service | standing.channel
    }
    assert granting == set(CANONICAL_ORDER)


def test_every_permission_name_allows_some_action() -> None:
    named = {n for rule in RULES.values() for n in (rule.any, rule.own) if n is not None}
    assert named == set(CANONICAL_ORDER)


def test_every_action_has_a_rule_or_is_a_read() -> None:
    reads = {
        Action.VIEW_CHANNEL,
        Action.LIST_MEMBERS,
        Action.VIEW_USER,
        Action.READ_MESSAGES,
        Action.TYPE_IN_CHANNEL,
    }
    assert set(Action) - set(RULES) == reads


def test_a_service_role_counts_only_for_permissions_valid_in_deployment_scope() -> None:
    for name in CANONICAL_ORDER:
        holds = decide(svc(name), _action_for(name), own=_own_for(name)) is None
        assert holds == (name in VALID["deployment"]), name


def _action_for(name: str) -> Action:
    return next(a for a, r in RULES.items() if name in (r.any, r.own))


def _own_for(name: str) -> bool:
    return any(r.own == name for r in RULES.values())


def test_the_rest_api_is_not_checked_and_chat_users_are() -> None:
    policy.authorize(Actor("API"), Action.ADMINISTER)
    with pytest.raises(errors.UserNotAuthorizedError):
        policy.authorize(Actor("SDK", "alice"), Action.ADMINISTER)
    assert policy.chat_identity(Actor("API")) is None
    assert policy.chat_identity(Actor("SDK", "alice")) == "alice"


def test_only_the_rest_api_chooses_roles() -> None:
    policy.authorize_role_choice(Actor("API"), "RL" + "0" * 32)
    policy.authorize_role_choice(Actor("SDK", "alice"), None)
    with pytest.raises(errors.RoleChangeNotAllowedError):
        policy.authorize_role_choice(Actor("SDK", "alice"), "RL" + "0" * 32)


@pytest.mark.parametrize(
    ("standing", "action", "own", "message"),
    [
        (
            mem("sendMessage"),
            A.SEND_MEDIA_MESSAGE,
            OTHER,
            "User not authorized for command: requires permission sendMediaMessage",
        ),
        (
            mem(),
            A.EDIT_MESSAGE,
            OWN,
            "User not authorized for command: requires permission editOwnMessage or editAnyMessage",
        ),
        (
            svc(),
            A.SEND_MESSAGE,
            OTHER,
            "User not member of channel: requires permission sendMessage, which a member's "
            "channel role grants",
        ),
        (
            svc(public=False),
            A.VIEW_CHANNEL,
            OTHER,
            "User not authorized for command: the channel is private (members and invitees only)",
        ),
        (
            svc(*CANONICAL_ORDER),
            A.ADMINISTER,
            OTHER,
            "User not authorized for command: only the account owner may do this",
        ),
    ],
)
def test_a_refusal_names_what_would_allow_the_action(
    standing: Standing, action: Action, own: bool, message: str
) -> None:
    refusal = decide(standing, action, own=own)
    assert refusal is not None
    assert refusal.message == message
