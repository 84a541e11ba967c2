"""Every supported ``twilio-chat`` version, driven through the one script ``sdk_chat.js``.

Each version is installed in its own directory under ``tests/`` (``npm ci --prefix``, pinned
by its lock file); :class:`SdkClient` runs the script with one of them. Commands answer with
the range of event sequence numbers they spanned, so a test can check what the client saw
*before* a command's promise resolved (:func:`during`).
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from client_support import Event, GatewayServer, NodeClient
from tls_support import CERTIFICATE, TlsProxy

from conftest import Databases

TESTS = Path(__file__).parent.parent

#: version -> the directory under tests/ that holds it
SDKS = {
    "3.4.0": "client-3.4.0",
    "4.1.0": "client-4.1.0",
    "5.0.2": "client-5.0.2",
    "6.0.0": "client",
}

_tags = itertools.count()


def require_sdk(version: str) -> Path:
    """The version's directory; fail loudly (not skip) when npm has not installed it."""
    folder = TESTS / SDKS[version]
    installed = folder / "node_modules" / "twilio-chat" / "package.json"
    if not installed.is_file() or json.loads(installed.read_text())["version"] != version:
        pytest.fail(
            f"twilio-chat {version} is missing: run `npm ci --prefix tests/{SDKS[version]}`"
        )
    return folder


class SdkClient(NodeClient):
    """One ``twilio-chat`` client of ``version``; it trusts the test TLS proxy's certificate."""

    def __init__(self, version: str, ws: str, token: str) -> None:
        folder = require_sdk(version)
        env = {"NODE_EXTRA_CA_CERTS": str(CERTIFICATE)}
        super().__init__("sdk_chat.js", str(folder), ws, token, env=env)
        self.version = version


class VersionsGateway(GatewayServer):
    """A server whose public URL is HTTPS (a TLS proxy in front of it), as twilio-chat 3.x
    and 4.x need for media."""

    def __init__(self, databases: Databases, **overrides: Any) -> None:
        self.proxy = TlsProxy()
        super().__init__(databases, public_url=self.proxy.url, **overrides)
        self.proxy.target = int(self.url.rsplit(":", 1)[1])

    def stop(self) -> None:
        super().stop()
        self.proxy.close()


def connect(gateway: GatewayServer, version: str, service: str, identity: str) -> SdkClient:
    client = SdkClient(version, gateway.ws, gateway.token(service, identity))
    client.wait_for(lambda e: e.get("event") in ("initialized", "createFailed"), timeout=30)
    assert client.events[-1]["event"] == "initialized", client.events
    return client


def attempt(client: NodeClient, cmd: str, **fields: Any) -> Event:
    tag = f"{cmd}-{next(_tags)}"
    client.send(cmd=cmd, tag=tag, **fields)
    return client.wait_for(lambda e: e.get("tag") == tag, timeout=20)


def call(client: NodeClient, cmd: str, **fields: Any) -> Event:
    """Run one SDK call; its result, or an AssertionError when the SDK's promise rejects."""
    reply = attempt(client, cmd, **fields)
    assert reply["event"] == cmd, reply
    return reply


def refused(client: NodeClient, cmd: str, status: int, **fields: Any) -> None:
    """The SDK's promise rejected with the status the server answered."""
    reply = attempt(client, cmd, **fields)
    assert reply["event"] == "failed", reply
    assert status in (reply.get("code"), reply.get("status")), reply


def _matches(event: Event, name: str, expected: dict[str, Any]) -> bool:
    return event.get("event") == name and all(event.get(k) == v for k, v in expected.items())


def seen(client: NodeClient, name: str, **expected: Any) -> Event:
    """The first ``name`` event whose fields include ``expected`` (waiting for it)."""
    return client.wait_for(lambda e: _matches(e, name, expected), timeout=20)


def during(client: NodeClient, reply: Event, name: str, **expected: Any) -> Event:
    """The ``name`` event the client saw while the command of ``reply`` ran, before its
    promise resolved: read your own writes."""
    found = [
        e
        for e in client.events
        if reply["start"] < e.get("seq", 0) <= reply["end"] and _matches(e, name, expected)
    ]
    assert found, (name, expected, [e for e in client.events if e.get("seq", 0) > reply["start"]])
    return found[0]
