"""``POST {links.typing}``: the SDK's typing call, and the notification the others receive.

The request (client-protocol 4.1) is a form body ``ChannelSid=CH…``; the reply must be a JSON
object whose ``typing_timeout`` (seconds) the SDK uses to pace its next call. The other members'
connections that registered :data:`MESSAGE_TYPE` get
``{"channel_sid", "identity", "typing_timeout"}`` (see :class:`TypingFanout`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from urllib.parse import parse_qs

import orjson

from chinwag import errors
from chinwag.domain.typing_indicator import start_typing
from chinwag.model.ephemeral import TypingStarted
from chinwag.realtime.context import Client, Request, Response, json_response

MESSAGE_TYPE = "twilio.ipmsg.typing_indicator"

#: the connections of one identity on this process: (account, service, identity) -> notifiers
Notifiers = Callable[[str, str, str], Iterable[Callable[[str, bytes], None]]]


async def post_typing(client: Client, request: Request, service: str) -> Response:
    if service != client.service_sid:
        raise errors.NotFoundError(request.path)
    try:
        form = parse_qs(request.body.decode(), strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        raise errors.MalformedRequestError(detail="Request body is not a form") from None
    channel = form.get("ChannelSid", [""])[0]
    if not channel:
        raise errors.MissingParameterError(name="ChannelSid")
    timeout = await start_typing(client.deps, client.caller, client.service_sid, channel)
    return json_response({"typing_timeout": timeout})


class TypingFanout:
    """Delivers typing events (from this process or, through the bus, another) to the
    recipients' connections here."""

    def __init__(self, notifiers: Notifiers) -> None:
        self._notifiers = notifiers

    def __call__(self, event: TypingStarted) -> None:
        payload = orjson.dumps(
            {
                "channel_sid": event.channel_sid,
                "identity": event.identity,
                "typing_timeout": event.typing_timeout,
            }
        )
        for identity in event.recipients:
            for notify in self._notifiers(event.account_sid, event.service_sid, identity):
                notify(MESSAGE_TYPE, payload)
