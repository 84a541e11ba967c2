"""Every kind of failure leaves as Twilio's error body with the right HTTP status and code.

Why: SDKs build their exceptions from exactly ``code``, ``message``, ``more_info`` and ``status``
(twilio-java maps ``status`` to a primitive int, python/node switch exception class if extra
RFC 9457 keys appear), so a failure path that falls back to a framework default page or a
plain-text 4xx breaks clients in confusing ways. Each test provokes one class of failure over
raw HTTP and checks the body both through ``spec_contract`` and with explicit asserts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from chinwag.config import Settings
from chinwag.testing import ThreadedServer
from conftest import ACCOUNT_SID, AUTH_TOKEN
from spec_contract import check_exchange, operation_for

pytestmark = pytest.mark.server

UNKNOWN_SERVICE = "IS" + "0" * 32
UNKNOWN_CHANNEL = "CH" + "0" * 32
MORE_INFO = "https://www.twilio.com/docs/errors/{code}"


def assert_error(
    response: httpx.Response, status: int, code: int | None = None, message: str | None = None
) -> dict[str, Any]:
    """The response is a conforming Twilio error with this status (and code, message)."""
    request = response.request
    problems = check_exchange(request.method, str(request.url), response.status_code, response.text)
    assert not problems, f"{request.method} {request.url}:\n" + "\n".join(problems)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert set(body) == {"code", "message", "more_info", "status"}
    assert body["status"] == status
    assert isinstance(body["code"], int)
    assert isinstance(body["message"], str)
    assert body["message"]
    assert body["more_info"] == MORE_INFO.format(code=body["code"])
    if code is not None:
        assert body["code"] == code, body
    if message is not None:
        assert body["message"] == message
    return body


@pytest.fixture
def anonymous(server: ThreadedServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url) as client:
        yield client


@pytest.fixture
def service_url(http: httpx.Client) -> str:
    response = http.post("/v1/Services", data={"FriendlyName": "errors"})
    assert response.status_code == 201, response.text
    return f"/v1/Services/{response.json()['sid']}"


@pytest.fixture
def channel_url(http: httpx.Client, service_url: str) -> str:
    response = http.post(f"{service_url}/Channels", data={"UniqueName": "taken"})
    assert response.status_code == 201, response.text
    return f"{service_url}/Channels/{response.json()['sid']}"


# --- authentication ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/v1/Services"), ("POST", "/v1/Credentials"), ("GET", "/v1/Nowhere")],
)
def test_no_credentials(anonymous: httpx.Client, method: str, path: str) -> None:
    response = anonymous.request(method, path)
    assert_error(response, 401, 20003, "Authenticate")
    assert response.headers["www-authenticate"] == 'Basic realm="Twilio API"'


@pytest.mark.parametrize(
    "auth",
    [
        (ACCOUNT_SID, "wrong-token"),
        ("AC" + "f" * 32, AUTH_TOKEN),
        (ACCOUNT_SID, ""),
        (ACCOUNT_SID, AUTH_TOKEN + "x"),
        ("SK" + "0" * 32, AUTH_TOKEN),  # no such API key
        ("SKnot-a-key-sid", "secret"),
    ],
)
def test_wrong_credentials(server: ThreadedServer, auth: tuple[str, str]) -> None:
    with httpx.Client(base_url=server.url, auth=auth) as client:
        response = client.get("/v1/Services")
    assert_error(response, 401, 20003, "Authenticate")
    assert response.headers["www-authenticate"] == 'Basic realm="Twilio API"'


@pytest.mark.parametrize(
    "header", ["Bearer abc", "Basic !!!notbase64", "Basic", "Basic Og==", "Basic U0v/Ong="]
)
def test_malformed_authorization_header(anonymous: httpx.Client, header: str) -> None:
    response = anonymous.get("/v1/Services", headers={"Authorization": header})
    assert_error(response, 401, 20003, "Authenticate")


# --- routing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "named"),
    [
        ("/v1/Foo", "/Foo"),
        ("/v1/Services/IS00/Bar", "/Services/IS00/Bar"),
        ("/v2/Foo", "/Foo"),
        ("/v4/Services", "/v4/Services"),
        ("/Foo", "/Foo"),
    ],
)
def test_unknown_path(http: httpx.Client, path: str, named: str) -> None:
    assert_error(http.get(path), 404, 20404, f"The requested resource {named} was not found")


def test_unknown_service(http: httpx.Client) -> None:
    path = f"/Services/{UNKNOWN_SERVICE}"
    message = f"The requested resource {path} was not found"
    assert_error(http.get(f"/v1{path}"), 404, 20404, message)
    assert_error(http.post(f"/v1{path}", data={"FriendlyName": "x"}), 404, 20404, message)
    assert_error(http.delete(f"/v1{path}"), 404, 20404, message)
    nested = f"{path}/Channels/{UNKNOWN_CHANNEL}/Messages"
    assert_error(
        http.get(f"/v1{nested}"), 404, 20404, f"The requested resource {nested} was not found"
    )


def test_unknown_channel_in_known_service(http: httpx.Client, service_url: str) -> None:
    path = f"{service_url}/Channels/{UNKNOWN_CHANNEL}/Members"
    assert_error(http.get(path), 404, 20404, f"The requested resource {path[3:]} was not found")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/v1/Services"),
        ("PATCH", "/v1/Services"),
        ("DELETE", "/v1/Services"),
        ("PUT", "/v1/Credentials/CR" + "0" * 32),
        ("DELETE", "/v1/Credentials"),
    ],
)
def test_wrong_method(http: httpx.Client, method: str, path: str) -> None:
    response = http.request(method, path)
    assert_error(response, 405, 20004, "Method not allowed")
    allowed = {m.strip() for m in response.headers.get("allow", "").split(",")}
    spec_methods = {m for m in ("GET", "POST", "DELETE") if operation_for(m, path)}
    assert spec_methods <= allowed, "405 must name the allowed methods (RFC 9110)"


def test_options_is_not_an_operation(http: httpx.Client) -> None:
    """The spec defines no OPTIONS operation: like PUT, it is a wrong method (405 20004)."""
    assert_error(http.options("/v1/Services"), 405, 20004, "Method not allowed")


def test_wrong_method_on_nested_paths(http: httpx.Client, channel_url: str) -> None:
    service_url = channel_url.split("/Channels/")[0]
    invite = f"{channel_url}/Invites/IN" + "0" * 32
    assert_error(http.post(invite, data={"RoleSid": "x"}), 405, 20004)
    assert_error(http.post(f"{service_url}/Users/alice/Channels"), 405, 20004)
    assert_error(http.delete(f"{channel_url}/Messages"), 405, 20004)


# --- parameters -------------------------------------------------------------------------------


def test_missing_required_parameter(http: httpx.Client) -> None:
    assert_error(
        http.post("/v1/Services"),
        400,
        20001,
        "Missing required parameter FriendlyName in the post body",
    )
    assert_error(
        http.post("/v1/Credentials", data={"FriendlyName": "x"}),
        400,
        20001,
        "Missing required parameter Type in the post body",
    )


def test_missing_required_parameter_nested(http: httpx.Client, channel_url: str) -> None:
    assert_error(
        http.post(f"{channel_url}/Members"),
        400,
        20001,
        "Missing required parameter Identity in the post body",
    )
    assert_error(
        http.post(f"{channel_url}/Messages", data={"From": "x"}),
        400,
        20001,
        "Missing required parameter Body in the post body",
    )


def test_invalid_enum(http: httpx.Client, service_url: str) -> None:
    assert_error(http.post(f"{service_url}/Channels", data={"Type": "foo"}), 400, 20001)
    assert_error(http.get(f"{service_url}/Channels", params={"Type": "foo"}), 400, 20001)
    assert_error(http.post("/v1/Credentials", data={"Type": "foo"}), 400, 20001)


def test_invalid_boolean(http: httpx.Client, service_url: str) -> None:
    assert_error(http.post(service_url, data={"ReadStatusEnabled": "maybe"}), 400, 20001)


@pytest.mark.parametrize("resource", ["Channels", "Users"])
def test_invalid_json_attributes(http: httpx.Client, service_url: str, resource: str) -> None:
    data = {"Attributes": "{not json", "Identity": "zed"}
    assert_error(http.post(f"{service_url}/{resource}", data=data), 400, 50304)


def test_invalid_json_attributes_on_message(http: httpx.Client, channel_url: str) -> None:
    data = {"Body": "x", "Attributes": "{"}
    assert_error(http.post(f"{channel_url}/Messages", data=data), 400, 50304)


@pytest.mark.parametrize("token", ["garbage", "PT", "PTCH" + "0" * 32 + "x", "%00"])
def test_bad_page_token(http: httpx.Client, token: str) -> None:
    assert_error(http.get("/v1/Services", params={"PageToken": token}), 400, 21481)


def test_bad_page_token_on_nested_list(http: httpx.Client, service_url: str) -> None:
    response = http.get(f"{service_url}/Channels", params={"PageToken": "nope"})
    assert_error(
        response,
        400,
        21481,
        "Invalid PageToken: use the one in a page's next_page_url or previous_page_url",
    )


@pytest.mark.parametrize("size", ["abc", "0", "-1", "1.5", ""])
def test_bad_page_size(http: httpx.Client, size: str) -> None:
    assert_error(http.get("/v1/Services", params={"PageSize": size}), 400, 20001)


def test_duplicate_unique_name(http: httpx.Client, channel_url: str) -> None:
    service_url = channel_url.split("/Channels/")[0]
    response = http.post(f"{service_url}/Channels", data={"UniqueName": "taken"})
    assert_error(response, 409, 50307)


def test_duplicate_identity(http: httpx.Client, service_url: str) -> None:
    assert http.post(f"{service_url}/Users", data={"Identity": "dup"}).status_code == 201
    assert_error(http.post(f"{service_url}/Users", data={"Identity": "dup"}), 409, 50201)


# --- malformed requests -----------------------------------------------------------------------


def test_body_over_size_cap(http: httpx.Client) -> None:
    big = "FriendlyName=" + "a" * Settings().max_body_bytes  # one byte over the default cap
    response = http.post(
        "/v1/Services",
        content=big.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_error(response, 413)


@pytest.mark.parametrize("content", [b"FriendlyName=%FF%FE", b"FriendlyName=\xff\xfe"])
def test_invalid_utf8_body(http: httpx.Client, content: bytes) -> None:
    response = http.post(
        "/v1/Services",
        content=content,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_error(response, 400)


def test_invalid_utf8_query(http: httpx.Client, service_url: str) -> None:
    assert_error(http.get(f"{service_url}/Channels?Type=%FF"), 400)


def test_nul_byte_in_parameter(http: httpx.Client, service_url: str) -> None:
    assert_error(http.post("/v1/Services", data={"FriendlyName": "a\x00b"}), 400)
    assert_error(http.post(f"{service_url}/Users", data={"Identity": "x\x00"}), 400)


def test_nul_byte_in_query(http: httpx.Client, service_url: str) -> None:
    assert_error(http.get(f"{service_url}/Channels?Type=public%00"), 400)


@pytest.mark.parametrize(
    ("content_type", "content"),
    [
        ("application/json", b'{"FriendlyName": "x"}'),
        ("text/plain", b"FriendlyName=x"),
        ("multipart/form-data; boundary=x", b"--x--"),
    ],
)
def test_non_form_content_type(http: httpx.Client, content_type: str, content: bytes) -> None:
    response = http.post("/v1/Services", content=content, headers={"Content-Type": content_type})
    assert_error(response, 400)


# --- updates without parameters ---------------------------------------------------------------


def test_update_without_parameters(http: httpx.Client, channel_url: str) -> None:
    service_url = channel_url.split("/Channels/")[0]
    message = (
        "Parameters are not specified for update request: send at least one parameter to change"
    )
    assert_error(http.post(service_url), 400, 20161, message)
    user = http.post(f"{service_url}/Users", data={"Identity": "quiet"})
    assert user.status_code == 201
    assert_error(http.post(f"{service_url}/Users/quiet"), 400, 20161, message)
    assert_error(
        http.post(channel_url),
        400,
        50347,
        "Parameters are missing for channel update request: send at least one parameter to change",
    )


def test_update_credential_without_parameters(http: httpx.Client) -> None:
    created = http.post("/v1/Credentials", data={"Type": "gcm"})
    assert created.status_code == 201
    url = f"/v1/Credentials/{created.json()['sid']}"
    try:
        assert_error(http.post(url), 400, 20161)
    finally:
        http.delete(url)
