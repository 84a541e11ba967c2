"""What ``serve`` does with the database schema it finds."""

from __future__ import annotations

import pytest

from chinwag import cli
from chinwag.config import ConfigError, Settings

pytestmark = pytest.mark.unit


@pytest.fixture
def upgrades(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    monkeypatch.setattr(cli.migrate, "upgrade", lambda url: calls.append(url))
    return calls


@pytest.mark.parametrize(
    ("state", "flag", "upgraded"),
    [("empty", False, True), ("current", False, False), ("behind", True, True)],
)
def test_serve_sets_up_or_upgrades_only_when_it_should(
    monkeypatch: pytest.MonkeyPatch, upgrades: list[str], state: str, flag: bool, upgraded: bool
) -> None:
    monkeypatch.setattr(cli.migrate, "schema_state", lambda url: state)
    cli._prepare_schema(Settings(database="sqlite:///x.db"), flag)
    assert upgrades == (["sqlite:///x.db"] if upgraded else [])


@pytest.mark.parametrize(
    ("state", "message"), [("behind", "chinwag db upgrade"), ("unknown", "does not know")]
)
def test_serve_refuses_a_schema_that_is_behind_or_foreign(
    monkeypatch: pytest.MonkeyPatch, upgrades: list[str], state: str, message: str
) -> None:
    monkeypatch.setattr(cli.migrate, "schema_state", lambda url: state)
    with pytest.raises(ConfigError, match=message):
        cli._prepare_schema(Settings(database="sqlite:///x.db"), False)
    assert upgrades == []
