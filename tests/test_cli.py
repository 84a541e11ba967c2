"""The ``chinwag`` command as a real process: zero-config start, durability, schema guard."""

from __future__ import annotations

import re
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from chinwag.http.control import CONTROL_ROUTES
from chinwag.http.routes import V1, V2, V3
from conftest import ACCOUNT_SID, AUTH_TOKEN, server_env, spawn_server

pytestmark = pytest.mark.server


@contextmanager
def running(
    db: Path, *, env: dict[str, str] | None = None, extra: tuple[str, ...] = ()
) -> Iterator[tuple[str, list[str]]]:
    """Run ``chinwag serve`` until /healthz answers; yields (base URL, stdout lines so far)."""
    proc, url = spawn_server(f"sqlite:///{db}", *extra, env=env, capture=True)
    lines: list[str] = []
    try:
        yield url, lines
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            out, _ = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
        lines.extend(out.splitlines())


def _credentials(lines: list[str]) -> tuple[str, str]:
    text = "\n".join(lines)
    sid = re.search(r"CHINWAG_ACCOUNT_SID=(AC[0-9a-f]{32})", text)
    token = re.search(r"CHINWAG_AUTH_TOKEN=([0-9a-f]{32})", text)
    assert sid and token, text
    return sid[1], token[1]


def test_first_start_generates_an_account_and_prints_it_once(tmp_path: Path) -> None:
    db = tmp_path / "chinwag.db"
    with running(db) as (url, first):
        pass
    sid, token = _credentials(first)
    with running(db) as (url, second):
        assert httpx.get(f"{url}/v1/Services", auth=(sid, token)).status_code == 200
        assert httpx.get(f"{url}/v1/Services", auth=(sid, "wrong")).status_code == 401
        assert httpx.get(f"{url}/v1/Services").status_code == 401
    assert not any("CHINWAG_AUTH_TOKEN" in line for line in second)


def test_environment_sets_the_account(tmp_path: Path) -> None:
    env = server_env(CHINWAG_ACCOUNT_SID=ACCOUNT_SID, CHINWAG_AUTH_TOKEN=AUTH_TOKEN)
    with running(tmp_path / "env.db", env=env) as (url, lines):
        created = httpx.post(
            f"{url}/v1/Services", data={"FriendlyName": "x"}, auth=(ACCOUNT_SID, AUTH_TOKEN)
        )
        assert created.status_code == 201
        assert created.json()["account_sid"] == ACCOUNT_SID
    assert not any("CHINWAG_AUTH_TOKEN=" in line for line in lines)


def test_acknowledged_writes_survive_sigkill(tmp_path: Path) -> None:
    db = tmp_path / "durable.db"
    env = server_env(CHINWAG_ACCOUNT_SID=ACCOUNT_SID, CHINWAG_AUTH_TOKEN=AUTH_TOKEN)
    auth = (ACCOUNT_SID, AUTH_TOKEN)
    proc, url = spawn_server(f"sqlite:///{db}", env=env)
    try:
        with httpx.Client(base_url=url, auth=auth) as client:
            service = client.post("/v1/Services", data={"FriendlyName": "d"}).json()["sid"]
            path = f"/v1/Services/{service}/Channels"
            channel = client.post(path, data={"UniqueName": "room"}).json()["sid"]
            acknowledged = [
                client.post(f"{path}/room/Messages", data={"Body": f"m{i}"}).json()["sid"]
                for i in range(50)
            ]
    finally:
        proc.kill()  # SIGKILL: no shutdown hook, no checkpoint
        proc.wait()
    with running(db, env=env) as (url2, _), httpx.Client(base_url=url2, auth=auth) as client:
        listed = client.get(f"/v1/Services/{service}/Channels/{channel}/Messages?PageSize=1000")
        assert [m["sid"] for m in listed.json()["messages"]] == acknowledged
        assert client.get(f"/v1/Services/{service}/Channels/{channel}").json()[
            "messages_count"
        ] == len(acknowledged)


def test_serve_refuses_a_database_it_does_not_know(tmp_path: Path) -> None:
    db = tmp_path / "other.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE something_else (x INTEGER)")
    result = subprocess.run(
        [sys.executable, "-m", "chinwag.cli", "serve", "--database", f"sqlite:///{db}"],
        env=server_env(),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "does not know" in result.stderr


def test_serve_rejects_unsupported_database_urls() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "chinwag.cli", "serve", "--database", "mysql://x/y"],
        env=server_env(),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "unsupported database URL" in result.stderr


def test_db_upgrade_sets_up_a_new_database(tmp_path: Path) -> None:
    db = tmp_path / "up.db"
    result = subprocess.run(
        [sys.executable, "-m", "chinwag.cli", "db", "upgrade", "--database", f"sqlite:///{db}"],
        env=server_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "schema at revision" in result.stdout


def test_routes_lists_every_operation_and_the_open_paths() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "chinwag.cli", "routes"],
        env=server_env(),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert len(lines) == len(V1) + len(V2) + len(V3) + len(CONTROL_ROUTES) + 3  # + open paths
    assert any(line.split()[:3] == ["POST", "/v2/Services", "CreateService"] for line in lines)
    assert any(line.split()[:3] == ["POST", "/_chinwag/reset", "ControlReset"] for line in lines)


def test_several_workers_share_one_generated_account(tmp_path: Path) -> None:
    with running(tmp_path / "w.db", extra=("--workers", "2")) as (url, lines):
        pass
    sid, token = _credentials(lines)
    assert sum("CHINWAG_AUTH_TOKEN=" in line for line in lines) == 1
    with running(tmp_path / "w.db", extra=("--workers", "2")) as (url, _):
        statuses = {
            httpx.post(
                f"{url}/v1/Services", data={"FriendlyName": str(i)}, auth=(sid, token)
            ).status_code
            for i in range(20)
        }
        assert statuses == {201}
        listed = httpx.get(f"{url}/v1/Services", auth=(sid, token)).json()["services"]
        assert len(listed) == 20
