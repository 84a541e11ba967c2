"""Pure rules: SIDs, identities, permissions, settings precedence."""

from __future__ import annotations

import pytest

from chinwag import errors, sids
from chinwag.config import ConfigError, load_settings
from chinwag.domain import validation
from chinwag.domain.permissions import DEFAULT_ROLES, VALID, canonical

pytestmark = pytest.mark.unit


def test_minted_sids_have_the_twilio_shape() -> None:
    sid = sids.SidGenerator().new(sids.CHANNEL)
    assert sids.looks_like(sids.CHANNEL, sid)
    assert sid == sid[:2] + sid[2:].lower()
    assert not sids.looks_like(sids.USER, sid)
    assert not sids.looks_like(sids.CHANNEL, "CH" + "g" * 32)


@pytest.mark.parametrize(
    ("identity", "error"),
    [
        ("", errors.IdentityNotProvidedError),
        ("x" * 257, errors.IdentityTooLongError),
        ("US" + "a" * 32, errors.IdentityMatchesSidError),
        ("system", errors.IdentityReservedError),
    ],
)
def test_bad_identities(identity: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        validation.check_identity(identity)


@pytest.mark.parametrize("url", ["ftp://x", "http://", "/relative", "not a url", "http://[::1"])
def test_webhook_urls_must_be_absolute_http(url: str) -> None:
    with pytest.raises(errors.InvalidPreWebhookUrlError):
        validation.check_http_url(url, errors.InvalidPreWebhookUrlError)


def test_attributes_must_be_json_of_bounded_size() -> None:
    assert validation.check_attributes('{"a": [1, 2]}') == '{"a": [1, 2]}'
    with pytest.raises(errors.AttributesNotJsonError):
        validation.check_attributes("{nope")
    with pytest.raises(errors.AttributesTooLongError):
        validation.check_attributes('"' + "x" * validation.ATTRIBUTES_MAX + '"')


def test_default_roles_only_hold_permissions_valid_for_their_scope() -> None:
    for _, kind, permissions in DEFAULT_ROLES:
        assert set(permissions) <= VALID[kind]
        assert canonical(permissions) == permissions


def test_settings_precedence_is_file_then_env_then_cli(tmp_path: object) -> None:
    from pathlib import Path

    config = Path(str(tmp_path)) / "chinwag.toml"
    config.write_text('port = 1000\nhost = "0.0.0.0"\nlog_level = "debug"\n')
    env = {"CHINWAG_PORT": "2000", "CHINWAG_HOST": "::1"}
    settings = load_settings({"port": "3000"}, config_file=str(config), environ=env)
    assert (settings.port, settings.host, settings.log_level) == (3000, "::1", "debug")


@pytest.mark.parametrize(
    "env",
    [
        {"CHINWAG_PORT": "http"},
        {"CHINWAG_SQLITE_SYNCHRONOUS": "OFF"},
        {"CHINWAG_ACCOUNT_SID": "AC" + "0" * 32},
        {"CHINWAG_PUBLIC_URL": "chat.example.com"},
        {"CHINWAG_API_KEY_SID": "SK" + "0" * 32},
        {"CHINWAG_API_KEY_SECRET": "secret"},
        {"CHINWAG_API_KEY_SID": "SK" + "0" * 31, "CHINWAG_API_KEY_SECRET": "secret"},
        {"CHINWAG_API_KEY_SID": "AC" + "0" * 32, "CHINWAG_API_KEY_SECRET": "secret"},
        {"CHINWAG_CLOCK": "fake"},
        {"CHINWAG_CLOCK": "controllable", "CHINWAG_WORKERS": "2"},
        {"CHINWAG_CONTROL_API": "maybe"},
    ],
)
def test_bad_settings_are_refused(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        load_settings(environ=env)
