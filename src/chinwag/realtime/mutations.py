"""``X-Twilio-Mutation-Id`` (client-protocol 3.1): a retried chat command is applied once.

The SDK gives each mutation a fresh UUID and sends the same one when it retries. A command
handler that carries one builds a :class:`~chinwag.domain.once.Once` with :func:`once` and
passes it to its domain operation, which records the id and the reply in the transaction of
its change (``chinwag.domain.once``). A later attempt with the same id, from the same account,
service and identity, in any process, is answered by :func:`applied` with that reply and
changes nothing: before it runs when the record is already there, or when its own record
breaks the key (two attempts at once). A command that failed recorded nothing, so its retry
runs again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from chinwag import errors
from chinwag.domain.once import MutationKey, Once, Reply, find_reply
from chinwag.realtime.context import Client, Request, Response

T = TypeVar("T")

HEADER = "x-twilio-mutation-id"
#: a UUID is 36 characters; anything much longer is not an SDK's id
MAX_ID = 128


def key_of(client: Client, request: Request) -> MutationKey | None:
    """The request's mutation, when it is a write carrying an id."""
    if request.method == "GET":
        return None
    value = next((v for k, v in request.headers.items() if k.lower() == HEADER), None)
    if not value:
        return None
    if len(value) > MAX_ID:
        raise errors.InvalidParameterError(
            name="X-Twilio-Mutation-Id", expected=f"at most {MAX_ID} characters"
        )
    return MutationKey(client.caller.account_sid, client.service_sid, client.identity, value)


def once(client: Client, request: Request, reply: Callable[[T], Response]) -> Once[T] | None:
    """What a command handler passes to its domain operation: the command's id and its
    ``reply`` for the operation's result, or None for a command without an id."""
    key = key_of(client, request)
    if key is None:
        return None

    def stored(result: T) -> Reply:
        response = reply(result)
        return Reply(response.status, response.body)

    return Once(key, client.deps.clock.now_ms(), stored)


async def applied(client: Client, key: MutationKey) -> Response | None:
    """The first attempt's reply, when the command under ``key`` was applied."""
    found = await find_reply(client.deps.db, key)
    return None if found is None else Response(found.status, found.body)
