"""Which URLs an event goes to, from a Service's two webhook mechanisms (reference 6.1).

Both fire independently (reference open question 15): the per-event ``Webhooks.<Event>.Url``
if set, and the global pre/post URL if the event is listed in ``WebhookFilters``. The two are
separate deliveries even when they name the same URL.
"""

from __future__ import annotations

import re

from chinwag.domain.services import PRE_WEBHOOK_EVENTS
from chinwag.model.records import Service

PRE_EVENTS = frozenset(PRE_WEBHOOK_EVENTS)


def snake(event_type: str) -> str:
    """``onMessageSend`` -> ``on_message_send``, the key of the Service's ``webhooks`` object."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", event_type).lower()


def targets(service: Service, event_type: str) -> list[tuple[str, str]]:
    """``(url, method)`` pairs to call for ``event_type``; empty when nothing is configured."""
    found: list[tuple[str, str]] = []
    per_event = service.webhooks.get(snake(event_type))
    if per_event is not None and per_event.url:
        found.append((per_event.url, per_event.method or "POST"))
    url = service.pre_webhook_url if event_type in PRE_EVENTS else service.post_webhook_url
    if url and event_type in (service.webhook_filters or ()):
        found.append((url, service.webhook_method or "POST"))
    return found
