"""``POST {channel links.messages}``: a chat client sends a message (text, or a media message
naming an upload with ``media_sid``), through the same domain operation REST uses.

The body is the SDK's JSON (messages.js ``send``/``sendMedia``): ``body``, ``attributes`` (a
JSON string) and ``media_sid``. The path's service must be the token's (a forged one is 403);
the author is always the connected identity.
"""

from __future__ import annotations

from chinwag import errors
from chinwag.domain.messages import CreateMessage, send_message
from chinwag.http import render
from chinwag.realtime.exchange import Client, Request, Response, json_response


def _optional_text(body: dict[str, object], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise errors.InvalidParameterError(name=name)
    return value


async def create_message(client: Client, request: Request, service: str, channel: str) -> Response:
    if service != client.service_sid:
        raise errors.UserNotAuthorizedError()
    body = request.json()
    if not isinstance(body, dict):
        raise errors.MalformedRequestError(detail="Request body must be a JSON object")
    cmd = CreateMessage(
        body=_optional_text(body, "body") or "",
        attributes=_optional_text(body, "attributes"),
        media_sid=_optional_text(body, "media_sid"),
    )
    message = await send_message(client.deps, client.caller, service, channel, cmd)
    return json_response(render.message(message, client.public_url), 201)
