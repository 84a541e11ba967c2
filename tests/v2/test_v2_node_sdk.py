"""twilio-node's ``client.chat.v2`` (and the default ``client.chat.services``, and v3) against
a running chinwag: a handful of operations, the v2 fields they return, and a v2 error.

Why: Node back ends are the other half of Chat apps; twilio-node's default is v2 too. The
script (``chat_v2.js``) uses twilio-node as installed from ``tests/tokens_node``'s lock file.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from chinwag.testing import ThreadedServer
from conftest import ACCOUNT_SID, AUTH_TOKEN
from tokens_node_support import tokens_node

pytestmark = pytest.mark.sdk

SCRIPT = Path(__file__).resolve().parent / "chat_v2.js"


def test_twilio_node_reaches_v2_by_both_ways_in(server: ThreadedServer) -> None:
    env = {**os.environ, "NODE_PATH": str(tokens_node() / "node_modules")}
    run = subprocess.run(
        ["node", str(SCRIPT), server.url, ACCOUNT_SID, AUTH_TOKEN],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "services is deprecated. Use v2.services instead." in run.stderr + run.stdout
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert "/v2/Services/" in seen["serviceUrl"]
    assert seen["notifications"]["log_enabled"] is True
    assert seen["notifications"]["new_message"]["sound"] == "ding"
    assert seen["preWebhookRetryCount"] == 1
    assert seen["channel"] == {"createdBy": "importer", "dateCreated": "2020-01-02T03:04:05.000Z"}
    assert seen["memberAttributes"] == '{"seat": 1}'
    assert seen["message"] == {"type": "text", "media": None, "from": "alice"}
    assert seen["userChannel"]["notificationLevel"] == "muted"
    assert seen["userChannel"]["userSid"].startswith("US")
    assert seen["userChannel"]["status"] == "joined"
    assert len(seen["listed"]) == 1
    assert seen["v3Type"] == "private"
    assert (seen["left"], seen["membersAfter"]) == (True, 0)
    assert seen["error"] == {"status": 404, "code": 20404}
    assert seen["removed"] is True
