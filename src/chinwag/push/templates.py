"""The text of a push: ``Notifications.<Event>.Template`` with Twilio's placeholders.

A Service sets one template per notification kind; an unset (or empty) template means Twilio's
default for that kind. Placeholders name the user who caused the push and the channel it is
about::

    ${USER}                 the user's friendly name, or their identity when it has none
    ${USER_FRIENDLY_NAME}   the friendly name ("" when unset)
    ${USER_IDENTITY}        the identity
    ${CHANNEL}              the channel's unique name, else its friendly name, else its SID
    ${CHANNEL_FRIENDLY_NAME}, ${CHANNEL_UNIQUE_NAME}   ("" when unset)
    ${CHANNEL_SID}
    ${MESSAGE}              the message body (new messages; "" for a media message)

Substitution is one pass, so a channel named ``${MESSAGE}`` stays literally that, and an
unknown ``${...}`` is left as written: a typo shows up in the push instead of vanishing.

NOTE: the sources disagree on ``${CHANNEL}``'s order (unique name first, or friendly name
first); issue 25 settles it as unique name, friendly name, SID. The default new-message
template, ``${CHANNEL};${USER}: ${MESSAGE}``, is the shape of a captured Twilio push body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

NotificationKind = Literal[
    "new_message", "added_to_channel", "invited_to_channel", "removed_from_channel"
]

#: the SDK's push types (``twi_message_type``), per notification kind
MESSAGE_TYPES: dict[NotificationKind, str] = {
    "new_message": "twilio.channel.new_message",
    "added_to_channel": "twilio.channel.added_to_channel",
    "invited_to_channel": "twilio.channel.invited_to_channel",
    "removed_from_channel": "twilio.channel.removed_from_channel",
}

DEFAULT_TEMPLATES: dict[NotificationKind, str] = {
    "new_message": "${CHANNEL};${USER}: ${MESSAGE}",
    "added_to_channel": "You have been added to channel ${CHANNEL} by ${USER}",
    "invited_to_channel": "${USER} has invited you to join the channel ${CHANNEL}",
    "removed_from_channel": "${USER} has removed you from the channel ${CHANNEL}",
}

_PLACEHOLDER = re.compile(r"\$\{([A-Z_]+)\}")


@dataclass(frozen=True, slots=True)
class TemplateContext:
    """What the placeholders of one push stand for.

    Attributes:
        user_identity: Who caused the push: the message's author, or who added, invited or
            removed the recipient (``system`` when the REST API did it without a user).
        user_friendly_name: That user's friendly name, if they have one.
        channel_sid: The channel the push is about.
        channel_friendly_name: Its friendly name, if set.
        channel_unique_name: Its unique name, if set.
        message: The new message's body; ``None`` for other kinds and media messages.
    """

    user_identity: str
    user_friendly_name: str | None
    channel_sid: str
    channel_friendly_name: str | None = None
    channel_unique_name: str | None = None
    message: str | None = None

    @property
    def channel_title(self) -> str:
        """``${CHANNEL}``: the unique name, else the friendly name, else the SID."""
        return self.channel_unique_name or self.channel_friendly_name or self.channel_sid

    def values(self) -> dict[str, str]:
        """Each placeholder's replacement."""
        return {
            "USER": self.user_friendly_name or self.user_identity,
            "USER_FRIENDLY_NAME": self.user_friendly_name or "",
            "USER_IDENTITY": self.user_identity,
            "CHANNEL": self.channel_title,
            "CHANNEL_SID": self.channel_sid,
            "CHANNEL_FRIENDLY_NAME": self.channel_friendly_name or "",
            "CHANNEL_UNIQUE_NAME": self.channel_unique_name or "",
            "MESSAGE": self.message or "",
        }


def template_for(kind: NotificationKind, template: str | None) -> str:
    """The Service's template for ``kind``, or Twilio's default when it set none."""
    return template or DEFAULT_TEMPLATES[kind]


def render(template: str, context: TemplateContext) -> str:
    """``template`` with every known placeholder replaced, in one pass."""
    values = context.values()

    def replace(match: re.Match[str]) -> str:
        return values.get(match.group(1), match.group(0))

    return _PLACEHOLDER.sub(replace, template)
