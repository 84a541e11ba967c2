"""Two figures of push delivery, each against a fake FCM and APNs on loopback (real TLS and
HTTP/2):

1. Pushes per second one process sends: a message to a channel of N members, each with one
   device, fanned out by the push dispatcher. Measured from the queued event to the last
   recorded outcome, with the CPU time of the dispatcher's thread apart from the fakes'
   (which run in this process and take their share of the interpreter).
2. The REST message-create rate of a ``chinwag serve`` process with push on, over the same with
   push off (``--push-enabled false``): wrk posts to a channel of ``--rest-members`` members,
   each with an FCM device, so with push on every create also queues a push event that the
   server's own dispatcher expands into ``rest-members - 1`` pushes and sends, in the same
   process, while wrk keeps posting. The goal is at least 0.8. Rounds alternate on/off; the
   ratio is of the medians.

    python bench/push.py                    # 1,000 members, FCM then APNs, SQLite; the ratio
    python bench/push.py --members 200 --database postgresql://postgres@127.0.0.1:5432/cw_bench

A PostgreSQL URL must name an empty, existing database (it is used for the first figure; the
REST servers use SQLite files). Needs ``wrk`` on the PATH for the second figure.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from chinwag.clock import SystemClock
from chinwag.domain import channels, credentials, members, messages, push_registrations, services
from chinwag.domain.deps import Caller, Deps
from chinwag.events.local import LocalBus
from chinwag.model.events import API_ACTOR, Actor
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
#: the account the REST servers serve
ACCOUNT_SID, AUTH_TOKEN = "AC" + "b" * 32, "c" * 32


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
            cpu, own_cpu = time.process_time(), time.thread_time()
            while await dispatcher.run_once():
                pass
            elapsed = time.perf_counter() - started
            own_cpu = time.thread_time() - own_cpu  # the dispatcher's thread
            fakes_cpu = time.process_time() - cpu - own_cpu  # the fake providers' threads
            delivered = len(fcm.delivered()) if channel_type == "fcm" else len(apns.delivered())
            print(
                f"{channel_type}: {delivered} pushes in {elapsed:.2f} s = "
                f"{delivered / elapsed:.0f} pushes/s; CPU: dispatcher {own_cpu:.2f} s "
                f"({delivered / own_cpu:.0f} pushes per CPU second), other threads (the fakes) "
                f"{fakes_cpu:.2f} s"
            )
    finally:
        await dispatcher.stop()
        await deps.db.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RestServer:
    """``chinwag serve`` on its own SQLite file, push on or off, set up for the load: a
    service with new-message pushes on, an FCM credential, a channel of ``members`` members
    each with one FCM device."""

    def __init__(self, directory: str, push: bool, members: int, ca_file: str, fcm: FakeFcm):
        self.database = f"sqlite:///{directory}/rest-{'on' if push else 'off'}.db"
        migrate.upgrade(self.database)
        self.url = f"http://127.0.0.1:{_free_port()}"
        env = {**os.environ, "CHINWAG_ACCOUNT_SID": ACCOUNT_SID, "CHINWAG_AUTH_TOKEN": AUTH_TOKEN}
        self.proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "chinwag.cli", "serve", "--database", self.database),
                *("--port", self.url.rsplit(":", 1)[1], "--log-level", "warning"),
                *("--push-enabled", "true" if push else "false", "--push-fcm-url", fcm.url),
                *("--push-ca-file", ca_file),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        self.http = httpx.Client(base_url=self.url, auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=30)
        deadline = time.monotonic() + 30
        while True:
            try:
                if self.http.get("/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        self.service = self._create("/v1/Services", FriendlyName="bench")
        s = f"/v1/Services/{self.service}"
        self.http.post(s, data={"Notifications.NewMessage.Enabled": "true"})
        account = fcm.service_account(f"bench-{'on' if push else 'off'}")
        credential = self._create("/v1/Credentials", Type="fcm", Secret=account.json)
        self.channel = self._create(f"{s}/Channels", UniqueName="bench")
        for i in range(members):
            self._create(f"{s}/Channels/{self.channel}/Members", Identity=f"user-{i}")
        asyncio.run(self._register(members, credential))

    def _create(self, path: str, **form: str) -> str:
        response = self.http.post(path, data=form)
        assert response.status_code == 201, response.text
        return str(response.json()["sid"])

    async def _register(self, members: int, credential: str) -> None:
        deps = Deps(
            Database(create_engine(self.database)), SystemClock(), SidGenerator(), LocalBus()
        )
        await deps.db.open()
        try:
            for i in range(members):
                identity = f"user-{i}"
                await push_registrations.register(
                    deps,
                    Caller(ACCOUNT_SID, Actor("SDK", identity)),
                    self.service,
                    identity,
                    push_registrations.Register(
                        "fcm", f"fcm-{i}", "web", ("twilio.channel.new_message",)
                    ),
                    credential_sid=credential,
                )
        finally:
            await deps.db.close()

    def wrk(self, seconds: float, lua: Path) -> float:
        """Creates per second over ``seconds`` (wrk, 1 thread, 16 connections)."""
        path = f"/v1/Services/{self.service}/Channels/{self.channel}/Messages"
        done = subprocess.run(
            ["wrk", "-t1", "-c16", f"-d{seconds:g}s", "-s", str(lua), self.url + path],
            capture_output=True,
            text=True,
            check=True,
        )
        assert "Non-2xx" not in done.stdout, done.stdout
        found = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
        assert found, done.stdout
        return float(found.group(1))

    def stop(self) -> None:
        self.http.close()
        self.proc.terminate()
        self.proc.wait(30)


def rest_ratio(
    directory: str, members: int, rounds: int, seconds: float, ca_file: str, fcm: FakeFcm
) -> None:
    lua = Path(directory) / "create.lua"
    auth = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    lua.write_text(
        'wrk.method = "POST"\n'
        'wrk.body = "From=user-0&Body=hello"\n'
        'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
        f'wrk.headers["Authorization"] = "Basic {auth}"\n'
    )
    on = RestServer(directory, True, members, ca_file, fcm)
    off = RestServer(directory, False, members, ca_file, fcm)
    try:
        rates: dict[str, list[float]] = {"on": [], "off": []}
        for _ in range(rounds):
            for name, server in (("on", on), ("off", off)):
                before = len(fcm.delivered())
                rates[name].append(server.wrk(seconds, lua))
                if name == "on":
                    time.sleep(1.0)  # the last pushes of the round
                    print(
                        f"  push on: {rates['on'][-1]:.0f} creates/s, "
                        f"{len(fcm.delivered()) - before} pushes delivered during the round"
                    )
                else:
                    print(f"  push off: {rates['off'][-1]:.0f} creates/s")
        median_on, median_off = statistics.median(rates["on"]), statistics.median(rates["off"])
        print(
            f"REST create, {members} members with a device: push on {median_on:.0f}/s, "
            f"off {median_off:.0f}/s, ratio {median_on / median_off:.3f} (goal >= 0.8)"
        )
    finally:
        on.stop()
        off.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1000, help="at most 1000 (1,000)")
    parser.add_argument("--database", help="default: a new SQLite file")
    parser.add_argument(
        "--rest-members", type=int, default=10, help="channel size of the REST figure (10)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="on/off rounds (3)")
    parser.add_argument("--seconds", type=float, default=5.0, help="each wrk run (5)")
    parser.add_argument("--skip-rest", action="store_true", help="only the pushes/s figure")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        url = args.database or f"sqlite:///{directory}/bench.db"
        migrate.upgrade(url)
        ca = CertificateAuthority()
        ca_file = str(ca.write(Path(directory) / "ca.pem"))
        with FakeFcm(ca) as fcm, FakeApns(ca) as apns:
            asyncio.run(bench(url, args.members, ca_file, fcm, apns))
            if not args.skip_rest:
                fcm.reset()
                rest_ratio(directory, args.rest_members, args.rounds, args.seconds, ca_file, fcm)


if __name__ == "__main__":
    main()
