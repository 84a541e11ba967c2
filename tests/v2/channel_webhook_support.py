"""Shared steps of the channel webhook tests: twilio-python's ``client.chat.v2`` on a server,
a service with a channel, and the exact shape of a channel webhook resource."""

from __future__ import annotations

from typing import Any

from twilio.rest import Client

from chinwag.testing import ThreadedServer
from chinwag.testing.webhook_receiver import Record, validate_signature
from conftest import ACCOUNT_SID, AUTH_TOKEN

#: the properties of ``chat.v2.service.channel.channel_webhook`` (shared/spec, v2): all present
KEYS = {
    "sid",
    "account_sid",
    "service_sid",
    "channel_sid",
    "type",
    "url",
    "configuration",
    "date_created",
    "date_updated",
}

#: the header that makes a REST mutation fire its post-events
FIRE = {"X-Twilio-Webhook-Enabled": "true"}


def twilio(srv: ThreadedServer) -> Client:
    """twilio-python's ``Client`` with ``client.chat`` pointed at ``srv``."""
    client = Client(ACCOUNT_SID, AUTH_TOKEN)
    client.chat.base_url = srv.url
    return client


def new_channel(client: Client, unique_name: str | None = None) -> Any:
    """A new service's new channel, as its ``client.chat.v2`` context (``.webhooks`` on it).

    The service and channel are made through v1: one set of data behind both versions, so a
    channel made through either has its webhooks at ``/v2/.../Webhooks``.
    """
    service = client.chat.v1.services.create(friendly_name="channel webhooks")
    options = {} if unique_name is None else {"unique_name": unique_name}
    channel = client.chat.v1.services(service.sid).channels.create(**options)
    return client.chat.v2.services(service.sid).channels(channel.sid)


def signed(record: Record) -> Record:
    """``record``, after twilio's RequestValidator accepted its signature."""
    assert validate_signature(record, AUTH_TOKEN), record
    return record
