"""Role permission names, which scope each is valid in, and the four default roles.

Sources: reference section 5. v2-era names are accepted on v1 too (Twilio ran one backend for
both versions). The default sets are the v1 ones; ``permissions`` are always stored and shown
in the canonical order below, which matches every captured Twilio response.
"""

from __future__ import annotations

from collections.abc import Iterable

from chinwag.model.records import RoleType

CANONICAL_ORDER = (
    "createChannel",
    "joinChannel",
    "sendMessage",
    "sendMediaMessage",
    "leaveChannel",
    "editNotificationLevel",
    "editOwnUserInfo",
    "editAnyUserInfo",
    "destroyChannel",
    "inviteMember",
    "removeMember",
    "editChannelName",
    "editChannelAttributes",
    "addMember",
    "editOwnMemberAttributes",
    "editAnyMemberAttributes",
    "editOwnMessage",
    "editAnyMessage",
    "editOwnMessageAttributes",
    "editAnyMessageAttributes",
    "deleteOwnMessage",
    "deleteAnyMessage",
)
_RANK = {name: i for i, name in enumerate(CANONICAL_ORDER)}

_BOTH = frozenset(
    {
        "destroyChannel",
        "inviteMember",
        "removeMember",
        "editChannelName",
        "editChannelAttributes",
        "addMember",
        "editAnyMessage",
        "editAnyMessageAttributes",
        "deleteAnyMessage",
        "editAnyMemberAttributes",
    }
)
VALID: dict[RoleType, frozenset[str]] = {
    "deployment": _BOTH | {"createChannel", "joinChannel", "editOwnUserInfo", "editAnyUserInfo"},
    "channel": _BOTH
    | {
        "sendMessage",
        "leaveChannel",
        "editOwnMessage",
        "editOwnMessageAttributes",
        "deleteOwnMessage",
        "sendMediaMessage",
        "editNotificationLevel",
        "editOwnMemberAttributes",
    },
}


def canonical(permissions: Iterable[str]) -> tuple[str, ...]:
    """De-duplicated, in canonical order. Callers validate names first."""
    return tuple(sorted(set(permissions), key=_RANK.__getitem__))


# (friendly_name, type, permissions) in creation order: the order they are listed in.
DEFAULT_ROLES: tuple[tuple[str, RoleType, tuple[str, ...]], ...] = (
    (
        "service admin",
        "deployment",
        canonical(
            [
                "createChannel",
                "joinChannel",
                "editAnyUserInfo",
                "destroyChannel",
                "inviteMember",
                "removeMember",
                "editChannelName",
                "editChannelAttributes",
                "addMember",
                "editAnyMessage",
                "editAnyMessageAttributes",
                "deleteAnyMessage",
            ]
        ),
    ),
    ("service user", "deployment", canonical(["createChannel", "joinChannel", "editOwnUserInfo"])),
    (
        "channel admin",
        "channel",
        canonical(
            [
                "sendMessage",
                "leaveChannel",
                "destroyChannel",
                "inviteMember",
                "removeMember",
                "editChannelName",
                "editChannelAttributes",
                "addMember",
                "editAnyMessage",
                "editAnyMessageAttributes",
                "deleteAnyMessage",
            ]
        ),
    ),
    (
        "channel user",
        "channel",
        canonical(["sendMessage", "leaveChannel", "editOwnMessage", "deleteOwnMessage"]),
    ),
)
