"""How long ``POST /_chinwag/reset`` takes: the cost the pytest plugin adds to every test.

Starts a chinwag in-process on the given database (a new SQLite file by default; a PostgreSQL
URL must name an empty, existing database), times 30 resets of an empty account, then 30
resets each after seeding a small account (1 service, 5 users, 3 channels, 15 messages).
Runs in a few seconds.

    python bench/reset.py
    python bench/reset.py --database postgresql://postgres@127.0.0.1:5432/cw_bench
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import httpx

from chinwag.app import create_app
from chinwag.config import Settings
from chinwag.storage import migrate
from chinwag.testing import ThreadedServer

ACCOUNT = ("AC" + "0" * 32, "bench-token")
ROUNDS = 30
SEED = {
    "services": [
        {
            "friendly_name": "bench",
            "users": [{"identity": f"u{i}"} for i in range(5)],
            "channels": [
                {
                    "unique_name": f"c{j}",
                    "members": ["u0", "u1"],
                    "messages": [{"from": "u0", "body": "hi"}] * 5,
                }
                for j in range(3)
            ],
        }
    ]
}


def timed_reset(http: httpx.Client) -> tuple[float, int]:
    started = time.perf_counter()
    answer = http.post("/_chinwag/reset", json={})
    return time.perf_counter() - started, int(answer.json()["deleted_rows"])


def summary(seconds: list[float]) -> str:
    return f"median {statistics.median(seconds) * 1000:.1f} ms, max {max(seconds) * 1000:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default=f"sqlite:///{tempfile.mkdtemp()}/reset.db")
    database = parser.parse_args().database
    migrate.upgrade(database)
    settings = Settings(
        database=database, account_sid=ACCOUNT[0], auth_token=ACCOUNT[1], control_api=True
    )
    with (
        ThreadedServer(create_app(settings)) as server,
        httpx.Client(base_url=server.url, auth=ACCOUNT) as http,
    ):
        empty = [timed_reset(http)[0] for _ in range(ROUNDS)]
        seeded = []
        for _ in range(ROUNDS):
            http.post("/_chinwag/seed", json=SEED).raise_for_status()
            took, rows = timed_reset(http)
            seeded.append(took)
    print(f"empty account: {summary(empty)}")
    print(f"after a seed ({rows} rows): {summary(seeded)}")


if __name__ == "__main__":
    main()
