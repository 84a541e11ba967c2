"""The ``--push-*`` settings: their sources, defaults and checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from chinwag.config import ConfigError, load_settings
from chinwag.push.providers import ProviderSettings, provider_settings

pytestmark = pytest.mark.unit


def test_push_settings_come_from_flags_environment_and_file(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    config = tmp_path / "chinwag.toml"
    config.write_text('push_apns_url = "https://apns.test:2197"\n')
    settings = load_settings(
        {"push_enabled": "false"},
        config_file=str(config),
        environ={"CHINWAG_PUSH_FCM_URL": "https://fcm.test", "CHINWAG_PUSH_CA_FILE": str(ca)},
    )
    assert provider_settings(settings) == ProviderSettings(
        fcm_url="https://fcm.test", apns_url="https://apns.test:2197", ca_file=str(ca)
    )
    assert settings.push_enabled is False
    defaults = load_settings(environ={})
    assert (defaults.push_enabled, defaults.push_fcm_url, defaults.push_apns_url) == (
        True,
        "https://fcm.googleapis.com",
        None,
    )


@pytest.mark.parametrize(
    "values",
    [
        {"push_fcm_url": "http://fcm.test"},
        {"push_apns_url": "api.push.apple.com"},
        {"push_ca_file": "/nonexistent/ca.pem"},
    ],
)
def test_bad_push_settings_are_refused(values: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        load_settings(values, environ={})
