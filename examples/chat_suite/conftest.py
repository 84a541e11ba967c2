"""The only test code that changed when this suite moved from Twilio to chinwag.

Before, the ``client`` fixture built ``Client(TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN)`` against
the real Twilio; now the chinwag pytest plugin (installed with chinwag) gives a client whose
``chat.base_url`` points at a local chinwag, and the suite runs offline.
"""

import pytest


@pytest.fixture
def client(twilio_client):
    return twilio_client


@pytest.fixture
def service_sid(client):
    return client.chat.v1.services.create(friendly_name="support").sid
