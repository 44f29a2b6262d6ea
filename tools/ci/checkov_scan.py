"""Run checkov on the synthesized stacks (`make scan`), after removing cdktf's null values.

cdktf writes `null` for unset optional attributes in a few places; checkov treats a present key with a null
value differently from an absent key, so each stack is scanned from a cleaned copy. JSON-string fields (ECS
container definitions) are opaque to checkov: tests/test_aws_*.py assert on those instead.

    python -m tools.ci.checkov_scan [--checkov PATH] [--out cdktf.out] [-- extra checkov arguments]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "tools" / "ci" / "checkov.yaml"


def without_nulls(value: object) -> object:
    if isinstance(value, dict):
        return {key: without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [without_nulls(item) for item in value if item is not None]
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkov", default=os.environ.get("CHECKOV", "checkov"))
    parser.add_argument("--out", type=Path, default=REPO / "cdktf.out")
    parser.add_argument("extra", nargs="*", help="passed to checkov after `--` (e.g. SARIF output options)")
    args = parser.parse_args(argv)
    stacks = sorted((args.out / "stacks").glob("*/cdk.tf.json"))
    if not stacks:
        print(f"checkov_scan: no stacks under {args.out}/stacks; run `make synth` first", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as scratch:
        for path in stacks:
            target = Path(scratch) / path.parent.name / "cdk.tf.json"
            target.parent.mkdir()
            target.write_text(json.dumps(without_nulls(json.loads(path.read_text())), indent=2))
        command = [
            args.checkov,
            "--directory",
            scratch,
            "--framework",
            "terraform_json",
            "--config-file",
            str(CONFIG),
            "--skip-download",
            "--compact",
            "--quiet",
            *args.extra,
        ]
        if shutil.which(args.checkov) is None and not Path(args.checkov).is_file():
            print(f"checkov_scan: {args.checkov!r} not found; `make scan` installs it", file=sys.stderr)
            return 2
        return subprocess.run(command, env={**os.environ, "BC_SKIP_MAPPING": "TRUE"}).returncode


if __name__ == "__main__":
    sys.exit(main())
