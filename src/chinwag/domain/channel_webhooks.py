"""Channel webhooks (REST v2 only): up to five targets of one channel's post-events.

A Service's webhooks hear every channel; a channel webhook hears its own channel only. Its
deliveries go through the same outbox as the Service's (``webhooks/gate.py``): written in the
change's transaction, signed, sent in order per channel, retried ``retry_count`` times.

The three types (docs/webhooks.md):

- ``webhook``: ``Configuration.Url`` is called for the events named in
  ``Configuration.Filters``;
- ``trigger``: ``Configuration.Url`` is called with ``onMessageSent`` for a new message whose
  body holds one of ``Configuration.Triggers`` as a whole word, in any case;
- ``studio``: ``Configuration.FlowSid`` names a Studio Flow. It is stored, validated, shown and
  counted against the cap, but never called: Studio flows cannot run on a self-hosted server.

Only the account owner manages them (``Action.ADMINISTER``): no chat user reaches them, as on
Twilio, where the resource exists in the REST API alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from chinwag import errors, sids
from chinwag.domain import policy, validation
from chinwag.domain.channels import check_channel_txn
from chinwag.domain.deps import Caller, Deps
from chinwag.domain.policy import Action
from chinwag.model.records import Channel, ChannelWebhook, ChannelWebhookType, Page, PageRequest
from chinwag.model.unset import UNSET, Unset, is_empty_update, pick
from chinwag.storage.database import Txn
from chinwag.storage.stores import channel_webhooks as store

TYPES: tuple[ChannelWebhookType, ...] = ("webhook", "trigger", "studio")
#: "up to five unique webhook targets for each channel" [doc]
MAX_PER_CHANNEL = 5
#: "up to a total of 5 trigger strings" [doc]
MAX_TRIGGERS = 5
TRIGGER_MAX = 256  # characters of one trigger word [inferred]
#: "an integer between 0 and 3, inclusive" [doc]
RETRY_COUNT_RANGE = range(4)
#: the post-events that happen to an existing channel: what ``Configuration.Filters`` takes
EVENTS = (
    "onMessageSent",
    "onMessageUpdated",
    "onMessageRemoved",
    "onChannelUpdated",
    "onChannelDestroyed",
    "onMemberAdded",
    "onMemberRemoved",
)
#: the one event a trigger webhook hears
TRIGGER_EVENT = "onMessageSent"
_FLOW_SID = re.compile(r"FW[0-9a-fA-F]{32}")


@dataclass(frozen=True)
class CreateChannelWebhook:
    type: str | None
    url: str | None = None
    method: str | None = None
    filters: tuple[str, ...] = ()
    triggers: tuple[str, ...] = ()
    flow_sid: str | None = None
    retry_count: int | None = None


@dataclass(frozen=True)
class UpdateChannelWebhook:
    url: str | Unset = UNSET
    method: str | Unset = UNSET
    filters: tuple[str, ...] | Unset = UNSET
    triggers: tuple[str, ...] | Unset = UNSET
    flow_sid: str | Unset = UNSET
    retry_count: int | Unset = UNSET


def check_type(value: str | None) -> ChannelWebhookType:
    if not value:
        raise errors.ChannelWebhookTypeMissingError(expected=errors.one_of(TYPES))
    for option in TYPES:
        if option == value:
            return option
    raise errors.InvalidChannelWebhookTypeError(expected=errors.one_of(TYPES))


def check_url(value: str | None, kind: str) -> str:
    if not value:
        raise errors.ChannelWebhookUrlMissingError(type=kind)
    if len(value) > validation.URL_MAX:
        raise errors.ChannelWebhookUrlTooLongError(limit=validation.URL_MAX)
    checked = validation.check_http_url(value, errors.InvalidWebhookFormatError)
    assert checked is not None  # not empty, checked above
    return checked


def check_filters(values: Sequence[str], *, required: bool) -> tuple[str, ...]:
    """Event names, each once, in the order given; ``required`` for a ``webhook``."""
    expected = errors.one_of(EVENTS)
    if any(v not in EVENTS for v in values):
        raise errors.InvalidChannelWebhookFilterError(expected=expected)
    if required and not values:
        raise errors.ChannelWebhookFilterMissingError(expected=expected)
    return tuple(dict.fromkeys(values))


def check_triggers(values: Sequence[str]) -> tuple[str, ...]:
    if not values:
        raise errors.ChannelWebhookTriggerMissingError()
    words = tuple(dict.fromkeys(values))
    if len(words) > MAX_TRIGGERS:
        raise errors.TooManyTriggersError(limit=MAX_TRIGGERS)
    for word in words:
        validation.check_text(word, "Configuration.Triggers")
        if not word.strip() or len(word) > TRIGGER_MAX:
            raise errors.InvalidChannelWebhookTriggerError(
                expected=f"a word or phrase of 1 to {TRIGGER_MAX} characters"
            )
    return words


def check_flow_sid(value: str | None) -> str:
    if not value or not _FLOW_SID.fullmatch(value):
        raise errors.InvalidFlowSidError(expected="a Studio Flow SID: FW and 32 hex digits")
    return value


def check_retry_count(value: int) -> int:
    return validation.check_in_range(value, RETRY_COUNT_RANGE, errors.ChannelWebhookRetryCountError)


def check_webhook(w: ChannelWebhook) -> ChannelWebhook:
    """The configuration ``w``'s type needs, checked; what the type does not use is dropped
    (so a ``studio`` webhook keeps no URL and a ``webhook`` no trigger words)."""
    retry_count = check_retry_count(w.retry_count)
    if w.type == "studio":
        return replace(
            w,
            url=None,
            method=None,
            filters=check_filters(w.filters, required=False),
            triggers=(),
            flow_sid=check_flow_sid(w.flow_sid),
            retry_count=retry_count,
        )
    url = check_url(w.url, w.type)
    method = validation.check_method(w.method or "POST")
    if w.type == "trigger":
        return replace(
            w,
            url=url,
            method=method,
            filters=(),
            triggers=check_triggers(w.triggers),
            flow_sid=None,
            retry_count=retry_count,
        )
    return replace(
        w,
        url=url,
        method=method,
        filters=check_filters(w.filters, required=True),
        triggers=(),
        flow_sid=None,
        retry_count=retry_count,
    )


def fires(w: ChannelWebhook, event_type: str, body: str | None) -> bool:
    """Whether ``w`` is called for ``event_type`` (``body``: a new message's text).

    A trigger word matches as a whole word (or phrase), ignoring case: "help" fires for
    "Help me!" but not for "helpful".
    """
    if w.type == "webhook":
        return event_type in w.filters
    if w.type == "trigger":
        return event_type == TRIGGER_EVENT and body is not None and _holds_trigger(w, body)
    return False  # studio: a Flow cannot run here


def _holds_trigger(w: ChannelWebhook, body: str) -> bool:
    return any(
        re.search(rf"(?<!\w){re.escape(word)}(?!\w)", body, re.IGNORECASE) for word in w.triggers
    )


async def _channel_txn(
    txn: Txn, caller: Caller, service_sid: str, channel_key: str, *, for_update: bool = False
) -> Channel:
    policy.authorize(caller.actor, Action.ADMINISTER)
    return await check_channel_txn(txn, caller, service_sid, channel_key, for_update=for_update)


async def create_channel_webhook(
    deps: Deps, caller: Caller, service_sid: str, channel_key: str, cmd: CreateChannelWebhook
) -> ChannelWebhook:
    deps.limits.count_channel(service_sid, channel_key)
    now = deps.clock.now_ms()
    # checked before the channel is resolved, as values are everywhere (400 before 404)
    checked = check_webhook(
        ChannelWebhook(
            sid=deps.sids.new(sids.CHANNEL_WEBHOOK),
            account_sid=caller.account_sid,
            service_sid=service_sid,
            channel_sid="",
            type=check_type(cmd.type),
            url=cmd.url,
            method=cmd.method,
            filters=cmd.filters,
            triggers=cmd.triggers,
            flow_sid=cmd.flow_sid,
            retry_count=0 if cmd.retry_count is None else cmd.retry_count,
            date_created=now,
            date_updated=now,
        )
    )

    async def txn_fn(txn: Txn) -> ChannelWebhook:
        # the channel's row lock serialises creates, so the count below holds until commit
        channel = await _channel_txn(txn, caller, service_sid, channel_key, for_update=True)
        if await store.count_webhooks_txn(txn, channel.sid) >= MAX_PER_CHANNEL:
            raise errors.ChannelWebhookLimitError(limit=MAX_PER_CHANNEL)
        webhook = replace(checked, channel_sid=channel.sid)
        await store.insert_webhook_txn(txn, webhook)
        return webhook

    return await deps.write("create_channel_webhook", txn_fn)


async def _webhook_txn(
    txn: Txn, caller: Caller, service_sid: str, channel_key: str, sid: str
) -> ChannelWebhook:
    channel = await _channel_txn(txn, caller, service_sid, channel_key)
    webhook = await store.find_webhook_txn(txn, channel.sid, sid)
    if webhook is None:
        raise errors.NotFoundError()
    return webhook


async def fetch_channel_webhook(
    deps: Deps, caller: Caller, service_sid: str, channel_key: str, sid: str
) -> ChannelWebhook:
    return await deps.db.run_read(
        "fetch_channel_webhook", _webhook_txn, caller, service_sid, channel_key, sid
    )


async def list_channel_webhooks(
    deps: Deps, caller: Caller, service_sid: str, channel_key: str, req: PageRequest
) -> Page[ChannelWebhook]:
    async def read(txn: Txn) -> Page[ChannelWebhook]:
        channel = await _channel_txn(txn, caller, service_sid, channel_key)
        return await store.list_webhooks_txn(txn, channel.sid, req)

    return await deps.db.run_read("list_channel_webhooks", read)


async def update_channel_webhook(
    deps: Deps,
    caller: Caller,
    service_sid: str,
    channel_key: str,
    sid: str,
    cmd: UpdateChannelWebhook,
) -> ChannelWebhook:
    """Replace the configuration values given; the result is checked as a whole, as on
    create (the type cannot change)."""
    deps.limits.count_channel(service_sid, channel_key)
    if is_empty_update(cmd):
        raise errors.NoUpdateParametersError()

    async def txn_fn(txn: Txn) -> ChannelWebhook:
        old = await _webhook_txn(txn, caller, service_sid, channel_key, sid)
        new = check_webhook(
            replace(
                old,
                url=pick(cmd.url, old.url),
                method=pick(cmd.method, old.method),
                filters=pick(cmd.filters, old.filters),
                triggers=pick(cmd.triggers, old.triggers),
                flow_sid=pick(cmd.flow_sid, old.flow_sid),
                retry_count=pick(cmd.retry_count, old.retry_count),
                date_updated=deps.clock.now_ms(),
            )
        )
        await store.update_webhook_txn(txn, new)
        return new

    return await deps.write("update_channel_webhook", txn_fn)


async def delete_channel_webhook(
    deps: Deps, caller: Caller, service_sid: str, channel_key: str, sid: str
) -> None:
    deps.limits.count_channel(service_sid, channel_key)

    async def txn_fn(txn: Txn) -> None:
        webhook = await _webhook_txn(txn, caller, service_sid, channel_key, sid)
        await store.delete_webhook_txn(txn, webhook.sid)

    await deps.write("delete_channel_webhook", txn_fn)
