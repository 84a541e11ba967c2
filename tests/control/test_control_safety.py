"""Production defaults are safe, against real ``chinwag serve`` processes: the control API is
off unless asked for, takes only the account's own credentials, cannot be driven cross-site,
the Basic challenge goes only where an API client needs it, and snapshots carry no secrets and
import only rows the API itself could have written."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from conftest import ACCOUNT_SID, AUTH_TOKEN, Databases, server_env, spawn_server

pytestmark = pytest.mark.server

KEY = ("SK" + "5c" * 16, "k" * 32)
ENV = server_env(
    CHINWAG_ACCOUNT_SID=ACCOUNT_SID,
    CHINWAG_AUTH_TOKEN=AUTH_TOKEN,
    CHINWAG_API_KEY_SID=KEY[0],
    CHINWAG_API_KEY_SECRET=KEY[1],
)
JSON = {"Content-Type": "application/json"}


class Server:
    def __init__(self, databases: Databases, *flags: str) -> None:
        self.proc, self.url = spawn_server(databases.new(), *flags, env=ENV)
        self.host = self.url.removeprefix("http://")

    def client(self, auth: tuple[str, str] | None = (ACCOUNT_SID, AUTH_TOKEN)) -> httpx.Client:
        return httpx.Client(base_url=self.url, auth=auth, timeout=30)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def control_on(databases: Databases) -> Iterator[Server]:
    server = Server(databases, "--control-api", "true")
    yield server
    server.stop()


@pytest.fixture
def account(control_on: Server) -> Iterator[httpx.Client]:
    """The control server's account, reset, with one service."""
    with control_on.client() as http:
        assert http.post("/_chinwag/reset", json={}).status_code == 200
        assert http.post("/v1/Services", data={"FriendlyName": "kept"}).status_code == 201
        yield http


def services(http: httpx.Client) -> list[str]:
    return [s["friendly_name"] for s in http.get("/v1/Services").json()["services"]]


@pytest.mark.parametrize("flags", [(), ("--control-api", "false")])
def test_the_control_api_is_off_by_default(databases: Databases, flags: tuple[str, ...]) -> None:
    server = Server(databases, *flags)
    try:
        for auth in [(ACCOUNT_SID, AUTH_TOKEN), None]:
            with server.client(auth) as http:
                for method, path in [("POST", "/_chinwag/reset"), ("GET", "/_chinwag/snapshot")]:
                    answer = http.request(method, path, json={})
                    assert answer.status_code == 404, answer.text
                    assert answer.json()["code"] == 20404
    finally:
        server.stop()


@pytest.mark.parametrize("flags", [("--development", "true"), ("--control-api", "true")])
def test_development_mode_or_the_flag_turn_it_on(databases: Databases, flags: tuple[str]) -> None:
    server = Server(databases, *flags)
    try:
        with server.client() as http:
            assert http.post("/_chinwag/reset", json={}).json() == {"deleted_rows": 0}
    finally:
        server.stop()


def test_an_api_key_may_call_the_rest_api_but_not_the_control_api(
    control_on: Server, account: httpx.Client
) -> None:
    with control_on.client(KEY) as http:
        assert services(http) == ["kept"]
        for method, path in [("POST", "/_chinwag/reset"), ("GET", "/_chinwag/snapshot")]:
            answer = http.request(method, path, json={})
            assert answer.status_code == 403, answer.text
            assert answer.json()["code"] == 20403
            assert "not an API key" in answer.json()["message"]
    assert services(account) == ["kept"]


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "same-site"},
    ],
)
def test_a_cross_site_wipe_is_refused(
    control_on: Server, account: httpx.Client, headers: dict[str, str]
) -> None:
    answer = account.post("/_chinwag/reset", json={}, headers=headers)
    assert answer.status_code == 403 and answer.json()["code"] == 20403, answer.text
    rest = account.post("/v1/Services", data={"FriendlyName": "evil"}, headers=headers)
    assert rest.status_code == 403
    assert services(account) == ["kept"]


@pytest.mark.parametrize(
    ("content", "headers"),
    [(b"", {}), (b"a=b", {"Content-Type": "application/x-www-form-urlencoded"}), (b"{}", {})],
)
def test_a_state_change_needs_a_json_body(
    account: httpx.Client, content: bytes, headers: dict[str, str]
) -> None:
    answer = account.post("/_chinwag/reset", content=content, headers=headers)
    assert answer.status_code == 400, answer.text
    assert "Content-Type: application/json" in answer.json()["message"]
    assert services(account) == ["kept"]


def test_the_servers_own_pages_may_change_state(control_on: Server, account: httpx.Client) -> None:
    own = [
        {"Origin": f"http://{control_on.host}"},
        {"Sec-Fetch-Site": "same-origin", "Origin": f"http://{control_on.host}"},
    ]
    for headers in own:
        assert account.post("/v1/Services", data={"FriendlyName": "x"}, headers=headers).is_success
    assert account.post("/_chinwag/reset", json={}, headers=own[1]).status_code == 200


@pytest.mark.parametrize(
    ("path", "challenged"),
    [
        ("/favicon.ico", False),
        ("/robots.txt", False),
        ("/_chinwag/snapshot", False),
        ("/_chinwag/webhooks", False),
        ("/v1/Services", True),
        ("/v1/Nowhere", True),
    ],
)
def test_the_basic_challenge_goes_only_with_the_api(
    control_on: Server, path: str, challenged: bool
) -> None:
    with control_on.client(None) as anonymous:
        answer = anonymous.get(path)
    assert answer.status_code == 401 and answer.json()["code"] == 20003
    assert ("www-authenticate" in answer.headers) is challenged


def test_a_snapshot_carries_no_secrets(account: httpx.Client) -> None:
    secrets = {"certificate": "CERT-PEM", "private_key": "KEY-PEM", "secret": "s3cret-value"}
    created = account.post("/v1/Credentials", data={"Type": "apn", **_form(secrets)})
    assert created.status_code == 201, created.text
    fcm = account.post("/v1/Credentials", data={"Type": "fcm", "Secret": "fcm-server-key"})
    assert fcm.status_code == 201
    answer = account.get("/_chinwag/snapshot")
    text = answer.text
    assert not any(value in text for value in [*secrets.values(), "fcm-server-key", AUTH_TOKEN])
    assert KEY[1] not in text
    snapshot = answer.json()
    assert "credentials.secret" in snapshot["redacted"]
    assert "credentials.private_key" in snapshot["redacted"]
    for row in snapshot["tables"]["credentials"]:
        assert (row["certificate"], row["private_key"], row["api_key"], row["secret"]) == (
            None,
            None,
            None,
            None,
        )
    imported = account.post("/_chinwag/snapshot", json=snapshot)
    assert imported.status_code == 200, imported.text
    assert len(account.get("/v1/Credentials").json()["credentials"]) == 2


def _form(values: dict[str, str]) -> dict[str, str]:
    return {"Certificate": values["certificate"], "PrivateKey": values["private_key"]} | {
        "Secret": values["secret"]
    }


def _populated(account: httpx.Client) -> dict[str, Any]:
    service = account.get("/v1/Services").json()["services"][0]["sid"]
    base = f"/v1/Services/{service}"
    channel = account.post(f"{base}/Channels", data={"UniqueName": "c"}).json()["sid"]
    account.post(f"{base}/Users", data={"Identity": "alice"})
    account.post(f"{base}/Channels/{channel}/Members", data={"Identity": "alice"})
    account.post(f"{base}/Channels/{channel}/Messages", data={"Body": "hi", "From": "alice"})
    snapshot: dict[str, Any] = account.get("/_chinwag/snapshot").json()
    return snapshot


BAD_ROWS = [
    ("services", "notifications", "garbage", "services[0].notifications is not JSON"),
    ("services", "notifications", '{"new_message": 1}', "services[0].notifications"),
    ("services", "webhooks", '{"on_message_send": {"url": "ftp://x", "method": "POST"}}', ""),
    ("services", "webhook_filters", '["onNothing"]', "unknown name"),
    ("services", "webhook_method", "PUT", "GET, POST"),
    ("services", "typing_indicator_timeout", -1, "seconds"),
    ("services", "friendly_name", "", "FriendlyName"),
    ("services", "date_created", -5, "date"),
    ("services", "default_service_role_sid", "RL" + "0" * 32, "deployment role"),
    ("services", "sid", "not-a-sid", "IS SID"),
    ("roles", "type", "superuser", "role type"),
    ("roles", "permissions", '["launchMissiles"]', "roles[0].permissions"),
    ("roles", "permissions", "{", "not JSON"),
    ("channels", "type", "secret", "public, private"),
    ("channels", "unique_name", "CH" + "1" * 32, "unique"),
    ("channels", "attributes", "{not json", "attributes"),
    ("channels", "service_sid", "IS" + "9" * 32, "not a service of the snapshot"),
    ("users", "identity", "", "identity"),
    ("users", "identity", "system", "reserved"),
    ("members", "channel_sid", "CH" + "2" * 32, "not a channel"),
    ("members", "notification_level", "loud", "default, muted"),
    ("members", "role_sid", "RL" + "3" * 32, "not a role"),
    ("messages", "idx", -1, "message index"),
    ("messages", "body", "x" * 40_000, "at most"),
    ("messages", "media", '{"sid": 1}', "media"),
]


@pytest.mark.parametrize(("table", "column", "value", "message"), BAD_ROWS)
def test_an_import_refuses_rows_the_api_would_never_write(
    account: httpx.Client, table: str, column: str, value: Any, message: str
) -> None:
    snapshot = _populated(account)
    before = account.get("/_chinwag/snapshot").json()
    bad = copy.deepcopy(snapshot)
    bad["tables"][table][0][column] = value
    answer = account.post("/_chinwag/snapshot", json=bad)
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["code"] == 20001 and f"{table}[0]" in body["message"], body
    assert message in body["message"], body
    assert account.get("/_chinwag/snapshot").json() == before  # nothing changed
    service = snapshot["tables"]["services"][0]["sid"]
    assert account.get(f"/v1/Services/{service}").status_code == 200
    assert account.get(f"/v1/Services/{service}/Channels").status_code == 200
