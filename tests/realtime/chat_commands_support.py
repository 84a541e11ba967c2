"""Two or more real ``twilio-chat`` clients driven through ``tests/client/chat_commands.js``."""

from __future__ import annotations

import itertools
from typing import Any

import orjson
from client_support import Event, GatewayServer, NodeClient, frame, read
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect

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


class Session:
    """One raw connection of ``identity`` to ``service``, sending upstream requests."""

    def __init__(self, srv: GatewayServer, service: str, identity: str) -> None:
        self.ws: ClientConnection = ws_connect(srv.ws)
        self.ws.send(frame("init", "TMinit", token=srv.token(service, identity), registrations=[]))
        assert read(self.ws.recv(timeout=10)).header["status"]["code"] == 200
        self.base = f"/Client/v1/Services/{service}"
        self.identity = identity
        self._ids = 0

    def send(
        self, method: str, path: str, body: Any = None, *, raw: bytes | None = None, **headers: str
    ) -> tuple[int, Any]:
        """The reply's HTTP status and JSON body."""
        self._ids += 1
        payload = raw if raw is not None else (b"" if body is None else orjson.dumps(body))
        http = {"host": "aim.test", "path": self.base + path, "method": method, "params": {}}
        self.ws.send(
            frame("message", f"TM{self._ids}", payload, http_request={**http, "headers": headers})
        )
        reply = read(self.ws.recv(timeout=10))
        return reply.header["http_status"]["code"], orjson.loads(reply.payload or b"null")

    def close(self) -> None:
        self.ws.close()
