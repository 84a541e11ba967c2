"""Snapshot rows held to the API's own rules, so an import never stores what the API cannot
read or would never have written.

``control.check_snapshot`` first checks each value's type and size against the schema. Then
every row of a table passes :data:`RULES`: each column's rule is the one the REST API applies
when it writes that value (``validation.check_identity``, ``channels.check_unique_name``,
``roles.check_permissions``...), JSON text must have the shape the stores write, SIDs the
shape of their kind, dates a Twilio date can show. Finally the references between rows must
hold within the snapshot: a channel's service is one of its services, a member's channel one
of its channels in that service, a role named as a default is a role of that service, of the
right type. A bad row is refused with the table, the row's position and the column.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson

from chinwag import errors, sids
from chinwag.domain import channel_webhooks, channels, roles, services, validation
from chinwag.domain.push_registrations import ADDRESS_MAX, CHANNEL_TYPES, ENDPOINT_MAX
from chinwag.model.records import NOTIFICATION_KINDS

Rule = Callable[[Any], object]
Row = Mapping[str, Any]

#: the keys of a service's ``webhooks`` object (``Webhooks.OnMessageSend`` -> on_message_send)
WEBHOOK_KEYS = frozenset(re.sub("([A-Z])", r"_\1", e).lower() for e in services.WEBHOOK_EVENTS)


class RowError(ValueError):
    """One value breaks its rule; ``reason`` says how."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _api(check: Callable[[Any], object]) -> Rule:
    """A domain rule (raising the API's error) as a row rule."""

    def rule(value: Any) -> None:
        try:
            check(value)
        except errors.ChinwagError as exc:
            raise RowError(exc.message) from None

    return rule


def _url(error: type[errors.ChinwagError]) -> Rule:
    return _api(lambda value: validation.check_http_url(value, error))


def _optional(rule: Rule) -> Rule:
    return lambda value: None if value is None else rule(value)


def _sid(prefix: str) -> Rule:
    def rule(value: str) -> None:
        if not sids.looks_like(prefix, value):
            raise RowError(f"is not a {prefix} SID")

    return rule


def _within(allowed: range, what: str) -> Rule:
    def rule(value: int) -> None:
        if value not in allowed:
            raise RowError(f"is not {what}")

    return rule


def _one_of(*allowed: object) -> Rule:
    def rule(value: object) -> None:
        if value not in allowed:
            raise RowError(f"must be one of {', '.join(map(str, allowed))}")

    return rule


def _text(limit: int, *, empty: bool = True) -> Rule:
    def rule(value: str) -> None:
        if len(value) > limit or (not empty and not value):
            raise RowError(f"must be {'' if empty else 'non-empty and '}at most {limit} characters")

    return rule


def _json(shape: Callable[[Any], None]) -> Rule:
    """JSON text whose value ``shape`` accepts (it raises :class:`RowError` otherwise)."""

    def rule(value: str) -> None:
        try:
            decoded = orjson.loads(value)
        except orjson.JSONDecodeError:
            raise RowError("is not JSON") from None
        shape(decoded)

    return rule


def _strings(allowed: frozenset[str] | None = None) -> Callable[[Any], None]:
    def shape(value: Any) -> None:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise RowError("must be a JSON array of strings")
        if allowed is not None and not set(value) <= allowed:
            raise RowError(f"holds an unknown name: {sorted(set(value) - allowed)[0]}")

    return shape


def _webhooks(value: Any) -> None:
    if not isinstance(value, dict) or not set(value) <= WEBHOOK_KEYS:
        raise RowError("must be a JSON object of per-event webhooks")
    for target in value.values():
        if not isinstance(target, dict) or set(target) != {"url", "method"}:
            raise RowError("each webhook must be an object of url and method")
        if not isinstance(target["url"], str) or target["method"] not in ("GET", "POST"):
            raise RowError("a webhook needs a URL and the method GET or POST")
        _url(errors.InvalidWebhookFormatError)(target["url"])


_NOTIFICATION_KEYS = frozenset({"enabled", "template", "sound", "badge_count_enabled"})


def _notifications(value: Any) -> None:
    if not isinstance(value, dict) or set(value) != set(NOTIFICATION_KINDS):
        raise RowError(f"must be a JSON object of {', '.join(NOTIFICATION_KINDS)}")
    for setting in value.values():
        if not isinstance(setting, dict) or not set(setting) <= _NOTIFICATION_KEYS:
            raise RowError(
                f"each notification must be an object of {', '.join(_NOTIFICATION_KEYS)}"
            )
        template = setting.get("template")
        if not isinstance(setting.get("enabled"), bool) or not isinstance(template, str | None):
            raise RowError("a notification's enabled is a boolean, its template a string")
        if not isinstance(setting.get("sound"), str | None) or not isinstance(
            setting.get("badge_count_enabled", False), bool
        ):
            raise RowError("a notification's sound is a string, its badge_count_enabled a boolean")
        if template is not None and len(template) > validation.TEMPLATE_MAX:
            raise RowError(f"a template is at most {validation.TEMPLATE_MAX} characters")
        if not isinstance(setting.get("sound"), str | None) or not isinstance(
            setting.get("badge_count_enabled", False), bool
        ):
            raise RowError("a notification's sound is a string, its badge_count_enabled a boolean")


def _media(value: Any) -> None:
    fields = {"sid": str, "filename": str | None, "content_type": str, "size": int}
    if not isinstance(value, dict) or set(value) != set(fields):
        raise RowError(f"must be a JSON object of {', '.join(fields)}")
    if not all(isinstance(value[name], kind) for name, kind in fields.items()):
        raise RowError("has a field of the wrong type")


_DATE = _within(validation.DATE_RANGE, "a date between 1970 and 9999 in milliseconds")
_COUNT = _within(range(2**53), "a count from 0")
_INDEX = _within(validation.MESSAGE_INDEX_RANGE, "a message index")
_NAME = _optional(_api(validation.check_friendly_name))
_ATTRIBUTES = _api(validation.check_attributes)
_IDENTITY = _api(validation.check_identity)
_ROLE = _optional(_sid(sids.ROLE))
_DATES = {"date_created": _DATE, "date_updated": _DATE}

#: table -> column -> the rule its values must pass (types and nullability are checked before)
RULES: Mapping[str, Mapping[str, Rule]] = {
    "services": {
        "sid": _sid(sids.SERVICE),
        "friendly_name": _api(services.check_service_name),
        "default_service_role_sid": _ROLE,
        "default_channel_role_sid": _ROLE,
        "default_channel_creator_role_sid": _ROLE,
        "typing_indicator_timeout": _within(validation.SECONDS_RANGE, "a number of seconds"),
        "consumption_report_interval": _within(validation.SECONDS_RANGE, "a number of seconds"),
        "limit_channel_members": _within(validation.SERVICE_LIMIT_RANGE, "between 1 and 1000"),
        "limit_user_channels": _within(validation.SERVICE_LIMIT_RANGE, "between 1 and 1000"),
        "pre_webhook_url": _url(errors.InvalidPreWebhookUrlError),
        "post_webhook_url": _url(errors.InvalidPostWebhookUrlError),
        "webhook_method": _optional(_one_of("GET", "POST")),
        "webhook_filters": _optional(_json(_strings(services.WEBHOOK_EVENTS))),
        "webhooks": _json(_webhooks),
        "notifications": _json(_notifications),
        "media_compatibility_message": _optional(_text(validation.TEMPLATE_MAX)),
        "pre_webhook_retry_count": _within(validation.RETRY_COUNT_RANGE, "between 0 and 3"),
        "post_webhook_retry_count": _within(validation.RETRY_COUNT_RANGE, "between 0 and 3"),
        **_DATES,
    },
    "roles": {
        "sid": _sid(sids.ROLE),
        "service_sid": _sid(sids.SERVICE),
        "friendly_name": _text(validation.NAME_MAX, empty=False),
        "type": _api(roles.check_type),
        "permissions": _json(_strings()),  # and valid for the type: see _check_references
        **_DATES,
    },
    "users": {
        "sid": _sid(sids.USER),
        "service_sid": _sid(sids.SERVICE),
        "identity": _IDENTITY,
        "friendly_name": _optional(_text(validation.USER_FRIENDLY_NAME_MAX)),
        "role_sid": _ROLE,
        "attributes": _ATTRIBUTES,
        "joined_channels_count": _COUNT,
        "sync_event_id": _COUNT,
        **_DATES,
    },
    "channels": {
        "sid": _sid(sids.CHANNEL),
        "service_sid": _sid(sids.SERVICE),
        "friendly_name": _NAME,
        "unique_name": _api(channels.check_unique_name),
        "attributes": _ATTRIBUTES,
        "type": _one_of("public", "private"),
        "created_by": _text(validation.AUTHOR_MAX),
        "members_count": _COUNT,
        "messages_count": _COUNT,
        "next_message_index": _INDEX,
        "last_message_sid": _optional(_sid(sids.MESSAGE)),
        "sync_event_id": _COUNT,
        "document_event_id": _COUNT,
        **_DATES,
    },
    "members": {
        "sid": _sid(sids.MEMBER),
        "service_sid": _sid(sids.SERVICE),
        "channel_sid": _sid(sids.CHANNEL),
        "identity": _IDENTITY,
        "role_sid": _ROLE,
        "last_consumed_message_index": _optional(_INDEX),
        "last_consumption_timestamp": _optional(_DATE),
        "notification_level": _optional(_one_of("default", "muted")),
        "attributes": _ATTRIBUTES,
        **_DATES,
    },
    "invites": {
        "sid": _sid(sids.INVITE),
        "service_sid": _sid(sids.SERVICE),
        "channel_sid": _sid(sids.CHANNEL),
        "identity": _IDENTITY,
        "role_sid": _ROLE,
        "created_by": _text(validation.AUTHOR_MAX),
        **_DATES,
    },
    "messages": {
        "sid": _sid(sids.MESSAGE),
        "service_sid": _sid(sids.SERVICE),
        "channel_sid": _sid(sids.CHANNEL),
        "idx": _INDEX,
        "author": _text(validation.AUTHOR_MAX),
        "body": _text(validation.BODY_MAX),
        "attributes": _ATTRIBUTES,
        "added_event_id": _COUNT,
        "media": _optional(_json(_media)),
        "last_updated_by": _optional(_text(validation.AUTHOR_MAX)),
        **_DATES,
    },
    "message_tombstones": {"channel_sid": _sid(sids.CHANNEL), "idx": _INDEX},
    "channel_webhooks": {
        "sid": _sid(sids.CHANNEL_WEBHOOK),
        "service_sid": _sid(sids.SERVICE),
        "channel_sid": _sid(sids.CHANNEL),
        "type": _one_of(*channel_webhooks.TYPES),
        "url": _optional(_api(lambda value: channel_webhooks.check_url(value, "webhook"))),
        "method": _optional(_one_of(*validation.WEBHOOK_METHODS)),
        "filters": _json(_strings(frozenset(channel_webhooks.EVENTS))),
        "triggers": _json(_strings()),
        "flow_sid": _optional(_api(channel_webhooks.check_flow_sid)),
        "retry_count": _within(channel_webhooks.RETRY_COUNT_RANGE, "an integer from 0 to 3"),
        **_DATES,
    },
    "credentials": {
        "sid": _sid(sids.CREDENTIAL),
        "friendly_name": _NAME,
        "type": _one_of("apn", "gcm", "fcm"),
        **_DATES,
    },
    "push_registrations": {
        "sid": _sid(sids.PUSH_REGISTRATION),
        "service_sid": _sid(sids.SERVICE),
        "identity": _IDENTITY,
        "channel_type": _one_of(*sorted(CHANNEL_TYPES)),
        "address": _text(ADDRESS_MAX, empty=False),
        "endpoint": _text(ENDPOINT_MAX, empty=False),
        "message_types": _json(_strings()),
        "credential_sid": _optional(_sid(sids.CREDENTIAL)),
        **_DATES,
    },
    "sync_changes": {
        "object_sid": _text(256, empty=False),
        "item_key": _text(1024),
        "service_sid": _sid(sids.SERVICE),
        "event_id": _COUNT,
        "added_event_id": _COUNT,
    },
}


def check_rows(tables: Mapping[str, Sequence[Row]]) -> None:
    """Refuse (400) the first row that breaks a rule or names a row the snapshot lacks."""
    for table, rows in tables.items():
        for i, row in enumerate(rows):
            for column, rule in RULES.get(table, {}).items():
                value = row.get(column)
                try:
                    rule(value)
                except RowError as exc:
                    raise _invalid(f"{table}[{i}].{column} {exc.reason}") from None
    _check_references(tables)


def _invalid(detail: str) -> errors.ChinwagError:
    return errors.MalformedRequestError(detail=f"Invalid snapshot row: {detail}")


def _check_references(tables: Mapping[str, Sequence[Row]]) -> None:
    service_sids = {row["sid"] for row in tables.get("services", ())}
    role_types = {(r["service_sid"], r["sid"]): r["type"] for r in tables.get("roles", ())}
    channel_services = {row["sid"]: row["service_sid"] for row in tables.get("channels", ())}
    defaults = (
        ("default_service_role_sid", "deployment"),
        ("default_channel_role_sid", "channel"),
        ("default_channel_creator_role_sid", "channel"),
    )
    for i, row in enumerate(tables.get("services", ())):
        for column, kind in defaults:
            if row[column] is not None and role_types.get((row["sid"], row[column])) != kind:
                raise _invalid(f"services[{i}].{column} is not a {kind} role of the service")
    for i, row in enumerate(tables.get("roles", ())):
        try:
            roles.check_permissions(row["type"], orjson.loads(row["permissions"]))
        except errors.ChinwagError as exc:
            raise _invalid(f"roles[{i}].permissions: {exc.message}") from None
    for table, rows in tables.items():
        for i, row in enumerate(rows):
            where = f"{table}[{i}]"
            service = row.get("service_sid")
            if "service_sid" in row and table != "services" and service not in service_sids:
                raise _invalid(f"{where}.service_sid is not a service of the snapshot")
            channel = row.get("channel_sid")
            if channel is not None and table != "channels":
                owner = channel_services.get(channel)
                if owner is None or (service is not None and owner != service):
                    raise _invalid(f"{where}.channel_sid is not a channel of its service")
            role = row.get("role_sid")
            if role is not None and (service, role) not in role_types:
                raise _invalid(f"{where}.role_sid is not a role of its service")
