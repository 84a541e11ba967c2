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

Redis's state is logged once per change (unreachable: a warning, with why; reachable again: a
warning too, so an operator who filters on warnings sees the pair), shown by ``/healthz`` and
exported as ``chinwag_redis_up`` (:attr:`RedisFanout.connected`).

The same connections carry the event bus between processes (:class:`RedisFanout` is the bus's
``Transport``, on channel :data:`BUS_CHANNEL`): ephemeral events such as typing, which have no
database row to poll, reach the other processes this way, and are simply missed while Redis is
away.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import redis.asyncio as aioredis
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

CHANNEL = "chinwag:sync"
BUS_CHANNEL = "chinwag:bus"
#: hints waiting to be published; beyond this they are dropped (the poll covers them)
QUEUE = 10_000
#: seconds between attempts to reach Redis while it is away
RETRY = 1.0
#: seconds Redis has to accept a connection; an address that drops packets fails after this
CONNECT_TIMEOUT = 5.0


def describe(url: str) -> str:
    """Redis as an operator recognises it: host, port and database, never the password."""
    parts = urlsplit(url)
    where = parts.hostname or parts.path or "localhost"
    if parts.port:
        where += f":{parts.port}"
    return f"{where}{parts.path}" if parts.hostname and parts.path not in ("", "/") else where


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
        self._outbox: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue(QUEUE)
        self._tasks: list[asyncio.Task[None]] = []
        self._bus_receive: Callable[[bytes], None] | None = None
        #: whether this process is subscribed on Redis now
        self.connected = False
        #: the state last logged: None until the first attempt ends
        self._reported: bool | None = None

    def _report(self, up: bool, reason: str = "") -> None:
        """Log Redis's state when it changes (never once per retry)."""
        if up == self._reported:
            return
        where = describe(self._url)
        if not up:
            log.warning(
                "Redis at %s is unreachable (%s): typing and wake-ups between server processes "
                "are lost until it returns; clients are still served (Sync objects are polled)",
                where,
                reason,
            )
        elif self._reported is None:
            log.info("Redis at %s: fan-out between server processes is on", where)
        else:
            log.warning("Redis at %s is reachable again: fan-out between processes resumed", where)
        self._reported = up

    def publish(self, owners: tuple[str, ...]) -> None:
        """Announce a local commit to the other processes (never blocks)."""
        self._put(CHANNEL, ",".join(owners).encode())

    def attach(self, receive: Callable[[bytes], None]) -> None:
        """The bus's ``Transport``: ``receive`` gets the events other processes send."""
        self._bus_receive = receive

    def send(self, data: bytes) -> None:
        """The bus's ``Transport``: hand an encoded event to the other processes."""
        self._put(BUS_CHANNEL, data)

    async def close(self) -> None:
        await self.stop()

    def _put(self, channel: str, data: bytes) -> None:
        if self.connected:
            with contextlib.suppress(asyncio.QueueFull):
                self._outbox.put_nowait((channel, self._me.encode() + b"|" + data))

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._listen()), loop.create_task(self._send())]

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _listen(self) -> None:
        while True:
            client = self._client()
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL, BUS_CHANNEL)
                    self.connected = True
                    self._report(True)
                    self._wake_all()
                    async for message in pubsub.listen():
                        self._receive(message)
            except (RedisError, OSError) as exc:
                self.connected = False
                self._report(False, str(exc) or type(exc).__name__)
            finally:
                await client.aclose()
            await asyncio.sleep(RETRY)

    def _receive(self, message: dict[str, object]) -> None:
        if message.get("type") != "message":
            return
        data = message.get("data")
        raw = data if isinstance(data, bytes) else str(data).encode()
        sender, _, body = raw.partition(b"|")
        if sender == self._me.encode() or not body:
            return
        channel = message.get("channel")
        if channel in (BUS_CHANNEL, BUS_CHANNEL.encode()):
            if self._bus_receive is not None:
                self._bus_receive(body)
        else:
            self._wake_local(tuple(body.decode().split(",")))

    def _client(self) -> aioredis.Redis:
        return aioredis.Redis.from_url(
            self._url, socket_connect_timeout=CONNECT_TIMEOUT, socket_keepalive=True
        )

    async def _send(self) -> None:
        client = self._client()
        try:
            while True:
                channel, data = await self._outbox.get()
                # on failure the listener notices the outage; the poll covers a Sync hint
                with contextlib.suppress(RedisError, OSError):
                    await client.publish(channel, data)
        finally:
            await client.aclose()


class RedisCollector(Collector):
    """``chinwag_redis_up``: 1 while this process is subscribed on Redis, else 0 (only when
    ``redis_url`` is set)."""

    def __init__(self, fanout: RedisFanout) -> None:
        self.fanout = fanout

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily(
            "chinwag_redis_up",
            "Whether this process is connected to Redis (fan-out between processes)",
            value=1 if self.fanout.connected else 0,
        )
