"""A message sent by the real ``twilio-chat`` SDK fires the channel's webhooks: chat users'
actions fire post-events without any header, through the same outbox as REST's."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from channel_webhook_support import signed

from chinwag.testing.webhook_receiver import WebhookReceiver
from conftest import Databases
from realtime.client_support import GatewayServer, NodeClient

pytestmark = [pytest.mark.server, pytest.mark.sdk]


_tags = itertools.count()


def call(client: NodeClient, cmd: str, **fields: Any) -> dict[str, Any]:
    """One SDK call through ``tests/client/chat_commands.js``; its result."""
    tag = f"{cmd}-{next(_tags)}"
    client.send(cmd=cmd, tag=tag, **fields)
    reply = client.wait_for(lambda e: e.get("tag") == tag, timeout=20)
    assert reply["event"] == cmd, reply
    return reply


def test_an_sdk_message_fires_the_channel_webhook(
    databases: Databases, receiver: WebhookReceiver
) -> None:
    with GatewayServer(databases) as gateway:
        service = gateway.service()
        token = gateway.token(service, "alice")
        with NodeClient("chat_commands.js", gateway.ws, token) as alice:
            alice.wait_for("initialized", timeout=30)
            channel = call(alice, "createChannel", options={"uniqueName": "support"})["channel"]
            call(alice, "join", channel=channel)
            hooks = f"/v2/Services/{service}/Channels/support/Webhooks"
            for form in (
                {
                    "Type": "webhook",
                    "Configuration.Url": receiver.url("/sent"),
                    "Configuration.Filters": ["onMessageSent", "onMessageUpdated"],
                },
                {
                    "Type": "trigger",
                    "Configuration.Url": receiver.url("/sos"),
                    "Configuration.Triggers": "sos",
                },
            ):
                response = gateway.http.post(hooks, data=form)
                assert response.status_code == 201, response.text

            call(alice, "send", channel=channel, body="hello from the sdk")
            call(alice, "send", channel=channel, body="SOS, the printer")
            call(alice, "updateMessage", channel=channel, index=0, body="hello again")

            sent = [signed(r) for r in receiver.wait_for(3, timeout=20, path="/sent")]
            sos = [signed(r) for r in receiver.wait_for(1, timeout=20, path="/sos")]
    assert [(r.params["EventType"], r.params["Body"]) for r in sent] == [
        ("onMessageSent", "hello from the sdk"),
        ("onMessageSent", "SOS, the printer"),
        ("onMessageUpdated", "hello again"),
    ]
    for r in sent + sos:
        assert r.params["Source"] == "SDK"
        assert r.params["ClientIdentity"] == "alice"
        assert r.params["ChannelSid"] == channel
    assert [r.params["Body"] for r in sos] == ["SOS, the printer"]
