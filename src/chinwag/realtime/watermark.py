"""A count that only grows, and the futures waiting for it to reach a value.

Read-your-own-writes waits on two such counts: a Sync feed's completed reads
(``sync/subscriptions.Progress``) and a connection's acknowledged notifications
(``twilsock/ordering.Acks``).
"""

from __future__ import annotations

import asyncio


class Watermark:
    __slots__ = ("_waiters", "value")

    def __init__(self) -> None:
        self.value = 0
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []

    def wait_for(self, target: int) -> asyncio.Future[None]:
        """Resolved once the count reaches ``target`` (at once if it has)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.value >= target:
            future.set_result(None)
        else:
            self._waiters.append((target, future))
        return future

    def raise_to(self, value: int) -> None:
        if value <= self.value:
            return
        self.value = value
        waiting = self._waiters
        if not waiting:  # the common case: every acknowledgement raises a count nobody awaits
            return
        self._waiters = [(n, f) for n, f in waiting if n > value]
        for n, future in waiting:
            if n <= value and not future.done():
                future.set_result(None)

    def forget(self, future: asyncio.Future[None]) -> None:
        """Stop tracking a wait its caller gave up on (a timeout)."""
        self._waiters = [(n, f) for n, f in self._waiters if f is not future]
