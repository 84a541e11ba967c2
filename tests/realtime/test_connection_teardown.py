"""A client connection, however it ends, is freed by reference counting: nothing of it waits
for the garbage collector, whose full collections would walk thousands of dropped connections
at once (the pauses the hostile-client soak measured, docs/performance.md)."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator

import pytest
from client_support import GatewayServer, frame
from raw_socket import RawWebSocket

from conftest import Databases

pytestmark = pytest.mark.server

TEARDOWN_TYPES = {"GatewaySocket", "Session", "ServerProtocol", "SyncConnection", "HttpProtocol"}


@pytest.fixture
def garbage() -> Iterator[list[object]]:
    """What the collector finds unreachable while the test runs."""
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield gc.garbage
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


def test_connections_that_close_or_are_dropped_leave_no_garbage(
    databases: Databases, garbage: list[object]
) -> None:
    with GatewayServer(databases, gateway_init_timeout=0.3, gateway_write_timeout=0.3) as srv:
        service = srv.service()
        address = ("127.0.0.1", srv.server.port)
        sockets = []
        for n in range(10):  # completed init, then closed by the client
            ws = RawWebSocket(address).open()
            ws.send(frame("init", "TMinit", token=srv.token(service, f"u{n}"), registrations=[]))
            assert ws.recv().header["status"]["code"] == 200
            sockets.append(ws)
        pending = [RawWebSocket(address).open() for _ in range(10)]  # dropped at the timeout
        for ws in sockets:
            ws.close()
        time.sleep(1.5)
        for ws in pending:
            ws.close()
        time.sleep(0.3)
        gc.collect()
        left = {type(o).__name__ for o in garbage} & TEARDOWN_TYPES
        assert not left, f"connections left for the garbage collector: {left}"
        assert "chinwag_gateway_connections 0.0" in srv.metrics()
