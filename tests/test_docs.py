"""Docs that must not drift: every setting documented, the README's two quick-start commands."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

import chinwag
from chinwag.config import FIELDS, Settings

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


#: how the docs write a quantity's unit
_UNITS = {"": 1.0, "KiB": 1024.0, "MiB": 1024.0**2, "GiB": 1024.0**3, "s": 1.0, "ms": 0.001}
_QUANTITY = r"(\d[\d,]*(?:\.\d+)?)\s*(KiB|MiB|GiB|ms|s)?(?![\w.])"
#: "`--flag` (10 s" or "`setting_name` (1 MiB", a default given in passing
_IN_PASSING = re.compile(r"`(--[a-z][a-z-]*|[a-z][a-z_]*)` \((?:default |by default )?" + _QUANTITY)
#: "`--flag` ... (default 1 MiB)" in one line, with no other setting between
_STATED = re.compile(r"`(--[a-z][a-z-]*|[a-z][a-z_]*)`[^`()]*\(default " + _QUANTITY)
#: a settings table row: | `name` | `--flag` | `CHINWAG_…` | `default` | (docs/configuration.md)
#: or | `--flag` | `CHINWAG_…` | `default` | (README)
_ROW = re.compile(r"^\| `(?:[a-z_]+` \| `)?(--[a-z-]+)` \| `CHINWAG_[A-Z_]+` \| `([^`]*)`")


def _http_status(number: str, unit: str | None) -> bool:
    """ "`--max-body-bytes` (413": the status a setting answers, not its default."""
    return not unit and number.isdigit() and 400 <= int(number) < 600


def _documented_defaults() -> list[tuple[str, str, str, float | str]]:
    """(file, setting, as written, value) for every default the docs and README state."""
    names = {field.name: field.name for field in FIELDS}
    names |= {"--" + field.name.replace("_", "-"): field.name for field in FIELDS}
    found: list[tuple[str, str, str, float | str]] = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for line in path.read_text().splitlines():
            row = _ROW.match(line)
            if row:
                found.append((path.name, names[row[1]], row[2], row[2]))
            for match in [*_IN_PASSING.finditer(line), *_STATED.finditer(line)]:
                if match[1] in names and not _http_status(match[2], match[3]):
                    value = float(match[2].replace(",", "")) * _UNITS[match[3] or ""]
                    found.append((path.name, names[match[1]], match[0], value))
    return found


def test_documented_defaults_are_the_code_defaults() -> None:
    """Every default the README and docs/ state, in a table or in passing, is the code's."""
    defaults = {f.name: f.default for f in dataclasses.fields(Settings)}
    documented = _documented_defaults()
    assert (
        len({(name, file) for file, name, _, _ in documented}) > 110
    )  # the parser still reads them all
    wrong = []
    for file, name, written, value in documented:
        default = defaults[name]
        if isinstance(value, str):  # a table's default column, as written
            expected = "none" if default is None else str(default).lower()
            ok = value.lower() == expected or (
                isinstance(default, float) and value == f"{default:g}"
            )
            ok = (
                ok
                or (default is None and value.startswith("by "))
                or (name == "database" and value == "sqlite:///chinwag.db")
            )
        else:
            ok = isinstance(default, int | float) and abs(value - default) < 1e-9
        if not ok:
            wrong.append(f"{file}: {written!r} but {name} defaults to {default!r}")
    assert not wrong, "\n".join(wrong)
