"""The loop of a background worker that drains an outbox: the webhook dispatcher's and the
push dispatcher's.

A cycle does what is due (:meth:`OutboxWorker.run_once`). When it did nothing, the worker sleeps
on the injected :class:`~chinwag.clock.Clock` until the next row falls due, at most ``poll``
seconds, or until a commit that queued work wakes it::

    run_once --did some--> run_once
        |
        nothing due
        v
    sleep until min(next due, now + poll) --clock reaches it / wake()--> run_once

The poll is how it sees rows other processes wrote; a test's ``FakeClock.advance`` ends the
sleep at once, so retry tests step time instead of waiting for it. A database outage is
waited out; any other exception is a bug, logged, and the loop goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from chinwag.clock import Clock
from chinwag.errors import DatabaseUnavailableError

log = logging.getLogger(__name__)


class OutboxWorker:
    """Subclasses define :meth:`run_once` and :meth:`next_due`, and may define
    :meth:`housekeeping` and :meth:`release`."""

    def __init__(self, name: str, clock: Clock, *, poll: float, grace: float) -> None:
        self.name = name
        self.clock = clock
        self.poll = poll
        self.grace = grace
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    async def run_once(self) -> int:
        """Do one cycle of due work; how much was done (0: nothing was due)."""
        raise NotImplementedError

    async def next_due(self) -> int | None:
        """When the next work falls due (clock ms); ``None``: nothing is pending."""
        raise NotImplementedError

    async def housekeeping(self) -> None:
        """Run after every cycle (purges, gauges); rate it yourself."""

    async def release(self) -> None:
        """Give back what this process holds but did not finish (on stop)."""

    def wake(self) -> None:
        """Work soon: a transaction that queued work just committed."""
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        """Stop starting cycles; let the current one finish within ``grace``, then release."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), self.grace)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        with contextlib.suppress(Exception):
            await self.release()

    async def _run(self) -> None:
        while not self._stopping:
            due: int | None = None
            try:
                worked = await self.run_once()
                await self.housekeeping()
                if not worked:
                    due = await self.next_due()
            except DatabaseUnavailableError as exc:  # /healthz says so too; retry next poll
                log.warning("%s waiting for the database: %s", self.name, exc)
                worked = 0
            except Exception:  # a bug: log it, keep working
                log.exception("%s cycle failed", self.name)
                worked = 0
            if not worked and not self._stopping:
                await self._idle(due)

    async def _idle(self, due: int | None) -> None:
        """Sleep until ``due`` (at most ``poll``) or until a commit wakes us.

        ``due`` is read from the rows after the last cycle, not computed from its time: work
        that fell due meanwhile (a clock advanced between cycle and sleep) ends the sleep at
        once.
        """
        deadline = self.clock.now_ms() + int(self.poll * 1000)
        if due is not None:
            deadline = min(deadline, due)
        sleeping = asyncio.ensure_future(self.clock.sleep_until(deadline))
        woken = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait((sleeping, woken), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in (sleeping, woken):
                waiter.cancel()
            self._wake.clear()
