"""Every push payload, as the fake providers received it, read by the twilio-chat SDK itself."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from push_support import StoredCredential, sdk_parse

from chinwag.push.payloads import Notice
from chinwag.push.providers import Providers, ProviderSettings
from chinwag.push.templates import MESSAGE_TYPES, TemplateContext, render, template_for
from chinwag.testing.fake_apns import FakeApns
from chinwag.testing.fake_fcm import FakeFcm
from chinwag.testing.plugin import PushCA

pytestmark = pytest.mark.sdk

CHANNEL = "CH" + "c" * 32
MESSAGE = "IM" + "d" * 32
DEVICE = "0a" * 32


def _notices() -> list[Notice]:
    notices = []
    for kind in MESSAGE_TYPES:
        is_message = kind == "new_message"
        context = TemplateContext(
            "alice",
            "Alice",
            CHANNEL,
            "General",
            "general",
            'héllo "there"' if is_message else None,
        )
        notices.append(
            Notice(
                kind,
                render(template_for(kind, None), context),
                CHANNEL,
                context.channel_title,
                MESSAGE if is_message else None,
                7 if is_message else None,
                "alice" if is_message else None,
                sound="ding",
                badge=5,
                push_id="RU" + "e" * 32,
            )
        )
    long = Notice("new_message", "ü" * 9000, CHANNEL, "general", MESSAGE, 0, "alice")
    return [*notices, long]


def test_the_sdk_parses_every_fcm_and_apns_payload(
    fake_fcm: FakeFcm, fake_apns: FakeApns, push_ca: PushCA
) -> None:
    notices = _notices()
    account = fake_fcm.service_account()
    cert = fake_apns.client_certificate("com.example.chat")
    fcm_credential = StoredCredential("CR" + "1" * 32, "fcm", secret=account.json)
    apn_credential = StoredCredential(
        "CR" + "2" * 32, "apn", certificate=cert.certificate, private_key=cert.private_key
    )

    async def send_all() -> None:
        providers = Providers(
            ProviderSettings(fcm_url=fake_fcm.url, apns_url=fake_apns.url, ca_file=push_ca.file)
        )
        try:
            for notice in notices:
                assert (await providers.send(fcm_credential, "fcm", "fcm-tok", notice)).delivered
                assert (await providers.send(apn_credential, "apn", DEVICE, notice)).delivered
        finally:
            await providers.aclose()

    asyncio.run(send_all())
    received: list[dict[str, Any]] = [{"data": m.data} for m in fake_fcm.wait_for(len(notices))]
    received += [p.payload for p in fake_apns.wait_for(len(notices))]
    parsed = sdk_parse(received)

    for index, (notice, result) in enumerate(zip(notices * 2, parsed, strict=True)):
        apns = index >= len(notices)
        assert "error" not in result, result
        assert result["type"] == MESSAGE_TYPES[notice.kind]
        assert result["data"]["channelSid"] == CHANNEL
        if len(notice.body) < 1000:
            assert result["body"] == notice.body
        else:  # cut to fit the provider's 4096 bytes
            assert result["body"].endswith("…") and set(result["body"][:-1]) == {"ü"}
        assert result["sound"] == notice.sound
        assert result["badge"] == (notice.badge if apns else None)
        if notice.kind == "new_message":
            assert result["data"]["messageSid"] == MESSAGE
            assert result["data"]["messageIndex"] == notice.message_index
        else:
            assert "messageSid" not in result["data"]
