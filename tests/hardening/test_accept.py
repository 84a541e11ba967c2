"""The serving loop accepts a burst of connections in one turn (``chinwag.http.accept``).

Connections opened together must all be accepted at once, whatever else the loop is busy
with: under load, one accept per turn made the last of 64 new connections wait seconds for
its first answer. Real sockets on loopback; the loop is the one ``chinwag serve`` runs on.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Coroutine
from typing import Any

import pytest

from chinwag.http.accept import EagerAcceptLoop, EagerAcceptServer

pytestmark = pytest.mark.unit

BURST = 64


class _Counting(asyncio.Protocol):
    made: list[asyncio.BaseTransport]

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.made.append(transport)


def _run(test: Coroutine[Any, Any, None]) -> None:
    loop = EagerAcceptLoop()
    try:
        loop.run_until_complete(test)
    finally:
        loop.close()


def _burst(port: int) -> list[socket.socket]:
    """``BURST`` connections the kernel has completed, none accepted yet (the loop is not
    running while this blocks it)."""
    return [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(BURST)]


async def _turns(n: int) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


def test_a_burst_of_connections_is_accepted_within_a_few_turns() -> None:
    async def scenario() -> None:
        made: list[asyncio.BaseTransport] = []
        _Counting.made = made
        loop = asyncio.get_running_loop()
        server = await loop.create_server(_Counting, "127.0.0.1", 0, backlog=128)
        assert isinstance(server, EagerAcceptServer)
        port = server.sockets[0].getsockname()[1]
        clients = _burst(port)
        try:
            await _turns(5)  # accept, open the transports, call connection_made
            assert len(made) == BURST
            for transport in made:
                sock = transport.get_extra_info("socket")
                assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        finally:
            for client in clients:
                client.close()
            server.close()
            await server.wait_closed()

    _run(scenario())


def test_close_stops_accepting_and_keeps_open_connections() -> None:
    async def scenario() -> None:
        made: list[asyncio.BaseTransport] = []
        _Counting.made = made
        loop = asyncio.get_running_loop()
        server = await loop.create_server(_Counting, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        first = socket.create_connection(("127.0.0.1", port), timeout=5)
        await _turns(5)
        assert len(made) == 1
        server.close()
        await asyncio.wait_for(server.wait_closed(), 1)
        assert not server.is_serving()
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=5)
        assert not made[0].is_closing()
        first.close()

    _run(scenario())


def test_a_socket_passed_in_is_served_too() -> None:
    """Worker processes get the supervisor's bound socket (``--workers``)."""

    async def scenario() -> None:
        made: list[asyncio.BaseTransport] = []
        _Counting.made = made
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        server = await asyncio.get_running_loop().create_server(_Counting, sock=sock)
        clients = _burst(sock.getsockname()[1])
        try:
            await _turns(5)
            assert len(made) == BURST
        finally:
            for client in clients:
                client.close()
            server.close()

    _run(scenario())


def test_connections_accepted_as_it_closes_are_reset_not_served() -> None:
    """uvicorn tells its connections to finish when it closes the server: one accepted in that
    turn but not opened yet would never be told, so it is reset like a queued one."""

    async def scenario() -> None:
        made: list[asyncio.BaseTransport] = []
        _Counting.made = made
        loop = asyncio.get_running_loop()
        server = await loop.create_server(_Counting, "127.0.0.1", 0, backlog=128)
        clients = _burst(server.sockets[0].getsockname()[1])
        await asyncio.sleep(0)  # the loop accepts the burst; the transports open next turn
        server.close()
        await asyncio.wait_for(server.wait_closed(), 5)
        try:
            assert made == []
            for client in clients:
                with pytest.raises(ConnectionResetError):
                    client.recv(1)
        finally:
            for client in clients:
                client.close()

    _run(scenario())
