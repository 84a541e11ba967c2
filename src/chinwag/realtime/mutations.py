"""``X-Twilio-Mutation-Id`` (client-protocol 3.1): a retried chat command is applied once.

The SDK gives each mutation a fresh UUID and sends the same one when it retries. The first
attempt records the id in the transaction of its change (``storage/stores/mutations.py``) and
stores its reply after; a later attempt with the same id, from the same account and identity,
in any process, gets that reply and changes nothing. A command that failed recorded nothing
(its transaction rolled back), so its retry runs again.

A retry can find the id recorded but no reply yet: the first attempt committed and is still
answering (normally milliseconds), or its process stopped between the commit and the reply.
The retry then waits up to :data:`REPLY_WAIT_MS` for the reply and answers with it. If none
comes, it answers what the SDK's command executor handles for exactly this case (its
"mutation conflict", commandexecutor.js): ``202`` with a ``resource_url``, which the SDK
fetches, retrying failures six times over about three seconds, and takes as the command's
result. That resource (:func:`fetch_mutation`) is the stored reply once there is one; ``503``
while the first attempt may still store it; and ``200 {}`` once it cannot any more
(:data:`LOST_AFTER_MS`): the change was made once, and its reply is lost. The SDK resolves
the command (commands that read their reply get no value from it) and shows the change through
Sync, as every change; nothing is applied twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote

from chinwag import errors
from chinwag.realtime.configuration import chat_base
from chinwag.realtime.exchange import Client, Request, Response, json_response
from chinwag.storage.database import Txn, first_write
from chinwag.storage.stores import mutations as store

HEADER = "x-twilio-mutation-id"
#: a UUID is 36 characters; anything much longer is not an SDK's id
MAX_ID = 128
#: how long a retry waits for the first attempt's reply before pointing the SDK elsewhere
REPLY_WAIT_MS = 2000
#: between two reads of the reply while waiting (a primary key lookup)
POLL_MS = 50
#: the SDK abandons a request after 30 s (packetinterface.js): a first attempt whose reply is
#: not stored that long after it was recorded will never store it
LOST_AFTER_MS = 30_000


def mutation_of(client: Client, request: Request) -> store.Mutation | None:
    """The request's mutation, when it is a write carrying an id."""
    if request.method == "GET":
        return None
    value = next((v for k, v in request.headers.items() if k.lower() == HEADER), None)
    if not value:
        return None
    if len(value) > MAX_ID:
        raise errors.InvalidParameterError(name="X-Twilio-Mutation-Id")
    return _mutation(client, value)


def _mutation(client: Client, mutation_id: str) -> store.Mutation:
    return store.Mutation(
        client.caller.account_sid, client.identity, mutation_id, client.deps.clock.now_ms()
    )


async def run_once(
    client: Client,
    request: Request,
    mutation: store.Mutation,
    run: Callable[[], Awaitable[Response]],
) -> Response:
    """``run()`` unless ``mutation`` was applied already; then the reply it had."""
    db = client.deps.db
    if await db.run_read("find_mutation", store.find_txn, mutation) is not None:
        return await _applied(client, request, mutation)

    async def record(txn: Txn) -> None:
        with txn.on_unique_violation(errors.MutationAppliedError):
            await store.record_txn(txn, mutation)

    token = first_write.set(record)
    try:
        response = await run()
        recorded = first_write.get() is None
    except errors.MutationAppliedError:  # a concurrent attempt recorded it first
        return await _applied(client, request, mutation)
    finally:
        first_write.reset(token)
    if recorded:
        await db.run_in_txn(
            "store_mutation_reply", store.store_reply_txn, mutation, response.status, response.body
        )
    return response


async def _applied(client: Client, request: Request, mutation: store.Mutation) -> Response:
    """The answer to a retry of an applied mutation: its reply, waited for a moment if the
    first attempt has not stored it yet, else the SDK's 202 pointer to it."""
    clock = client.deps.clock
    deadline = clock.now_ms() + REPLY_WAIT_MS
    while True:
        applied = await client.deps.db.run_read("find_mutation", store.find_txn, mutation)
        if applied is not None and (reply := _stored_reply(applied)) is not None:
            return reply
        if clock.now_ms() >= deadline:
            break
        await clock.sleep_until(min(clock.now_ms() + POLL_MS, deadline))
    url = f"{chat_base(request.host or 'aim.chinwag.local', client.service_sid)}/Mutations/"
    return json_response({"resource_url": url + quote(mutation.mutation_id, safe="")}, 202)


async def fetch_mutation(client: Client, request: Request, service: str, mutation: str) -> Response:
    """``GET {resource_url}`` of a 202: the stored reply, 503 while it may still come, and
    ``{}`` once it cannot (see the module docstring); 404 for an id the user never applied."""
    if service != client.service_sid:
        raise errors.NotFoundError()
    wanted = _mutation(client, mutation)
    applied = await client.deps.db.run_read("find_mutation", store.find_txn, wanted)
    if applied is None:
        raise errors.NotFoundError()
    if (reply := _stored_reply(applied)) is not None:
        return reply
    if wanted.now_ms - applied.date_created < LOST_AFTER_MS:
        raise errors.MutationReplyPendingError()
    return json_response({})


def _stored_reply(applied: store.Applied) -> Response | None:
    """The first attempt's reply, once it has stored one."""
    if applied.status is None or applied.body is None:
        return None
    return Response(applied.status, applied.body)
