"""v2 Bindings and User Bindings through twilio-python: the push registrations chat clients
made, with the credential their access token named; read and deleted, never created over
REST (clients register through the SDK: ``test_push_sdk.py`` drives that)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from twilio.rest import Client

from chinwag.domain import push_registrations
from chinwag.domain.deps import Caller, Deps
from chinwag.model.events import Actor
from chinwag.testing import ThreadedServer
from conftest import ACCOUNT_SID, AUTH_TOKEN, Databases, start_server
from realtime.client_support import on_database
from sdk_support import expect_error, expect_list_error

pytestmark = pytest.mark.server

TYPES = ("twilio.channel.new_message", "twilio.channel.added_to_channel")
CREDENTIAL = "CR" + "c" * 32


@dataclass
class World:
    server: ThreadedServer
    database: str
    client: Client
    service: str
    bob: str  # bob's User SID

    def register(self, identity: str, channel_type: str, address: str) -> str:
        async def act(deps: Deps) -> str:
            registration = await push_registrations.register(
                deps,
                Caller(ACCOUNT_SID, Actor("SDK", identity)),
                self.service,
                identity,
                push_registrations.Register(channel_type, address, "ios 17", TYPES),
                credential_sid=CREDENTIAL if channel_type == "apn" else None,
            )
            return registration.sid

        return on_database(self.database, act)


@pytest.fixture
def world(databases: Databases) -> Iterator[World]:
    server = start_server(databases)
    try:
        client = Client(ACCOUNT_SID, AUTH_TOKEN)
        client.chat.base_url = server.url
        service = client.chat.v1.services.create(friendly_name="bindings").sid
        bob = client.chat.v1.services(service).users.create(identity="bob").sid
        client.chat.v1.services(service).users.create(identity="carol")
        yield World(server, server.app.api.settings.database, client, service, bob)
    finally:
        server.stop()


def test_bindings_list_fetch_and_filter(world: World) -> None:
    apn = world.register("bob", "apn", "b0" * 32)
    fcm = world.register("bob", "fcm", "fcm-bob")
    carol = world.register("carol", "fcm", "fcm-carol")
    bindings = world.client.chat.v2.services(world.service).bindings
    assert [b.sid for b in bindings.list()] == [apn, fcm, carol]
    found = bindings(apn).fetch()
    assert (found.identity, found.binding_type, found.credential_sid) == ("bob", "apn", CREDENTIAL)
    assert (found.endpoint, found.message_types) == ("ios 17", ["new_message", "added_to_channel"])
    assert found.service_sid == world.service and found.account_sid == ACCOUNT_SID
    assert found.url.endswith(f"/v2/Services/{world.service}/Bindings/{apn}")
    assert found.links["user"].endswith(f"/v2/Services/{world.service}/Users/bob")
    assert bindings(fcm).fetch().credential_sid is None
    assert [b.sid for b in bindings.list(binding_type=["fcm"])] == [fcm, carol]
    assert [b.sid for b in bindings.list(identity=["carol"])] == [carol]
    assert [b.sid for b in bindings.list(identity=["bob"], binding_type=["apn"])] == [apn]
    assert [b.sid for b in bindings.list(page_size=1)] == [apn, fcm, carol]  # paged
    expect_list_error(400, 20001, lambda: bindings.list(binding_type=["sms"]))
    expect_error(bindings("BS" + "0" * 32).fetch, 404, 20404)
    expect_error(world.client.chat.v2.services("IS" + "0" * 32).bindings(apn).fetch, 404, 20404)


def test_user_bindings_by_sid_or_identity(world: World) -> None:
    apn = world.register("bob", "apn", "b0" * 32)
    carol = world.register("carol", "fcm", "fcm-carol")
    for key in (world.bob, "bob"):
        user = world.client.chat.v2.services(world.service).users(key)
        [found] = user.user_bindings.list()
        assert (found.sid, found.user_sid, found.identity) == (apn, world.bob, "bob")
        assert found.url.endswith(f"/Users/{world.bob}/Bindings/{apn}")
        assert user.user_bindings(apn).fetch().credential_sid == CREDENTIAL
        assert user.user_bindings.list(binding_type=["fcm"]) == []
        expect_error(user.user_bindings(carol).fetch, 404, 20404)  # carol's, not bob's
        expect_error(user.user_bindings(carol).delete, 404, 20404)
    nobody = world.client.chat.v2.services(world.service).users("nobody")
    expect_list_error(404, 20404, nobody.user_bindings.list)


def test_deleting_a_binding_forgets_the_device(world: World) -> None:
    apn = world.register("bob", "apn", "b0" * 32)
    fcm = world.register("bob", "fcm", "fcm-bob")
    service = world.client.chat.v2.services(world.service)
    assert service.bindings(apn).delete() is True
    expect_error(service.bindings(apn).fetch, 404, 20404)
    expect_error(service.bindings(apn).delete, 404, 20404)
    assert service.users("bob").user_bindings(fcm).delete() is True
    assert service.bindings.list() == []
