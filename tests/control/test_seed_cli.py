"""``chinwag seed FILE``: the documented example file, a snapshot file, and bad files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from control_contract import check_request

from conftest import ACCOUNT_SID, AUTH_TOKEN, Databases, server_env, spawn_server

pytestmark = pytest.mark.server

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "seed-example.json"


def seed(database: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chinwag.cli", "seed", str(path), "--database", database],
        env=server_env(CHINWAG_ACCOUNT_SID=ACCOUNT_SID, CHINWAG_AUTH_TOKEN=AUTH_TOKEN),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_documented_example_seeds_a_database_a_server_then_serves(
    databases: Databases, tmp_path: Path
) -> None:
    database = databases.new()
    result = seed(database, EXAMPLE)
    assert result.returncode == 0, result.stderr
    service_sid, name = result.stdout.split(maxsplit=1)
    assert name.strip() == "Acme support"
    proc, url = spawn_server(
        database,
        "--control-api",
        "true",
        env=server_env(CHINWAG_ACCOUNT_SID=ACCOUNT_SID, CHINWAG_AUTH_TOKEN=AUTH_TOKEN),
    )
    try:
        with httpx.Client(base_url=url, auth=(ACCOUNT_SID, AUTH_TOKEN)) as http:
            base = f"/v1/Services/{service_sid}/Channels/general"
            bodies = [m["body"] for m in http.get(f"{base}/Messages").json()["messages"]]
            assert bodies == ["Welcome to Acme support!", "Thanks, glad to be here."]
            snapshot = http.get("/_chinwag/snapshot").json()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    # a snapshot file replaces the state: seeding it into a second database copies the first
    file = tmp_path / "snapshot.json"
    file.write_text(json.dumps(snapshot))
    copy = databases.new()
    result = seed(copy, file)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"imported {sum(map(len, snapshot['tables'].values()))} rows"


def test_bad_files_are_one_line_and_status_1(databases: Databases, tmp_path: Path) -> None:
    missing = seed(databases.new(), tmp_path / "nope.json")
    assert missing.returncode == 1 and missing.stderr.startswith("chinwag: cannot read")
    bad = tmp_path / "bad.json"
    bad.write_text('{"services": [{"friendly_name": 3}]}')
    refused = seed(databases.new(), bad)
    assert refused.returncode == 1
    assert refused.stderr.strip().endswith("seed.services[0].friendly_name must be a string")


def test_the_documented_seeds_follow_the_control_document() -> None:
    guide = (EXAMPLE.parent / "testing.md").read_text()
    in_guide = guide.split("### Seeds", 1)[1].split("```json\n", 1)[1].split("```", 1)[0]
    for seed_file in (json.loads(in_guide), json.loads(EXAMPLE.read_text())):
        assert not check_request("POST", "/_chinwag/seed", seed_file)
