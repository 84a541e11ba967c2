"""docs/clients.md's token snippets run as written, and chinwag accepts the tokens they print."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from chinwag.app import open_deps
from chinwag.config import Settings
from chinwag.domain import api_keys, services
from chinwag.domain.access_tokens import authenticate
from chinwag.domain.deps import Caller
from chinwag.model.events import API_ACTOR
from conftest import ACCOUNT_SID, AUTH_TOKEN, Databases
from tokens_node_support import tokens_node

pytestmark = pytest.mark.sdk

DOC = Path(__file__).resolve().parent.parent / "docs" / "clients.md"


def snippet(marker: str) -> str:
    """The fenced code block that follows ``<!-- marker: ... -->`` in docs/clients.md."""
    found = re.search(rf"<!-- {marker}:[^>]*-->\n```\w+\n(.*?)```", DOC.read_text(), re.S)
    assert found, marker
    return found[1]


@pytest.mark.parametrize("marker", ["mint-python", "mint-node"])
def test_the_documented_snippet_mints_a_token_chinwag_accepts(
    databases: Databases, marker: str
) -> None:
    settings = Settings(database=databases.new(), account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN)
    if marker == "mint-python":
        command, cwd = [sys.executable, "-c", snippet(marker)], None
    else:
        command, cwd = ["node", "-e", snippet(marker)], tokens_node()

    async def scenario() -> None:
        async with open_deps(settings) as deps:
            caller = Caller(ACCOUNT_SID, API_ACTOR)
            service = await services.create_service(deps, caller, services.CreateService("s"))
            key = await api_keys.create_api_key(deps, ACCOUNT_SID, "back end")
            env = {
                "PATH": os.environ["PATH"],
                "CHINWAG_ACCOUNT_SID": ACCOUNT_SID,
                "CHINWAG_API_KEY_SID": key.sid,
                "CHINWAG_API_KEY_SECRET": key.secret,
                "CHAT_SERVICE_SID": service.sid,
            }
            printed = subprocess.run(
                command, cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=True
            )
            grant = await authenticate(deps, printed.stdout.strip())
            assert (grant.identity, grant.service_sid, grant.key_sid) == (
                "alice",
                service.sid,
                key.sid,
            )

    asyncio.run(scenario())
