"""Request ids on every response and one access-log line per request."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from chinwag.api.routing import Route, RouteTable
from chinwag.http.auth import BasicAuth
from chinwag.http.metrics import Metrics
from chinwag.http.observe import Observe
from chinwag.http.routes import Access, Endpoint
from chinwag.http.server import HttpDoor
from chinwag.testing import ThreadedServer
from conftest import ACCOUNT_SID, AUTH_TOKEN, Databases, start_server

pytestmark = pytest.mark.server

REQUEST_ID = re.compile(r"RQ[0-9a-f]{32}")


def test_every_response_carries_a_fresh_request_id(http: httpx.Client) -> None:
    responses = [
        http.get("/v1/Services"),
        http.get("/v1/Nope"),
        http.post("/v1/Services", data={}),
        httpx.get(f"{http.base_url}/v1/Services"),  # no credentials: 401
        http.get("/healthz"),
    ]
    ids = [r.headers["Twilio-Request-Id"] for r in responses]
    assert [r.status_code for r in responses] == [200, 404, 400, 401, 200]
    assert all(REQUEST_ID.fullmatch(i) for i in ids)
    assert len(set(ids)) == len(ids)


@pytest.fixture
def json_server(databases: Databases) -> Iterator[ThreadedServer]:
    srv = start_server(databases, log_format="json")
    yield srv
    srv.stop()


def test_json_access_log_has_one_line_per_request(
    json_server: ThreadedServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="chinwag.access")
    with httpx.Client(base_url=json_server.url, auth=(ACCOUNT_SID, AUTH_TOKEN)) as client:
        created = client.post("/v1/Services", data={"FriendlyName": "logged"})
        missing = client.get("/v1/Services/IS" + "0" * 32)
    lines = [orjson.loads(r.getMessage()) for r in caplog.records if r.name == "chinwag.access"]
    assert [(x["method"], x["status"]) for x in lines] == [("POST", 201), ("GET", 404)]
    assert lines[0]["path"] == "/v1/Services"
    assert lines[0]["request_id"] == created.headers["Twilio-Request-Id"]
    assert lines[1]["request_id"] == missing.headers["Twilio-Request-Id"]
    assert all(isinstance(x["duration_ms"], float) for x in lines)


def test_text_access_log_names_method_path_status_and_id(
    server: ThreadedServer, http: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="chinwag.access")
    response = http.get("/v1/Credentials")
    (line,) = [r.getMessage() for r in caplog.records if r.name == "chinwag.access"]
    assert line.startswith("GET /v1/Credentials 200 ")
    assert line.endswith(response.headers["Twilio-Request-Id"])


def test_metrics_count_requests_by_operation_and_status(server: ThreadedServer) -> None:
    with httpx.Client(base_url=server.url, auth=(ACCOUNT_SID, AUTH_TOKEN)) as client:
        before = client.get("/metrics").text
        client.get("/v1/Credentials")
        client.get("/v1/Credentials/CR" + "0" * 32)
        scraped = httpx.get(f"{server.url}/metrics")  # no credentials needed, like /healthz
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    text = scraped.text

    def count(line_prefix: str, body: str) -> float:
        for line in body.splitlines():
            if line.startswith(line_prefix):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    ok = 'chinwag_requests_total{operation="ListCredential",status="200"}'
    missing = 'chinwag_requests_total{operation="FetchCredential",status="404"}'
    assert count(ok, text) == count(ok, before) + 1
    assert count(missing, text) == count(missing, before) + 1
    assert 'chinwag_request_duration_seconds_bucket{le="0.005",operation="ListCredential"}' in text
    assert count("chinwag_db_connections_max", text) >= 1


def test_an_error_escaping_every_layer_is_answered_as_twilio_500(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Past the error handlers (a bug in the response itself), the answer is still Twilio's 500."""

    class Broken:
        def __str__(self) -> str:
            raise RuntimeError("secret detail")

    async def broken(req: Any, resp: Any) -> None:
        resp.set_header("x-broken", Broken())  # fails only when the head is encoded

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/broken",
        "raw_path": b"/broken",
        "query_string": b"",
        "headers": [],
    }
    observe = Observe(Metrics(engine=None))  # type: ignore[arg-type]
    table = RouteTable([Route("GET", "/broken", "Broken", Endpoint(broken, Access.OPEN))])
    door = HttpDoor(table, observe, BasicAuth())
    with caplog.at_level(logging.ERROR):
        asyncio.run(door(scope, receive, send))
    assert sent[0]["status"] == 500
    error = orjson.loads(sent[1]["body"])
    assert (error["status"], error["code"]) == (500, 20500)
    assert "secret detail" not in sent[1]["body"].decode()
    assert "secret detail" in caplog.text
