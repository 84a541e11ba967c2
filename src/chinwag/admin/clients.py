"""Who is connected: the port the console reads chat clients from.

The console shows connected clients and who is online through :class:`ClientDirectory`, so it
does not depend on how clients connect. Until a client gateway registers a directory on the
app (``ChinwagApp.clients``), :data:`NO_GATEWAY` answers, and the console says "no client
gateway" instead of showing an empty list as if nobody were online.
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
    #: False when nothing can connect clients, so an empty list would mean nothing
    available: bool

    def connected_clients(self) -> Sequence[ConnectedClient]:
        """The open client connections of this process."""
        ...


class _NoGateway:
    available = False

    def connected_clients(self) -> Sequence[ConnectedClient]:
        return ()


#: the directory of a server without a client gateway
NO_GATEWAY: ClientDirectory = _NoGateway()
