"""The SDK tests that need an account of their own get it from the pytest plugin.

``fresh_chat`` used to start a new server and database per test; here it is the plugin's
session server, which resets the account before each test: the same clean account for the
cost of a reset. The tests themselves are unchanged (they only read ``fresh_server.url``).
"""

from __future__ import annotations

from typing import Any

import pytest

from chinwag.testing.plugin import ChinwagServer


@pytest.fixture
def fresh_server(chinwag_server: ChinwagServer) -> ChinwagServer:
    return chinwag_server


@pytest.fixture
def fresh_chat(twilio_client: Any) -> Any:
    return twilio_client.chat.v1
