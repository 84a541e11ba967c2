"""Access-token verification without I/O: every failure code, and garbage never escapes typed.

Tokens come from twilio-python's own ``AccessToken`` where it can make them (HS256); PyJWT
makes the shapes it cannot (HS384/HS512 as twilio-node allows, broken headers and claims).
"""

from __future__ import annotations

import base64
import contextlib
import json
import warnings
from typing import Any

import jwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import ChatGrant

from chinwag import errors
from chinwag.domain.access_tokens import (
    CLOCK_SKEW_S,
    MAX_LIFETIME_S,
    MAX_TOKEN_CHARS,
    Claims,
    check_claims,
    mint_token,
    parse_token,
    verify_signature,
)

pytestmark = pytest.mark.unit

PROFILE = settings(deadline=None, derandomize=True, database=None)

ACCOUNT = "AC" + "a" * 32
KEY = "SK" + "b" * 32
SECRET = "c" * 32
SERVICE = "IS" + "d" * 32
NOW = 1_800_000_000
HEADER = {"typ": "JWT", "alg": "HS256", "cty": "twilio-fpa;v=1"}


def verify(token: object, secret: str = SECRET, now: int = NOW) -> Claims:
    """The pure steps of ``authenticate``, in its order, with the key lookup assumed to pass."""
    signed = parse_token(token)
    verify_signature(signed, secret)
    return check_claims(signed.payload, now * 1000)


def claims(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "jti": f"{KEY}-{NOW}",
        "iss": KEY,
        "sub": ACCOUNT,
        "nbf": NOW,
        "exp": NOW + 3600,
        "grants": {"identity": "alice", "chat": {"service_sid": SERVICE}},
    }
    payload.update(changes)
    return {k: v for k, v in payload.items() if v is not None}


def sign(payload: Any, *, secret: str = SECRET, **header: Any) -> str:
    """A token with any header and payload; short secrets are allowed (twilio-node does)."""
    headers = {**HEADER, **header}
    algorithm = headers.pop("alg")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
        return jwt.api_jws.encode(
            json.dumps(payload).encode(), secret, algorithm=algorithm, headers=headers
        )


def twilio_python_token(**kwargs: Any) -> str:
    token = AccessToken(ACCOUNT, KEY, SECRET, identity="alice", **kwargs)
    token.add_grant(ChatGrant(service_sid=SERVICE, endpoint_id="app:alice:phone"))
    return str(token.to_jwt())


def test_a_twilio_python_token_verifies() -> None:
    token = twilio_python_token(nbf=NOW, valid_until=NOW + 600)
    assert verify(token) == Claims("alice", SERVICE, "app:alice:phone", (NOW + 600) * 1000)
    signed = parse_token(token)
    assert (signed.key_sid, signed.account_sid, signed.algorithm) == (KEY, ACCOUNT, "HS256")


@pytest.mark.parametrize("algorithm", ["HS256", "HS384", "HS512"])
def test_every_hmac_algorithm_verifies_with_a_32_character_secret(algorithm: str) -> None:
    # twilio-node adds iat and leaves nbf out
    token = sign(claims(nbf=None, iat=NOW), alg=algorithm)
    assert verify(token).identity == "alice"


def test_the_chat_grants_push_credential_is_kept() -> None:
    token = AccessToken(ACCOUNT, KEY, SECRET, identity="alice", nbf=NOW, valid_until=NOW + 60)
    token.add_grant(ChatGrant(service_sid=SERVICE, push_credential_sid="CR" + "c" * 32))
    assert verify(str(token.to_jwt())).push_credential_sid == "CR" + "c" * 32
    assert verify(twilio_python_token(nbf=NOW, valid_until=NOW + 60)).push_credential_sid is None


def test_mint_token_makes_what_verify_accepts() -> None:
    token = mint_token(
        key_sid=KEY,
        secret=SECRET,
        account_sid=ACCOUNT,
        identity="bob",
        service_sid=SERVICE,
        now_s=NOW,
        ttl_s=60,
    )
    assert verify(token) == Claims("bob", SERVICE, None, (NOW + 60) * 1000)
    assert jwt.get_unverified_header(token)["cty"] == "twilio-fpa;v=1"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not a token",
        "a.b",
        "a.b.c",
        "eyJhbGciOiJIUzI1NiJ9..",
        "é.é.é",
        "x" * (MAX_TOKEN_CHARS + 1),
        None,
        b"bytes.are.not.tokens",
    ],
)
def test_an_unparseable_token_is_20101(token: object) -> None:
    with pytest.raises(errors.InvalidAccessTokenError) as info:
        verify(token)
    assert (info.value.status, info.value.code) == (401, 20101)
    assert info.value.message == "Invalid Access Token"


@pytest.mark.parametrize("payload", [["a list"], "text", 42, None])
def test_a_payload_that_is_not_an_object_is_20101(payload: object) -> None:
    with pytest.raises(errors.InvalidAccessTokenError):
        verify(sign(payload))


@pytest.mark.parametrize("change", [{"iat": "yesterday"}, {"nbf": [NOW]}, {"nbf": False}])
def test_a_non_numeric_issue_or_start_time_is_20101(change: dict[str, Any]) -> None:
    with pytest.raises(errors.InvalidAccessTokenError):
        verify(sign(claims(**change)))


@pytest.mark.parametrize(
    "header",
    [{"cty": None}, {"cty": "twilio-fpa;v=2"}, {"cty": 1}, {"alg": "none"}, {"alg": "HS1"}],
)
def test_a_bad_header_is_20102(header: dict[str, Any]) -> None:
    fields = {k: v for k, v in {**HEADER, **header}.items() if v is not None}
    head = _b64(json.dumps(fields))
    _, payload, signature = sign(claims()).split(".")
    with pytest.raises(errors.InvalidAccessTokenHeaderError) as info:
        verify(f"{head}.{payload}.{signature}")
    assert (info.value.code, info.value.message) == (20102, "Invalid Access Token header")


def test_an_rsa_token_is_20102() -> None:
    head = _b64(json.dumps({**HEADER, "alg": "RS256"}))
    with pytest.raises(errors.InvalidAccessTokenHeaderError):
        verify(f"{head}.{_b64(json.dumps(claims()))}.c2ln")


@pytest.mark.parametrize(
    "change",
    [
        {"iss": None},
        {"sub": None},
        {"iss": ACCOUNT},
        {"sub": KEY},
        {"iss": "SK123"},
        {"iss": 7},
        {"sub": ["AC" + "a" * 32]},
    ],
)
def test_an_issuer_or_subject_that_is_not_a_key_and_account_is_20103(
    change: dict[str, Any],
) -> None:
    with pytest.raises(errors.InvalidAccessTokenIssuerError) as info:
        verify(sign(claims(**change)))
    assert info.value.code == 20103


def test_a_wrong_secret_is_20107() -> None:
    with pytest.raises(errors.InvalidAccessTokenSignatureError) as info:
        verify(sign(claims()), secret="another-secret-of-32-characters!")
    assert (info.value.code, info.value.message) == (20107, "Invalid Access Token signature")


def test_a_changed_payload_is_20107() -> None:
    head, _, signature = sign(claims()).split(".")
    forged = _b64(json.dumps(claims(grants={"identity": "mallory", "chat": {}})))
    with pytest.raises(errors.InvalidAccessTokenSignatureError):
        verify(f"{head}.{forged}.{signature}")


@pytest.mark.parametrize(
    "change",
    [
        {"exp": NOW},
        {"exp": NOW - 1},
        {"exp": None},
        {"exp": "tomorrow"},
        {"exp": True},
        {"exp": 10**400},
        {"exp": float("nan")},
    ],
)
def test_an_expired_or_invalid_expiry_is_20104(change: dict[str, Any]) -> None:
    with pytest.raises(errors.AccessTokenExpiredError) as info:
        verify(sign(claims(**change)))
    assert (info.value.status, info.value.code) == (401, 20104)


def test_an_expired_twilio_python_token_is_20104() -> None:
    token = twilio_python_token(nbf=NOW - 7200, valid_until=NOW - 3600)
    with pytest.raises(errors.AccessTokenExpiredError):
        verify(token)


@pytest.mark.parametrize(
    "change",
    [
        {"exp": NOW + MAX_LIFETIME_S + 1},
        {"nbf": None, "exp": NOW + MAX_LIFETIME_S + 1},
        {"nbf": None, "iat": NOW - 3600, "exp": NOW + MAX_LIFETIME_S - 1800},
        {"nbf": NOW - 100, "exp": NOW + MAX_LIFETIME_S - 10},
    ],
)
def test_a_lifetime_over_24_hours_is_20157(change: dict[str, Any]) -> None:
    with pytest.raises(errors.AccessTokenLifetimeError) as info:
        verify(sign(claims(**change)))
    assert (info.value.code, info.value.message) == (
        20157,
        "Expiration Time Exceeds Maximum Time Allowed",
    )


def test_exactly_24_hours_is_allowed() -> None:
    assert verify(sign(claims(exp=NOW + MAX_LIFETIME_S))).expires_at_ms == (
        (NOW + MAX_LIFETIME_S) * 1000
    )


def test_a_token_not_yet_valid_is_20105_beyond_the_clock_skew() -> None:
    late = NOW + CLOCK_SKEW_S + 1
    with pytest.raises(errors.AccessTokenNotYetValidError) as info:
        verify(sign(claims(nbf=late, exp=late + 60)))
    assert info.value.code == 20105
    early = NOW + CLOCK_SKEW_S
    assert verify(sign(claims(nbf=early, exp=early + 60))).identity == "alice"


@pytest.mark.parametrize(
    "grants",
    [
        None,
        "alice",
        {"chat": {"service_sid": SERVICE}},
        {"identity": "", "chat": {"service_sid": SERVICE}},
        {"identity": 5, "chat": {"service_sid": SERVICE}},
        {"identity": "US" + "0" * 32, "chat": {"service_sid": SERVICE}},
        {"identity": "x" * 257, "chat": {"service_sid": SERVICE}},
        {"identity": "alice"},
        {"identity": "alice", "chat": "IS" + "d" * 32},
        {"identity": "alice", "chat": {}},
        {"identity": "alice", "chat": {"service_sid": "CH" + "d" * 32}},
        {"identity": "alice", "chat": {"service_sid": SERVICE, "endpoint_id": 3}},
        {"identity": "alice", "chat": {"service_sid": SERVICE, "push_credential_sid": 7}},
        {"identity": "alice", "video": {}},
    ],
)
def test_missing_or_invalid_grants_are_20106(grants: Any) -> None:
    with pytest.raises(errors.InvalidAccessTokenGrantsError) as info:
        verify(sign(claims(grants=grants)))
    assert (info.value.status, info.value.code) == (401, 20106)


def test_every_token_error_has_the_twilio_error_shape() -> None:
    error = errors.AccessTokenExpiredError()
    assert error.to_dict() == {
        "code": 20104,
        "message": "Access Token expired or expiration date invalid",
        "more_info": "https://www.twilio.com/docs/errors/20104",
        "status": 401,
    }


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
CLAIM_VALUES = st.one_of(
    JSON, st.sampled_from([KEY, ACCOUNT, SERVICE, NOW, NOW + 60, NOW + 10**6, "alice"])
)


def _expect_only_token_errors(token: object) -> None:
    with contextlib.suppress(errors.AccessTokenError):
        verify(token)


@PROFILE
@given(st.text(max_size=300) | st.binary(max_size=300))
def test_any_text_is_refused_with_a_token_error(token: object) -> None:
    _expect_only_token_errors(token)


@PROFILE
@given(
    st.lists(st.text(alphabet="ABCDEFabcdef0123456789-_=+/.", max_size=60), max_size=5).map(
        ".".join
    )
)
def test_any_segments_are_refused_with_a_token_error(token: str) -> None:
    _expect_only_token_errors(token)


@PROFILE
@given(
    header=st.dictionaries(st.sampled_from(["alg", "cty", "typ", "kid", "b64", "crit"]), JSON),
    payload=JSON,
)
def test_any_json_in_the_segments_is_refused_with_a_token_error(
    header: dict[str, Any], payload: Any
) -> None:
    token = f"{_b64(json.dumps(header))}.{_b64(json.dumps(payload))}.c2ln"
    _expect_only_token_errors(token)


@PROFILE
@given(
    payload=st.dictionaries(
        st.sampled_from(["iss", "sub", "exp", "nbf", "iat", "grants", "jti"]), CLAIM_VALUES
    ),
    grants=st.dictionaries(st.sampled_from(["identity", "chat"]), CLAIM_VALUES),
    algorithm=st.sampled_from(["HS256", "HS384", "HS512"]),
)
def test_any_signed_claims_are_accepted_or_refused_with_a_token_error(
    payload: dict[str, Any], grants: dict[str, Any], algorithm: str
) -> None:
    payload = {"iss": KEY, "sub": ACCOUNT, **payload}
    if "grants" not in payload:
        payload["grants"] = grants
    _expect_only_token_errors(sign(payload, alg=algorithm))


def test_a_deeply_nested_payload_is_20101() -> None:
    with pytest.raises(errors.InvalidAccessTokenError):
        verify(f"{_b64(json.dumps(HEADER))}.{_b64('[' * 5000)}.c2ln")
