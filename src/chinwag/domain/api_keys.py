"""API keys: per-account keys that sign client access tokens and may authenticate REST calls.

A key is ``SK`` + 32 hex digits with a secret that is shown once, when it is created. The
secret is stored as the account's auth token is: HS256 verification needs the secret itself.
"""

from __future__ import annotations

import hmac
import secrets

from chinwag import errors, sids
from chinwag.domain import validation
from chinwag.domain.deps import Deps
from chinwag.model.records import ApiKey
from chinwag.storage.database import Txn
from chinwag.storage.stores import api_keys as store


def new_secret() -> str:
    """32 random hex characters: 128 bits, and exactly the 32 bytes HS256 asks a key to have."""
    return secrets.token_hex(16)


async def create_api_key(deps: Deps, account_sid: str, friendly_name: str | None) -> ApiKey:
    """A new key with a fresh secret; the caller shows the secret once."""
    validation.check_friendly_name(friendly_name)
    now = deps.clock.now_ms()
    key = ApiKey(deps.sids.new(sids.API_KEY), account_sid, friendly_name, new_secret(), now, now)
    await deps.db.run_in_txn("create_api_key", store.insert_api_key_txn, key)
    return key


async def ensure_api_key(deps: Deps, account_sid: str, sid: str, secret: str) -> None:
    """Make the configured key (``CHINWAG_API_KEY_SID``/``_SECRET``) exist with this secret.

    Idempotent and safe when several worker processes start at once.
    """
    now = deps.clock.now_ms()
    key = ApiKey(sid, account_sid, "configured", secret, now, now)
    await deps.db.run_in_txn("ensure_api_key", store.upsert_api_key_txn, key)


async def list_api_keys(deps: Deps, account_sid: str) -> list[ApiKey]:
    return await deps.db.run_read("list_api_keys", store.list_api_keys_txn, account_sid)


async def find_api_key(deps: Deps, account_sid: str, sid: str) -> ApiKey | None:
    """The live key ``sid`` of the account, read from the database on every call.

    Nothing is cached, so a key deleted by any process stops working at once everywhere.
    """
    if not sids.looks_like(sids.API_KEY, sid):
        return None
    return await deps.db.run_read("find_api_key", store.find_api_key_txn, account_sid, sid)


async def named_api_key(deps: Deps, account_sid: str, friendly_name: str) -> tuple[ApiKey, bool]:
    """The newest key of the account with this friendly name, or a new one; whether it is new.

    ``chinwag token`` signs with such a key, so running it again does not pile up keys.
    """
    named = [k for k in await list_api_keys(deps, account_sid) if k.friendly_name == friendly_name]
    if named:
        return named[-1], False
    return await create_api_key(deps, account_sid, friendly_name), True


async def delete_api_key(deps: Deps, account_sid: str, sid: str) -> None:
    """Delete the key; tokens it signed and REST calls made with it fail from now on."""

    async def txn_fn(txn: Txn) -> None:
        if not await store.delete_api_key_txn(txn, account_sid, sid):
            raise errors.NotFoundError()

    await deps.db.run_in_txn("delete_api_key", txn_fn)


async def key_secret_matches(deps: Deps, account_sid: str, sid: str, secret: bytes) -> bool:
    """Whether ``sid``:``secret`` (as sent, in bytes) are a live key of the account."""
    key = await find_api_key(deps, account_sid, sid)
    return key is not None and hmac.compare_digest(key.secret.encode(), secret)
