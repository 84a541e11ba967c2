"""Services: create with the four default roles, settings updates, and the full cascade."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

from chinwag import errors, sids
from chinwag.domain import policy, validation
from chinwag.domain.deps import Caller, Deps
from chinwag.domain.lookups import get_role_of_type, get_service
from chinwag.domain.permissions import DEFAULT_ROLES
from chinwag.domain.policy import Action
from chinwag.model.events import ServiceAdded, ServiceRemoved, ServiceUpdated
from chinwag.model.records import (
    Limits,
    Notification,
    Page,
    PageRequest,
    Role,
    RoleType,
    Service,
    WebhookTarget,
)
from chinwag.model.unset import UNSET, Unset, is_empty_update, pick
from chinwag.storage.database import Txn
from chinwag.storage.stores import roles as role_store
from chinwag.storage.stores import services as store

#: Pre-events (blocking) and post-events (informational); together, the names valid in
#: ``WebhookFilters`` (reference 6.2).
PRE_WEBHOOK_EVENTS = (
    "onMessageSend",
    "onMessageUpdate",
    "onMessageRemove",
    "onChannelAdd",
    "onChannelUpdate",
    "onChannelDestroy",
    "onMemberAdd",
    "onMemberRemove",
    "onUserUpdate",
)
POST_WEBHOOK_EVENTS = (
    "onMessageSent",
    "onMessageUpdated",
    "onMessageRemoved",
    "onChannelAdded",
    "onChannelUpdated",
    "onChannelDestroyed",
    "onMemberAdded",
    "onMemberRemoved",
    "onUserUpdated",
)
WEBHOOK_EVENTS = frozenset(PRE_WEBHOOK_EVENTS + POST_WEBHOOK_EVENTS)

#: notification kinds -> their parameter names, for errors
_PARAMS = {
    "new_message": "NewMessage",
    "added_to_channel": "AddedToChannel",
    "invited_to_channel": "InvitedToChannel",
    "removed_from_channel": "RemovedFromChannel",
}


@dataclass(frozen=True)
class CreateService:
    friendly_name: str


@dataclass(frozen=True)
class NotificationChange:
    enabled: bool | Unset = UNSET
    template: str | Unset | None = UNSET
    #: Chat v2's settings: a sound for every kind, a badge count for new messages
    sound: str | Unset | None = UNSET
    badge_count_enabled: bool | Unset = UNSET


@dataclass(frozen=True)
class WebhookChange:
    url: str | Unset | None = UNSET
    method: str | Unset = UNSET


@dataclass(frozen=True)
class UpdateService:
    friendly_name: str | Unset = UNSET
    default_service_role_sid: str | Unset = UNSET
    default_channel_role_sid: str | Unset = UNSET
    default_channel_creator_role_sid: str | Unset = UNSET
    read_status_enabled: bool | Unset = UNSET
    reachability_enabled: bool | Unset = UNSET
    typing_indicator_timeout: int | Unset = UNSET
    consumption_report_interval: int | Unset = UNSET
    limit_channel_members: int | Unset = UNSET
    limit_user_channels: int | Unset = UNSET
    pre_webhook_url: str | Unset | None = UNSET
    post_webhook_url: str | Unset | None = UNSET
    webhook_method: str | Unset | None = UNSET
    webhook_filters: tuple[str, ...] | Unset | None = UNSET
    notifications: Mapping[str, NotificationChange] = field(default_factory=dict)
    webhooks: Mapping[str, WebhookChange] = field(default_factory=dict)
    #: Chat v2's settings (v1 cannot send them)
    notifications_log_enabled: bool | Unset = UNSET
    media_compatibility_message: str | Unset | None = UNSET
    pre_webhook_retry_count: int | Unset = UNSET
    post_webhook_retry_count: int | Unset = UNSET


def check_service_name(value: str) -> str:
    if value == "":
        raise errors.FriendlyNameNotProvidedError()
    validation.check_friendly_name(value)
    return value


async def create_service(deps: Deps, caller: Caller, cmd: CreateService) -> Service:
    policy.authorize(caller.actor, Action.ADMINISTER)
    friendly_name = check_service_name(cmd.friendly_name)
    now = deps.clock.now_ms()
    sid = deps.sids.new(sids.SERVICE)
    default_roles = tuple(
        Role(deps.sids.new(sids.ROLE), caller.account_sid, sid, name, kind, perms, now, now)
        for name, kind, perms in DEFAULT_ROLES
    )
    _, service_user, channel_admin, channel_user = default_roles
    service = Service(
        sid=sid,
        account_sid=caller.account_sid,
        friendly_name=friendly_name,
        date_created=now,
        date_updated=now,
        default_service_role_sid=service_user.sid,
        default_channel_role_sid=channel_user.sid,
        default_channel_creator_role_sid=channel_admin.sid,
    )

    async def txn_fn(txn: Txn) -> Service:
        await store.insert_service_txn(txn, service)
        for role in default_roles:
            await role_store.insert_role_txn(txn, role)
        await deps.emit(txn, ServiceAdded(caller.actor, service, default_roles))
        return service

    return await deps.db.run_in_txn("create_service", txn_fn)


async def fetch_service(deps: Deps, caller: Caller, sid: str) -> Service:
    policy.authorize(caller.actor, Action.ADMINISTER)
    return await deps.db.run_read("fetch_service", get_service, caller.account_sid, sid)


async def fetch_client_service(deps: Deps, caller: Caller, sid: str) -> Service:
    """The service a chat client is signed in to (``sid`` comes from its verified token), for
    the options its Configuration carries. Reading a service is otherwise an administrator's
    action; a client needs only its own."""
    return await deps.db.run_read("fetch_service", get_service, caller.account_sid, sid)


async def list_services(deps: Deps, caller: Caller, req: PageRequest) -> Page[Service]:
    policy.authorize(caller.actor, Action.ADMINISTER)
    return await deps.db.run_read("list_services", store.list_services_txn, caller.account_sid, req)


def _check_limit(value: int | Unset, old: int, error: type[errors.ChinwagError]) -> int:
    if value is UNSET:
        return old
    return validation.check_in_range(value, validation.SERVICE_LIMIT_RANGE, error)


def _check_seconds(value: int | Unset, old: int, error: type[errors.ChinwagError]) -> int:
    if value is UNSET:
        return old
    return validation.check_in_range(value, validation.SECONDS_RANGE, error)


def _apply_notifications(
    current: Mapping[str, Notification], changes: Mapping[str, NotificationChange]
) -> dict[str, Notification]:
    out = dict(current)
    for kind, change in changes.items():
        old = out[kind]
        template = pick(change.template, old.template)
        if template is not None and len(template) > validation.TEMPLATE_MAX:
            raise errors.NotificationTemplateTooLongError(limit=validation.TEMPLATE_MAX)
        sound = pick(change.sound, old.sound)
        if sound is not None and len(sound) > validation.TEMPLATE_MAX:
            raise errors.InvalidParameterError(
                name=f"Notifications.{_PARAMS[kind]}.Sound",
                expected=f"at most {validation.TEMPLATE_MAX} characters",
            )
        out[kind] = Notification(
            pick(change.enabled, old.enabled),
            template or None,
            sound or None,
            pick(change.badge_count_enabled, old.badge_count_enabled),
        )
    return out


def _retry_count(value: int | Unset, old: int, name: str) -> int:
    if value is UNSET:
        return old
    if value not in validation.RETRY_COUNT_RANGE:
        raise errors.InvalidParameterError(
            name=name, expected=errors.in_range(validation.RETRY_COUNT_RANGE)
        )
    return value


def _compatibility_message(value: str | Unset | None, old: str | None) -> str | None:
    new = pick(value, old)
    if new is not None and len(new) > validation.TEMPLATE_MAX:
        raise errors.InvalidParameterError(
            name="Media.CompatibilityMessage",
            expected=f"at most {validation.TEMPLATE_MAX} characters",
        )
    return new


def _apply_webhooks(
    current: Mapping[str, WebhookTarget], changes: Mapping[str, WebhookChange]
) -> dict[str, WebhookTarget]:
    """Per-event webhooks: an empty Url removes the entry; Method defaults to POST."""
    out = dict(current)
    for name, change in changes.items():
        old = out.get(name)
        url = validation.check_http_url(
            pick(change.url, old.url if old else None), errors.InvalidWebhookFormatError
        )
        method = validation.check_method(pick(change.method, old.method if old else "POST"))
        if url is None:  # no URL (cleared, or a Method sent for an unconfigured event)
            out.pop(name, None)
        else:
            out[name] = WebhookTarget(url, method)
    return out


def _check_filters(
    value: tuple[str, ...] | Unset | None, old: tuple[str, ...] | None
) -> tuple[str, ...] | None:
    if value is UNSET:
        return old
    if value is None:
        return None
    if any(name not in WEBHOOK_EVENTS for name in value):
        raise errors.InvalidWebhookFormatError(
            expected=errors.one_of(PRE_WEBHOOK_EVENTS + POST_WEBHOOK_EVENTS)
        )
    return tuple(dict.fromkeys(value))


async def _role_or(
    txn: Txn,
    service_sid: str,
    new: str | Unset,
    old: str | None,
    role_type: RoleType,
    error: type[errors.ChinwagError],
) -> str | None:
    """A default-role setting: the new SID if sent (it must be a role of that type), else old."""
    if new is UNSET:
        return old
    return (await get_role_of_type(txn, service_sid, new, role_type, error)).sid


async def update_service(deps: Deps, caller: Caller, sid: str, cmd: UpdateService) -> Service:
    policy.authorize(caller.actor, Action.ADMINISTER)
    if is_empty_update(cmd):
        raise errors.NoUpdateParametersError()

    async def txn_fn(txn: Txn) -> Service:
        old = await get_service(txn, caller.account_sid, sid, for_update=True)
        friendly_name = old.friendly_name
        if cmd.friendly_name is not UNSET:
            friendly_name = check_service_name(cmd.friendly_name)
        service_role = await _role_or(
            txn,
            old.sid,
            cmd.default_service_role_sid,
            old.default_service_role_sid,
            "deployment",
            errors.DeploymentRoleNotFoundError,
        )
        channel_role = await _role_or(
            txn,
            old.sid,
            cmd.default_channel_role_sid,
            old.default_channel_role_sid,
            "channel",
            errors.ChannelRoleNotFoundError,
        )
        creator_role = await _role_or(
            txn,
            old.sid,
            cmd.default_channel_creator_role_sid,
            old.default_channel_creator_role_sid,
            "channel",
            errors.ChannelCreatorRoleNotFoundError,
        )
        webhook_method = cmd.webhook_method
        if isinstance(webhook_method, str):
            webhook_method = validation.check_method(webhook_method)
        new = dataclasses.replace(
            old,
            friendly_name=friendly_name,
            read_status_enabled=pick(cmd.read_status_enabled, old.read_status_enabled),
            reachability_enabled=pick(cmd.reachability_enabled, old.reachability_enabled),
            typing_indicator_timeout=_check_seconds(
                cmd.typing_indicator_timeout,
                old.typing_indicator_timeout,
                errors.InvalidTypingIndicatorError,
            ),
            consumption_report_interval=_check_seconds(
                cmd.consumption_report_interval,
                old.consumption_report_interval,
                errors.InvalidConsumptionIntervalError,
            ),
            limits=Limits(
                _check_limit(
                    cmd.limit_channel_members,
                    old.limits.channel_members,
                    errors.InvalidChannelMembersLimitError,
                ),
                _check_limit(
                    cmd.limit_user_channels,
                    old.limits.user_channels,
                    errors.InvalidUserChannelsLimitError,
                ),
            ),
            pre_webhook_url=validation.check_http_url(
                pick(cmd.pre_webhook_url, old.pre_webhook_url), errors.InvalidPreWebhookUrlError
            ),
            post_webhook_url=validation.check_http_url(
                pick(cmd.post_webhook_url, old.post_webhook_url), errors.InvalidPostWebhookUrlError
            ),
            webhook_method=pick(webhook_method, old.webhook_method),
            webhook_filters=_check_filters(cmd.webhook_filters, old.webhook_filters),
            notifications=_apply_notifications(old.notifications, cmd.notifications),
            webhooks=_apply_webhooks(old.webhooks, cmd.webhooks),
            notifications_log_enabled=pick(
                cmd.notifications_log_enabled, old.notifications_log_enabled
            ),
            media_compatibility_message=_compatibility_message(
                cmd.media_compatibility_message, old.media_compatibility_message
            ),
            pre_webhook_retry_count=_retry_count(
                cmd.pre_webhook_retry_count, old.pre_webhook_retry_count, "PreWebhookRetryCount"
            ),
            post_webhook_retry_count=_retry_count(
                cmd.post_webhook_retry_count,
                old.post_webhook_retry_count,
                "PostWebhookRetryCount",
            ),
            date_updated=deps.clock.now_ms(),
            default_service_role_sid=service_role,
            default_channel_role_sid=channel_role,
            default_channel_creator_role_sid=creator_role,
        )
        await store.update_service_txn(txn, new)
        await deps.emit(txn, ServiceUpdated(caller.actor, new))
        return new

    return await deps.db.run_in_txn("update_service", txn_fn)


async def delete_service(deps: Deps, caller: Caller, sid: str) -> None:
    policy.authorize(caller.actor, Action.ADMINISTER)

    async def txn_fn(txn: Txn) -> None:
        service = await get_service(txn, caller.account_sid, sid, for_update=True)
        await store.delete_service_txn(txn, service.sid)
        await deps.emit(txn, ServiceRemoved(caller.actor, service))

    await deps.db.run_in_txn("delete_service", txn_fn)
