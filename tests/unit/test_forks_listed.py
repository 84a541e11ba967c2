"""Every fork of a third-party server internal is listed in docs/architecture.md ("Forks"),
with the uvicorn pin it was checked against: a new subclass of uvicorn's protocols or of the
uvloop loop cannot arrive unnoticed, and a changed pin must be checked again."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "chinwag"

#: what marks a module as a fork: it subclasses or imports a server's internals
INTERNALS = re.compile(r"^from uvicorn\.protocols|^\s*class \w+\(uvloop\.Loop\)", re.M)


def _forks_section() -> str:
    text = (ROOT / "docs" / "architecture.md").read_text()
    found = re.search(r"^## Forks\n(.*?)(?=^## )", text, re.M | re.S)
    assert found is not None, "docs/architecture.md has no '## Forks' section"
    return found[1]


def test_every_module_on_server_internals_is_listed_as_a_fork() -> None:
    forks = {
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if INTERNALS.search(path.read_text())
    }
    assert forks, "the pattern finds no fork: it no longer matches the code"
    listed = set(re.findall(r"^\| `([\w/]+\.py)`", _forks_section(), re.M))
    assert forks == listed


def test_the_forks_name_the_uvicorn_pin() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pin = next(d for d in project["dependencies"] if d.startswith("uvicorn"))
    assert f"`{pin}`" in _forks_section()
