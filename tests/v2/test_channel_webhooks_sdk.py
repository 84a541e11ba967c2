"""A message sent by the real ``twilio-chat`` SDK fires the channel's webhooks: chat users'
actions fire post-events without any header, through the same outbox as REST's."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from channel_webhook_support import signed

from chinwag.testing.webhook_receiver import WebhookReceiver
from conftest import Databases

# NOTE: the Node client drivers live with the client door's tests; shared, not copied
sys.path.insert(0, str(Path(__file__).parent.parent / "realtime"))

from chat_commands_support import call, connect, seen
from client_support import GatewayServer

pytestmark = [pytest.mark.server, pytest.mark.sdk]


def test_an_sdk_message_fires_the_channel_webhook(
    databases: Databases, receiver: WebhookReceiver
) -> None:
    with GatewayServer(databases) as gateway:
        service = gateway.service()
        with connect(gateway, service, "alice") as alice:
            channel = call(alice, "createChannel", options={"uniqueName": "support"})["channel"]
            call(alice, "join", channel=channel)
            seen(alice, "channelJoined", channel=channel)
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
