"""Source trees of chinwag to measure: this checkout's installed one, or others by PYTHONPATH.

A/B work needs two trees measured in the same run, interleaved, against the same baselines. A
tree is started with its ``src`` first on ``PYTHONPATH``; before anything is measured the
interpreter is asked which ``chinwag`` it really imports, so a wrong path fails loudly instead
of measuring the installed tree twice.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

DEFAULT_NAME = "current"


@dataclass(frozen=True)
class Tree:
    name: str
    src: Path | None  # None: whatever the bench's own interpreter imports

    def env(self, base: dict[str, str]) -> dict[str, str]:
        """``base`` with this tree's ``src`` first on ``PYTHONPATH``."""
        if self.src is None:
            return dict(base)
        rest = base.get("PYTHONPATH", "")
        return base | {"PYTHONPATH": os.pathsep.join(p for p in (str(self.src), rest) if p)}


def parse_tree(spec: str) -> Tree:
    """``NAME=PATH``: PATH is a checkout (its ``src`` is used) or a ``src`` folder itself."""
    name, sep, path = spec.partition("=")
    if not sep or not re.fullmatch(r"[A-Za-z0-9_.-]+", name) or not path:
        raise ValueError(f"--tree wants NAME=PATH (NAME of letters, digits, _ . -): {spec!r}")
    root = Path(path).expanduser().resolve()
    src = root / "src" if (root / "src" / "chinwag").is_dir() else root
    if not (src / "chinwag" / "__init__.py").is_file():
        raise ValueError(f"--tree {name}: no chinwag package in {root} or {root / 'src'}")
    return Tree(name, src)


def check_unique(trees: list[Tree]) -> None:
    names = [t.name for t in trees]
    if len(set(names)) != len(names):
        raise ValueError(f"--tree names must differ: {', '.join(names)}")


def imported_package(tree: Tree) -> Path:
    """The ``chinwag`` package folder a server started for ``tree`` imports."""
    out = subprocess.run(
        [sys.executable, "-c", "import chinwag, os; print(os.path.dirname(chinwag.__file__))"],
        env=tree.env(dict(os.environ)),
        capture_output=True,
        text=True,
        check=True,
    )
    pkg = Path(out.stdout.strip()).resolve()
    if tree.src is not None and pkg != (tree.src / "chinwag").resolve():
        raise RuntimeError(f"tree {tree.name}: PYTHONPATH={tree.src} still imports {pkg}")
    return pkg


def fingerprint(pkg: Path) -> str:
    """A hash of a chinwag package's sources: trees are edited by others while we measure."""
    h = hashlib.sha1()
    for f in sorted(pkg.rglob("*.py")):
        h.update(str(f.relative_to(pkg)).encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:12]
