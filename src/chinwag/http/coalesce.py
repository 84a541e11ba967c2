"""One socket write per response instead of two: the head waits for its body.

uvicorn writes a response's status line and headers when the app sends
``http.response.start``, and its body when the app sends ``http.response.body``: two
``send()`` system calls and, with ``TCP_NODELAY``, two TCP segments the client wakes up for.
An app like chinwag's sends both events in the same turn of the event loop, so the first write
can wait for the second and go out with it. :class:`CoalescedWrites` stands in for the
transport of each request cycle: it holds a response head until the next write, and at the
latest until the loop's next turn (a streamed body, or none at all, still sees its head sent
then). Bytes go out in the order they were written, as before.
"""

from __future__ import annotations

import asyncio

#: How a response head starts (uvicorn writes HTTP/1.1 status lines). ``100 Continue`` is
#: an interim answer the client is waiting for: it never waits.
_HEAD = b"HTTP/1.1 "
_CONTINUE = b"HTTP/1.1 100 "


class CoalescedWrites:
    """The part of ``asyncio.Transport`` a uvicorn request cycle uses, over the real one."""

    __slots__ = ("_held", "_loop", "transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self.transport = transport
        self._loop = loop
        self._held: bytes | None = None

    def write(self, data: bytes) -> None:
        held = self._held
        if held is not None:
            self._held = None
            self.transport.write(held + data)
        elif data.startswith(_HEAD) and not data.startswith(_CONTINUE):
            self._held = data
            self._loop.call_soon(self.flush)
        else:
            self.transport.write(data)

    def flush(self) -> None:
        """Write a held head now (the loop's next turn, or before the socket is used else)."""
        held = self._held
        if held is not None:
            self._held = None
            if not self.transport.is_closing():
                self.transport.write(held)

    def is_closing(self) -> bool:
        return self.transport.is_closing()

    def close(self) -> None:
        self.flush()
        self.transport.close()
