"""Restoring a backup under a running server, as docs/operations.md says to: requests answer
or get 503 meanwhile, never a 500, the log has no traceback, and the server then serves the
restored data without a restart. On the suite's engine: ``pg_restore --clean`` on
PostgreSQL, SQLite's online ``.restore`` on SQLite."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from chinwag.storage.engines import sqlite_path
from conftest import ACCOUNT_SID, AUTH_TOKEN, TEST_DATABASE_URL, Databases, server_env, spawn_server

pytestmark = pytest.mark.server

AUTH = (ACCOUNT_SID, AUTH_TOKEN)


def _backup(url: str, file: Path) -> None:
    if TEST_DATABASE_URL:
        command = ["pg_dump", "--format=custom", f"--file={file}", url]
    else:
        command = ["sqlite3", str(sqlite_path(url)), f".backup '{file}'"]
    subprocess.run(command, check=True, capture_output=True)


def _restore(url: str, file: Path) -> None:
    if TEST_DATABASE_URL:
        command = ["pg_restore", "--clean", "--if-exists", f"--dbname={url}", str(file)]
    else:
        command = ["sqlite3", str(sqlite_path(url)), f".restore '{file}'"]
    subprocess.run(command, check=True, capture_output=True)


def test_a_restore_under_a_running_server_prints_no_traceback(
    databases: Databases, tmp_path: Path
) -> None:
    url, log = databases.new(), tmp_path / "server.log"
    env = server_env(CHINWAG_ACCOUNT_SID=ACCOUNT_SID, CHINWAG_AUTH_TOKEN=AUTH_TOKEN)
    proc, base = spawn_server(url, env=env, log=log)
    statuses: list[int] = []
    stop = threading.Event()

    def traffic() -> None:
        with httpx.Client(base_url=base, auth=AUTH, timeout=30) as client:
            while not stop.is_set():
                statuses.append(client.get("/v1/Services").status_code)
                statuses.append(client.get("/healthz").status_code)

    try:
        with httpx.Client(base_url=base, auth=AUTH, timeout=30) as client:
            assert client.post("/v1/Services", data={"FriendlyName": "kept"}).status_code == 201
            _backup(url, tmp_path / "backup")
            assert client.post("/v1/Services", data={"FriendlyName": "lost"}).status_code == 201
            reader = threading.Thread(target=traffic)
            reader.start()
            try:
                while len(statuses) < 2:  # traffic is flowing
                    time.sleep(0.01)
                _restore(url, tmp_path / "backup")
                time.sleep(1)  # and goes on after the restore
            finally:
                stop.set()
                reader.join()
            names = [s["friendly_name"] for s in client.get("/v1/Services").json()["services"]]
            assert names == ["kept"]
            assert client.post("/v1/Services", data={"FriendlyName": "new"}).status_code == 201
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert statuses and set(statuses) <= {200, 503}, sorted(set(statuses))
    text = log.read_text()
    assert "Traceback" not in text, text
