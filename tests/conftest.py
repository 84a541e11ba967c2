"""Shared fixtures: a real chinwag server on a migrated SQLite copy, and clients to drive it.

- The schema is migrated once per session into a template database; each server gets a copy.
- ``server`` is shared by the session; tests isolate themselves by creating their own Service.
  ``fresh_server`` gives a test its own server and database (for account-level lists).
- ``chat`` is the official twilio SDK's ``client.chat.v1`` pointed at the server. Every response
  it receives is checked against ``shared/spec/twilio_chat_v1.yaml`` (``spec_contract``), so
  the whole SDK suite is also a contract test.
- ``http`` is an httpx client with credentials, for requests no SDK would send.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import spec_contract
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from chinwag.app import create_app
from chinwag.config import Settings
from chinwag.storage import migrate
from chinwag.testing import ThreadedServer

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "test-auth-token-0123456789abcdef"


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


def start_server(template_db: Path, directory: Path, **overrides: Any) -> ThreadedServer:
    """A started server on a fresh copy of the template database."""
    db = directory / "chinwag.db"
    shutil.copy(template_db, db)
    settings = Settings(
        database=f"sqlite:///{db}", account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, **overrides
    )
    return ThreadedServer(create_app(settings)).start()


@pytest.fixture(scope="session")
def server(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    srv = start_server(template_db, tmp_path_factory.mktemp("server"))
    yield srv
    srv.stop()


@pytest.fixture
def fresh_server(template_db: Path, tmp_path: Path) -> Iterator[ThreadedServer]:
    srv = start_server(template_db, tmp_path)
    yield srv
    srv.stop()


class ContractCheckingHttpClient(TwilioHttpClient):
    """The SDK's own HTTP client, checking each response against the spec as it arrives."""

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        response = super().request(method, url, *args, **kwargs)
        problems = spec_contract.check_exchange(method, url, response.status_code, response.text)
        assert not problems, f"{method} {url} -> {response.status_code}:\n" + "\n".join(problems)
        return response


def sdk_client(srv: ThreadedServer) -> Client:
    client = Client(ACCOUNT_SID, AUTH_TOKEN, http_client=ContractCheckingHttpClient())
    client.chat.base_url = srv.url
    return client


@pytest.fixture
def chat(server: ThreadedServer) -> Any:
    """``client.chat.v1`` of the official SDK, against the shared server."""
    return sdk_client(server).chat.v1


@pytest.fixture
def fresh_chat(fresh_server: ThreadedServer) -> Any:
    return sdk_client(fresh_server).chat.v1


@pytest.fixture
def service(chat: Any) -> Any:
    """A new Service (its SDK context) for the test to work in."""
    created = chat.services.create(friendly_name="test service")
    return chat.services(created.sid)


@pytest.fixture
def http(server: ThreadedServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, auth=(ACCOUNT_SID, AUTH_TOKEN)) as client:
        yield client
