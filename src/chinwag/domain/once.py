"""Commands applied once: a client's command carries an id (``X-Twilio-Mutation-Id``) and sends
the same id when it retries, so the retry must answer the first reply and change nothing.

The door builds a :class:`Once` for such a command and passes it, explicitly, to the domain
operation that applies it, as it passes the caller. The operation hands it to
:meth:`~chinwag.domain.deps.Deps.write` with its write unit: the id and the reply (rendered by
the door from the operation's result) are recorded in the transaction of the change, so they
commit or roll back with it, however many transactions the command runs. A second attempt
breaks the record's primary key and raises :class:`~chinwag.errors.MutationAppliedError`; a
command that failed recorded nothing, so its retry runs again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from chinwag import errors
from chinwag.storage.database import Database, Txn
from chinwag.storage.stores import mutations as store
from chinwag.storage.stores.mutations import MutationKey, Reply

__all__ = ["MutationKey", "Once", "Reply", "find_reply"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Once(Generic[T]):
    """One command that must take effect once: its id and how its reply is written."""

    key: MutationKey
    now_ms: int
    #: the reply the door sends for the operation's result (pure: it runs in the transaction)
    reply: Callable[[T], Reply]

    async def record_txn(self, txn: Txn, result: T) -> None:
        with txn.on_unique_violation(errors.MutationAppliedError):
            await store.record_txn(txn, self.key, self.now_ms, self.reply(result))


async def find_reply(db: Database, key: MutationKey) -> Reply | None:
    """The reply of the command recorded under ``key``, if it was applied."""
    return await db.run_read("find_mutation", store.find_txn, key)
