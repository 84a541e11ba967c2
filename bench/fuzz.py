"""A longer Schemathesis fuzzing run than CI's: tests/fuzz/test_schemathesis.py, with more cases.

The same test, fixtures and checks (no 5xx, schema and content-type conformance, Twilio error
bodies), with ``--max-examples`` fuzzed cases per operation instead of CI's 25, and a random
seed instead of CI's derandomized run. The seed is printed; pass it back with ``--seed`` to
replay a failing run exactly.

    .venv/bin/python bench/fuzz.py                        # 500 per operation, new random seed
    .venv/bin/python bench/fuzz.py --max-examples 2000 --seed 1234
    .venv/bin/python bench/fuzz.py -k Messages            # only operations matching -k
    .venv/bin/python bench/fuzz.py --database postgresql://user:pw@localhost/chinwag_fuzz

The exit status is pytest's: 0 when every operation passed.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEST = ROOT / "tests" / "fuzz" / "test_schemathesis.py"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--max-examples",
        type=int,
        default=500,
        help="fuzzed cases per operation (default 500)",
    )
    parser.add_argument(
        "--seed", type=int, default=None, help="replay a run (default: a new random seed)"
    )
    parser.add_argument("-k", dest="keyword", help="only operations matching this pytest -k")
    parser.add_argument(
        "--database",
        help="a postgresql:// URL to run against PostgreSQL (as CHINWAG_TEST_DATABASE_URL)",
    )
    parser.add_argument("-x", action="store_true", help="stop at the first failing operation")
    args = parser.parse_args(argv)
    if args.max_examples < 1:
        parser.error("--max-examples must be at least 1")

    seed = args.seed if args.seed is not None else random.randrange(2**32)
    env = dict(os.environ)
    env["CHINWAG_FUZZ_MAX_EXAMPLES"] = str(args.max_examples)
    env["CHINWAG_FUZZ_SEED"] = str(seed)
    if args.database:
        env["CHINWAG_TEST_DATABASE_URL"] = args.database

    command = [sys.executable, "-m", "pytest", str(TEST), "-p", "no:cacheprovider", "-s", "-q"]
    if args.keyword:
        command += ["-k", args.keyword]
    if args.x:
        command.append("-x")
    print(f"fuzz: {args.max_examples} examples per operation, seed {seed}", flush=True)
    status = subprocess.call(command, cwd=ROOT, env=env)
    replay = f"--seed {seed} --max-examples {args.max_examples}"
    print(f"fuzz: {'passed' if status == 0 else 'FAILED'}; replay with {replay}", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
