"""Two or more real ``twilio-chat`` clients driven through ``tests/client/chat_commands.js``."""

from __future__ import annotations

import itertools
from typing import Any

from client_support import Event, GatewayServer, NodeClient

_tags = itertools.count()


def connect(gateway: GatewayServer, service: str, identity: str) -> NodeClient:
    """A chat client of ``identity``, initialized (its user exists from then on)."""
    client = NodeClient("chat_commands.js", gateway.ws, gateway.token(service, identity))
    client.wait_for("initialized", timeout=30)
    return client


def call(client: NodeClient, cmd: str, **fields: Any) -> Event:
    """Run one SDK call; its result, or an AssertionError when the SDK's promise rejects."""
    reply = attempt(client, cmd, **fields)
    assert reply["event"] == cmd, reply
    return reply


def attempt(client: NodeClient, cmd: str, **fields: Any) -> Event:
    """Run one SDK call; its result or the ``failed`` event of a rejected promise."""
    tag = f"{cmd}-{next(_tags)}"
    client.send(cmd=cmd, tag=tag, **fields)
    return client.wait_for(lambda e: e.get("tag") == tag, timeout=20)


def rejected(client: NodeClient, cmd: str, status: int, **fields: Any) -> None:
    """The SDK's promise rejected with the non-2xx status the server answered."""
    reply = attempt(client, cmd, **fields)
    assert reply["event"] == "failed", reply
    assert status in (reply.get("code"), reply.get("status")), reply


def seen(client: NodeClient, event: str, **expected: Any) -> Event:
    """The first ``event`` whose fields include ``expected``."""
    return client.wait_for(
        lambda e: e.get("event") == event and all(e.get(k) == v for k, v in expected.items()),
        timeout=20,
    )
