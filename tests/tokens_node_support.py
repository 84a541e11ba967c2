"""twilio-node, installed from ``tests/tokens_node``'s lock file, to mint tokens in Node.

``.ci/run`` installs it with ``npm ci``; a plain ``pytest`` does the same the first time.
"""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

TOKENS_NODE = Path(__file__).resolve().parent / "tokens_node"


@functools.cache
def tokens_node() -> Path:
    """The directory of ``mint.js``, with its pinned ``twilio`` package installed."""
    if not (TOKENS_NODE / "node_modules" / "twilio").is_dir():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"],
            cwd=TOKENS_NODE,
            check=True,
            capture_output=True,
            timeout=300,
        )
    return TOKENS_NODE
