"""Shared steps of the webhook tests: a service wired to a receiver, REST calls that fire."""

from __future__ import annotations

import time
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from chinwag.domain.services import POST_WEBHOOK_EVENTS, PRE_WEBHOOK_EVENTS
from chinwag.testing.webhook_receiver import Record, validate_signature
from conftest import ACCOUNT_SID, AUTH_TOKEN

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


def recorded_attempts(base_url: str) -> int:
    """Delivery attempts the server has recorded, delivered or not (its ``/metrics``)."""
    text = httpx.get(f"{base_url}/metrics").text
    return int(
        sum(
            sample.value
            for family in text_string_to_metric_families(text)
            if family.name == "chinwag_webhook_attempts"
            for sample in family.samples
            if sample.name.endswith("_total")
        )
    )


def wait_recorded(base_url: str, count: int, timeout: float = 30) -> None:
    """Wait until ``count`` attempts are recorded: from then on, stepping the clock by the
    backoff makes the next retry due (stepped earlier, the backoff would start later)."""
    deadline = time.monotonic() + timeout
    while (recorded := recorded_attempts(base_url)) < count:
        assert time.monotonic() < deadline, f"{recorded} of {count} attempts recorded"
        time.sleep(0.02)
