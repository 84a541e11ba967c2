"""Every bad-token code reaches the official ``twilsock`` client the way it expects it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import jwt
import pytest
from client_support import GatewayServer, NodeClient
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import ChatGrant

from conftest import ACCOUNT_SID, Databases

pytestmark = [pytest.mark.server, pytest.mark.sdk]

Mint = Callable[[GatewayServer, str], str]


@pytest.fixture(scope="module")
def gateway(databases: Databases) -> Iterator[GatewayServer]:
    with GatewayServer(databases) as srv:
        yield srv


def _signed(
    srv: GatewayServer,
    service: str,
    *,
    header: dict[str, str] | None = None,
    secret: str | None = None,
    **claims: object,
) -> str:
    """A token shaped as ``AccessToken`` makes it, with ``claims``, header or secret changed."""
    now = int(time.time())
    payload = {
        "jti": f"{srv.key.sid}-{now}",
        "iss": srv.key.sid,
        "sub": ACCOUNT_SID,
        "nbf": now,
        "exp": now + 600,
        "grants": {"identity": "alice", "chat": {"service_sid": service}},
        **claims,
    }
    headers = {"cty": "twilio-fpa;v=1", **(header or {})}
    return jwt.encode(payload, secret or srv.key.secret, algorithm="HS256", headers=headers)


def _no_chat_grant(srv: GatewayServer, service: str) -> str:
    token = AccessToken(ACCOUNT_SID, srv.key.sid, srv.key.secret, identity="alice")
    return str(token.to_jwt())


def _too_long(srv: GatewayServer, service: str) -> str:
    token = AccessToken(ACCOUNT_SID, srv.key.sid, srv.key.secret, identity="alice", ttl=25 * 3600)
    token.add_grant(ChatGrant(service_sid=service))
    return str(token.to_jwt())


BAD_TOKENS: dict[int, Mint] = {
    20101: lambda srv, service: "not-a-token",
    20102: lambda srv, service: _signed(srv, service, header={"cty": "application/jwt"}),
    20103: lambda srv, service: _signed(srv, service, iss="SK" + "0" * 32),
    20104: lambda srv, service: _signed(
        srv, service, nbf=int(time.time()) - 120, exp=int(time.time()) - 60
    ),
    20105: lambda srv, service: _signed(
        srv, service, nbf=int(time.time()) + 3600, exp=int(time.time()) + 7200
    ),
    20106: _no_chat_grant,
    20107: lambda srv, service: _signed(srv, service, secret="another secret of 32 characters!"),
    20157: _too_long,
}


@pytest.mark.parametrize("code", sorted(BAD_TOKENS))
def test_bad_token_is_refused_with_its_code(gateway: GatewayServer, code: int) -> None:
    token = BAD_TOKENS[code](gateway, gateway.service())
    with NodeClient("twilsock_driver.js", gateway.ws, token) as client:
        refused = client.wait_for("connectionError")
        assert (refused["terminal"], refused["httpStatusCode"], refused["errorCode"]) == (
            True,
            401,
            code,
        )
        client.wait_for(lambda e: e.get("state") == "denied")
        if code == 20104:  # the SDK's own signal that the app should fetch a new token
            client.wait_for("tokenExpired")
        client.drain(1.5)  # denied is final: no retry, never connected
        assert "connected" not in [e["event"] for e in client.events]
    assert f'chinwag_gateway_auth_failures_total{{code="{code}"}}' in gateway.metrics()
