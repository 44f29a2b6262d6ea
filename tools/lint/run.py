"""Run every lint check of the project, one status line per check; exit 1 if any fails.

Checks: ruff (lint and format) over the Python code; actionlint, zizmor (offline) and the GitHub
workflow JSON schema over `.github/`; the project's own workflow rules (tools/lint/workflow_rules.py);
and the detect-secrets scan against `.secrets.baseline`. Every tool is the pinned one from the
virtual environment or `node_modules`, and none of them needs the network.

    python -m tools.lint.run                 # all checks
    python -m tools.lint.run zizmor secrets  # just these
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
WORKFLOWS = REPO / ".github" / "workflows"
ACTIONS = REPO / ".github" / "actions"
ZIZMOR_CONFIG = REPO / ".github" / "zizmor.yml"
DEPENDABOT_CONFIG = REPO / ".github" / "dependabot.yml"
ACTIONLINT_SCRIPT = REPO / "tools" / "lint" / "actionlint.mjs"


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one check: its name, whether it passed, and the tool's output."""

    name: str
    ok: bool
    output: str


def _run(name: str, command: Sequence[str | Path]) -> CheckResult:
    completed = subprocess.run(
        [str(part) for part in command],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    return CheckResult(name, completed.returncode == 0, (completed.stdout + completed.stderr).strip())


def workflow_files() -> list[Path]:
    """The repository's workflow files."""
    return sorted(WORKFLOWS.glob("*.y*ml"))


def action_files() -> list[Path]:
    """The repository's local composite actions."""
    return sorted(ACTIONS.glob("*/action.y*ml"))


def ruff_check() -> CheckResult:
    return _run("ruff-check", [BIN / "ruff", "check", "--no-cache", "."])


def ruff_format() -> CheckResult:
    return _run("ruff-format", [BIN / "ruff", "format", "--check", "--no-cache", "."])


def actionlint(files: Sequence[Path] | None = None) -> CheckResult:
    if not (REPO / "node_modules" / "@tktco" / "node-actionlint").is_dir():
        return CheckResult("actionlint", False, "node_modules is missing: run `npm ci` first")
    return _run("actionlint", ["node", ACTIONLINT_SCRIPT, *(files or workflow_files())])


def zizmor(paths: Sequence[Path] | None = None) -> CheckResult:
    command: list[str | Path] = [BIN / "zizmor", "--offline", "--no-progress", "--color", "never"]
    command += ["--config", ZIZMOR_CONFIG, *(paths or [REPO / ".github"])]
    return _run("zizmor", command)


def workflow_schema(files: Sequence[Path] | None = None) -> CheckResult:
    check = BIN / "check-jsonschema"
    workflows = _run(
        "workflow-schema", [check, "--builtin-schema", "vendor.github-workflows", *(files or workflow_files())]
    )
    if files is not None or not workflows.ok:
        return workflows
    actions = _run("workflow-schema", [check, "--builtin-schema", "vendor.github-actions", *action_files()])
    dependabot = _run("workflow-schema", [check, "--builtin-schema", "vendor.dependabot", DEPENDABOT_CONFIG])
    output = f"{workflows.output}\n{actions.output}\n{dependabot.output}".strip()
    return CheckResult("workflow-schema", actions.ok and dependabot.ok, output)


def workflow_rules(files: Sequence[Path] | None = None) -> CheckResult:
    return _run("workflow-rules", [sys.executable, "-m", "tools.lint.workflow_rules", *(files or [])])


def secrets() -> CheckResult:
    return _run("secrets", [sys.executable, "-m", "tools.lint.secret_scan"])


CHECKS: dict[str, Callable[[], CheckResult]] = {
    "ruff-check": ruff_check,
    "ruff-format": ruff_format,
    "actionlint": actionlint,
    "zizmor": zizmor,
    "workflow-schema": workflow_schema,
    "workflow-rules": workflow_rules,
    "secrets": secrets,
}


def main(argv: Sequence[str] | None = None) -> int:
    names = list(sys.argv[1:] if argv is None else argv) or list(CHECKS)
    unknown = [name for name in names if name not in CHECKS]
    if unknown:
        print(f"unknown check(s): {', '.join(unknown)}; known: {', '.join(CHECKS)}", file=sys.stderr)
        return 2
    failed = 0
    for name in names:
        result = CHECKS[name]()
        print(f"{'ok  ' if result.ok else 'FAIL'} {name}", flush=True)
        if not result.ok:
            failed += 1
            print("\n".join(f"     {line}" for line in result.output.splitlines()), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
