"""Chat v2's own handlers: the writes whose parameters v2 changed, the User Channel's fetch,
update and leave, and v3's change of a channel's type.

The other v2 operations are v1's handlers bound with v2's shapes (``Api.render``). Each handler
here parses v2's form (``chinwag.http.commands_v2``) and calls the same domain operation as
v1's, so a resource is the same resource through either version.
"""

from __future__ import annotations

from typing import Any

from falcon.asgi import Request, Response

from chinwag.api.dates import iso
from chinwag.domain import channels, members, messages, services, user_channels
from chinwag.http import commands, commands_v2, render
from chinwag.http.context import Api
from chinwag.http.forms import read_form
from chinwag.model.records import Channel


async def update_service(api: Api, req: Request, resp: Response, service: str) -> None:
    form = await read_form(req, api.settings.max_body_bytes)
    updated = await services.update_service(
        api.deps, api.caller, service, commands.update_service(form, v2=True)
    )
    render.respond(resp, 200, api.render.service(updated, api.base_url(req)))


async def create_channel(api: Api, req: Request, resp: Response, service: str) -> None:
    cmd = commands_v2.create_channel(await read_form(req, api.settings.max_body_bytes))
    channel = await channels.create_channel(api.deps, api.caller, service, cmd)
    render.respond(resp, 201, api.render.channel(channel, api.base_url(req)))


async def update_channel(
    api: Api, req: Request, resp: Response, service: str, channel: str
) -> None:
    cmd = commands_v2.update_channel(await read_form(req, api.settings.max_body_bytes))
    updated = await channels.update_channel(api.deps, api.caller, service, channel, cmd)
    render.respond(resp, 200, api.render.channel(updated, api.base_url(req)))


async def update_channel_type(
    api: Api, req: Request, resp: Response, service: str, channel: str
) -> None:
    """v3's UpdateChannel: a public channel made private or the reverse."""
    cmd = commands_v2.update_channel_type(await read_form(req, api.settings.max_body_bytes))
    updated = await channels.update_channel(api.deps, api.caller, service, channel, cmd)
    render.respond(resp, 200, channel_v3(updated, api.base_url(req)))


def channel_v3(c: Channel, base: str) -> dict[str, Any]:
    """v3's Channel: v2's fields without links, and ``messaging_service_sid``, which is null
    (a chat channel here never becomes a Conversation)."""
    created = iso(c.date_created)
    return {
        "sid": c.sid,
        "account_sid": c.account_sid,
        "service_sid": c.service_sid,
        "friendly_name": c.friendly_name,
        "unique_name": c.unique_name,
        "attributes": "{}" if c.attributes is None else c.attributes,
        "type": c.type,
        "date_created": created,
        "date_updated": created if c.date_updated == c.date_created else iso(c.date_updated),
        "created_by": c.created_by,
        "members_count": c.members_count,
        "messages_count": c.messages_count,
        "messaging_service_sid": None,
        "url": f"{base}/v3/Services/{c.service_sid}/Channels/{c.sid}",
    }


async def create_member(api: Api, req: Request, resp: Response, service: str, channel: str) -> None:
    cmd = commands_v2.create_member(await read_form(req, api.settings.max_body_bytes))
    member = await members.create_member(api.deps, api.caller, service, channel, cmd)
    render.respond(resp, 201, api.render.member(member, api.base_url(req)))


async def update_member(
    api: Api, req: Request, resp: Response, service: str, channel: str, member: str
) -> None:
    cmd = commands_v2.update_member(await read_form(req, api.settings.max_body_bytes))
    updated = await members.update_member(api.deps, api.caller, service, channel, member, cmd)
    render.respond(resp, 200, api.render.member(updated, api.base_url(req)))


async def create_message(
    api: Api, req: Request, resp: Response, service: str, channel: str
) -> None:
    cmd = commands_v2.create_message(await read_form(req, api.settings.max_body_bytes))
    message = await messages.send_message(api.deps, api.caller, service, channel, cmd)
    render.respond(resp, 201, api.render.message(message, api.base_url(req)))


async def update_message(
    api: Api, req: Request, resp: Response, service: str, channel: str, message: str
) -> None:
    cmd = commands_v2.update_message(await read_form(req, api.settings.max_body_bytes))
    updated = await messages.update_message(api.deps, api.caller, service, channel, message, cmd)
    render.respond(resp, 200, api.render.message(updated, api.base_url(req)))


async def fetch_user_channel(
    api: Api, req: Request, resp: Response, service: str, user: str, channel: str
) -> None:
    found = await user_channels.fetch_user_channel(api.deps, api.caller, service, user, channel)
    render.respond(resp, 200, api.render.user_channel(found, api.base_url(req)))


async def update_user_channel(
    api: Api, req: Request, resp: Response, service: str, user: str, channel: str
) -> None:
    cmd = commands_v2.update_user_channel(await read_form(req, api.settings.max_body_bytes))
    updated, _ = await user_channels.update_user_channel(
        api.deps, api.caller, service, user, channel, cmd
    )
    render.respond(resp, 200, api.render.user_channel(updated, api.base_url(req)))


async def delete_user_channel(
    api: Api, req: Request, resp: Response, service: str, user: str, channel: str
) -> None:
    await user_channels.leave_user_channel(api.deps, api.caller, service, user, channel)
    render.no_content(resp)
