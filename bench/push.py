"""Pushes per second one process sends: a message to a channel of N members, each with one
device, fanned out by the push dispatcher and sent to a fake FCM or APNs on loopback (real
TLS and HTTP/2). Measures the dispatcher from the queued event to the last recorded outcome.

    python bench/push.py                    # 1,000 members, FCM then APNs, SQLite
    python bench/push.py --members 200 --database postgresql://postgres@127.0.0.1:5432/cw_bench

A PostgreSQL URL must name an empty, existing database. Bounded: one message per provider.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from chinwag.clock import SystemClock
from chinwag.domain import channels, credentials, members, messages, services
from chinwag.domain.deps import Caller, Deps
from chinwag.events.local import LocalBus
from chinwag.model.events import API_ACTOR
from chinwag.push.dispatcher import PushDispatcher, PushDispatchSettings
from chinwag.push.providers import Providers, ProviderSettings
from chinwag.sids import SidGenerator
from chinwag.storage import migrate
from chinwag.storage.database import Database, Txn
from chinwag.storage.engines import create_engine
from chinwag.storage.stores import push_outbox as store
from chinwag.testing.certificates import CertificateAuthority
from chinwag.testing.fake_apns import FakeApns
from chinwag.testing.fake_fcm import FakeFcm

ADMIN = Caller("AC" + "0" * 32, API_ACTOR)
TYPES = '["twilio.channel.new_message"]'


async def bench(url: str, count: int, ca_file: str, fcm: FakeFcm, apns: FakeApns) -> None:
    deps = Deps(Database(create_engine(url)), SystemClock(), SidGenerator(), LocalBus())
    await deps.db.open()
    on = services.NotificationChange(True)
    service = await services.create_service(deps, ADMIN, services.CreateService("bench"))
    await services.update_service(
        deps,
        ADMIN,
        service.sid,
        services.UpdateService(limit_channel_members=1000, notifications={"new_message": on}),
    )
    channel = await channels.create_channel(deps, ADMIN, service.sid, channels.CreateChannel())
    cert = apns.client_certificate("com.example.bench")
    fcm_cred = await credentials.create_credential(
        deps, ADMIN, credentials.CreateCredential("fcm", secret=fcm.service_account().json)
    )
    apn_cred = await credentials.create_credential(
        deps,
        ADMIN,
        credentials.CreateCredential(
            "apn", certificate=cert.certificate, private_key=cert.private_key
        ),
    )
    for i in range(count):
        await members.create_member(
            deps, ADMIN, service.sid, channel.sid, members.CreateMember(f"user-{i:05}")
        )
    providers = Providers(ProviderSettings(fcm_url=fcm.url, apns_url=apns.url, ca_file=ca_file))
    dispatcher = PushDispatcher(deps.db, deps.clock, providers, PushDispatchSettings())
    try:
        for channel_type, credential in (("fcm", fcm_cred.sid), ("apn", apn_cred.sid)):

            async def register(
                txn: Txn, channel_type: str = channel_type, credential: str = credential
            ) -> None:
                await txn.execute("DELETE FROM push_registrations")
                for i in range(count):
                    address = f"{i:064x}"
                    await txn.execute(
                        "INSERT INTO push_registrations (sid, account_sid, service_sid, "
                        "identity, channel_type, address, endpoint, message_types, "
                        "credential_sid, date_created, date_updated) "
                        "VALUES ($1, $2, $3, $4, $5, $6, 'web', $7, $8, 0, 0)",
                        f"BS{channel_type}{i:030x}",
                        ADMIN.account_sid,
                        service.sid,
                        f"user-{i:05}",
                        channel_type,
                        address,
                        TYPES,
                        credential,
                    )

            await deps.db.run_in_txn("bench_register", register)
            message = await messages.send_message(
                deps, ADMIN, service.sid, channel.sid, messages.CreateMessage(body="hello")
            )
            event = store.NewPushEvent(
                ADMIN.account_sid,
                service.sid,
                "new_message",
                channel.sid,
                "system",
                message_sid=message.sid,
                message_index=message.index,
                body=message.body,
            )
            await deps.db.run_in_txn(
                "bench_event", store.insert_event_txn, event, deps.clock.now_ms()
            )
            started = time.perf_counter()
            while await dispatcher.run_once():
                pass
            elapsed = time.perf_counter() - started
            delivered = len(fcm.delivered()) if channel_type == "fcm" else len(apns.delivered())
            print(
                f"{channel_type}: {delivered} pushes in {elapsed:.2f} s = "
                f"{delivered / elapsed:.0f} pushes/s"
            )
    finally:
        await dispatcher.stop()
        await deps.db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1000, help="at most 1000 (1,000)")
    parser.add_argument("--database", help="default: a new SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        url = args.database or f"sqlite:///{directory}/bench.db"
        migrate.upgrade(url)
        ca = CertificateAuthority()
        ca_file = str(ca.write(Path(directory) / "ca.pem"))
        with FakeFcm(ca) as fcm, FakeApns(ca) as apns:
            asyncio.run(bench(url, args.members, ca_file, fcm, apns))


if __name__ == "__main__":
    main()
