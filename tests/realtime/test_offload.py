"""SIGTERM offloads client connections with a Twilsock 308, and the official client reconnects
by itself (here: to a new server started on the same port) while REST shuts down gracefully."""

from __future__ import annotations

import signal
from urllib.parse import urlsplit

import httpx
import pytest
from client_support import NodeClient, create_key, mint_token, ws_url

from conftest import ACCOUNT_SID, AUTH_TOKEN, Databases, server_env, spawn_server

pytestmark = [pytest.mark.server, pytest.mark.sdk]


def test_sigterm_offloads_and_the_client_reconnects(databases: Databases) -> None:
    database = databases.new()
    key = create_key(database, ACCOUNT_SID)
    env = server_env(CHINWAG_ACCOUNT_SID=ACCOUNT_SID, CHINWAG_AUTH_TOKEN=AUTH_TOKEN)
    proc, base = spawn_server(database, env=env, capture=True)
    port = urlsplit(base).port
    auth = (ACCOUNT_SID, AUTH_TOKEN)
    service = httpx.post(f"{base}/v1/Services", data={"FriendlyName": "s"}, auth=auth).json()
    token = mint_token(ACCOUNT_SID, key.sid, key.secret, service["sid"], "alice")
    restarted = None
    with NodeClient("twilsock_driver.js", ws_url(base), token) as client:
        try:
            connected = client.wait_for("connected")
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0
            assert proc.stdout is not None
            assert "offloaded 1 client connections" in proc.stdout.read()
            # a 308 is "reconnect", not a lost socket: the SDK disconnects on purpose first
            client.wait_for(lambda e: e.get("state") == "disconnecting")
            restarted, _ = spawn_server(database, env=env, port=port)
            client.wait_for(lambda e: e is not connected and e["event"] == "connected", 30)
            reply = client.request("get", "https://aim.example/Client/v1/Configuration", "c")
            assert reply["status"]["code"] == 200
        finally:
            for server in (proc, restarted):
                if server is not None and server.poll() is None:
                    server.kill()
                    server.wait()
            if proc.stdout is not None:
                proc.stdout.close()
