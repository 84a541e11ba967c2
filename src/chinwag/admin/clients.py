"""Who is connected: the port the console reads chat clients from.

The console shows connected clients and who is online through :class:`ClientDirectory`
(``ChinwagApp.clients``, filled by the Twilsock gateway's connections), so ``http/`` does not
depend on how clients connect.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class ConnectedClient:
    """One open client connection, as the console lists it (never its token)."""

    identity: str
    service_sid: str
    #: when it connected, milliseconds since the epoch
    connected_at: int
    #: the connection's remote address, if the gateway knows it
    address: str | None = None


class ClientDirectory(Protocol):
    def connected_clients(self) -> Sequence[ConnectedClient]:
        """The open client connections of this process."""
        ...
