"""Schemathesis fuzzing of all 40 Chat v1 operations against a real chinwag server.

Every generated request (Schemathesis' positive and negative data, its coverage-phase edge
cases, unexpected methods included) must get an answer that is

- never a server error (5xx);
- for 2xx: conforming to the response schema (Schemathesis' check, on the spec patched below;
  and :mod:`spec_contract`, stricter: every key present, no extra keys, exact date format),
  with the documented content type;
- for 4xx: a Twilio error body, JSON with exactly ``code``/``message``/``more_info``/``status``.
  The spec documents no error responses at all, so Schemathesis' status-code conformance check
  would flag every 400/404 and is not used; :mod:`spec_contract` checks the body instead.

Random SIDs only ever reach the 404 branch of a handler. So a small world is seeded (a service
with a custom role, two users, a channel with a unique name, a member, messages, an invite, a
credential) and, for most cases, the generated path parameters are replaced with the world's
SIDs or aliases (unique name, identity), and role references and permission names in the
body with existing ones: fetch, update and delete then run their real code paths with fuzzed
bodies and queries. Deletes remove a throwaway object created for the case; the world is
re-seeded whenever a case may have spoiled it.

Bounded for CI: ``MAX_EXAMPLES`` fuzzed cases per operation plus the coverage phase (about
2,000 requests, ~15 s), derandomized so every run sends the same requests. ``bench/fuzz.py``
runs this same file for longer (``CHINWAG_FUZZ_MAX_EXAMPLES``, ``CHINWAG_FUZZ_SEED``).
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

import spec_contract
from chinwag.testing import ThreadedServer
from conftest import ACCOUNT_SID, AUTH_TOKEN

pytestmark = pytest.mark.server

MAX_EXAMPLES = int(os.environ.get("CHINWAG_FUZZ_MAX_EXAMPLES", "25"))
#: A seed makes the run random but repeatable; without one it is derandomized (CI).
SEED = os.environ.get("CHINWAG_FUZZ_SEED")


def patched_spec() -> dict[str, Any]:
    """The shipped spec, with ``meta.previous_page_url`` and ``meta.next_page_url`` nullable.

    The spec declares both plain ``string`` (format uri), but real Twilio sends ``null`` when
    there is no previous/next page, and the SDKs rely on it: twilio-python, for one, pages on
    while ``next_page_url`` is truthy. chinwag does the same, so the unpatched spec would fail
    every first and last page of every list. Only these two are patched: ``url`` and
    ``first_page_url`` are always strings, in Twilio and in chinwag, and stay strictly checked
    (as in :data:`spec_contract.NULLABLE_META`). The shipped spec file itself stays Twilio's.
    """
    spec = copy.deepcopy(spec_contract.load_spec())
    lists = 0
    for item in spec["paths"].values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            for response in operation.get("responses", {}).values():
                content = response.get("content", {}).get("application/json", {})
                meta = content.get("schema", {}).get("properties", {}).get("meta")
                if meta is not None:
                    for name in spec_contract.NULLABLE_META:
                        meta["properties"][name]["nullable"] = True
                    lists += 1
    assert lists == 9, f"expected the 9 list operations to have a meta, found {lists}"
    return spec


schema = schemathesis.openapi.from_dict(patched_spec())
schema.config.phases.update(phases=["examples", "coverage", "fuzzing"])
schema.config.generation.update(
    modes=list(GenerationMode),  # positive and negative (invalid) data
    max_examples=MAX_EXAMPLES,
    database="none",
    # Credentials come from the session: fuzzing the Authorization header would only turn a
    # quarter of the cases into 401s that never reach a handler.
    with_security_parameters=False,
)
if SEED is not None:
    schema.config.seed = int(SEED)

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]

#: How a case's path parameters are chosen: all the world's SIDs; the world's aliases where a
#: segment takes one (else SIDs); the world's parents with the generated leaf (an unknown item
#: inside real parents); or all as generated. ``sid`` is listed twice to weigh it.
PATH_MODES = ("sid", "alias", "sid", "parent", "generated")

#: Body parameters naming a role, and the role type each needs, by the path's collection.
ROLE_FIELDS: dict[str, dict[str, str]] = {
    "Services": {
        "DefaultServiceRoleSid": "deployment",
        "DefaultChannelRoleSid": "channel",
        "DefaultChannelCreatorRoleSid": "channel",
    },
    "Users": {"RoleSid": "deployment"},
    "Members": {"RoleSid": "channel"},
    "Invites": {"RoleSid": "channel"},
}
#: Permission names valid for both role types, for ``Permission`` lists in role bodies.
PERMISSIONS = ("addMember", "removeMember", "inviteMember", "editChannelName", "destroyChannel")


@dataclass
class World:
    """Objects that exist on the server, by the path segment (collection) naming them."""

    sids: dict[str, str]
    aliases: dict[str, str]
    roles: dict[str, str]  # role type -> a role SID of that type in the service

    def value(self, collection: str, alias: bool) -> str:
        if alias and collection in self.aliases:
            return self.aliases[collection]
        return self.sids[collection]


class Seeder:
    """Creates the world, and throwaway objects for deletes, through the plain REST API."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self._n = itertools.count(1)

    def _post(self, path: str, data: dict[str, Any]) -> dict[str, Any]:
        response = self.client.post(path, data=data)
        assert response.status_code == 201, f"seeding POST {path}: {response.text}"
        body: dict[str, Any] = response.json()
        return body

    def world(self) -> World:
        service = self._post("/v1/Services", {"FriendlyName": "fuzz world"})
        s = f"/v1/Services/{service['sid']}"
        role = self._post(
            f"{s}/Roles",
            {"FriendlyName": "fuzz role", "Type": "channel", "Permission": ["sendMessage"]},
        )["sid"]
        user = self._post(f"{s}/Users", {"Identity": "fuzz-alice", "FriendlyName": "Alice"})
        self._post(f"{s}/Users", {"Identity": "fuzz-bob"})
        channel = self._post(
            f"{s}/Channels",
            {"UniqueName": "fuzz-room", "FriendlyName": "Room", "Attributes": '{"a": 1}'},
        )["sid"]
        c = f"{s}/Channels/{channel}"
        member = self._post(f"{c}/Members", {"Identity": "fuzz-alice"})["sid"]
        messages = [
            self._post(f"{c}/Messages", {"Body": body, "From": "fuzz-alice"})["sid"]
            for body in ("one", "two", "three")
        ]
        invite = self._post(f"{c}/Invites", {"Identity": "fuzz-bob"})["sid"]
        credential = self._post("/v1/Credentials", {"Type": "gcm", "Secret": "fuzz-secret"})
        return World(
            sids={
                "Services": service["sid"],
                "Roles": role,
                "Users": user["sid"],
                "Channels": channel,
                "Members": member,
                "Messages": messages[1],
                "Invites": invite,
                "Credentials": credential["sid"],
            },
            aliases={"Users": "fuzz-alice", "Channels": "fuzz-room", "Members": "fuzz-alice"},
            roles={"deployment": service["default_service_role_sid"], "channel": role},
        )

    def victim(self, world: World, collection: str) -> World:
        """``world`` with a new object in ``collection``, for a delete to remove."""
        name = f"fuzz-victim-{next(self._n)}"
        s = f"/v1/Services/{world.sids['Services']}"
        c = f"{s}/Channels/{world.sids['Channels']}"
        creates: dict[str, tuple[str, dict[str, Any]]] = {
            "Credentials": ("/v1/Credentials", {"Type": "apn", "Certificate": "c"}),
            "Services": ("/v1/Services", {"FriendlyName": name}),
            "Roles": (
                f"{s}/Roles",
                {"FriendlyName": name, "Type": "deployment", "Permission": "createChannel"},
            ),
            "Users": (f"{s}/Users", {"Identity": name}),
            "Channels": (f"{s}/Channels", {"UniqueName": name}),
            "Members": (f"{c}/Members", {"Identity": name}),
            "Messages": (f"{c}/Messages", {"Body": name}),
            "Invites": (f"{c}/Invites", {"Identity": name}),
        }
        if collection in ("Members", "Invites"):  # both need the user to exist
            self._post(f"{s}/Users", {"Identity": name})
        path, data = creates[collection]
        sid = self._post(path, data)["sid"]
        aliases = dict(world.aliases)
        if collection in aliases:
            aliases[collection] = name
        return World(sids={**world.sids, collection: sid}, aliases=aliases, roles=world.roles)


@dataclass
class Fuzzing:
    """This module's world, re-seeded lazily after a case may have spoiled it."""

    url: str
    seeder: Seeder
    session: requests.Session
    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    _world: World | None = None

    @property
    def world(self) -> World:
        if self._world is None:
            self._world = self.seeder.world()
        return self._world

    def invalidate(self) -> None:
        self._world = None


@pytest.fixture(scope="module")
def fuzzing(server: ThreadedServer) -> Iterator[Fuzzing]:
    with (
        httpx.Client(base_url=server.url, auth=(ACCOUNT_SID, AUTH_TOKEN)) as client,
        requests.Session() as session,
    ):
        session.auth = (ACCOUNT_SID, AUTH_TOKEN)
        state = Fuzzing(server.url, Seeder(client), session)
        yield state
    # Shown with -s (bench/fuzz.py): how deep the cases got, per operation.
    print(f"\nschemathesis: {sum(sum(c.values()) for c in state.statuses.values())} cases")
    for label, counts in state.statuses.items():
        print(f"  {label}: {dict(sorted(counts.items()))}")


def pick_mode(case: schemathesis.Case) -> str:
    """A path mode that is a function of the case's data, so a case replays identically.

    (A Hypothesis strategy via ``schema.given`` would be more idiomatic, but Schemathesis skips
    its coverage phase for tests that take extra strategies.)
    """
    key = repr((case.method, case.path_parameters, case.query, case.body)).encode()
    digest = hashlib.blake2b(key, digest_size=4).digest()
    return PATH_MODES[int.from_bytes(digest, "big") % len(PATH_MODES)]


def aim(case: schemathesis.Case, fuzzing: Fuzzing, mode: str) -> bool:
    """Point the case at the world per ``mode``; True if it targets a throwaway object."""
    segments = case.path.split("/")
    params = [(seg[1:-1], segments[i - 1]) for i, seg in enumerate(segments) if seg[:1] == "{"]
    if not params or mode == "generated":
        return False
    world = fuzzing.world
    item = case.path.endswith("}")
    victim = case.method.upper() == "DELETE" and item and mode != "parent"
    if victim:
        world = fuzzing.seeder.victim(world, params[-1][1])
    if mode == "parent" and item:
        params = params[:-1]
    for name, collection in params:
        case.path_parameters[name] = world.value(collection, alias=mode == "alias")
    if mode == "sid" and isinstance(case.body, dict):
        collection = next(seg for seg in reversed(segments) if seg[:1] != "{")
        make_real(case.body, collection, world)
    return victim


def make_real(body: dict[str, Any], collection: str, world: World) -> None:
    """Replace role references and permission names in ``body`` with ones that exist.

    Random values only reach "role not found" / "permission not found"; this lets the rest of
    a fuzzed body through to the update. Applied in ``sid`` mode only, so random ones are sent
    too.
    """
    for name, role_type in ROLE_FIELDS.get(collection, {}).items():
        if name in body:
            body[name] = world.roles[role_type]
    permission = body.get("Permission") if collection == "Roles" else None
    if isinstance(permission, list):
        body["Permission"] = [PERMISSIONS[i % len(PERMISSIONS)] for i in range(len(permission))]
    elif isinstance(permission, str):
        body["Permission"] = PERMISSIONS[0]


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=SEED is None, database=None)
def test_fuzz(case: schemathesis.Case, fuzzing: Fuzzing) -> None:
    victim = aim(case, fuzzing, pick_mode(case))
    response = case.call(base_url=fuzzing.url, session=fuzzing.session)
    status = response.status_code
    fuzzing.statuses.setdefault(case.operation.label, Counter())[status] += 1
    method = case.method.upper()
    operation_id = case.operation.definition.raw.get("operationId")
    # Deleting anything but a throwaway, or updating the service (limits, default roles) or
    # the channel (its unique name), may have spoiled the world for the cases that follow.
    if 200 <= status < 300 and (
        (method == "DELETE" and not victim) or operation_id in ("UpdateService", "UpdateChannel")
    ):
        fuzzing.invalidate()

    sent = response.request
    content_type = response.headers.get("content-type", [""])[0]
    repro = f"{sent.method} {sent.url}\nbody: {sent.body!r}\n-> {status} {content_type}\n"
    repro += response.text[:2000]
    case.validate_response(response, checks=CHECKS)
    if status >= 400:
        media_type = content_type.split(";")[0].strip()
        assert media_type == "application/json", f"error body is not JSON:\n{repro}"
    problems = spec_contract.check_exchange(method, str(sent.url), status, response.text)
    assert not problems, "\n".join(problems) + "\n" + repro
