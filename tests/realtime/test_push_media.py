"""Push registrations and media messages with the official ``twilio-chat`` 6.0.0 client.

``setPushRegistrationId`` registers through the socket (ERS) and an operator sees it with
``chinwag push list``; a media message is uploaded over plain HTTP by the SDK's media client,
sent by the SDK as ``{media_sid}``, received live by another client as ``type === 'media'`` and
downloaded through the temporary URL the SDK asks for.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest
from client_support import GatewayServer, NodeClient

from conftest import ACCOUNT_SID, AUTH_TOKEN, Databases, server_env

pytestmark = [pytest.mark.server, pytest.mark.sdk]

PNG = bytes(range(256)) * 40  # 10 KiB, every byte value


def push_list(database: str, *args: str) -> list[list[str]]:
    result = subprocess.run(
        [sys.executable, "-m", "chinwag.cli", "push", "list", "--database", database, *args],
        env=server_env(CHINWAG_ACCOUNT_SID=ACCOUNT_SID, CHINWAG_AUTH_TOKEN=AUTH_TOKEN),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return [line.split("  ") for line in result.stdout.splitlines()]


def wait_for_tokens(database: str, *tokens: str) -> list[list[str]]:
    """The listing once it holds exactly these device tokens: the SDK does not wait for ERS
    to answer, so the test polls what an operator sees."""
    deadline = time.monotonic() + 20
    while True:
        found = push_list(database)
        if [row[4] for row in found] == list(tokens):
            return found
        assert time.monotonic() < deadline, found
        time.sleep(0.3)


def _channel(gateway: GatewayServer, service: str) -> tuple[str, str]:
    base = f"/v1/Services/{service}/Channels"
    channel = gateway.http.post(base, data={"UniqueName": "media"}).json()["sid"]
    return channel, f"{base}/{channel}"


def _join(gateway: GatewayServer, base: str, client: NodeClient, identity: str) -> None:
    """The connected client is added by REST, sees the channel and opens its messages."""
    client.wait_for("initialized", timeout=30)
    gateway.http.post(f"{base}/Members", data={"Identity": identity})
    joined = client.wait_for("channelJoined", timeout=20)
    client.request("ready", "", "ready", channel=joined["channel"])


def test_push_registration_is_stored_listed_replaced_and_removed(databases: Databases) -> None:
    with GatewayServer(databases) as gateway:
        service = gateway.service()
        other = gateway.service()
        with NodeClient("chat_push_media.js", gateway.ws, gateway.token(service, "alice")) as alice:
            alice.wait_for("initialized", timeout=30)
            assert alice.request("push", "", "p1", type="fcm", token="device-1")["event"] == "push"
            [row] = wait_for_tokens(gateway.database, "device-1")
            assert row[0].startswith("BS") and row[1:5] == [service, "alice", "fcm", "device-1"]
            assert push_list(gateway.database, "--service", other) == []
            assert len(push_list(gateway.database, "--service", service)) == 1

            alice.request("push", "", "p2", type="fcm", token="device-2")
            wait_for_tokens(gateway.database, "device-2")  # the SDK deleted the old token's

            alice.request("unpush", "", "u1", type="fcm")
            wait_for_tokens(gateway.database)


def test_push_registrations_go_with_their_user(databases: Databases) -> None:
    with GatewayServer(databases) as gateway:
        service = gateway.service()
        with NodeClient("chat_push_media.js", gateway.ws, gateway.token(service, "bob")) as bob:
            bob.wait_for("initialized", timeout=30)
            bob.request("push", "", "p1", type="apn", token="a" * 64)
            wait_for_tokens(gateway.database, "a" * 64)
        assert gateway.http.delete(f"/v1/Services/{service}/Users/bob").status_code == 204
        assert push_list(gateway.database) == []


def _send_media(client: NodeClient, channel: str) -> Any:
    data = base64.b64encode(PNG).decode()
    return client.request(
        "sendMedia",
        "",
        f"send-{time.monotonic()}",
        channel=channel,
        contentType="image/png",
        base64=data,
    )


def _grant_media(gateway: GatewayServer, service: str) -> None:
    """Give the service's ``channel user`` role ``sendMediaMessage`` too."""
    roles = gateway.http.get(f"/v1/Services/{service}/Roles").json()["roles"]
    [role] = [r for r in roles if r["friendly_name"] == "channel user"]
    granted = [*role["permissions"], "sendMediaMessage"]
    response = gateway.http.post(
        f"/v1/Services/{service}/Roles/{role['sid']}", data={"Permission": granted}
    )
    assert response.status_code == 200, response.text


def test_a_media_message_reaches_the_other_client_and_downloads(databases: Databases) -> None:
    with GatewayServer(databases) as gateway:
        service = gateway.service()
        channel, base = _channel(gateway, service)
        alice_token = gateway.token(service, "alice")
        with (
            NodeClient("chat_push_media.js", gateway.ws, alice_token) as alice,
            NodeClient("chat_push_media.js", gateway.ws, gateway.token(service, "bob")) as bob,
        ):
            _join(gateway, base, alice, "alice")
            _join(gateway, base, bob, "bob")
            refused = _send_media(alice, channel)  # the v1 default roles lack sendMediaMessage
            assert (refused["event"], refused["body"]["code"]) == ("failed", 50107), refused
            assert refused["body"]["message"] == (
                "User not authorized for command: requires permission sendMediaMessage"
            )
            _grant_media(gateway, service)
            sent = _send_media(alice, channel)
            assert sent["event"] == "sendMedia", sent["body"]
            added = bob.wait_for(lambda e: e.get("event") == "messageAdded")
            assert (added["index"], added["type"], added["author"]) == (
                sent["index"],
                "media",
                "alice",
            )
            assert added["media"]["contentType"] == "image/png"
            assert added["media"]["size"] == len(PNG)

            got = bob.request("download", "", "dl", channel=channel, index=added["index"])
            assert got["event"] == "download", got
            assert (got["status"], got["contentType"]) == (200, "image/png")
            assert base64.b64decode(got["base64"]) == PNG

            # the temporary URL needs no credentials, but only its signature opens it
            assert httpx.get(got["url"]).content == PNG
            forged = got["url"].replace("Signature=", "Signature=0")
            assert httpx.get(forged).status_code == 403

        rest = gateway.http.get(f"{base}/Messages").json()["messages"]
        assert [(m["from"], m["body"], m["attributes"]) for m in rest] == [("alice", "", "{}")]
        media_sid = added["media"]["sid"]
        _media_is_guarded(gateway, service, media_sid, alice_token, gateway.token(service, "eve"))


def _media_is_guarded(
    gateway: GatewayServer, service: str, media_sid: str, token: str, stranger: str
) -> None:
    url = f"{gateway.url}/mcs/v1/Services/{service}/Media/{media_sid}"
    fetched = httpx.get(url, headers={"X-Twilio-Token": token})
    assert fetched.status_code == 200
    assert fetched.headers["access-control-allow-origin"] == "*"
    assert fetched.json()["message_sid"].startswith("IM")
    for headers in ({}, {"X-Twilio-Token": "not-a-token"}):
        refused = httpx.get(url, headers=headers)
        assert refused.status_code == 401 and refused.json()["code"] == 20101
        assert refused.headers["access-control-allow-origin"] == "*"
    # eve is no member of the channel whose message carries it: the policy refuses her
    assert httpx.get(url, headers={"X-Twilio-Token": stranger}).json()["code"] == 50400
    preflight = httpx.options(f"{gateway.url}/mcs/v1/Services/{service}/Media")
    assert preflight.status_code == 204
    assert "X-Twilio-Token" in preflight.headers["access-control-allow-headers"]


def _upload(gateway: GatewayServer, service: str, token: str, body: bytes) -> Any:
    return httpx.post(
        f"{gateway.url}/mcs/v1/Services/{service}/Media",
        headers={"X-Twilio-Token": token, "Content-Type": "text/plain"},
        content=body,
    )


def test_uploads_over_the_limit_or_without_a_token_are_refused(databases: Databases) -> None:
    with GatewayServer(databases, media_max_bytes=4096) as gateway:
        service = gateway.service()
        token = gateway.token(service, "alice")
        with NodeClient("chat_push_media.js", gateway.ws, token) as alice:
            alice.wait_for("initialized", timeout=30)
            fits = alice.request("upload", "", "ok", contentType="text/plain", size=4096)
            assert fits["event"] == "upload" and fits["size"] == 4096, fits
            over = alice.request("upload", "", "big", contentType="text/plain", size=4097)
            # the media client reports "<status>: [<reason>] <body>"
            assert over["event"] == "failed" and over["message"].startswith("413: "), over
            error = json.loads(over["message"].partition("] ")[2])
            assert error["code"] == 20001 and "4096 bytes" in error["message"]
        assert _upload(gateway, service, "", b"x").status_code == 401
        other = gateway.service()
        assert _upload(gateway, other, token, b"x").status_code == 403
        created = _upload(gateway, service, token, b"hello")
        assert created.status_code == 201 and created.json()["size"] == 5
