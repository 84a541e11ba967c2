"""Push-notification credentials (APNs, GCM, FCM), account level.

Secrets are write-only: stored for the push-notification work to come, never rendered. No PEM
or key validation happens here, as on Twilio, which checked them only when sending pushes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from chinwag import errors, sids
from chinwag.domain import policy, validation
from chinwag.domain.deps import Caller, Deps
from chinwag.domain.policy import Action
from chinwag.model.events import CredentialAdded, CredentialRemoved, CredentialUpdated
from chinwag.model.records import Credential, CredentialType, Page, PageRequest
from chinwag.model.unset import UNSET, Unset, is_empty_update, pick
from chinwag.storage.database import Txn
from chinwag.storage.stores import credentials as store


@dataclass(frozen=True)
class CreateCredential:
    type: CredentialType
    friendly_name: str | None = None
    certificate: str | None = None
    private_key: str | None = None
    sandbox: bool | None = None
    api_key: str | None = None
    secret: str | None = None


@dataclass(frozen=True)
class UpdateCredential:
    friendly_name: str | Unset | None = UNSET
    certificate: str | Unset | None = UNSET
    private_key: str | Unset | None = UNSET
    sandbox: bool | Unset = UNSET
    api_key: str | Unset | None = UNSET
    secret: str | Unset | None = UNSET


async def _get(txn: Txn, account_sid: str, sid: str) -> Credential:
    credential = None
    if sids.looks_like(sids.CREDENTIAL, sid):
        credential = await store.find_credential_txn(txn, account_sid, sid)
    if credential is None:
        raise errors.NotFoundError()
    return credential


async def create_credential(deps: Deps, caller: Caller, cmd: CreateCredential) -> Credential:
    policy.authorize(caller.actor, Action.ADMINISTER)
    validation.check_friendly_name(cmd.friendly_name)
    now = deps.clock.now_ms()
    credential = Credential(
        sid=deps.sids.new(sids.CREDENTIAL),
        account_sid=caller.account_sid,
        friendly_name=cmd.friendly_name,
        type=cmd.type,
        sandbox=(cmd.sandbox or False) if cmd.type == "apn" else cmd.sandbox,
        certificate=cmd.certificate,
        private_key=cmd.private_key,
        api_key=cmd.api_key,
        secret=cmd.secret,
        date_created=now,
        date_updated=now,
    )

    async def txn_fn(txn: Txn) -> Credential:
        await store.insert_credential_txn(txn, credential)
        await deps.emit(txn, CredentialAdded(caller.actor, credential))
        return credential

    return await deps.db.run_in_txn("create_credential", txn_fn)


async def fetch_credential(deps: Deps, caller: Caller, sid: str) -> Credential:
    policy.authorize(caller.actor, Action.ADMINISTER)
    return await deps.db.run_read("fetch_credential", _get, caller.account_sid, sid)


async def list_credentials(deps: Deps, caller: Caller, req: PageRequest) -> Page[Credential]:
    policy.authorize(caller.actor, Action.ADMINISTER)
    return await deps.db.run_read(
        "list_credentials", store.list_credentials_txn, caller.account_sid, req
    )


async def update_credential(
    deps: Deps, caller: Caller, sid: str, cmd: UpdateCredential
) -> Credential:
    policy.authorize(caller.actor, Action.ADMINISTER)
    if is_empty_update(cmd):
        raise errors.NoUpdateParametersError()

    async def txn_fn(txn: Txn) -> Credential:
        old = await _get(txn, caller.account_sid, sid)
        new = dataclasses.replace(
            old,
            friendly_name=validation.check_friendly_name(
                pick(cmd.friendly_name, old.friendly_name)
            ),
            certificate=pick(cmd.certificate, old.certificate),
            private_key=pick(cmd.private_key, old.private_key),
            sandbox=pick(cmd.sandbox, old.sandbox),
            api_key=pick(cmd.api_key, old.api_key),
            secret=pick(cmd.secret, old.secret),
            date_updated=deps.clock.now_ms(),
        )
        await store.update_credential_txn(txn, new)
        await deps.emit(txn, CredentialUpdated(caller.actor, new))
        return new

    return await deps.db.run_in_txn("update_credential", txn_fn)


async def delete_credential(deps: Deps, caller: Caller, sid: str) -> None:
    policy.authorize(caller.actor, Action.ADMINISTER)

    async def txn_fn(txn: Txn) -> None:
        credential = await _get(txn, caller.account_sid, sid)
        await store.delete_credential_txn(txn, credential.sid)
        await deps.emit(txn, CredentialRemoved(caller.actor, credential))

    await deps.db.run_in_txn("delete_credential", txn_fn)
