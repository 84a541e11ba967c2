"""The chat resources as frozen dataclasses: what the domain decides about and stores persist.

Dates are integer milliseconds (see ``chinwag.clock``). Nothing here knows about HTTP or SQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

RoleType = Literal["channel", "deployment"]
ChannelType = Literal["public", "private"]
CredentialType = Literal["apn", "gcm", "fcm"]
UserChannelStatus = Literal["joined", "invited"]
NotificationLevel = Literal["default", "muted"]


@dataclass(frozen=True, slots=True)
class Account:
    sid: str
    auth_token: str


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An account's API key. ``secret`` signs access tokens and is shown once, at creation."""

    sid: str
    account_sid: str
    friendly_name: str | None
    secret: str
    date_created: int
    date_updated: int


@dataclass(frozen=True, slots=True)
class PushRegistration:
    """A device a chat user asked to be notified on (ERS). ``address`` is the push token,
    ``endpoint`` the platform the SDK names (``web`` or a user agent), ``message_types`` the
    notifications wanted, as the SDK sent them, ``credential_sid`` the push credential the
    client's access token named (``ChatGrant.push_credential_sid``), if any."""

    sid: str
    account_sid: str
    service_sid: str
    identity: str
    channel_type: str
    address: str
    endpoint: str
    message_types: tuple[str, ...]
    date_created: int
    date_updated: int
    credential_sid: str | None = None


@dataclass(frozen=True, slots=True)
class Media:
    """An upload of a chat user (MCS); the bytes are read apart (:attr:`size` says how many).
    ``channel_sid``/``message_sid`` are set once a message carries it."""

    sid: str
    account_sid: str
    service_sid: str
    author: str
    content_type: str
    filename: str | None
    category: str
    size: int
    channel_sid: str | None
    message_sid: str | None
    date_created: int
    date_updated: int


@dataclass(frozen=True, slots=True)
class Credential:
    sid: str
    account_sid: str
    friendly_name: str | None
    type: CredentialType
    sandbox: bool | None
    certificate: str | None
    private_key: str | None
    api_key: str | None
    secret: str | None
    date_created: int
    date_updated: int


@dataclass(frozen=True, slots=True)
class Limits:
    channel_members: int = 100
    user_channels: int = 250


@dataclass(frozen=True, slots=True)
class Notification:
    """A Service's ``Notifications.<Event>``: v1's ``Enabled`` and ``Template``; v2's ``Sound``
    and (new messages only) ``BadgeCountEnabled``."""

    enabled: bool = False
    template: str | None = None
    #: the sound a device plays (Chat v2's ``Notifications.<Kind>.Sound``)
    sound: str | None = None
    #: whether the push carries a badge count (Chat v2; new messages only)
    badge_count_enabled: bool = False


@dataclass(frozen=True, slots=True)
class WebhookTarget:
    url: str | None
    method: str


NOTIFICATION_KINDS = (
    "new_message",
    "added_to_channel",
    "invited_to_channel",
    "removed_from_channel",
)


def default_notifications() -> Mapping[str, Notification]:
    return {kind: Notification() for kind in NOTIFICATION_KINDS}


@dataclass(frozen=True, slots=True)
class Service:
    sid: str
    account_sid: str
    friendly_name: str
    date_created: int
    date_updated: int
    default_service_role_sid: str | None
    default_channel_role_sid: str | None
    default_channel_creator_role_sid: str | None
    read_status_enabled: bool = True
    reachability_enabled: bool = False
    typing_indicator_timeout: int = 5
    consumption_report_interval: int = 10
    limits: Limits = field(default_factory=Limits)
    pre_webhook_url: str | None = None
    post_webhook_url: str | None = None
    webhook_method: str | None = None
    webhook_filters: tuple[str, ...] | None = None
    webhooks: Mapping[str, WebhookTarget] = field(default_factory=dict)
    notifications: Mapping[str, Notification] = field(default_factory=default_notifications)
    #: Chat v2's settings (v1 shows none of them)
    notifications_log_enabled: bool = False
    media_compatibility_message: str | None = None
    pre_webhook_retry_count: int = 0
    post_webhook_retry_count: int = 0


@dataclass(frozen=True, slots=True)
class Role:
    sid: str
    account_sid: str
    service_sid: str
    friendly_name: str
    type: RoleType
    permissions: tuple[str, ...]
    date_created: int
    date_updated: int


@dataclass(frozen=True, slots=True)
class User:
    sid: str
    account_sid: str
    service_sid: str
    identity: str
    friendly_name: str | None
    role_sid: str | None
    attributes: str | None
    joined_channels_count: int
    date_created: int
    date_updated: int
    #: reachability (``is_online``/``is_notifiable``): None unless the service enables it and
    #: the read asked for it (``domain/reachability.py``)
    is_online: bool | None = None
    is_notifiable: bool | None = None


@dataclass(frozen=True, slots=True)
class Channel:
    sid: str
    account_sid: str
    service_sid: str
    friendly_name: str | None
    unique_name: str | None
    attributes: str | None
    type: ChannelType
    created_by: str
    members_count: int
    messages_count: int
    last_message_sid: str | None
    date_created: int
    date_updated: int


@dataclass(frozen=True, slots=True)
class Member:
    sid: str
    account_sid: str
    service_sid: str
    channel_sid: str
    identity: str
    role_sid: str | None
    last_consumed_message_index: int | None
    last_consumption_timestamp: int | None
    date_created: int
    date_updated: int
    #: the member's own channel setting for pushes, ``default`` or ``muted`` (chat clients and
    #: Chat v2's User Channel set it; v1 shows none)
    notification_level: NotificationLevel = "default"
    #: JSON text set by chat clients (``member.updateAttributes``) and Chat v2's REST; v1
    #: shows none
    attributes: str | None = None


@dataclass(frozen=True, slots=True)
class Invite:
    sid: str
    account_sid: str
    service_sid: str
    channel_sid: str
    identity: str
    role_sid: str | None
    created_by: str
    date_created: int
    date_updated: int


@dataclass(slots=True)
class Message:
    """A stored message. Not frozen, unlike the other models: message lists build one per row
    (up to 1,000 a request), and a frozen dataclass's ``__init__`` sets each field through
    ``object.__setattr__``, several times the cost of plain slot stores (docs/performance.md,
    "Figures behind the code"). Treat it as immutable all the same: changes go through
    ``dataclasses.replace``."""

    sid: str
    account_sid: str
    service_sid: str
    channel_sid: str
    index: int
    author: str
    body: str
    attributes: str | None
    was_edited: bool
    date_created: int
    date_updated: int
    #: what a media message carries (None for a text message)
    media: MessageMedia | None = None
    #: the identity that last updated it (Chat v2), None until someone does
    last_updated_by: str | None = None


@dataclass(frozen=True, slots=True)
class MessageMedia:
    """The media a message carries, as the message keeps it (it never changes once sent)."""

    sid: str
    filename: str | None
    content_type: str
    size: int


@dataclass(slots=True)
class NewMessage:
    """A message about to be stored: its channel and index are decided by the store.

    Not frozen, for the reason :class:`Message` is not: every create builds one. Changed only
    through ``dataclasses.replace`` all the same."""

    sid: str
    account_sid: str
    service_sid: str
    author: str
    body: str
    attributes: str | None
    date_created: int
    media: MessageMedia | None = None
    #: Chat v2's import overrides: the date it was last updated (``date_created`` when None)
    #: and who last updated it
    date_updated: int | None = None
    last_updated_by: str | None = None

    def stored(self, channel_sid: str, index: int) -> Message:
        return Message(
            self.sid,
            self.account_sid,
            self.service_sid,
            channel_sid,
            index,
            self.author,
            self.body,
            self.attributes,
            False,
            self.date_created,
            self.date_created if self.date_updated is None else self.date_updated,
            self.media,
            self.last_updated_by,
        )


@dataclass(frozen=True, slots=True)
class UserChannel:
    """One row of a user's channel list: a membership (``joined``) or a pending invite."""

    account_sid: str
    service_sid: str
    channel_sid: str
    member_sid: str | None
    status: UserChannelStatus
    last_consumed_message_index: int | None
    unread_messages_count: int | None
    #: the membership's notification level (an invite's is ``default``)
    notification_level: NotificationLevel = "default"
    #: the user's SID (Chat v2 shows it)
    user_sid: str | None = None


ChannelWebhookType = Literal["webhook", "trigger", "studio"]


@dataclass(frozen=True, slots=True)
class ChannelWebhook:
    """A webhook target of one channel (v2). ``url``/``method`` are None for ``studio``;
    ``filters`` are event names (``webhook``), ``triggers`` words (``trigger``)."""

    sid: str
    account_sid: str
    service_sid: str
    channel_sid: str
    type: ChannelWebhookType
    url: str | None
    method: str | None
    filters: tuple[str, ...]
    triggers: tuple[str, ...]
    flow_sid: str | None
    retry_count: int
    date_created: int
    date_updated: int


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Cursor:
    """A keyset position: rows after ``key`` (or before it when ``backwards``) in list order."""

    key: int
    backwards: bool = False


@dataclass(frozen=True, slots=True)
class PageRequest:
    size: int
    cursor: Cursor | None = None
    offset: int = 0
    descending: bool = False


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list. ``next_key``/``prev_key`` are set only when such a page exists."""

    items: list[T]
    next_key: int | None
    prev_key: int | None


DeliveryState = Literal["pending", "delivered", "failed"]


@dataclass(frozen=True, slots=True)
class NewDelivery:
    """A post-event webhook call to make: one event to one URL."""

    account_sid: str
    service_sid: str
    event_type: str
    ordering_key: str
    url: str
    method: str
    params: Mapping[str, str]
    #: failed attempts retried at most this often (None: the server's ``--webhook-retries``)
    retries: int | None = field(default=None, kw_only=True)
    #: the channel webhook the delivery is for (None: the Service's webhooks)
    webhook_sid: str | None = field(default=None, kw_only=True)


@dataclass(frozen=True, slots=True)
class Delivery(NewDelivery):
    """A row of the outbox/delivery log: what was (or is to be) sent and how it went."""

    id: int
    state: DeliveryState
    attempts: int
    next_attempt_at: int
    last_status: int | None
    last_error: str | None
    date_created: int
    date_updated: int
