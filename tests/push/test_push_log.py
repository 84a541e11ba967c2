"""``chinwag push log`` reads the push log from the database, the server stopped."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from outbox_support import World, send, world

from chinwag import cli
from chinwag.testing.fake_apns import FakeApns
from chinwag.testing.fake_fcm import FakeFcm
from chinwag.testing.plugin import PushCA

pytestmark = pytest.mark.unit


def test_push_log_says_how_each_push_went(
    databases: Any,
    fake_fcm: FakeFcm,
    fake_apns: FakeApns,
    push_ca: PushCA,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = databases.new()

    async def scenario(w: World) -> None:
        await w.enable()
        await w.register("bob", "fcm", "fcm-bob")
        await w.register("carol", "fcm", "fcm-carol")
        fake_fcm.unregister("fcm-carol")
        await send(w, "alice", "hi")
        dispatcher = await w.dispatcher()
        while await dispatcher.run_once():
            pass

    async def main() -> None:
        async with world(url, fake_fcm, fake_apns, push_ca.file) as w:
            await scenario(w)

    asyncio.run(main())
    run: Callable[..., int] = cli.main
    assert run(["push", "log", "--database", url]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["ID", "CREATED", "STATE", "ATTEMPTS"]
    assert "pruned" in lines[1] and "carol (fcm" in lines[1] and "FCM 404 UNREGISTERED" in lines[1]
    assert "delivered" in lines[2] and "bob (fcm" in lines[2]
    assert run(["push", "log", "--database", url, "--state", "pruned", "--json"]) == 0
    [row] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert (row["identity"], row["state"], row["last_error"]) == (
        "carol",
        "pruned",
        "FCM 404 UNREGISTERED",
    )
    assert row["body"] == "general;Alice: hi"
    assert run(["push", "log", "--database", url, "--state", "failed"]) == 0
    assert capsys.readouterr().out == "no pushes in state failed\n"
