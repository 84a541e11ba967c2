"""twilio-python, sync and async, walks every served v2/v3 operation by both ways in.

Why: ``client.chat.services`` in twilio-python *is* Chat v2, so most apps written against
Twilio Chat call ``/v2/...``. Each walk checks every response against its version's spec and
what v2 adds (see ``v2_support.walk``), and must reach every operation the tables route.
"""

from __future__ import annotations

import asyncio

import pytest
from v2_support import (
    SERVED,
    CheckedAsync,
    CheckedSync,
    Entry,
    Seen,
    async_call,
    client,
    register_phone,
    sync_call,
    upload,
    walk,
)

from chinwag.testing.plugin import ChatToken, ChinwagServer

pytestmark = pytest.mark.server


# twilio-python's async client still passes aiohttp a BasicAuth: not ours to fix
@pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")
@pytest.mark.filterwarnings("ignore:The 'auth' parameter is deprecated:DeprecationWarning")
@pytest.mark.parametrize("default", [False, True], ids=["chat.v2", "chat.services"])
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_every_operation_through_twilio_python(
    chinwag_server: ChinwagServer,
    chinwag_database_url: str,
    chat_token: ChatToken,
    default: bool,
    mode: str,
) -> None:
    seen = Seen()
    http = CheckedSync(seen) if mode == "sync" else CheckedAsync(seen)
    sdk = client(chinwag_server.url, chinwag_server.account_sid, chinwag_server.auth_token, http)

    def media_for(service_sid: str) -> str:
        return upload(chinwag_server.url, chat_token("alice", service_sid), service_sid)

    def register(service_sid: str, identity: str) -> str:
        return register_phone(
            chinwag_database_url, chinwag_server.account_sid, service_sid, identity
        )

    call = sync_call if mode == "sync" else async_call
    asyncio.run(walk(Entry(sdk.chat, default), call, media_for, register))
    assert sorted(SERVED - seen.operations) == []
