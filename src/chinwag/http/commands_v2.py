"""Chat v2's form parameters to the domain's commands, for the operations whose parameters v2
changed (the others parse as v1's do: ``chinwag.http.commands``).

v2 adds the overrides of an import of history (``DateCreated``, ``DateUpdated``, ``CreatedBy``,
``LastUpdatedBy``), member attributes and read horizons on create, a message's ``MediaSid`` and
``From`` on update, and the User Channel's settings; v3 adds a channel's ``Type``. Dates are
ISO 8601 text, as Twilio's are.
"""

from __future__ import annotations

import dataclasses
from typing import cast

from chinwag import errors
from chinwag.api.dates import parse_iso
from chinwag.api.forms import Form
from chinwag.domain import validation
from chinwag.domain.channels import CreateChannel, UpdateChannel
from chinwag.domain.members import CreateMember, UpdateMember
from chinwag.domain.messages import CreateMessage, UpdateMessage
from chinwag.http import commands
from chinwag.model.records import ChannelType, NotificationLevel
from chinwag.model.unset import UNSET, Unset

_DATE = "an ISO 8601 date such as 2016-03-24T21:05:50Z, between 1970 and 9999"
_LEVELS: tuple[NotificationLevel, ...] = ("default", "muted")
_TYPES: tuple[ChannelType, ...] = ("public", "private")
_INDEX = errors.in_range(validation.MESSAGE_INDEX_RANGE)


def _date(form: Form, name: str) -> int | Unset:
    """A date parameter: UNSET when absent; 400 20001 naming what it takes when not a date."""
    value = form.get(name)
    if value is None:
        return UNSET
    ms = parse_iso(value)
    if ms is None:
        raise errors.InvalidParameterError(name=name, expected=_DATE)
    return ms


def _created_date(form: Form, name: str) -> int | None:
    """A date override on a create: None when absent or empty."""
    if not form.get(name):
        return None
    return cast("int", _date(form, name))


def _index(form: Form, *, nullable: bool) -> int | Unset | None:
    return form.integer(
        "LastConsumedMessageIndex",
        errors.InvalidConsumedIndexError,
        expected=_INDEX,
        nullable=nullable,
    )


def create_channel(form: Form) -> CreateChannel:
    return dataclasses.replace(
        commands.create_channel(form),
        date_created=_created_date(form, "DateCreated"),
        date_updated=_created_date(form, "DateUpdated"),
        created_by=form.optional("CreatedBy"),
    )


def update_channel(form: Form) -> UpdateChannel:
    return dataclasses.replace(
        commands.update_channel(form),
        date_created=_date(form, "DateCreated"),
        date_updated=_date(form, "DateUpdated"),
        created_by=form.text("CreatedBy"),
    )


def update_channel_type(form: Form) -> UpdateChannel:
    """v3's update: the channel's ``Type``. ``MessagingServiceSid`` (where a channel moves to
    when it becomes a Conversation) names nothing a chat server has, so it is not read."""
    if "Type" not in form:
        return UpdateChannel()
    return UpdateChannel(type=form.choice("Type", _TYPES, "public"))


def create_member(form: Form) -> CreateMember:
    index = _index(form, nullable=False)
    return dataclasses.replace(
        commands.create_member(form),
        attributes=form.optional("Attributes"),
        last_consumed_message_index=None if index is UNSET else index,
        last_consumption_timestamp=_created_date(form, "LastConsumptionTimestamp"),
        date_created=_created_date(form, "DateCreated"),
        date_updated=_created_date(form, "DateUpdated"),
    )


def update_member(form: Form) -> UpdateMember:
    return dataclasses.replace(
        commands.update_member(form),
        attributes=form.nullable("Attributes"),
        last_consumption_timestamp=_date(form, "LastConsumptionTimestamp"),
        date_created=_date(form, "DateCreated"),
        date_updated=_date(form, "DateUpdated"),
    )


def update_user_channel(form: Form) -> UpdateMember:
    """The user's own settings in a channel, which live on their membership."""
    level: NotificationLevel | Unset = UNSET
    if "NotificationLevel" in form:
        level = form.choice("NotificationLevel", _LEVELS, "default")
    return UpdateMember(
        notification_level=level,
        last_consumed_message_index=_index(form, nullable=True),
        last_consumption_timestamp=_date(form, "LastConsumptionTimestamp"),
    )


def create_message(form: Form) -> CreateMessage:
    """``Body`` may be left out (it is then empty), as v2 says; a media message has none."""
    return CreateMessage(
        body=form.get("Body") or "",
        from_=form.optional("From"),
        attributes=form.optional("Attributes"),
        media_sid=form.optional("MediaSid"),
        date_created=_created_date(form, "DateCreated"),
        date_updated=_created_date(form, "DateUpdated"),
        last_updated_by=form.optional("LastUpdatedBy"),
    )


def update_message(form: Form) -> UpdateMessage:
    return dataclasses.replace(
        commands.update_message(form),
        from_=form.text("From"),
        last_updated_by=form.nullable("LastUpdatedBy"),
        date_created=_date(form, "DateCreated"),
        date_updated=_date(form, "DateUpdated"),
    )
