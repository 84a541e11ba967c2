"""Access tokens: how a chat client proves which identity of which service it is.

A token is a compact JWS signed with an API key's secret, as twilio-python's and twilio-node's
``AccessToken`` make it. Verification runs in steps; the pure ones (no I/O) are separate
functions so they can be tested alone, and each failure has its own code::

    token ──parse_token──────────> SignedToken       20101 unparseable, 20102 header,
      │                                               20103 iss/sub not key/account SIDs
      ├── live key iss of account sub? (one read)    20103
      ├── verify_signature(secret)                   20107
      ├── check_claims(now) ─────> Claims            20104 expired, 20157 lives > 24 h,
      │                                               20105 not yet valid, 20106 grants
      └── service of the account? user exists? ──> ClientGrant
                                                      20106 (the user is created if missing)

PyJWT parses the token and computes the HMAC. Its ``decode`` is not used for the signature
because it warns about secrets shorter than the hash (a 32-byte secret with HS512, which
twilio-node allows), and its claim checks would not tell the codes apart.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import jwt

from chinwag import errors, sids
from chinwag.domain import validation
from chinwag.domain.api_keys import find_api_key
from chinwag.domain.deps import Caller, Deps
from chinwag.domain.lookups import get_service
from chinwag.domain.users import CreateUser, do_create_user
from chinwag.model.events import Actor
from chinwag.model.records import User
from chinwag.storage.database import Txn
from chinwag.storage.stores import users as user_store

CONTENT_TYPE = "twilio-fpa;v=1"
ALGORITHMS = ("HS256", "HS384", "HS512")
MAX_LIFETIME_S = 24 * 3600
#: tokens are a few hundred bytes; anything this large is refused before it is decoded
MAX_TOKEN_CHARS = 16_384
#: a token minted on a machine whose clock runs this far ahead is still accepted (its ``nbf``)
CLOCK_SKEW_S = 60


@dataclass(frozen=True, slots=True)
class ClientGrant:
    """What a verified token allows: one identity of one service, until ``expires_at_ms``."""

    account_sid: str
    key_sid: str
    identity: str
    service_sid: str
    expires_at_ms: int  # the token's exp, in ms
    endpoint_id: str | None
    #: ``ChatGrant.push_credential_sid``: the credential pushes to this client's devices use
    push_credential_sid: str | None = None


@dataclass(frozen=True, slots=True)
class SignedToken:
    """A token's parts, read but not yet trusted."""

    algorithm: str
    key_sid: str
    account_sid: str
    signing_input: bytes
    signature: bytes
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Claims:
    """The claims of a token whose signature and dates are good."""

    identity: str
    service_sid: str
    endpoint_id: str | None
    expires_at_ms: int
    push_credential_sid: str | None = None


def parse_token(token: object) -> SignedToken:
    """Split and decode a token without trusting it (20101, 20102, 20103)."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS or not token.isascii():
        raise errors.InvalidAccessTokenError()
    try:
        parts = jwt.api_jws.decode_complete(token, options={"verify_signature": False})
        payload = json.loads(parts["payload"])
    except (jwt.PyJWTError, ValueError, RecursionError):
        # RecursionError: a deeply nested JSON payload, which the json module refuses this way
        raise errors.InvalidAccessTokenError() from None
    if not isinstance(payload, dict):
        raise errors.InvalidAccessTokenError()
    header = parts["header"]
    if header.get("cty") != CONTENT_TYPE or header.get("alg") not in ALGORITHMS:
        raise errors.InvalidAccessTokenHeaderError()
    key_sid, account_sid = payload.get("iss"), payload.get("sub")
    if not (
        isinstance(key_sid, str)
        and isinstance(account_sid, str)
        and sids.looks_like(sids.API_KEY, key_sid)
        and sids.looks_like(sids.ACCOUNT, account_sid)
    ):
        raise errors.InvalidAccessTokenIssuerError()
    return SignedToken(
        algorithm=header["alg"],
        key_sid=key_sid,
        account_sid=account_sid,
        signing_input=token.rsplit(".", 1)[0].encode(),
        signature=parts["signature"],
        payload=payload,
    )


def verify_signature(token: SignedToken, secret: str) -> None:
    """Check the HMAC with the key's secret, in constant time (20107)."""
    algorithm = jwt.get_algorithm_by_name(token.algorithm)
    try:
        key = algorithm.prepare_key(secret)
    except jwt.InvalidKeyError:
        raise errors.InvalidAccessTokenSignatureError() from None
    if not algorithm.verify(token.signing_input, key, token.signature):
        raise errors.InvalidAccessTokenSignatureError()


def _seconds(value: object) -> float | None:
    """A NumericDate claim as seconds, or None if it is not a finite number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        seconds = float(value)
    except OverflowError:  # an integer beyond any float
        return None
    return seconds if math.isfinite(seconds) else None


def check_claims(payload: dict[str, Any], now_ms: int) -> Claims:
    """Dates and grants of a token whose signature is good (20104, 20157, 20105, 20106).

    The lifetime runs from the earliest of ``iat``, ``nbf`` and now to ``exp``, so a token
    cannot pass the 24-hour limit by leaving out its issue time.
    """
    now = now_ms / 1000
    exp = _seconds(payload.get("exp"))
    if exp is None or exp <= now:
        raise errors.AccessTokenExpiredError()
    starts = [now]
    for name in ("iat", "nbf"):
        if name in payload:
            value = _seconds(payload[name])
            if value is None:
                raise errors.InvalidAccessTokenError()
            starts.append(value)
    if exp - min(starts) > MAX_LIFETIME_S:
        raise errors.AccessTokenLifetimeError()
    nbf = _seconds(payload.get("nbf"))
    if nbf is not None and nbf > now + CLOCK_SKEW_S:
        raise errors.AccessTokenNotYetValidError()
    return _grants(payload.get("grants"), math.floor(exp * 1000))


def _grants(grants: object, expires_at_ms: int) -> Claims:
    if not isinstance(grants, dict):
        raise errors.InvalidAccessTokenGrantsError()
    identity, chat = grants.get("identity"), grants.get("chat")
    if not isinstance(identity, str) or not isinstance(chat, dict):
        raise errors.InvalidAccessTokenGrantsError()
    try:
        validation.check_identity(identity)
    except errors.ChinwagError as exc:
        raise errors.InvalidAccessTokenGrantsError(
            f"Invalid Access Token grants: {exc.message}"
        ) from None
    service_sid, endpoint_id = chat.get("service_sid"), chat.get("endpoint_id")
    if not isinstance(service_sid, str) or not sids.looks_like(sids.SERVICE, service_sid):
        raise errors.InvalidAccessTokenGrantsError()
    if endpoint_id is not None and not isinstance(endpoint_id, str):
        raise errors.InvalidAccessTokenGrantsError()
    credential_sid = chat.get("push_credential_sid")
    if credential_sid is not None and not isinstance(credential_sid, str):
        raise errors.InvalidAccessTokenGrantsError()
    return Claims(identity, service_sid, endpoint_id, expires_at_ms, credential_sid or None)


def mint_token(
    *,
    key_sid: str,
    secret: str,
    account_sid: str,
    identity: str,
    service_sid: str,
    now_s: int,
    ttl_s: int = 3600,
) -> str:
    """A token shaped as twilio-python's ``AccessToken`` with a ``ChatGrant`` makes it."""
    payload = {
        "jti": f"{key_sid}-{now_s}",
        "iss": key_sid,
        "sub": account_sid,
        "nbf": now_s,
        "exp": now_s + ttl_s,
        "grants": {"identity": identity, "chat": {"service_sid": service_sid}},
    }
    return jwt.encode(payload, secret, algorithm="HS256", headers={"cty": CONTENT_TYPE})


async def authenticate(deps: Deps, token: str) -> ClientGrant:
    """Verify an access token and make sure its User exists (created on first connect with the
    service's default service role). Raises the ChinwagError subclass for each failure code."""
    signed = parse_token(token)
    key = await find_api_key(deps, signed.account_sid, signed.key_sid)
    if key is None:
        raise errors.InvalidAccessTokenIssuerError()
    verify_signature(signed, key.secret)
    claims = check_claims(signed.payload, deps.clock.now_ms())
    await _ensure_user(deps, signed.account_sid, claims)
    return ClientGrant(
        account_sid=signed.account_sid,
        key_sid=signed.key_sid,
        identity=claims.identity,
        service_sid=claims.service_sid,
        expires_at_ms=claims.expires_at_ms,
        endpoint_id=claims.endpoint_id,
        push_credential_sid=claims.push_credential_sid,
    )


async def key_is_live(deps: Deps, account_sid: str, key_sid: str) -> bool:
    """For connections to notice a deleted key (cheap: one indexed read)."""
    return await find_api_key(deps, account_sid, key_sid) is not None


async def _ensure_user(deps: Deps, account_sid: str, claims: Claims) -> None:
    """The token's service must be the account's; its identity gets a User on first connect,
    through the same operation as REST's create-user, acting as the identity itself."""

    async def read(txn: Txn) -> User | None:
        try:
            service = await get_service(txn, account_sid, claims.service_sid)
        except errors.NotFoundError:
            raise errors.InvalidAccessTokenGrantsError() from None
        return await user_store.find_user_txn(txn, service.sid, "identity", claims.identity)

    if await deps.db.run_read("authenticate_user", read) is not None:
        return
    caller = Caller(account_sid, Actor("SDK", claims.identity))
    try:
        await do_create_user(deps, caller, claims.service_sid, CreateUser(claims.identity))
    except errors.UserAlreadyExistsError:
        return  # another connection of the same identity created it first
    except errors.NotFoundError:
        raise errors.InvalidAccessTokenGrantsError() from None  # the service was just deleted
