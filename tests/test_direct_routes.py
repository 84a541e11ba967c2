"""The REST routes served without Falcon's App answer byte-for-byte as Falcon did.

Two servers with the same deterministic SIDs and a stopped clock get the same script of raw
HTTP requests: one serves the REST routes through ``chinwag.http.direct`` (as always), the
other hands every request to Falcon. Every status, header (but the date and the request id)
and body must be equal, for each operation of the table and for the requests that go wrong.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from chinwag.app import create_app
from chinwag.clock import FakeClock
from chinwag.config import Settings
from chinwag.http.direct import RouteTable
from chinwag.http.routes import ROUTES
from chinwag.sids import SequentialSids
from chinwag.testing.server import ThreadedServer
from conftest import ACCOUNT_SID, AUTH_TOKEN, Databases

#: Varies between two servers whatever the code does.
_VOLATILE = {"date", "twilio-request-id"}

S = "/v1/Services/IS00000000000000000000000000000001"
CH = f"{S}/Channels/room"
PRIVATE = f"{S}/Channels/a%2Fb%20c"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}

Request = tuple[str, str, dict[str, str], bytes]

#: (method, path, headers, body): every operation, each succeeding.
WORKS: list[Request] = [
    ("POST", "/v1/Services", FORM, b"FriendlyName=svc"),
    ("POST", "/v1/Credentials", FORM, b"Type=fcm&Secret=s&FriendlyName=c"),
    ("GET", "/v1/Credentials", {}, b""),
    ("POST", f"{S}/Channels", FORM, b"FriendlyName=room&UniqueName=room"),
    ("POST", f"{S}/Channels", FORM, b"UniqueName=a%2Fb%20c&Type=private"),
    ("POST", f"{S}/Roles", FORM, b"FriendlyName=r&Type=channel&Permission=sendMessage"),
    ("POST", f"{S}/Users", FORM, b"Identity=alice"),
    ("POST", f"{S}/Users", FORM, b"Identity=bob"),
    ("POST", f"{CH}/Members", FORM, b"Identity=alice"),
    ("POST", f"{CH}/Messages", FORM, b"Body=hello&From=alice"),
    ("POST", f"{CH}/Messages", FORM, b"Body=%E2%9C%93&Attributes=%7B%22a%22%3A1%7D"),
    ("POST", f"{PRIVATE}/Invites", FORM, b"Identity=bob"),
    ("GET", "/v1/Services", {}, b""),
    ("GET", S, {}, b""),
    ("HEAD", S, {}, b""),
    ("POST", S, FORM, b"FriendlyName=renamed"),
    ("GET", f"{S}/Roles?PageSize=2", {}, b""),
    ("GET", f"{S}/Users", {}, b""),
    ("GET", f"{S}/Users/alice", {}, b""),
    ("GET", f"{S}/Users/alice/Channels", {}, b""),
    ("POST", f"{S}/Users/alice", FORM, b"FriendlyName=Alice"),
    ("GET", f"{S}/Channels", {}, b""),
    ("GET", f"{S}/Channels/a%2Fb%20c", {}, b""),
    ("GET", f"{CH}/Members", {}, b""),
    ("GET", f"{CH}/Members/alice", {}, b""),
    ("GET", f"{CH}/Messages?PageSize=1", {}, b""),
    ("GET", f"{CH}/Messages?PageSize=1&Order=desc&PageToken=PT1", {}, b""),
    ("HEAD", f"{CH}/Messages", {}, b""),
    ("GET", f"{CH}/Messages/IM0000000000000000000000000000000d", {}, b""),
    ("POST", f"{CH}/Messages/IM0000000000000000000000000000000d", FORM, b"Body=edited"),
    ("GET", f"{PRIVATE}/Invites", {}, b""),
    ("GET", f"{PRIVATE}/Invites/IN0000000000000000000000000000000f", {}, b""),
    ("POST", CH, FORM, b"FriendlyName=r2"),
    ("GET", f"{CH}/Messages", {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "a.b"}, b""),
    ("GET", S, {"Forwarded": 'for=1.2.3.4;proto=https;host="c.d:8443"'}, b""),
    ("POST", f"{CH}/Messages", {**FORM, "X-Twilio-Webhook-Enabled": "true"}, b"Body=hook"),
    ("DELETE", f"{PRIVATE}/Invites/IN0000000000000000000000000000000f", {}, b""),
    ("DELETE", f"{CH}/Messages/IM0000000000000000000000000000000d", {}, b""),
    ("DELETE", f"{CH}/Members/alice", {}, b""),
    ("DELETE", f"{S}/Users/alice", {}, b""),
    ("DELETE", f"{S}/Roles/RL00000000000000000000000000000009", {}, b""),
    ("DELETE", "/v1/Credentials/CR00000000000000000000000000000006", {}, b""),
]

#: Requests that fail (from the same error handlers on both paths), or that go on to Falcon:
#: other methods, paths and shapes.
FAILS: list[Request] = [
    ("POST", f"{CH}/Messages", FORM, b""),
    ("POST", f"{CH}/Messages", {"Content-Type": "text/plain"}, b"Body=x"),
    ("POST", f"{CH}/Messages", FORM, b"Body=" + b"x" * 1_100_000),
    ("POST", f"{CH}/Messages", FORM, b"Body=%FF"),
    ("GET", f"{CH}/Messages?PageSize=zero", {}, b""),
    ("GET", f"{CH}/Messages/IMnope", {}, b""),
    ("HEAD", f"{CH}/Messages/IMnope", {}, b""),
    ("GET", f"{S}/Channels/a%00b", {}, b""),
    ("GET", f"{S}/Channels/%ff", {}, b""),
    ("GET", "/v1/Services/ISffffffffffffffffffffffffffffffff/Channels", {}, b""),
    ("GET", f"{CH}/Messages", {"Host": "bad host"}, b""),
    ("GET", S, {"Forwarded": "proto=gopher"}, b""),
    ("DELETE", f"{CH}/Messages/IM0000000000000000000000000000000d", {}, b""),
    ("OPTIONS", S, {}, b""),
    ("PUT", S, FORM, b"FriendlyName=x"),
    ("PATCH", f"{CH}/Messages", FORM, b"Body=x"),
    ("GET", f"{S}/", {}, b""),
    ("GET", "/v1/Services//Channels", {}, b""),
    ("GET", "/v1/Nope", {}, b""),
    ("GET", f"{S}/Channels/x/Nope", {}, b""),
]


def _basic(user: str, password: str, scheme: str = "Basic") -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"{scheme} {token}"}


#: Credentials, sent as given (no client auth): the account spelled otherwise, then refusals.
CREDENTIALS: list[Request] = [
    ("GET", "/v1/Services", _basic(ACCOUNT_SID, AUTH_TOKEN, "basic"), b""),
    ("GET", S, {}, b""),
    ("GET", S, _basic(ACCOUNT_SID, "wrong"), b""),
    ("POST", f"{CH}/Messages", {**FORM, **_basic("SK" + "0" * 32, "x")}, b"Body=x"),
    ("GET", S, {"Authorization": "Bearer abc"}, b""),
    ("GET", "/v1/Nope", {}, b""),
]

#: Deleting the rest, then what is gone.
ENDS: list[Request] = [
    ("DELETE", CH, {}, b""),
    ("DELETE", S, {}, b""),
    ("GET", S, {}, b""),
]


def _server(databases: Databases, *, direct: bool) -> ThreadedServer:
    settings = Settings(database=databases.new(), account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN)
    app = create_app(settings, clock=FakeClock(), sids=SequentialSids())
    if not direct:
        app.http = app.observe  # every request through the middleware and Falcon's App
    return ThreadedServer(app).start()


@pytest.fixture
def servers(databases: Databases) -> Iterator[tuple[ThreadedServer, ThreadedServer]]:
    direct, falcon = _server(databases, direct=True), _server(databases, direct=False)
    yield direct, falcon
    direct.stop()
    falcon.stop()


def _exchange(
    client: httpx.Client, method: str, path: str, headers: dict[str, str], body: bytes
) -> Any:
    sent = {"Host": "chinwag.test", **headers}
    response = client.request(method, path, headers=sent, content=body)
    kept = [(k, v) for k, v in response.headers.multi_items() if k not in _VOLATILE]
    return response.status_code, kept, response.content


def test_direct_routes_answer_as_falcon_did(
    servers: tuple[ThreadedServer, ThreadedServer],
) -> None:
    direct, falcon = servers
    auth = (ACCOUNT_SID, AUTH_TOKEN)
    with (
        httpx.Client(base_url=direct.url, auth=auth) as a,
        httpx.Client(base_url=falcon.url, auth=auth) as b,
    ):
        script = [(r, True) for r in WORKS] + [(r, False) for r in FAILS]
        script += [(ENDS[0], True), (ENDS[1], True), (ENDS[2], False)]
        for request, succeeds in script:
            answer = _exchange(a, *request)
            assert answer == _exchange(b, *request), request[:2]
            assert (answer[0] < 400) == succeeds, (request[:2], answer)
    with httpx.Client(base_url=direct.url) as a, httpx.Client(base_url=falcon.url) as b:
        for request in CREDENTIALS:
            answer = _exchange(a, *request)
            assert answer == _exchange(b, *request), request
            assert answer[0] == (200 if request is CREDENTIALS[0] else 401), (request, answer)


def test_every_rest_route_is_served_directly() -> None:
    by_path: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        by_path.setdefault(route.path, {})[route.method] = route.handler
    table = RouteTable(by_path)
    for route in ROUTES:
        path = route.path.replace("{", "X").replace("}", "")
        found = table.match(route.method, path)
        assert found is not None and found[0] is route.handler, route.operation_id
    assert table.match("GET", "/v1/Services/") is None
    assert table.match("PUT", "/v1/Services/IS1") is None


def test_route_shapes_must_agree() -> None:
    async def handler() -> None: ...

    with pytest.raises(ValueError, match="literal segments"):
        RouteTable({"/a/{b}/c": {"GET": handler}, "/a/b/{c}": {"GET": handler}})
