"""deploy/systemd: the unit passes ``systemd-analyze verify`` (with its ExecStart pointed at
this chinwag), says what chinwag needs, and the example environment file is a set of real
settings that a server starts with."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from chinwag.cli import GRACEFUL_SHUTDOWN_SECONDS
from chinwag.config import FIELDS, Settings, load_settings
from chinwag.http.connection import FILE_HEADROOM
from conftest import Databases, server_env, spawn_server

pytestmark = pytest.mark.server

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "systemd"
UNIT = DEPLOY / "chinwag.service"
ENV_FILE = DEPLOY / "chinwag.env"
INSTALLED = "/opt/chinwag/venv/bin/chinwag"


def _unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=True, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys keep their case
    parser.read_string(UNIT.read_text())
    return parser


def _environment() -> dict[str, str]:
    values = {}
    for line in ENV_FILE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, equals, value = line.partition("=")
            assert equals, line
            values[name.strip()] = value.strip()
    return values


def test_the_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    chinwag = Path(sys.executable).with_name("chinwag")
    assert chinwag.is_file()
    text = UNIT.read_text()
    assert text.count(INSTALLED) == 1
    unit = tmp_path / "chinwag.service"
    unit.write_text(text.replace(INSTALLED, str(chinwag)))
    analyze = shutil.which("systemd-analyze")
    if analyze is None:  # not every machine has systemd; the checks below still run
        return
    result = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True)
    assert result.returncode == 0 and not result.stdout + result.stderr, result.stderr


def test_the_unit_runs_chinwag_serve_as_chinwag_expects() -> None:
    service = _unit()["Service"]
    assert service["ExecStart"] == f"{INSTALLED} serve"
    assert service["EnvironmentFile"] == "/etc/chinwag/chinwag.env"
    assert service["KillSignal"] == "SIGTERM"  # chinwag's graceful stop
    assert int(service["TimeoutStopSec"]) > GRACEFUL_SHUTDOWN_SECONDS
    defaults = Settings()
    needed = defaults.max_connections + defaults.gateway_max_connections + FILE_HEADROOM
    assert int(service["LimitNOFILE"]) >= needed  # the defaults fit: no warning at start
    assert service["Restart"] == "on-failure"


def test_the_example_environment_is_real_settings_a_server_starts_with(
    databases: Databases,
) -> None:
    values = _environment()
    known = {field.env for field in FIELDS}
    assert set(values) <= known, set(values) - known
    settings = load_settings(environ=values)
    assert settings.host == "127.0.0.1" and settings.public_url == "https://chat.example.com"
    # the rest as the file says; spawn_server's flags give a test database and a free port
    proc, url = spawn_server(databases.new(), env=server_env(**values))
    try:
        health = httpx.get(f"{url}/healthz", timeout=10)
        assert health.status_code == 200
        assert health.json()["database"] == "ok"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
