"""Helpers for push tests: the SDK's own parser, run in Node, and a stored-credential record."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

CLIENT_DIR = Path(__file__).parent.parent / "client"


def sdk_parse(payloads: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """What twilio-chat 6.0.0's ``Client.parsePushNotification`` makes of each payload."""
    if shutil.which("node") is None or not (CLIENT_DIR / "node_modules" / "twilio-chat").is_dir():
        pytest.fail("the client SDK is missing: run `npm ci --prefix tests/client`")
    lines = "".join(json.dumps(p) + "\n" for p in payloads)
    done = subprocess.run(
        ["node", str(CLIENT_DIR / "parse_push.js")],
        input=lines,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [json.loads(line) for line in done.stdout.splitlines()]


@dataclass(frozen=True)
class StoredCredential:
    """A Credential as the store returns it (the fields delivery reads)."""

    sid: str
    type: str
    sandbox: bool | None = None
    certificate: str | None = None
    private_key: str | None = None
    api_key: str | None = None
    secret: str | None = None
    date_updated: int = 1
