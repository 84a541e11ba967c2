"""Hints between processes over Redis pub/sub: wake-ups, never the source of truth.

After a commit, a process publishes the channel and user SIDs whose Sync objects changed; every
process (itself included, harmlessly) wakes its feeds of those owners, and the feeds read the
database. Nothing a client may see travels through Redis, so a lost hint only delays an event
until the next poll (``sync_poll_interval``) or the next hint about the same owner.

::

    start ──> connect, SUBSCRIBE ──> wake every feed (catch up on what passed unannounced)
                 ^                         |
                 |                   hints ──> wake the owners' feeds
                 |                         |
                 └── wait, reconnect <── Redis error (feeds keep polling meanwhile)

Publishing never waits for Redis: hints go through a bounded queue, and while Redis is away
they are dropped (the poll covers them).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

CHANNEL = "chinwag:sync"
#: hints waiting to be published; beyond this they are dropped (the poll covers them)
QUEUE = 10_000
#: seconds between attempts to reach Redis while it is away
RETRY = 1.0


class RedisFanout:
    def __init__(
        self,
        url: str,
        wake_local: Callable[[tuple[str, ...]], None],
        wake_all: Callable[[], None],
    ) -> None:
        self._url = url
        self._wake_local = wake_local
        self._wake_all = wake_all
        self._me = os.urandom(6).hex()
        self._outbox: asyncio.Queue[tuple[str, ...]] = asyncio.Queue(QUEUE)
        self._tasks: list[asyncio.Task[None]] = []
        self.connected = False

    def publish(self, owners: tuple[str, ...]) -> None:
        """Announce a local commit to the other processes (never blocks)."""
        if self.connected:
            with contextlib.suppress(asyncio.QueueFull):
                self._outbox.put_nowait(owners)

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._listen()), loop.create_task(self._send())]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _listen(self) -> None:
        while True:
            client = aioredis.Redis.from_url(self._url)
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    self.connected = True
                    log.info("sync fan-out: listening on Redis")
                    self._wake_all()
                    async for message in pubsub.listen():
                        self._receive(message)
            except (RedisError, OSError) as exc:
                if self.connected:
                    log.warning("sync fan-out: Redis unavailable (%s); polling meanwhile", exc)
                self.connected = False
            finally:
                await client.aclose()
            await asyncio.sleep(RETRY)

    def _receive(self, message: dict[str, object]) -> None:
        if message.get("type") != "message":
            return
        data = message.get("data")
        text = data.decode() if isinstance(data, bytes) else str(data)
        sender, _, owners = text.partition("|")
        if sender != self._me and owners:
            self._wake_local(tuple(owners.split(",")))

    async def _send(self) -> None:
        client = aioredis.Redis.from_url(self._url)
        try:
            while True:
                owners = await self._outbox.get()
                # on failure the listener notices the outage; the poll covers this hint
                with contextlib.suppress(RedisError, OSError):
                    await client.publish(CHANNEL, f"{self._me}|{','.join(owners)}")
        finally:
            await client.aclose()
