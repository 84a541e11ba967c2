"""The webhook pipeline's entry points for domain operations (``Deps.webhooks``).

Who fires what (reference 6.3): a chat user's action through a client (``Actor.source ==
"SDK"``) fires pre- and post-events; a REST call fires none, unless it carries
``X-Twilio-Webhook-Enabled: true`` (post-event, as Twilio v2 does) or the operator turned on
``webhook_rest_pre_events`` (pre-event, for moderating messages posted by back-ends).

A pre-event is a synchronous call made before the action's transaction opens; post-events go
to the outbox inside the transaction (to the Service's URLs and to the channel's own webhooks
alike) and the :class:`~chinwag.webhooks.dispatcher.Dispatcher`
sends them after commit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from chinwag import errors
from chinwag.clock import Clock
from chinwag.domain import channel_webhooks
from chinwag.domain.deps import Caller
from chinwag.domain.lookups import get_service
from chinwag.domain.pre_events import PreEvent
from chinwag.model.events import Actor, Event
from chinwag.model.records import NewDelivery
from chinwag.storage.database import Database, Txn
from chinwag.storage.stores import channel_webhooks as channel_webhook_store
from chinwag.storage.stores import services as service_store
from chinwag.storage.stores import webhooks as store
from chinwag.webhooks import payloads, subscriptions
from chinwag.webhooks.sender import Attempt, Sender

log = logging.getLogger(__name__)


class Gate:
    """The webhook gate domain operations call (``Deps.webhooks``, the
    :class:`~chinwag.domain.deps.WebhookGate` port): who fires what, pre-event calls, and the
    outbox rows written in the change's transaction."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        sender: Sender,
        auth_token: Callable[[str], str],
        wake_dispatcher: Callable[[], None],
        *,
        rest_pre_events: bool = False,
    ) -> None:
        self.db = db
        self.clock = clock
        self.sender = sender
        self.auth_token = auth_token
        self.wake_dispatcher = wake_dispatcher
        self.rest_pre_events = rest_pre_events

    def runs_pre(self, actor: Actor) -> bool:
        return actor.source == "SDK" or self.rest_pre_events

    def runs_post(self, actor: Actor) -> bool:
        return actor.source == "SDK" or actor.webhook_enabled

    async def pre(self, caller: Caller, service_sid: str, event: PreEvent) -> Mapping[str, Any]:
        """Call the pre-event's URLs; every one must answer 200 within the timeout.

        Returns the changes the endpoints asked for (reference 6.5: a JSON object such as
        ``{"body": "..."}``), later URLs (the per-event URL is called first) overriding earlier
        ones. Raises :class:`~chinwag.errors.WebhookRejectedError` (50056) otherwise.
        """
        event_type, params = payloads.pre_event(event, caller.actor)
        service = await self.db.run_read(
            "webhook_service", get_service, caller.account_sid, service_sid
        )
        urls = subscriptions.targets(service, event_type)
        if not urls:
            return {}
        full = payloads.common(event_type, caller.account_sid, service_sid, caller.actor)
        full |= params
        full["RetryCount"] = "0"
        token = self.auth_token(caller.account_sid)
        attempts = await asyncio.gather(
            *(
                self._pre_attempts(url, method, full, token, service.pre_webhook_retry_count)
                for url, method in urls
            )
        )
        changes: dict[str, Any] = {}
        for (url, _), attempt in zip(urls, attempts, strict=True):
            if not attempt.ok:
                # 50076 when it timed out, 50056 otherwise: the codes Twilio logs
                code = 50076 if attempt.timed_out else 50056
                log.warning(
                    "pre-event %s rejected by %s (%s, logged as %d)",
                    event_type,
                    url,
                    attempt.error or f"HTTP {attempt.status}",
                    code,
                )
                raise errors.WebhookRejectedError()
            changes |= _requested_changes(attempt.body)
        return changes

    async def _pre_attempts(
        self, url: str, method: str, params: dict[str, str], token: str, retries: int
    ) -> Attempt:
        """One pre-event call, retried up to the Service's ``PreWebhookRetryCount`` times while
        it times out or answers 429/5xx (the request that caused it waits for each)."""
        attempt = await self.sender.send(url, method, params, token)
        for retry in range(1, retries + 1):
            if not attempt.retryable:
                break
            retried = params | {"RetryCount": str(retry)}
            attempt = await self.sender.send(url, method, retried, token)
        return attempt

    async def enqueue_txn(self, txn: Txn, event: Event) -> None:
        """Write ``event``'s post-event deliveries to the outbox, inside the change's
        transaction; free for the REST API's default actor (no query at all)."""
        if not self.runs_post(event.actor):
            return
        now = self.clock.now_ms()
        post = payloads.post_event(event, now)
        if post is None:
            return
        service = await service_store.find_service_txn(txn, post.account_sid, post.service_sid)
        if service is None:
            return
        deliveries = [
            NewDelivery(
                post.account_sid,
                post.service_sid,
                post.event_type,
                f"{url} {post.scope}",
                url,
                method,
                post.params,
                # the Service's PostWebhookRetryCount when set, else the server's --webhook-retries
                retries=service.post_webhook_retry_count or None,
            )
            for url, method in subscriptions.targets(service, post.event_type)
        ]
        if post.channel_sid is not None:
            deliveries += await _channel_deliveries_txn(txn, post, post.channel_sid)
        if not deliveries:
            return
        if post.channel_sid is not None:
            await store.lock_channel_txn(txn, post.channel_sid)
        await store.insert_deliveries_txn(txn, deliveries, now)
        txn.call_after(self.wake_dispatcher)


async def _channel_deliveries_txn(
    txn: Txn, post: payloads.PostEvent, channel_sid: str
) -> list[NewDelivery]:
    """The deliveries of ``post`` to its channel's own webhooks (v2 Channel Webhooks): the same
    parameters as the Service's, ordered with them per URL and channel, each retried as often
    as its webhook's ``retry_count`` says."""
    body = post.params.get("Body")
    return [
        NewDelivery(
            post.account_sid,
            post.service_sid,
            post.event_type,
            f"{w.url} {post.scope}",
            w.url,
            w.method or "POST",
            post.params,
            retries=w.retry_count,
            webhook_sid=w.sid,
        )
        for w in await channel_webhook_store.webhooks_of_txn(txn, channel_sid)
        if w.url is not None and channel_webhooks.fires(w, post.event_type, body)
    ]


def _requested_changes(body: bytes) -> dict[str, Any]:
    """A pre-event reply's JSON object, or nothing (an empty or non-JSON 200 just allows)."""
    if not body.strip():
        return {}
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}
