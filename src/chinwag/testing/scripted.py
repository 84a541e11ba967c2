"""What the fake push providers share: their server's life cycle, a record of what arrived,
waited on from the test's thread, and replies scripted per device token."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Self, TypeVar

from chinwag.testing.tls_server import TlsServer

T = TypeVar("T")
R = TypeVar("R")


class FakeServer:
    """A fake provider's server: a context manager; ``stop()`` and ``start()`` keep the port."""

    _server: TlsServer

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        self._server.start()

    def stop(self) -> None:
        self._server.stop()

    @property
    def url(self) -> str:
        """The base URL to point chinwag at (``--push-fcm-url`` / ``--push-apns-url``)."""
        return self._server.url


class Recorder(Generic[T]):
    """Records appended on the server's thread, read and awaited on the test's."""

    def __init__(self) -> None:
        self._items: list[T] = []
        self._changed = threading.Condition()

    def add(self, item: T) -> None:
        with self._changed:
            self._items.append(item)
            self._changed.notify_all()

    @property
    def items(self) -> list[T]:
        with self._changed:
            return list(self._items)

    def clear(self) -> None:
        with self._changed:
            self._items.clear()

    def wait_for(
        self, count: int, timeout: float, where: Callable[[T], bool], what: str
    ) -> list[T]:
        """The records ``where`` holds for, once there are at least ``count``; an
        AssertionError after ``timeout`` seconds."""
        with self._changed:
            arrived = self._changed.wait_for(
                lambda: sum(1 for i in self._items if where(i)) >= count, timeout
            )
            matching = [i for i in self._items if where(i)]
        assert arrived, f"expected {count} {what} within {timeout} s, got {len(matching)}"
        return matching


@dataclass
class _Entry(Generic[R]):
    token: str | None
    reply: R
    times: int | None


class Script(Generic[R]):
    """Replies queued per device token (``None``: any token), each for ``times`` requests
    (``None``: for good). The oldest matching entry answers first."""

    def __init__(self) -> None:
        self._entries: list[_Entry[R]] = []
        self._lock = threading.Lock()

    def add(self, reply: R, token: str | None, times: int | None) -> None:
        with self._lock:
            self._entries.append(_Entry(token, reply, times))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def next(self, token: str) -> R | None:
        """The scripted reply for a request to ``token``, using it up; None: answer normally."""
        with self._lock:
            for entry in self._entries:
                if entry.token is None or entry.token == token:
                    if entry.times is not None:
                        entry.times -= 1
                        if entry.times == 0:
                            self._entries.remove(entry)
                    return entry.reply
        return None
