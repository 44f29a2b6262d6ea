"""Secret scan of the repository and of `cdktf.out`, against the checked-in `.secrets.baseline`.

detect-secrets scans every file git would commit (tracked, or untracked and not ignored) plus every
synthesized file under `cdktf.out/` (ignored by git, but it is what Terraform and CI read), with the
plugins and filters recorded in the baseline. A finding fails the scan unless the baseline lists
it. Unlike `detect-secrets-hook`, this never rewrites the baseline, so a check run changes nothing.

    python -m tools.lint.secret_scan            # exit 1 and one line per new finding
    python -m tools.lint.secret_scan FILE...    # scan just these files
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from detect_secrets.core import baseline
from detect_secrets.core.secrets_collection import SecretsCollection

REPO = Path(__file__).resolve().parents[2]
BASELINE = ".secrets.baseline"
SYNTH_DIR = "cdktf.out"


def repository_files(root: Path = REPO) -> list[str]:
    """Files git would commit (tracked or untracked-but-not-ignored) that still exist, plus cdktf.out."""
    listed = subprocess.run(
        ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split("\0")
    files = {name for name in listed if name and (root / name).is_file()}
    synth = root / SYNTH_DIR
    if synth.is_dir():
        files.update(str(path.relative_to(root)) for path in synth.rglob("*") if path.is_file())
    files.discard(BASELINE)
    return sorted(files)


def new_findings(files: Sequence[str], root: Path = REPO, jobs: int = 1) -> list[str]:
    """`path:line: type` for every finding in `files` (paths relative to `root`, or absolute) that the baseline
    does not list.

    Scanning from inside `root` keeps file names relative, which the baseline's file-exclusion
    patterns and its per-file results are keyed on. `jobs` > 1 scans in that many processes
    (detect-secrets' own pool: the scan is CPU-bound, ~0.1 s per synthesized stack file).
    """
    with contextlib.chdir(root):
        known = baseline.load(baseline.load_from_file(BASELINE), BASELINE)
        found = SecretsCollection()
        if jobs > 1:
            found.scan_files(*files, num_processors=jobs)
        else:
            for name in files:
                found.scan_file(name)
    fresh = found - known
    return sorted(f"{name}:{secret.line_number}: {secret.type}" for name, secret in fresh)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    files = args or repository_files()
    findings = new_findings(files, jobs=os.cpu_count() or 1)
    for line in findings:
        print(line)
    print(f"secret scan: {len(files)} files, {len(findings)} finding(s) not in {BASELINE}")
    return 1 if findings else 0


if __name__ == "__main__":
    raise SystemExit(main())
