"""The Database, not the domain, decides how a unit of work runs: a unit declared a single
statement runs without BEGIN/COMMIT where the engine allows, and as a transaction elsewhere or
whenever the outbox must commit with it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from typing import Any

import httpx
import pytest

from chinwag.storage.database import Database, NotSingleStatementError, Txn, single_statement
from chinwag.storage.engines import TransactionScope, create_engine
from chinwag.testing import ThreadedServer
from chinwag.testing.webhook_receiver import WebhookReceiver
from conftest import ACCOUNT_SID, AUTH_TOKEN, Databases, start_server

pytestmark = pytest.mark.server


def spy_on_single(database: Database) -> list[tuple[str, bool]]:
    """Record the name and the ``single`` flag of every write scope the Database opens."""
    engine = database.engine
    opened: list[tuple[str, bool]] = []
    unit: ContextVar[str] = ContextVar("unit")
    run_in_txn, transaction = database.run_in_txn, engine.transaction

    async def named(desc: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        unit.set(desc)  # the Database runs the unit in this task, so the engine sees it
        return await run_in_txn(desc, fn, *args, **kwargs)

    def spied(*, write: bool, single: bool = False) -> TransactionScope:
        if write:
            opened.append((unit.get("?"), single))
        return transaction(write=write, single=single)

    database.run_in_txn = named  # type: ignore[method-assign]
    engine.transaction = spied  # type: ignore[method-assign]
    return opened


def _on_database(databases: Databases, scenario: Callable[[Database], Awaitable[Any]]) -> Any:
    url = databases.new()

    async def run() -> Any:
        database = Database(create_engine(url))
        await database.open()
        try:
            await database.run_in_txn("create", _execute, "CREATE TABLE t (x TEXT)")
            return await scenario(database)
        finally:
            await database.close()

    return asyncio.run(run())


async def _execute(txn: Txn, sql: str, *args: Any) -> None:
    await txn.execute(sql, *args)


async def _rows(txn: Txn) -> list[str]:
    return sorted(row[0] for row in await txn.fetchall("SELECT x FROM t"))


def test_a_declared_unit_runs_without_a_transaction_where_the_engine_allows(
    databases: Databases,
) -> None:
    async def scenario(database: Database) -> tuple[bool, list[tuple[str, bool]], list[str]]:
        opened = spy_on_single(database)

        @single_statement
        async def insert(txn: Txn) -> None:
            await txn.execute("INSERT INTO t (x) VALUES ($1)", "one")

        await database.run_in_txn("insert", insert)
        await database.run_in_txn("insert", _execute, "INSERT INTO t (x) VALUES ($1)", "two")
        return opened, await database.run_read("rows", _rows)

    opened, rows = _on_database(databases, scenario)
    assert opened == [("insert", True), ("insert", False)]  # the engine learns of the declaration
    assert rows == ["one", "two"]


def test_a_declared_unit_cannot_run_a_second_statement_where_it_runs_alone(
    databases: Databases,
) -> None:
    async def scenario(database: Database) -> tuple[bool, str | list[str]]:
        @single_statement
        async def two(txn: Txn) -> None:
            await txn.execute("INSERT INTO t (x) VALUES ($1)", "first")
            await txn.execute("INSERT INTO t (x) VALUES ($1)", "second")

        single = database.engine.single_statement_writes
        try:
            await database.run_in_txn("two", two)
        except NotSingleStatementError:
            return single, "refused"
        return single, await database.run_read("rows", _rows)

    single, outcome = _on_database(databases, scenario)
    if single:
        assert outcome == "refused"  # the second statement never ran outside the first's txn
    else:
        assert outcome == ["first", "second"]  # an ordinary transaction: the declaration is moot


@pytest.fixture
def no_push_server(databases: Databases) -> Iterator[ThreadedServer]:
    srv = start_server(databases, push_enabled=False)
    yield srv
    srv.stop()


def test_message_create_is_one_statement_unless_its_post_event_joins_it(
    no_push_server: ThreadedServer, receiver: WebhookReceiver
) -> None:
    """With push delivery off; with it on, see the next test."""
    fresh_server = no_push_server
    database = fresh_server.app.deps.db
    with httpx.Client(base_url=fresh_server.url, auth=(ACCOUNT_SID, AUTH_TOKEN)) as http:
        service = http.post("/v1/Services", data={"FriendlyName": "s"}).json()["sid"]
        hooks = {"PostWebhookUrl": receiver.url("/post"), "WebhookFilters": "onMessageSent"}
        assert http.post(f"/v1/Services/{service}", data=hooks).status_code == 200
        messages = f"/v1/Services/{service}/Channels/room/Messages"
        http.post(f"/v1/Services/{service}/Channels", data={"UniqueName": "room"})
        opened = spy_on_single(database)

        assert http.post(messages, data={"Body": "plain"}).status_code == 201
        assert [o for o in opened if o[0] == "send_message"] == [("send_message", True)]
        # X-Twilio-Webhook-Enabled: the post-event's outbox row must commit with the message
        fire = {"X-Twilio-Webhook-Enabled": "true"}
        assert http.post(messages, data={"Body": "hooked"}, headers=fire).status_code == 201
        assert [o for o in opened if o[0] == "send_message"] == [
            ("send_message", True),
            ("send_message", False),
        ]
    assert [r.params["Body"] for r in receiver.wait_for(1)] == ["hooked"]


def test_with_push_delivery_on_a_create_is_single_unless_its_service_pushes_new_messages(
    fresh_server: ThreadedServer,
) -> None:
    """A new message may notify phones. One statement cannot first read whether the Service
    pushes new messages, so that is read just before the transaction: a Service that does not
    keeps the create a single statement; one that does makes it a transaction on PostgreSQL,
    where the push row must commit with the message. SQLite writes the row inside a declared
    unit as usual."""
    database = fresh_server.app.deps.db
    with httpx.Client(base_url=fresh_server.url, auth=(ACCOUNT_SID, AUTH_TOKEN)) as http:
        service = http.post("/v1/Services", data={"FriendlyName": "s"}).json()["sid"]
        http.post(f"/v1/Services/{service}/Channels", data={"UniqueName": "room"})
        opened = spy_on_single(database)
        messages = f"/v1/Services/{service}/Channels/room/Messages"
        assert http.post(messages, data={"Body": "plain"}).status_code == 201
        enable = {"Notifications.NewMessage.Enabled": "true"}
        assert http.post(f"/v1/Services/{service}", data=enable).status_code == 200
        assert http.post(messages, data={"Body": "pushed"}).status_code == 201
    one_statement = database.engine.single_statement_writes
    assert [o for o in opened if o[0] == "send_message"] == [
        ("send_message", True),
        ("send_message", not one_statement),
    ]
    # that the push row is written exactly then: tests/push/test_outbox.py
