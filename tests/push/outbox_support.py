"""A chat world for push-outbox tests: a real database, the domain's own operations, and the
push outbox as the domain's push queue (``Deps.pushes``), as the app wires it."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from chinwag.clock import FakeClock
from chinwag.domain import (
    channels,
    credentials,
    members,
    messages,
    push_registrations,
    services,
    users,
)
from chinwag.domain.deps import Caller, Deps
from chinwag.events.local import LocalBus
from chinwag.model.events import API_ACTOR, Actor
from chinwag.push.dispatcher import PushDispatcher, PushDispatchSettings
from chinwag.push.outbox import PushOutbox
from chinwag.push.providers import Providers, ProviderSettings
from chinwag.push.templates import MESSAGE_TYPES
from chinwag.sids import SidGenerator
from chinwag.storage.database import Database, Txn
from chinwag.storage.engines import create_engine
from chinwag.testing.fake_apns import FakeApns
from chinwag.testing.fake_fcm import FakeFcm

#: the account of these worlds (the server-side account row is not needed here)
ACCOUNT_SID = "AC" + "5" * 32
ADMIN = Caller(ACCOUNT_SID, API_ACTOR)
ALL_TYPES = (*MESSAGE_TYPES.values(), "twilio.channel.consumption_update")


@dataclass
class World:
    deps: Deps
    url: str
    clock: FakeClock
    fcm: FakeFcm
    apns: FakeApns
    ca_file: str
    service: str = ""
    channel: str = ""
    fcm_credential: str = ""
    apn_credential: str = ""
    removed: list[tuple[str, str]] = field(default_factory=list)
    dispatchers: list[PushDispatcher] = field(default_factory=list)

    def caller(self, identity: str) -> Caller:
        return Caller(ACCOUNT_SID, Actor("SDK", identity))

    async def dispatcher(self, *, own_database: bool = False, **settings: Any) -> PushDispatcher:
        """A push dispatcher (not started: tests step it with ``run_once``). ``own_database``:
        on its own connections, as another server process would be."""
        db = self.deps.db
        if own_database:
            db = Database(create_engine(self.url))
            await db.open()

        async def removed(txn: Txn, service_sid: str, identity: str) -> None:
            self.removed.append((service_sid, identity))

        providers = Providers(
            ProviderSettings(fcm_url=self.fcm.url, apns_url=self.apns.url, ca_file=self.ca_file)
        )
        dispatcher = PushDispatcher(
            db,
            self.clock,
            providers,
            dataclasses.replace(PushDispatchSettings(), **settings),
            registration_removed=removed,
        )
        self.dispatchers.append(dispatcher)
        return dispatcher

    async def enable(
        self, *, sound: str | None = None, badge: bool = False, **templates: str | None
    ) -> None:
        """Turn every notification kind on, with the templates given by kind, v2's ``Sound``
        for every kind and ``BadgeCountEnabled`` for new messages."""
        changes = {
            kind: services.NotificationChange(
                True, templates.get(kind), sound, badge if kind == "new_message" else False
            )
            for kind in MESSAGE_TYPES
        }
        await services.update_service(
            self.deps, ADMIN, self.service, services.UpdateService(notifications=changes)
        )

    async def register(
        self,
        identity: str,
        channel_type: str,
        address: str,
        *,
        types: tuple[str, ...] = ALL_TYPES,
        credential: str | bool | None = True,
    ) -> str:
        """A device of ``identity``; ``credential`` True: the world's credential of its kind."""
        if credential is True:
            credential = self.apn_credential if channel_type == "apn" else self.fcm_credential
        registration = await push_registrations.register(
            self.deps,
            self.caller(identity),
            self.service,
            identity,
            push_registrations.Register(channel_type, address, "web", types),
            credential_sid=credential or None,
        )
        return registration.sid

    async def count(self, table: str, where: str = "1 = 1") -> int:
        async def read(txn: Txn) -> int:
            row = await txn.fetchone(f"SELECT COUNT(*) AS n FROM {table} WHERE {where}")
            return 0 if row is None else int(row["n"])

        return await self.deps.db.run_read("test_count", read)

    async def states(self) -> list[tuple[str, str, str | None]]:
        """(identity, state, last_error) of every push delivery, in id order."""

        async def read(txn: Txn) -> list[tuple[str, str, str | None]]:
            rows = await txn.fetchall(
                "SELECT identity, state, last_error FROM push_deliveries ORDER BY id"
            )
            return [(r["identity"], r["state"], r["last_error"]) for r in rows]

        return await self.deps.db.run_read("test_states", read)


async def send(w: World, author: str, body: str) -> None:
    """``author`` sends ``body`` to the world's channel."""
    await messages.send_message(
        w.deps, w.caller(author), w.service, w.channel, messages.CreateMessage(body=body)
    )


async def _service_admin_role(deps: Deps, service_sid: str) -> str:
    async def read(txn: Txn) -> str:
        row = await txn.fetchone(
            "SELECT sid FROM roles WHERE service_sid = $1 AND friendly_name = 'service admin'",
            service_sid,
        )
        assert row is not None
        return str(row["sid"])

    return await deps.db.run_read("test_role", read)


@asynccontextmanager
async def world(url: str, fcm: FakeFcm, apns: FakeApns, ca_file: str) -> AsyncIterator[World]:
    """alice (a service admin, friendly name "Alice"), bob, carol, dave and erin in channel
    ``general`` of a fresh Service, an FCM and an APNs credential; no notification enabled."""
    clock = FakeClock()
    dispatch: list[PushDispatcher] = []  # the world's dispatchers, woken after each commit

    def wake() -> None:
        for d in dispatch:
            d.wake()

    outbox = PushOutbox(clock, wake)
    deps = Deps(Database(create_engine(url)), clock, SidGenerator(), LocalBus(), pushes=outbox)
    await deps.db.open()
    w = World(deps, url, clock, fcm, apns, ca_file, dispatchers=dispatch)
    try:
        w.service = (await services.create_service(deps, ADMIN, services.CreateService("s"))).sid
        admin_role = await _service_admin_role(deps, w.service)
        for identity in ("alice", "bob", "carol", "dave", "erin"):
            friendly, role = ("Alice", admin_role) if identity == "alice" else (None, None)
            await users.create_user(
                deps, ADMIN, w.service, users.CreateUser(identity, role, friendly_name=friendly)
            )
        channel = await channels.create_channel(
            deps, ADMIN, w.service, channels.CreateChannel("General chat", "general")
        )
        w.channel = channel.sid
        for identity in ("alice", "bob", "carol", "dave", "erin"):
            await members.create_member(
                deps, ADMIN, w.service, w.channel, members.CreateMember(identity)
            )
        account = fcm.service_account()
        cert = apns.client_certificate("com.example.chat")
        w.fcm_credential = (
            await credentials.create_credential(
                deps, ADMIN, credentials.CreateCredential("fcm", secret=account.json)
            )
        ).sid
        w.apn_credential = (
            await credentials.create_credential(
                deps,
                ADMIN,
                credentials.CreateCredential(
                    "apn", certificate=cert.certificate, private_key=cert.private_key
                ),
            )
        ).sid
        yield w
    finally:
        for d in w.dispatchers:
            await d.stop()
            if d.db is not deps.db:
                await d.db.close()
        await deps.db.close()
