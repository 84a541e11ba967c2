"""Docs that must not drift: every setting documented, the README's two quick-start commands."""

from __future__ import annotations

from pathlib import Path

import pytest

import chinwag
from chinwag.config import FIELDS

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_documented() -> None:
    readme = (ROOT / "README.md").read_text()
    guide = (ROOT / "docs" / "configuration.md").read_text()
    for field in FIELDS:
        flag = "--" + field.name.replace("_", "-")
        for text in (readme, guide):
            assert f"`{flag}`" in text and f"`{field.env}`" in text, field.name


def test_readme_quick_start_holds_the_two_commands() -> None:
    """The server command, and the test command that CI runs exactly as written."""
    readme = (ROOT / "README.md").read_text()
    assert "pip install . && chinwag serve" in readme
    assert "\nscripts/test\n" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert 'TEST_CMD="scripts/test"' in ci
    assert ci.count('eval "$TEST_CMD"') == 2  # the SQLite run and the PostgreSQL run
    assert (ROOT / "scripts" / "test").stat().st_mode & 0o111  # executable as checked out


def test_public_api_is_listed() -> None:
    assert sorted(chinwag.__all__) == [
        "ChinwagApp",
        "Settings",
        "__version__",
        "create_app",
        "load_settings",
    ]
    for name in chinwag.__all__:
        assert hasattr(chinwag, name)
