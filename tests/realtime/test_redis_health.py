"""Redis's state shows, through a real ``chinwag serve``: logged once per change, in
``/healthz`` (still serving) and as ``chinwag_redis_up`` in ``/metrics``."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import httpx
import pytest
from test_sync_fanout import RedisServer

from conftest import ACCOUNT_SID, AUTH_TOKEN, Databases, server_env
from hardening.cli_process import serving

pytestmark = pytest.mark.server

ENV = server_env(CHINWAG_ACCOUNT_SID=ACCOUNT_SID, CHINWAG_AUTH_TOKEN=AUTH_TOKEN)


def _until(check: Callable[[], bool], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def _redis_up(url: str) -> float:
    found = re.search(r"^chinwag_redis_up (\S+)$", httpx.get(f"{url}/metrics").text, re.M)
    assert found, "no chinwag_redis_up in /metrics"
    return float(found[1])


def test_redis_unreachable_and_back_is_logged_once_per_change_and_shown(
    databases: Databases,
) -> None:
    redis = RedisServer()  # its port, nothing listening yet
    args = ("--database", databases.new(), "--redis-url", redis.url)
    try:
        with serving(*args, env=ENV) as (url, output):
            _until(lambda: httpx.get(f"{url}/healthz").json()["redis"] == "unreachable")
            health = httpx.get(f"{url}/healthz")
            assert health.status_code == 200  # still serving
            assert health.json() == {"status": "degraded", "database": "ok", "redis": "unreachable"}
            assert _redis_up(url) == 0
            time.sleep(3)  # several retries, which must not log again

            redis.start()
            _until(lambda: httpx.get(f"{url}/healthz").json()["status"] == "ok")
            assert httpx.get(f"{url}/healthz").json()["redis"] == "ok"
            assert _redis_up(url) == 1

            redis.stop()
            _until(lambda: _redis_up(url) == 0)
            time.sleep(2)
    finally:
        redis.stop()
    where = redis.url.removeprefix("redis://")
    unreachable = [line for line in output.lines if f"Redis at {where} is unreachable" in line]
    again = [line for line in output.lines if f"Redis at {where} is reachable again" in line]
    assert len(unreachable) == 2, output.stderr  # at start, and after the stop
    assert len(again) == 1, output.stderr
    assert all("WARNING" in line for line in unreachable + again)
