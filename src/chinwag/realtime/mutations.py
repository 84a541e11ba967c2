"""``X-Twilio-Mutation-Id`` (client-protocol 3.1): a retried chat command is applied once.

The SDK gives each mutation a fresh UUID and sends the same one when it retries. The first
attempt records the id in the transaction of its change (``storage/stores/mutations.py``) and
stores its reply after; a later attempt with the same id, from the same account and identity,
in any process, gets that reply and changes nothing. A command that failed recorded nothing
(its transaction rolled back), so its retry runs again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from chinwag import errors
from chinwag.realtime.exchange import Client, Request, Response, error_response
from chinwag.storage.database import Txn, first_write
from chinwag.storage.stores import mutations as store

HEADER = "x-twilio-mutation-id"
#: a UUID is 36 characters; anything much longer is not an SDK's id
MAX_ID = 128


def mutation_of(client: Client, request: Request) -> store.Mutation | None:
    """The request's mutation, when it is a write carrying an id."""
    if request.method == "GET":
        return None
    value = next((v for k, v in request.headers.items() if k.lower() == HEADER), None)
    if not value:
        return None
    if len(value) > MAX_ID:
        raise errors.InvalidParameterError(name="X-Twilio-Mutation-Id")
    return store.Mutation(
        client.caller.account_sid, client.identity, value, client.deps.clock.now_ms()
    )


async def run_once(
    client: Client, mutation: store.Mutation, run: Callable[[], Awaitable[Response]]
) -> Response:
    """``run()`` unless ``mutation`` was applied already; then the reply it had."""
    db = client.deps.db
    applied = await db.run_read("find_mutation", store.find_txn, mutation)
    if applied is not None:
        return _replay(applied)

    async def record(txn: Txn) -> None:
        with txn.on_unique_violation(errors.MutationAppliedError):
            await store.record_txn(txn, mutation)

    token = first_write.set(record)
    try:
        response = await run()
        recorded = first_write.get() is None
    except errors.MutationAppliedError:
        applied = await db.run_read("find_mutation", store.find_txn, mutation)
        return (
            error_response(errors.MutationInFlightError()) if applied is None else _replay(applied)
        )
    finally:
        first_write.reset(token)
    if recorded:
        await db.run_in_txn(
            "store_mutation_reply", store.store_reply_txn, mutation, response.status, response.body
        )
    return response


def _replay(applied: store.Applied) -> Response:
    if applied.status is None or applied.body is None:
        return error_response(errors.MutationInFlightError())
    return Response(applied.status, applied.body)
