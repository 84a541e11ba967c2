"""The API account: configured, or generated on first start so a newcomer needs no setup."""

from __future__ import annotations

import secrets

from chinwag import sids
from chinwag.domain.deps import Deps
from chinwag.model.records import Account
from chinwag.storage.database import Txn
from chinwag.storage.stores import accounts as store


async def ensure_account(deps: Deps, configured: Account | None) -> tuple[Account, bool]:
    """The account to serve and whether it was just generated (so its token can be shown once).

    A configured account (``CHINWAG_ACCOUNT_SID``/``CHINWAG_AUTH_TOKEN``) always wins; otherwise
    the first stored account is used, or a new one is generated and stored.
    """
    if configured is not None:
        return configured, False

    async def txn_fn(txn: Txn) -> tuple[Account, bool]:
        existing = await store.find_first_account_txn(txn)
        if existing is not None:
            return existing, False
        account = Account(deps.sids.new(sids.ACCOUNT), secrets.token_hex(16))
        await store.insert_account_txn(txn, account, deps.clock.now_ms())
        return account, True

    return await deps.db.run_in_txn("ensure_account", txn_fn)


async def find_stored_account(deps: Deps) -> Account | None:
    """The account stored in the database (the generated one), if any; changes nothing."""
    return await deps.db.run_read("find_stored_account", store.find_first_account_txn)


async def other_account_sids(deps: Deps, account_sid: str) -> list[str]:
    """Accounts other than ``account_sid`` that the database holds, whose data the API hides.

    Every row is scoped by account, so serving a configured account on a database that holds
    another account's data shows none of it: the CLI warns when this is not empty.
    """
    held = await deps.db.run_read("list_account_sids", store.list_account_sids_txn)
    return [sid for sid in held if sid != account_sid]


async def find_account(deps: Deps, configured: Account | None) -> Account | None:
    """The account a server would serve, without generating one (for read-only commands)."""
    if configured is not None:
        return configured
    return await find_stored_account(deps)
