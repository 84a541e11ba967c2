"""The upstream route table: matching by method and path, and errors as REST renders them."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest

from chinwag import errors
from chinwag.api.routing import Route
from chinwag.realtime.context import Client, Request, Response, json_response
from chinwag.realtime.routes import ROUTES, Router

pytestmark = pytest.mark.unit

CLIENT: Any = Client(None, None, "IS1", "alice", "http://localhost")  # type: ignore[arg-type]


async def _echo(client: Client, request: Request, **params: str) -> Response:
    return json_response(params)


async def _raises(client: Client, request: Request, **params: str) -> Response:
    raise {"conflict": errors.UserAlreadyExistsError(), "missing": errors.NotFoundError()}.get(
        params["what"], RuntimeError("secret detail")
    )


ROUTER = Router(
    (
        Route("GET", "/v3/Maps/{map}/Items/{key}", "FetchItem", _echo),
        Route("POST", "/fail/{what}", "Fail", _raises),
    )
)


def dispatch(method: str, path: str) -> tuple[str, Response]:
    return asyncio.run(ROUTER.dispatch(CLIENT, Request(method, "cds.example", path)))


def test_every_table_row_matches_its_own_path() -> None:
    router = Router()
    for route in ROUTES:
        found = router.match(route.method, route.path.replace("{", "").replace("}", ""))
        assert found is not None and found[0] is route


def test_path_parameters_are_percent_decoded_whatever_the_host() -> None:
    name, response = dispatch("GET", "/v3/Maps/US1.channels/Items/a%20b%2Fc/")
    assert name == "FetchItem"
    assert orjson.loads(response.body) == {"map": "US1.channels", "key": "a b/c"}


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/v3/Maps/x"), ("DELETE", "/v3/Maps/m/Items/k"), ("GET", "/v3/Maps/m/Items/k/x")],
)
def test_unknown_paths_and_methods_are_404_with_the_twilio_body(method: str, path: str) -> None:
    name, response = dispatch(method, path)
    assert (name, response.status, response.reason) == ("none", 404, "Not Found")
    assert orjson.loads(response.body) == errors.NotFoundError(path).to_dict()


def test_a_domain_error_keeps_its_status_and_wire_form() -> None:
    _, response = dispatch("POST", "/fail/conflict")
    assert response.status == 409
    assert orjson.loads(response.body) == errors.UserAlreadyExistsError().to_dict()
    _, missing = dispatch("POST", "/fail/missing")
    assert orjson.loads(missing.body)["message"].endswith("/fail/missing was not found")


def test_an_unexpected_error_is_a_generic_500() -> None:
    _, response = dispatch("POST", "/fail/boom")
    assert response.status == 500
    assert b"secret detail" not in response.body
    assert orjson.loads(response.body) == errors.InternalError().to_dict()
