"""``/v2/Services/{IS}/Channels/{CH|unique_name}/Webhooks``: List/Create/Fetch/Update/
DeleteChannelWebhook (v2 only; v1 has no such resource).

The form's ``Configuration.*`` parameters are read here, beside the handlers that take them:
the resource is the only one that has them.
"""

from __future__ import annotations

from typing import cast

from falcon.asgi import Request, Response

from chinwag import errors
from chinwag.api.forms import Form
from chinwag.api.paging import envelope, parse_list_query
from chinwag.domain import channel_webhooks as domain
from chinwag.http import render
from chinwag.http.context import Api
from chinwag.http.forms import read_form, read_query
from chinwag.model.unset import UNSET, Unset

_RETRY = errors.in_range(domain.RETRY_COUNT_RANGE)


def _retry_count(form: Form) -> int | Unset:
    """An integer, or UNSET; the domain checks the range, which a non-integer is told."""
    value = form.integer(
        "Configuration.RetryCount", errors.ChannelWebhookRetryCountError, expected=_RETRY
    )
    return cast("int | Unset", value)


def _list(form: Form, name: str) -> tuple[str, ...] | Unset:
    """A repeated parameter; empty values are dropped (twilio-python sends none)."""
    if name not in form:
        return UNSET
    return tuple(v for v in form.all(name) if v)


def create_command(form: Form) -> domain.CreateChannelWebhook:
    retry_count = _retry_count(form)
    filters = _list(form, "Configuration.Filters")
    triggers = _list(form, "Configuration.Triggers")
    return domain.CreateChannelWebhook(
        type=form.get("Type"),
        url=form.optional("Configuration.Url"),
        method=form.optional("Configuration.Method"),
        filters=() if isinstance(filters, Unset) else filters,
        triggers=() if isinstance(triggers, Unset) else triggers,
        flow_sid=form.optional("Configuration.FlowSid"),
        retry_count=None if isinstance(retry_count, Unset) else retry_count,
    )


def update_command(form: Form) -> domain.UpdateChannelWebhook:
    return domain.UpdateChannelWebhook(
        url=form.text("Configuration.Url"),
        method=form.text("Configuration.Method"),
        filters=_list(form, "Configuration.Filters"),
        triggers=_list(form, "Configuration.Triggers"),
        flow_sid=form.text("Configuration.FlowSid"),
        retry_count=_retry_count(form),
    )


async def list_channel_webhooks(
    api: Api, req: Request, resp: Response, service: str, channel: str
) -> None:
    q = parse_list_query(read_query(req))
    page = await domain.list_channel_webhooks(api.deps, api.caller, service, channel, q.request)
    base = api.base_url(req)
    rows = [render.channel_webhook(w, base) for w in page.items]
    render.respond(resp, 200, envelope("webhooks", rows, page, q, api.list_url(req)))


async def create_channel_webhook(
    api: Api, req: Request, resp: Response, service: str, channel: str
) -> None:
    cmd = create_command(await read_form(req, api.settings.max_body_bytes))
    webhook = await domain.create_channel_webhook(api.deps, api.caller, service, channel, cmd)
    render.respond(resp, 201, render.channel_webhook(webhook, api.base_url(req)))


async def fetch_channel_webhook(
    api: Api, req: Request, resp: Response, service: str, channel: str, webhook: str
) -> None:
    found = await domain.fetch_channel_webhook(api.deps, api.caller, service, channel, webhook)
    render.respond(resp, 200, render.channel_webhook(found, api.base_url(req)))


async def update_channel_webhook(
    api: Api, req: Request, resp: Response, service: str, channel: str, webhook: str
) -> None:
    cmd = update_command(await read_form(req, api.settings.max_body_bytes))
    updated = await domain.update_channel_webhook(
        api.deps, api.caller, service, channel, webhook, cmd
    )
    render.respond(resp, 200, render.channel_webhook(updated, api.base_url(req)))


async def delete_channel_webhook(
    api: Api, req: Request, resp: Response, service: str, channel: str, webhook: str
) -> None:
    await domain.delete_channel_webhook(api.deps, api.caller, service, channel, webhook)
    render.no_content(resp)
