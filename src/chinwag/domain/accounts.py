"""The API account: configured, or generated on first start so a newcomer needs no setup."""

from __future__ import annotations

import secrets

from chinwag import sids
from chinwag.domain.deps import Deps
from chinwag.domain.models import Account
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


async def find_account(deps: Deps, configured: Account | None) -> Account | None:
    """The account a server would serve, without generating one (for read-only commands)."""
    if configured is not None:
        return configured
    return await deps.db.run_read("find_account", store.find_first_account_txn)
