"""``--push-enabled false``: a server queues no push and starts no sender; registrations and
credentials are still stored, and the Bindings show them."""

from __future__ import annotations

import httpx
import pytest

from chinwag.domain import push_registrations
from chinwag.domain.deps import Caller, Deps
from chinwag.model.events import Actor
from chinwag.storage.database import Txn
from conftest import ACCOUNT_SID, AUTH_TOKEN, Databases, start_server
from realtime.client_support import on_database

pytestmark = pytest.mark.server


def test_a_server_with_push_off_queues_nothing(databases: Databases) -> None:
    server = start_server(databases, push_enabled=False)
    database = server.app.api.settings.database
    try:
        assert server.app.push._task is None  # the sender was not started
        with httpx.Client(base_url=server.url, auth=(ACCOUNT_SID, AUTH_TOKEN)) as http:
            service = http.post("/v1/Services", data={"FriendlyName": "s"}).json()["sid"]
            s = f"/v1/Services/{service}"
            http.post(s, data={"Notifications.NewMessage.Enabled": "true"})
            channel = http.post(f"{s}/Channels", data={"UniqueName": "c"}).json()["sid"]
            for identity in ("alice", "bob"):
                http.post(f"{s}/Channels/{channel}/Members", data={"Identity": identity})

            async def register(deps: Deps) -> None:
                await push_registrations.register(
                    deps,
                    Caller(ACCOUNT_SID, Actor("SDK", "bob")),
                    service,
                    "bob",
                    push_registrations.Register("fcm", "fcm-bob", "web", ()),
                )

            on_database(database, register)
            sent = http.post(
                f"{s}/Channels/{channel}/Messages", data={"From": "alice", "Body": "x"}
            )
            assert sent.status_code == 201
            bindings = http.get(f"/v2/Services/{service}/Bindings").json()["bindings"]
            assert [b["identity"] for b in bindings] == ["bob"]

        async def queued(deps: Deps) -> int:
            async def count(txn: Txn) -> int:
                row = await txn.fetchone("SELECT COUNT(*) AS n FROM push_events")
                return 0 if row is None else int(row["n"])

            return await deps.db.run_read("count", count)

        assert on_database(database, queued) == 0
    finally:
        server.stop()
