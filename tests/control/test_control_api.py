"""The control API (``/_chinwag/``) through a real server: reset, snapshot, seed, clock.

Data is made and checked with the official twilio SDK (``twilio_client``, contract-checked);
every control response is checked against ``spec/control.yaml`` (``control_contract``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from control_contract import check_request, checking_client, load_spec

import spec_contract
from chinwag.app import open_deps
from chinwag.clock import ControllableClock
from chinwag.config import Settings
from chinwag.storage.schema import metadata
from chinwag.storage.stores import control as control_store
from chinwag.testing.control import ControlError
from chinwag.testing.plugin import ChinwagServer
from chinwag.testing.server import ThreadedServer
from chinwag.testing.webhook_receiver import WebhookReceiver
from conftest import ACCOUNT_SID, AUTH_TOKEN, Databases, sdk_client, start_server

pytestmark = pytest.mark.server
JSON_TYPE = {"Content-Type": "application/json"}


@contextmanager
def running(databases: Databases, **overrides: Any) -> Iterator[ThreadedServer]:
    """A server of its own for a test that needs other settings than the plugin's."""
    srv = start_server(databases, **{"control_api": True, **overrides})
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def control(chinwag_server: ChinwagServer) -> Iterator[httpx.Client]:
    """The plugin server's control API, every answer checked against control.yaml."""
    auth = (chinwag_server.account_sid, chinwag_server.auth_token)
    with checking_client(chinwag_server.url, auth) as client:
        yield client


def _populate(client: Any) -> dict[str, str]:
    """One of everything the REST API can make, through the SDK."""
    chat = client.chat.v1
    service = chat.services.create(friendly_name="populated")
    svc = chat.services(service.sid)
    svc.update(post_webhook_url="http://127.0.0.1:9/hook", webhook_filters=["onMessageSent"])
    role = svc.roles.create(friendly_name="mod", type="channel", permission=["sendMessage"])
    svc.users.create(identity="alice", friendly_name="Alice", attributes='{"a": 1}')
    svc.users.create(identity="bob")
    channel = svc.channels.create(unique_name="general", friendly_name="General")
    ch = svc.channels(channel.sid)
    ch.members.create(identity="alice", role_sid=role.sid)
    ch.invites.create(identity="bob")
    first = ch.messages.create(body="one", from_="alice")
    ch.messages.create(body="two", from_="alice", attributes='{"b": true}')
    ch.messages(first.sid).delete()  # a tombstone
    chat.credentials.create(type="gcm", friendly_name="push", secret="s3cret")
    return {"service": service.sid, "channel": channel.sid}


def _rest_view(server: ChinwagServer, service_sid: str, channel_sid: str) -> dict[str, Any]:
    """What the REST API shows of the populated data (raw JSON, every field)."""
    svc = f"/v1/Services/{service_sid}"
    ch = f"{svc}/Channels/{channel_sid}"
    paths = [svc, f"{svc}/Roles", f"{svc}/Users", f"{svc}/Channels", f"{ch}/Members"]
    paths += [f"{ch}/Invites", f"{ch}/Messages", "/v1/Credentials", f"{svc}/Users/alice/Channels"]
    auth = (server.account_sid, server.auth_token)
    with httpx.Client(base_url=server.url, auth=auth) as http:
        return {path: http.get(path).json() for path in paths}


def test_snapshot_round_trip_restores_what_rest_shows(
    chinwag_server: ChinwagServer, twilio_client: Any, control: httpx.Client
) -> None:
    sids = _populate(twilio_client)
    before = _rest_view(chinwag_server, sids["service"], sids["channel"])
    snapshot = control.get("/_chinwag/snapshot").json()
    assert snapshot["version"] == 1
    assert len(snapshot["tables"]["message_tombstones"]) == 1
    assert not check_request("POST", "/_chinwag/snapshot", snapshot)

    reset = control.post("/_chinwag/reset", json={})
    assert reset.status_code == 200 and reset.json()["deleted_rows"] > 10
    assert twilio_client.chat.v1.services.list() == []
    assert twilio_client.chat.v1.credentials.list() == []

    imported = control.post("/_chinwag/snapshot", json=snapshot)
    assert imported.json() == {"imported_rows": sum(len(r) for r in snapshot["tables"].values())}
    assert control.get("/_chinwag/snapshot").json() == snapshot
    assert _rest_view(chinwag_server, sids["service"], sids["channel"]) == before
    # the restored channel goes on from where it was: indexes are not reused
    svc = twilio_client.chat.v1.services(sids["service"])
    assert svc.channels(sids["channel"]).messages.create(body="three").index == 2


def test_a_snapshot_from_before_the_member_client_fields_imports(
    twilio_client: Any, control: httpx.Client
) -> None:
    """Members of a snapshot without ``notification_level``/``attributes`` (taken before
    migration 0009) import with neither set."""
    _populate(twilio_client)
    snapshot = control.get("/_chinwag/snapshot").json()
    [member] = snapshot["tables"]["members"]
    del member["notification_level"], member["attributes"]
    control.post("/_chinwag/reset", json={})
    assert control.post("/_chinwag/snapshot", json=snapshot).status_code == 200
    [member] = control.get("/_chinwag/snapshot").json()["tables"]["members"]
    assert (member["notification_level"], member["attributes"]) == (None, None)


#: kept tables that belong to no account, so have no rows of one to count
UNSCOPED_KEPT = frozenset({"presence_processes"})


def _account_rows(database: str) -> dict[str, int]:
    """Rows of the account in every table, read through a connection of our own."""

    async def count() -> dict[str, int]:
        async with open_deps(Settings(database=database)) as deps:

            async def read(txn: Any) -> dict[str, int]:
                counts = {}
                for table in metadata.sorted_tables:
                    if table.name in UNSCOPED_KEPT:
                        continue  # kept, and holds no account's rows (process heartbeats)
                    where = "sid = $1" if table.name == "accounts" else control_store.scope(table)
                    row = await txn.fetchone(
                        f"SELECT COUNT(*) AS n FROM {table.name} WHERE {where}", ACCOUNT_SID
                    )
                    counts[table.name] = row["n"]
                return counts

            return await deps.db.run_read("count", read)

    return asyncio.run(count())


def _failing_delivery(srv: ThreadedServer, receiver: WebhookReceiver) -> None:
    """A message whose post-event the receiver answers with 500: a delivery left to retry."""
    client = sdk_client(srv)
    service = client.chat.v1.services.create(friendly_name="s")
    client.chat.v1.services(service.sid).update(
        post_webhook_url=receiver.url("/post"), webhook_filters=["onMessageSent"]
    )
    receiver.reply("/post", status=500)
    ch = client.chat.v1.services(service.sid).channels.create(friendly_name="c")
    with httpx.Client(base_url=srv.url, auth=(ACCOUNT_SID, AUTH_TOKEN)) as http:
        path = f"/v1/Services/{service.sid}/Channels/{ch.sid}/Messages"
        sent = http.post(path, data={"Body": "hi"}, headers={"X-Twilio-Webhook-Enabled": "true"})
        assert sent.status_code == 201
    receiver.wait_for(1)


def test_reset_empties_every_account_table_but_the_account_and_its_keys(
    databases: Databases, receiver: WebhookReceiver
) -> None:
    settings = {"api_key_sid": "SK" + "1" * 32, "api_key_secret": "key-secret"}
    with running(databases, **settings) as srv:
        _failing_delivery(srv, receiver)
        with httpx.Client(base_url=srv.url, auth=(ACCOUNT_SID, AUTH_TOKEN)) as http:
            database = srv.app.api.settings.database
            before = _account_rows(database)
            assert before["webhook_deliveries"] == 1 and before["messages"] == 1
            assert http.post("/_chinwag/reset", json={}).json()["deleted_rows"] == sum(
                n for name, n in before.items() if name not in control_store.KEPT_TABLES
            )
            after = _account_rows(database)
            # the API key still authenticates after the reset
            assert http.get("/v1/Services", auth=(settings["api_key_sid"], "key-secret")).is_success
    assert after == {
        name: before[name] if name in control_store.KEPT_TABLES else 0 for name in after
    }
    assert after["api_keys"] == 1


def test_every_table_is_scoped_or_kept() -> None:
    """A table added later must say how a reset reaches it (or be listed as kept)."""
    for table in metadata.sorted_tables:
        if table.name not in control_store.KEPT_TABLES:
            assert "$1" in control_store.scope(table)


def test_reset_is_fast(twilio_client: Any, control: httpx.Client) -> None:
    """Between tests a reset costs milliseconds, not a restart (a loaded machine: generous)."""
    _populate(twilio_client)
    started = time.perf_counter()
    control.post("/_chinwag/reset", json={})
    assert time.perf_counter() - started < 0.5


def test_seed_creates_through_the_domain(twilio_client: Any, control: httpx.Client) -> None:
    seed = {
        "services": [
            {
                "friendly_name": "Acme",
                "users": [{"identity": "alice", "friendly_name": "Alice"}],
                "channels": [
                    {
                        "unique_name": "general",
                        "friendly_name": "General",
                        "attributes": {"topic": "all"},
                        "members": ["alice", "bob"],
                        "messages": [
                            {"from": "alice", "body": "hello"},
                            {"from": "bob", "body": "hi", "attributes": '{"x": 1}'},
                        ],
                    },
                    {"type": "private", "friendly_name": "secret"},
                ],
            }
        ]
    }
    assert not check_request("POST", "/_chinwag/seed", seed)
    answer = control.post("/_chinwag/seed", json=seed)
    assert answer.status_code == 201
    (created,) = answer.json()["services"]
    svc = twilio_client.chat.v1.services(created["sid"])
    assert svc.fetch().friendly_name == "Acme"
    assert sorted(u.identity for u in svc.users.list()) == ["alice", "bob"]
    assert created["users"] == {"alice": svc.users("alice").fetch().sid}
    general = svc.channels(created["channels"]["general"])
    assert general.fetch().attributes == '{"topic":"all"}'
    assert [(m._from, m.body) for m in general.messages.list()] == [
        ("alice", "hello"),
        ("bob", "hi"),
    ]
    private = svc.channels.list(type=["private"])
    assert [c.friendly_name for c in private] == ["secret"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "The seed must be an object"),
        ({"services": {}}, "seed.services must be a list"),
        ({"services": [{}]}, "services[0].friendly_name must be a string"),
        ({"services": [{"friendly_name": "s", "users": [{}]}]}, "users[0].identity"),
        ({"services": [{"friendly_name": "s", "channels": [{"type": "x"}]}]}, "public or private"),
        ({"services": [{"friendly_name": "s", "channels": [{"members": [1]}]}]}, "members[0]"),
        ({"services": [{"friendly_name": "s", "channels": [{"attributes": 1}]}]}, "attributes"),
        ({"services": [{"friendly_name": "s", "channels": [{"messages": [{}]}]}]}, "body"),
        ({"services": [{"friendly_name": "a\u0000b"}]}, "contains a NUL character"),
        ({"services": [{"friendly_name": "s", "channels": [{"members": ["\u0000"]}]}]}, "NUL"),
    ],
)
def test_seed_refuses_bad_entries(control: httpx.Client, body: Any, message: str) -> None:
    answer = control.post("/_chinwag/seed", json=body)
    assert answer.status_code == 400
    assert message in answer.json()["message"]


def test_seed_keeps_domain_rules(control: httpx.Client) -> None:
    """The seed goes through the domain: a rule the REST API enforces holds here too."""
    long_name = {"services": [{"friendly_name": "x" * 300}]}
    answer = control.post("/_chinwag/seed", json=long_name)
    assert answer.status_code == 400 and answer.json()["code"] != 20001


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{", "The body must be a JSON document"),
        (b"[]", "version 1"),
        (b'{"version": 2, "tables": {}}', "version 1"),
        (b'{"version": 1, "tables": []}', "object of tables"),
        (b'{"version": 1, "tables": {"nope": []}}', "Unknown table nope"),
        (b'{"version": 1, "tables": {"services": {}}}', "list of rows"),
        (b'{"version": 1, "tables": {"services": [1]}}', "must be an object"),
        (b'{"version": 1, "tables": {"services": [{"x": 1}]}}', "Unknown column services.x"),
        (b'{"version": 1, "tables": {"services": [{}]}}', "Missing value for services."),
    ],
)
def test_import_refuses_bad_snapshots(control: httpx.Client, body: bytes, message: str) -> None:
    answer = control.post("/_chinwag/snapshot", content=body, headers=JSON_TYPE)
    assert answer.status_code == 400
    assert message in answer.json()["message"]


def test_import_checks_types_and_keeps_state_on_conflict(
    twilio_client: Any, control: httpx.Client
) -> None:
    twilio_client.chat.v1.services.create(friendly_name="kept")
    snapshot = control.get("/_chinwag/snapshot").json()
    service = dict(snapshot["tables"]["services"][0])
    wrong = {"version": 1, "tables": {"services": [{**service, "read_status_enabled": 1}]}}
    answer = control.post("/_chinwag/snapshot", json=wrong)
    assert answer.status_code == 400 and "must be of type bool" in answer.json()["message"]
    for column, value, message in [
        ("date_created", 2**63, "out of range"),
        ("limit_user_channels", 2**31, "out of range"),
        ("friendly_name", "nul\u0000", "NUL character"),
    ]:
        bad = {"version": 1, "tables": {"services": [{**service, column: value}]}}
        answer = control.post("/_chinwag/snapshot", json=bad)
        assert answer.status_code == 400 and message in answer.json()["message"]
    roles = snapshot["tables"]["roles"]
    twice = {"version": 1, "tables": {"services": [service, service], "roles": roles}}
    assert control.post("/_chinwag/snapshot", json=twice).status_code == 409
    assert [s.friendly_name for s in twilio_client.chat.v1.services.list()] == ["kept"]


def test_clock_is_set_advanced_and_reset(
    chinwag_server: ChinwagServer, control: httpx.Client
) -> None:
    clock = control.get("/_chinwag/clock").json()
    assert clock["controllable"] is True
    assert abs(clock["now_ms"] - time.time() * 1000) < 60_000
    assert control.post("/_chinwag/clock", json={"now_ms": 1_000_000}).json()["now_ms"] >= 1_000_000
    moved = control.post("/_chinwag/clock", json={"advance_ms": 3_600_000}).json()["now_ms"]
    assert 4_600_000 <= moved < 4_700_000
    control.post("/_chinwag/reset", json={})
    assert abs(control.get("/_chinwag/clock").json()["now_ms"] - time.time() * 1000) < 60_000


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "exactly one of now_ms and advance_ms"),
        ({"now_ms": 1, "advance_ms": 1}, "exactly one"),
        ({"now_ms": "soon"}, "now_ms must be an integer"),
        ({"advance_ms": True}, "advance_ms must be an integer"),
        ({"now_ms": -1}, "between 1970 and the end of 9999"),
        ({"now_ms": 10**17}, "between 1970"),
        ({"advance_ms": -(10**15)}, "between 1970"),
        ([1], "The body must be an object"),
    ],
)
def test_clock_refuses_bad_changes(control: httpx.Client, body: Any, message: str) -> None:
    answer = control.post("/_chinwag/clock", json=body)
    assert answer.status_code == 400 and message in answer.json()["message"]


def test_webhook_retries_follow_the_controllable_clock(
    databases: Databases, receiver: WebhookReceiver
) -> None:
    """A retry due in an hour goes out as soon as the clock is advanced by an hour."""
    with running(databases, clock=ControllableClock(), webhook_retry_base=3600) as srv:
        _failing_delivery(srv, receiver)
        with httpx.Client(base_url=srv.url, auth=(ACCOUNT_SID, AUTH_TOKEN)) as http:
            receiver.reply("/post", status=200)
            time.sleep(0.3)
            assert len(receiver.records) == 1  # the retry is an hour away
            http.post("/_chinwag/clock", json={"advance_ms": 3_600_000})
            receiver.wait_for(2)


def test_clock_control_is_refused_on_the_system_clock(databases: Databases) -> None:
    with (
        running(databases) as srv,
        checking_client(srv.url, (ACCOUNT_SID, AUTH_TOKEN)) as control,
    ):
        assert control.get("/_chinwag/clock").json()["controllable"] is False
        answer = control.post("/_chinwag/clock", json={"advance_ms": 1})
        assert answer.status_code == 400
        assert "--clock controllable" in answer.json()["message"]


def test_control_api_off_is_404_in_twilio_json(databases: Databases) -> None:
    with (
        running(databases, control_api=False) as srv,
        httpx.Client(base_url=srv.url, auth=(ACCOUNT_SID, AUTH_TOKEN)) as http,
    ):
        for method, path in [("POST", "/_chinwag/reset"), ("GET", "/_chinwag/clock")]:
            answer = http.request(method, path)
            assert answer.status_code == 404
            assert not spec_contract.check_exchange(method, path, 404, answer.text)


def test_control_api_needs_the_account_credentials(chinwag_server: ChinwagServer) -> None:
    with checking_client(chinwag_server.url, None) as anonymous:
        for method, path in [("POST", "/_chinwag/reset"), ("GET", "/_chinwag/snapshot")]:
            assert anonymous.request(method, path).status_code == 401


def test_every_control_route_is_in_the_document() -> None:
    from chinwag.http.control import CONTROL_ROUTES

    documented = {
        (method.upper(), path, op["operationId"])
        for path, item in load_spec()["paths"].items()
        for method, op in item.items()
    }
    assert {(r.method, r.path, r.name) for r in CONTROL_ROUTES} == documented


def test_the_control_client_drives_every_endpoint(chinwag_server: ChinwagServer) -> None:
    control = chinwag_server.control
    (created,) = control.seed({"services": [{"friendly_name": "via client"}]})
    snapshot = control.export_snapshot()
    assert [s["sid"] for s in snapshot["tables"]["services"]] == [created["sid"]]
    assert control.reset() > 0
    assert control.import_snapshot(snapshot) == sum(map(len, snapshot["tables"].values()))
    assert control.export_snapshot() == snapshot
    assert control.clock()["controllable"] is True
    with pytest.raises(ControlError) as refused:
        control.import_snapshot({"version": 99})
    assert refused.value.status == 400 and refused.value.body["code"] == 20001
