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
    readme = (ROOT / "README.md").read_text()
    assert "pip install . && chinwag serve" in readme
    assert "pip install '.[test]' && pytest" in readme
    assert "pip install '.[test]' && pytest" in (ROOT / ".ci" / "run").read_text()


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
