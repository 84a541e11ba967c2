"""The import layering, read from the source: two doors (``http``, ``realtime``) over one
adapter layer (``api``), then ``domain``, then ``storage``, with ``model`` below them all.

``model`` imports nothing of chinwag's above it; ``storage`` persists model records and imports
no domain module; the domain declares its ports and imports none of their implementations
(``events``, ``webhooks``); ``api`` is below both doors, and the doors never import each
other. Every import counts, including those only under ``TYPE_CHECKING``: a type-only
edge is still a dependency a reader has to follow.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

import chinwag

pytestmark = pytest.mark.unit

PACKAGE = Path(chinwag.__file__).resolve().parent


@dataclass(frozen=True)
class Rule:
    """Modules under ``importer`` may not import anything under ``forbidden`` but ``allowed``."""

    importer: str
    forbidden: str
    allowed: tuple[str, ...] = ()

    def breaks(self, importer: str, imported: str) -> bool:
        return (
            _within(importer, self.importer)
            and _within(imported, self.forbidden)
            and not any(_within(imported, a) for a in self.allowed)
        )


_ABOVE_MODEL = (
    "chinwag.domain",
    "chinwag.push",
    "chinwag.storage",
    "chinwag.events",
    "chinwag.webhooks",
    "chinwag.api",
    "chinwag.http",
    "chinwag.realtime",
    "chinwag.admin",
    "chinwag.testing",
    "chinwag.app",
    "chinwag.cli",
    "chinwag.config",
)

RULES = (
    # the records every layer shares sit at the bottom
    *(Rule("chinwag.model", above) for above in _ABOVE_MODEL),
    # storage persists model records; it knows nothing of the rules or of who calls it
    *(
        Rule("chinwag.storage", above)
        for above in _ABOVE_MODEL
        if above not in ("chinwag.storage", "chinwag.config")
    ),
    # the domain declares its ports (bus, webhook gate, projection); the adapters implement them
    Rule("chinwag.domain", "chinwag.events"),
    Rule("chinwag.domain", "chinwag.webhooks"),
    Rule("chinwag.domain", "chinwag.push"),
    Rule("chinwag.domain", "chinwag.api"),
    Rule("chinwag.domain", "chinwag.http"),
    Rule("chinwag.domain", "chinwag.realtime"),
    Rule("chinwag.events", "chinwag.webhooks"),
    Rule("chinwag.events", "chinwag.http"),
    Rule("chinwag.events", "chinwag.realtime"),
    Rule("chinwag.webhooks", "chinwag.http"),
    Rule("chinwag.webhooks", "chinwag.realtime"),
    Rule("chinwag.push", "chinwag.http"),
    Rule("chinwag.push", "chinwag.realtime"),
    Rule("chinwag.push", "chinwag.webhooks"),
    # what both doors share lies below both; the two doors never import each other
    Rule("chinwag.api", "chinwag.http"),
    Rule("chinwag.api", "chinwag.realtime"),
    Rule("chinwag.realtime", "chinwag.http"),
    Rule("chinwag.http", "chinwag.realtime"),
)


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def module_name(root: Path, path: Path) -> str:
    """``root/domain/users.py`` -> ``chinwag.domain.users`` (``root`` is the package dir)."""
    parts = [root.name, *path.relative_to(root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(root: Path, path: Path) -> set[str]:
    """The modules (or, for ``from pkg import name``, the submodule if one exists) that the
    file at ``path`` imports, relative imports resolved."""
    name = module_name(root, path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if _is_module(root, sub) else base)
    return found


def _is_module(root: Path, module: str) -> bool:
    parts = module.split(".")
    if parts[0] != root.name:
        return False
    path = root.joinpath(*parts[1:])
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def violations(root: Path, rules: tuple[Rule, ...] = RULES) -> set[tuple[str, str]]:
    """Every (importer, imported) pair under ``root`` that breaks one of ``rules``."""
    found = set()
    for path in sorted(root.rglob("*.py")):
        importer = module_name(root, path)
        for imported in imports(root, path):
            if any(rule.breaks(importer, imported) for rule in rules):
                found.add((importer, imported))
    return found


def test_imports_follow_the_layers() -> None:
    assert violations(PACKAGE) == set(), "imports against the layering"


def test_a_forbidden_import_is_found_in_any_form(tmp_path: Path) -> None:
    root = tmp_path / "chinwag"
    for package in ("", "http", "domain", "storage", "storage/stores"):
        (root / package).mkdir(exist_ok=True)
        (root / package / "__init__.py").write_text("")
    (root / "http" / "render.py").write_text("")
    (root / "domain" / "models.py").write_text("")
    (root / "domain" / "rules.py").write_text("")
    (root / "domain" / "users.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "from chinwag.domain import models\n"
        "if TYPE_CHECKING:\n"
        "    from chinwag.http import render\n"
    )
    (root / "storage" / "stores" / "users.py").write_text(
        "import chinwag.http\nfrom ...domain import models, rules\nfrom . import users\n"
    )

    assert violations(root) == {
        ("chinwag.domain.users", "chinwag.http.render"),
        ("chinwag.storage.stores.users", "chinwag.http"),
        ("chinwag.storage.stores.users", "chinwag.domain.models"),
        ("chinwag.storage.stores.users", "chinwag.domain.rules"),
    }
