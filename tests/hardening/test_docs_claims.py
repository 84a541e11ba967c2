"""What the docs claim, checked: the README's Node example parses as written, no doc cites a
file outside the repository, and the open paths are described as the code has them."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from chinwag.http.auth import OPEN_PATHS

pytestmark = pytest.mark.sdk

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _node_example() -> str:
    """The README's back-end example: the one ``js`` block that uses the twilio package."""
    blocks = re.findall(r"```js\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    examples = [block for block in blocks if 'require("twilio")' in block]
    assert len(examples) == 1
    return str(examples[0])


def test_readme_node_example_has_no_top_level_await(tmp_path: Path) -> None:
    example = _node_example()
    assert "require(" in example  # CommonJS, where top-level await is a syntax error
    depth = 0
    for line in example.splitlines():
        if depth == 0:
            assert not re.search(r"\bawait\b", line), line
        depth += line.count("{") - line.count("}")
    node = shutil.which("node")
    if node:  # node parses it as CommonJS too, when it is installed
        script = tmp_path / "chat.cjs"  # require() makes it CommonJS
        script.write_text(example)
        result = subprocess.run([node, "--check", str(script)], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr


def test_docs_cite_no_file_outside_the_repository() -> None:
    outside = re.compile(r"/work/|/home/|/root/|shared/|\breference \d|of the reference")
    for doc in DOCS:
        for number, line in enumerate(doc.read_text().splitlines(), 1):
            assert not outside.search(line), f"{doc.name}:{number}: {line}"


def test_docs_name_every_path_open_without_credentials() -> None:
    account = (ROOT / "docs" / "configuration.md").read_text()
    sentence = re.search(r"Only (`GET .*?) answer", account, re.S)
    assert sentence is not None
    named = set(re.findall(r"`GET (/\w*)`", sentence[1]))
    assert named == set(OPEN_PATHS)
