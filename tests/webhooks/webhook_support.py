"""Shared steps of the webhook tests: a service wired to a receiver, REST calls that fire."""

from __future__ import annotations

from typing import Any

import httpx

from chinwag.domain.services import POST_WEBHOOK_EVENTS, PRE_WEBHOOK_EVENTS
from conftest import ACCOUNT_SID, AUTH_TOKEN
from webhook_receiver import Record, validate_signature

#: the header that makes a REST mutation fire its post-event (reference 6.3)
FIRE = {"X-Twilio-Webhook-Enabled": "true"}

POST_EVENTS = list(POST_WEBHOOK_EVENTS)
PRE_EVENTS = list(PRE_WEBHOOK_EVENTS)


def client(base_url: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=30)


def new_service(http: httpx.Client, **settings: Any) -> str:
    """A Service with the given webhook settings (form names, lists repeated)."""
    sid: str = http.post("/v1/Services", data={"FriendlyName": "hooks"}).json()["sid"]
    if settings:
        r = http.post(f"/v1/Services/{sid}", data=settings)
        assert r.status_code == 200, r.text
    return sid


def ok(response: httpx.Response, status: int = 201) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return response.json() if response.content else {}


def signed(record: Record) -> Record:
    assert validate_signature(record, AUTH_TOKEN), record
    return record
