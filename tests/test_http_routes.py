"""The REST routes answer byte for byte as recorded, and the route table matches as designed.

``golden/rest_v1_script.json`` holds the answers (status, headers but the date and request id,
body) to a script of raw HTTP requests: every v1 operation, the requests that go wrong and the
credentials that are refused, from a server with deterministic SIDs and a stopped clock. It was
recorded from the server before its routes moved onto the shared route table and is the v1
contract byte for byte: a change to any answer must be deliberate (re-record with
``CHINWAG_RECORD_GOLDEN=1``) and show in review.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from chinwag.api.routing import Route, RouteTable
from chinwag.app import create_app
from chinwag.clock import FakeClock
from chinwag.config import Settings
from chinwag.http.routes import V1
from chinwag.sids import SequentialSids
from chinwag.testing.server import ThreadedServer
from conftest import ACCOUNT_SID, AUTH_TOKEN, Databases

pytestmark = pytest.mark.server

GOLDEN = Path(__file__).parent / "golden" / "rest_v1_script.json"

#: Varies between two runs whatever the code does.
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


def _exchange(
    client: httpx.Client, method: str, path: str, headers: dict[str, str], body: bytes
) -> dict[str, Any]:
    sent = {"Host": "chinwag.test", **headers}
    response = client.request(method, path, headers=sent, content=body)
    kept = [[k, v] for k, v in response.headers.multi_items() if k not in _VOLATILE]
    return {"status": response.status_code, "headers": kept, "body": response.content.decode()}


def test_rest_v1_answers_as_recorded(databases: Databases) -> None:
    settings = Settings(database=databases.new(), account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN)
    server = ThreadedServer(create_app(settings, clock=FakeClock(), sids=SequentialSids())).start()
    answers = []
    try:
        with httpx.Client(base_url=server.url, auth=(ACCOUNT_SID, AUTH_TOKEN)) as client:
            answers += [_exchange(client, *request) for request in WORKS + FAILS + ENDS]
        with httpx.Client(base_url=server.url) as client:
            answers += [_exchange(client, *request) for request in CREDENTIALS]
    finally:
        server.stop()
    if os.environ.get("CHINWAG_RECORD_GOLDEN"):
        GOLDEN.write_text(json.dumps(answers, indent=0, ensure_ascii=False) + "\n")
    recorded = json.loads(GOLDEN.read_text())
    requests = WORKS + FAILS + ENDS + CREDENTIALS
    assert len(recorded) == len(requests)
    for request, answer, expected in zip(requests, answers, recorded, strict=True):
        assert answer == expected, request[:2]
    succeeded = [answer["status"] < 400 for answer in answers]
    assert succeeded == [True] * len(WORKS) + [False] * len(FAILS) + [True, True, False] + [
        True
    ] + [False] * (len(CREDENTIALS) - 1)


def test_every_rest_route_is_matched() -> None:
    table = RouteTable(V1)
    for route in V1:
        found = table.find(route.path.replace("{", "X").replace("}", ""))
        assert found is not None and found.routes[route.method] is route, route.name
    assert table.find("/v1/Services/") is None  # a capture never matches an empty segment
    assert table.find("/v1/Services//Channels") is None
    found = table.find("/v1/Services/IS1")
    assert found is not None and "PUT" not in found.routes


def _route(method: str, path: str) -> Route[str]:
    return Route(method, path, f"{method} {path}", path)


def test_a_literal_segment_wins_over_a_capture() -> None:
    table = RouteTable([_route("GET", "/a/{b}/c"), _route("GET", "/a/b/{c}")])
    found = table.find("/a/b/c")
    assert found is not None and found.routes["GET"].handler == "/a/b/{c}"
    assert found.params == {"c": "c"}
    found = table.find("/a/x/c")
    assert found is not None and found.params == {"b": "x"}


def test_a_table_refuses_ambiguous_rows() -> None:
    with pytest.raises(ValueError, match="routed twice"):
        RouteTable([_route("GET", "/a/{b}"), _route("GET", "/a/{b}")])
    with pytest.raises(ValueError, match="named otherwise"):
        RouteTable([_route("GET", "/a/{b}"), _route("POST", "/a/{c}")])
