"""Reachability between real ``twilio-chat`` clients (client-protocol 4.2).

With the service's ``ReachabilityEnabled``, a user is online while one of their connections is
open on any process: the other client sees ``userUpdated`` (reason ``online``) and REST's
``is_online`` agrees; a killed process's users go offline once its heartbeat expires.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from client_support import GatewayServer, NodeClient
from test_push_media import wait_for_tokens
from test_sync_fanout import Cluster, RedisServer, _join, cluster, redis_server  # noqa: F401

from conftest import ACCOUNT_SID, AUTH_TOKEN, Databases

pytestmark = [pytest.mark.server, pytest.mark.sdk]

#: seconds between heartbeats in these tests: a dead process is swept within 4 of them
HEARTBEAT = 0.5


def _online_event(client: NodeClient, identity: str, online: bool, timeout: float = 15) -> Any:
    return client.wait_for(
        lambda e: (
            e.get("event") == "userUpdated"
            and e["identity"] == identity
            and "online" in e["reasons"]
            and e["online"] is online
        ),
        timeout=timeout,
    )


def _rest_user(url: str, service: str, identity: str) -> Any:
    response = httpx.get(
        f"{url}/v1/Services/{service}/Users/{identity}", auth=(ACCOUNT_SID, AUTH_TOKEN)
    )
    assert response.status_code == 200, response.text
    return response.json()


def _watch(alice: NodeClient, channel: str, identity: str) -> Any:
    return alice.request("user", "", f"user-{identity}", channel=channel, identity=identity)


def _alice_watches_bob(gateway: GatewayServer, service: str) -> tuple[NodeClient, str]:
    """Alice, connected, shares a channel with bob (not connected) and opens it."""
    channel = gateway.http.post(f"/v1/Services/{service}/Channels").json()["sid"]
    base = f"/v1/Services/{service}/Channels/{channel}"
    gateway.http.post(f"{base}/Members", data={"Identity": "bob"})
    alice = NodeClient("chat_sync.js", gateway.ws, gateway.token(service, "alice"))
    alice.wait_for("initialized", timeout=30)
    gateway.http.post(f"{base}/Members", data={"Identity": "alice"})
    alice.wait_for("channelJoined", timeout=20)
    alice.request("ready", "", "ready", channel=channel)
    return alice, channel


def test_online_follows_the_connections_and_rest_agrees(databases: Databases) -> None:
    with GatewayServer(databases, reachability_heartbeat=HEARTBEAT) as gateway:
        service = gateway.service()
        gateway.http.post(f"/v1/Services/{service}", data={"ReachabilityEnabled": "true"})
        alice, channel = _alice_watches_bob(gateway, service)
        with alice:
            seen = _watch(alice, channel, "bob")
            assert seen["reachability"] is True
            assert (seen["online"], seen["notifiable"]) == (False, False)
            never = _rest_user(gateway.url, service, "bob")  # never online: null, as Twilio
            assert (never["is_online"], never["is_notifiable"]) == (None, None)
            assert _rest_user(gateway.url, service, "alice")["is_online"] is True

            with NodeClient("chat_sync.js", gateway.ws, gateway.token(service, "bob")) as bob:
                bob.wait_for("initialized", timeout=30)
                _online_event(alice, "bob", True)
                user = _rest_user(gateway.url, service, "bob")
                assert (user["is_online"], user["is_notifiable"]) == (True, False)
            _online_event(alice, "bob", False)
            assert _rest_user(gateway.url, service, "bob")["is_online"] is False
            listed = gateway.http.get(f"/v1/Services/{service}/Users").json()["users"]
            assert {(u["is_online"], u["is_notifiable"]) for u in listed} == {(None, None)}


def test_without_reachability_rest_shows_null_and_clients_see_nothing(
    databases: Databases,
) -> None:
    with GatewayServer(databases, reachability_heartbeat=HEARTBEAT) as gateway:
        service = gateway.service()
        alice, channel = _alice_watches_bob(gateway, service)
        with alice:
            assert _watch(alice, channel, "bob")["reachability"] is False
            with NodeClient("chat_sync.js", gateway.ws, gateway.token(service, "bob")) as bob:
                bob.wait_for("initialized", timeout=30)
                user = _rest_user(gateway.url, service, "bob")
                assert (user["is_online"], user["is_notifiable"]) == (None, None)
                alice.drain(2 * HEARTBEAT + 1)
            assert not [e for e in alice.events if e.get("event") == "userUpdated"]


def test_a_killed_process_takes_its_users_offline_and_typing_crosses(
    cluster: Cluster,  # noqa: F811
    redis_server: RedisServer,  # noqa: F811
) -> None:
    env = {
        "CHINWAG_REDIS_URL": redis_server.url,
        "CHINWAG_REACHABILITY_HEARTBEAT": str(HEARTBEAT),
    }
    one, two = cluster.spawn(**env), cluster.spawn(**env)
    service = cluster.rest(one, "/v1/Services", FriendlyName="reach")["sid"]
    cluster.rest(one, f"/v1/Services/{service}", ReachabilityEnabled="true")
    channel = cluster.rest(one, f"/v1/Services/{service}/Channels")["sid"]
    base = f"/v1/Services/{service}/Channels/{channel}"
    with (
        cluster.client(one, service, "alice") as alice,
        cluster.client(two, service, "bob") as bob,
    ):
        _join(cluster, one, alice, base, "alice")
        _join(cluster, two, bob, base, "bob")
        alice.wait_for(lambda e: e.get("event") == "memberJoined" and e["identity"] == "bob")
        assert _watch(alice, channel, "bob")["online"] is True
        assert _rest_user(one, service, "bob")["is_online"] is True

        bob.request("typing", "", "t1", channel=channel)
        assert alice.wait_for("typingStarted", timeout=10)["identity"] == "bob"

        os.kill(cluster.procs[1].pid, signal.SIGKILL)
        _online_event(alice, "bob", False, timeout=4 * HEARTBEAT + 10)
        assert _rest_user(one, service, "bob")["is_online"] is False


def _notifiable_event(client: NodeClient, identity: str, notifiable: bool) -> Any:
    return client.wait_for(
        lambda e: (
            e.get("event") == "userUpdated"
            and e["identity"] == identity
            and "notifiable" in e["reasons"]
            and e["notifiable"] is notifiable
        ),
        timeout=15,
    )


def test_a_push_registration_makes_the_user_notifiable_live(databases: Databases) -> None:
    with GatewayServer(databases, reachability_heartbeat=HEARTBEAT) as gateway:
        service = gateway.service()
        gateway.http.post(f"/v1/Services/{service}", data={"ReachabilityEnabled": "true"})
        alice, channel = _alice_watches_bob(gateway, service)
        with (
            alice,
            NodeClient("chat_push_media.js", gateway.ws, gateway.token(service, "bob")) as bob,
        ):
            bob.wait_for("initialized", timeout=30)
            _watch(alice, channel, "bob")
            bob.request("push", "", "p1", type="fcm", token="device-1")
            _notifiable_event(alice, "bob", True)
            user = _rest_user(gateway.url, service, "bob")
            assert (user["is_online"], user["is_notifiable"]) == (True, True)

            bob.request("unpush", "", "u1", type="fcm")
            _notifiable_event(alice, "bob", False)
            assert _rest_user(gateway.url, service, "bob")["is_notifiable"] is False


def test_without_reachability_a_registration_announces_nothing(databases: Databases) -> None:
    with GatewayServer(databases, reachability_heartbeat=HEARTBEAT) as gateway:
        service = gateway.service()
        alice, channel = _alice_watches_bob(gateway, service)
        with (
            alice,
            NodeClient("chat_push_media.js", gateway.ws, gateway.token(service, "bob")) as bob,
        ):
            bob.wait_for("initialized", timeout=30)
            _watch(alice, channel, "bob")
            bob.request("push", "", "p1", type="fcm", token="device-1")
            wait_for_tokens(gateway.database, "device-1")
            alice.drain(2)
            assert not [e for e in alice.events if e.get("event") == "userUpdated"]
            assert _rest_user(gateway.url, service, "bob")["is_notifiable"] is None


def wait_until(read: Callable[[], Any], done: Callable[[Any], bool], timeout: float = 15) -> Any:
    """``read()`` once ``done`` holds for it (the processes write their rows as they go)."""
    deadline = time.monotonic() + timeout
    while not done(value := read()):
        assert time.monotonic() < deadline, value
        time.sleep(0.2)
    return value


def _console_clients(url: str) -> Any:
    response = httpx.get(f"{url}/_chinwag/clients", auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_console_counts_clients_on_every_process(cluster: Cluster) -> None:  # noqa: F811
    """The console may reach any process: who is online comes from the rows every process
    writes, the connection details from the process that holds them."""
    env = {"CHINWAG_REACHABILITY_HEARTBEAT": str(HEARTBEAT)}
    one, two = cluster.spawn(**env), cluster.spawn(**env)
    service = cluster.rest(one, "/v1/Services", FriendlyName="console")["sid"]
    with cluster.client(two, service, "alice") as alice:
        alice.wait_for("initialized", timeout=30)
        seen = wait_until(lambda: _console_clients(one), lambda body: body["online"])
        assert seen["online"] == [[service, "alice"]]
        assert (seen["processes"], seen["clients"]) == (2, [])
        [here] = _console_clients(two)["clients"]
        assert (here["identity"], here["service_sid"]) == ("alice", service)
    wait_until(lambda: _console_clients(one), lambda body: body["online"] == [])
