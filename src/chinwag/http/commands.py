"""PascalCase form parameters to typed domain commands, one parser per write operation.

Presence and wire types are checked here (20001); domain rules (lengths, JSON, references,
uniqueness, limits) are checked by the domain. Creates treat an empty optional value as absent;
updates treat it as "clear to null" (twilio-python cannot send null otherwise).
"""

from __future__ import annotations

import dataclasses
from typing import cast, get_args

from chinwag import errors
from chinwag.api.forms import Form
from chinwag.domain import validation
from chinwag.domain.channels import CreateChannel, UpdateChannel
from chinwag.domain.credentials import CreateCredential, UpdateCredential
from chinwag.domain.invites import CreateInvite
from chinwag.domain.members import CreateMember, UpdateMember
from chinwag.domain.messages import CreateMessage, UpdateMessage
from chinwag.domain.roles import CreateRole, UpdateRole
from chinwag.domain.services import CreateService, NotificationChange, UpdateService, WebhookChange
from chinwag.domain.users import CreateUser, UpdateUser
from chinwag.model.records import NOTIFICATION_KINDS, ChannelType, CredentialType
from chinwag.model.unset import UNSET, Unset

_NOTIFICATION_PARAMS = {
    "new_message": "NewMessage",
    "added_to_channel": "AddedToChannel",
    "invited_to_channel": "InvitedToChannel",
    "removed_from_channel": "RemovedFromChannel",
}
assert tuple(_NOTIFICATION_PARAMS) == NOTIFICATION_KINDS

#: ``Webhooks.<Event>`` parameter names → keys of the ``webhooks`` object (reference 6.6).
_WEBHOOK_EVENTS = {
    "OnMessageSend": "on_message_send",
    "OnMessageUpdate": "on_message_update",
    "OnMessageRemove": "on_message_remove",
    "OnChannelAdd": "on_channel_add",
    "OnChannelDestroy": "on_channel_destroy",
    "OnChannelUpdate": "on_channel_update",
    "OnMemberAdd": "on_member_add",
    "OnMemberRemove": "on_member_remove",
    "OnMessageSent": "on_message_sent",
    "OnMessageUpdated": "on_message_updated",
    "OnMessageRemoved": "on_message_removed",
    "OnChannelAdded": "on_channel_added",
    "OnChannelDestroyed": "on_channel_destroyed",
    "OnChannelUpdated": "on_channel_updated",
    "OnMemberAdded": "on_member_added",
    "OnMemberRemoved": "on_member_removed",
}


_CREDENTIAL_TYPES: tuple[CredentialType, ...] = get_args(CredentialType)
_CHANNEL_TYPES: tuple[ChannelType, ...] = get_args(ChannelType)


def _int(form: Form, name: str, error: type[errors.ChinwagError], allowed: range) -> int | Unset:
    """An integer service setting; the domain checks ``allowed``, which a non-integer is told."""
    return cast("int | Unset", form.integer(name, error, expected=errors.in_range(allowed)))


def create_credential(form: Form) -> CreateCredential:
    kind = form.required("Type")
    if kind not in _CREDENTIAL_TYPES:
        raise errors.InvalidParameterError(name="Type", expected=errors.one_of(_CREDENTIAL_TYPES))
    sandbox = form.boolean("Sandbox")
    return CreateCredential(
        type=kind,
        friendly_name=form.optional("FriendlyName"),
        certificate=form.optional("Certificate"),
        private_key=form.optional("PrivateKey"),
        sandbox=None if sandbox is UNSET else sandbox,
        api_key=form.optional("ApiKey"),
        secret=form.optional("Secret"),
    )


def update_credential(form: Form) -> UpdateCredential:
    return UpdateCredential(
        friendly_name=form.nullable("FriendlyName"),
        certificate=form.nullable("Certificate"),
        private_key=form.nullable("PrivateKey"),
        sandbox=form.boolean("Sandbox"),
        api_key=form.nullable("ApiKey"),
        secret=form.nullable("Secret"),
    )


def create_service(form: Form) -> CreateService:
    return CreateService(friendly_name=form.required("FriendlyName"))


def update_service(form: Form, *, v2: bool = False) -> UpdateService:
    """v1's parameters; with ``v2``, v2's: no per-event ``Webhooks.*`` (ignored, as any
    parameter a version does not have), and the sounds, badge, log, media and retry counts."""
    notifications = {}
    for kind, param in _NOTIFICATION_PARAMS.items():
        change = NotificationChange(
            enabled=form.boolean(f"Notifications.{param}.Enabled"),
            template=form.nullable(f"Notifications.{param}.Template"),
            sound=form.nullable(f"Notifications.{param}.Sound"),
            badge_count_enabled=(
                form.boolean("Notifications.NewMessage.BadgeCountEnabled")
                if kind == "new_message"
                else UNSET
            ),
        )
        if v2:
            change = dataclasses.replace(
                change, sound=form.nullable(f"Notifications.{param}.Sound")
            )
        if v2 and kind == "new_message":  # the one kind v2 gives a badge count
            badge = form.boolean("Notifications.NewMessage.BadgeCountEnabled")
            change = dataclasses.replace(change, badge_count_enabled=badge)
        if change != NotificationChange():
            notifications[kind] = change
    webhooks = {}
    events: dict[str, str] = {} if v2 else _WEBHOOK_EVENTS
    for param, key in events.items():
        hook = WebhookChange(
            url=form.nullable(f"Webhooks.{param}.Url"),
            method=form.text(f"Webhooks.{param}.Method"),
        )
        if hook != WebhookChange():
            webhooks[key] = hook
    filters: tuple[str, ...] | Unset | None = UNSET
    if "WebhookFilters" in form:
        values = [v for v in form.all("WebhookFilters") if v]
        filters = tuple(values) if values else None
    cmd = UpdateService(
        friendly_name=form.text("FriendlyName"),
        default_service_role_sid=form.text("DefaultServiceRoleSid"),
        default_channel_role_sid=form.text("DefaultChannelRoleSid"),
        default_channel_creator_role_sid=form.text("DefaultChannelCreatorRoleSid"),
        read_status_enabled=form.boolean("ReadStatusEnabled"),
        reachability_enabled=form.boolean("ReachabilityEnabled"),
        typing_indicator_timeout=_int(
            form,
            "TypingIndicatorTimeout",
            errors.InvalidTypingIndicatorError,
            validation.SECONDS_RANGE,
        ),
        consumption_report_interval=_int(
            form,
            "ConsumptionReportInterval",
            errors.InvalidConsumptionIntervalError,
            validation.SECONDS_RANGE,
        ),
        limit_channel_members=_int(
            form,
            "Limits.ChannelMembers",
            errors.InvalidChannelMembersLimitError,
            validation.SERVICE_LIMIT_RANGE,
        ),
        limit_user_channels=_int(
            form,
            "Limits.UserChannels",
            errors.InvalidUserChannelsLimitError,
            validation.SERVICE_LIMIT_RANGE,
        ),
        pre_webhook_url=form.nullable("PreWebhookUrl"),
        post_webhook_url=form.nullable("PostWebhookUrl"),
        webhook_method=form.nullable("WebhookMethod"),
        webhook_filters=filters,
        notifications=notifications,
        webhooks=webhooks,
    )
    if not v2:
        return cmd
    retry = errors.in_range(validation.RETRY_COUNT_RANGE)
    return dataclasses.replace(
        cmd,
        notifications_log_enabled=form.boolean("Notifications.LogEnabled"),
        media_compatibility_message=form.nullable("Media.CompatibilityMessage"),
        pre_webhook_retry_count=cast(
            "int | Unset", form.integer("PreWebhookRetryCount", expected=retry)
        ),
        post_webhook_retry_count=cast(
            "int | Unset", form.integer("PostWebhookRetryCount", expected=retry)
        ),
    )


def create_role(form: Form) -> CreateRole:
    friendly_name = form.required("FriendlyName")
    kind = form.required("Type")
    form.required("Permission")
    return CreateRole(friendly_name, kind, tuple(form.all("Permission")))


def update_role(form: Form) -> UpdateRole:
    form.required("Permission")
    return UpdateRole(tuple(form.all("Permission")))


def create_user(form: Form) -> CreateUser:
    return CreateUser(
        identity=form.required("Identity"),
        role_sid=form.optional("RoleSid"),
        attributes=form.optional("Attributes"),
        friendly_name=form.optional("FriendlyName"),
    )


def update_user(form: Form) -> UpdateUser:
    return UpdateUser(
        role_sid=form.text("RoleSid"),
        attributes=form.nullable("Attributes"),
        friendly_name=form.nullable("FriendlyName"),
    )


def create_channel(form: Form) -> CreateChannel:
    return CreateChannel(
        friendly_name=form.optional("FriendlyName"),
        unique_name=form.optional("UniqueName"),
        attributes=form.optional("Attributes"),
        type=form.choice("Type", _CHANNEL_TYPES, "public"),
    )


def update_channel(form: Form) -> UpdateChannel:
    return UpdateChannel(
        friendly_name=form.nullable("FriendlyName"),
        unique_name=form.nullable("UniqueName"),
        attributes=form.nullable("Attributes"),
    )


def create_member(form: Form) -> CreateMember:
    return CreateMember(identity=form.required("Identity"), role_sid=form.optional("RoleSid"))


def update_member(form: Form) -> UpdateMember:
    index = form.integer(
        "LastConsumedMessageIndex",
        errors.InvalidConsumedIndexError,
        expected=errors.in_range(validation.MESSAGE_INDEX_RANGE),
        nullable=True,
    )
    return UpdateMember(role_sid=form.text("RoleSid"), last_consumed_message_index=index)


def create_invite(form: Form) -> CreateInvite:
    return CreateInvite(identity=form.required("Identity"), role_sid=form.optional("RoleSid"))


def create_message(form: Form) -> CreateMessage:
    return CreateMessage(
        body=form.required("Body"),
        from_=form.optional("From"),
        attributes=form.optional("Attributes"),
    )


def update_message(form: Form) -> UpdateMessage:
    return UpdateMessage(body=form.text("Body"), attributes=form.nullable("Attributes"))


def channel_types(query: Form) -> tuple[str, ...]:
    """The ``Type`` filter of the channel list: repeatable, public/private only."""
    types = tuple(query.all("Type"))
    if any(t not in _CHANNEL_TYPES for t in types):
        raise errors.InvalidParameterError(name="Type", expected=errors.one_of(_CHANNEL_TYPES))
    return types


def descending(query: Form) -> bool:
    """``Order=asc|desc`` of the message list."""
    return query.choice("Order", ("asc", "desc"), "asc") == "desc"
