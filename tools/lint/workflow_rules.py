"""This project's own rules for its GitHub Actions workflows, checked on the parsed YAML.

actionlint checks syntax and expressions, zizmor checks known attack patterns; these rules pin down
the promises the pipeline makes (docs/CI.md), so a later edit cannot quietly break them:

- `pinned-uses`: every action or reusable workflow from another repository is pinned by a full
  40-hex commit SHA with a `# vX.Y.Z` comment; container actions by `@sha256:` digest.
- `permissions`: top-level `permissions` is empty or read-only; every job states its own; a write
  scope needs a reason the job visibly has (`id-token` only with an OIDC login, `pull-requests` and
  `issues` only in a job that runs no repository code, `security-events` only to upload SARIF; a job
  calling a local reusable workflow may pass a scope that workflow's jobs need); nothing else writes.
- `triggers`: no `pull_request_target` or `workflow_run` (they run with secrets on untrusted input).
- `static-credentials`: no long-lived cloud key names, and no `secrets.*` other than GITHUB_TOKEN,
  in `env`, `with` or scripts; no `secrets: inherit`.
- `tf-log`: TF_LOG* is never set (debug logs carry request bodies, including secrets).
- `tf-in-automation`: jobs that run terraform see TF_IN_AUTOMATION.
- `timeout`: every job that runs steps has `timeout-minutes`.
- `script-injection`: no `${{ }}` inside `run:` or a github-script `script:` (values go through env).
- `checkout`: every checkout sets `persist-credentials: false`.
- `leaky-script`: no `set -x`, `printenv`, bare `env`, or `$LITELLM_API_KEY` in scripts.
- `concurrency`: pull-request workflows have a workflow concurrency group; every job that runs
  `terraform apply` has a job concurrency group keyed on the stack, never cancelled in progress.

    python -m tools.lint.workflow_rules [FILE...]   # default: .github/workflows/*.yml + .github/actions/*/action.yml
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]

_SHA_PIN = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[^@\s]+)?@[0-9a-f]{40}$")
_DOCKER_PIN = re.compile(r"^docker://[^@\s]+@sha256:[0-9a-f]{64}$")
_VERSION_COMMENT = re.compile(r"#\s*v\d+(\.\d+){0,2}\b")
_EXPRESSION = re.compile(r"\$\{\{")
_SECRET_REF = re.compile(r"secrets\s*(\.\s*([A-Za-z_][A-Za-z0-9_]*)|\[)")
_STATIC_CREDENTIALS = re.compile(
    r"AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|aws-access-key-id|aws-secret-access-key"
    r"|aws-session-token|GOOGLE_CREDENTIALS|GOOGLE_APPLICATION_CREDENTIALS|credentials_json"
    r"|ALIBABA_CLOUD_ACCESS_KEY_\w*|ALIBABACLOUD_ACCESS_KEY_\w*|ALICLOUD_ACCESS_KEY|ALICLOUD_SECRET_KEY"
    r"|access-key-id|access-key-secret",
    re.IGNORECASE,
)
_TF_LOG_ENV = re.compile(r"^TF_LOG")
_TF_LOG_SCRIPT = re.compile(r"\bTF_LOG\w*\s*=|export\s+TF_LOG")
_TERRAFORM = re.compile(r"(^|[\s;&|(\"'])terraform(\s|$)", re.MULTILINE)
_TERRAFORM_APPLY = re.compile(r"terraform\b[^\n]*\bapply\b")
_LEAKY = (
    (re.compile(r"\bset\s+-[A-Za-z]*x"), "`set -x` echoes every command with its expanded values"),
    (re.compile(r"set\s+-o\s+xtrace"), "`set -o xtrace` echoes every command with its expanded values"),
    (re.compile(r"\bprintenv\b"), "`printenv` prints the environment, including credentials"),
    (re.compile(r"^\s*env\s*(\||$)", re.MULTILINE), "a bare `env` prints the environment"),
    (re.compile(r"\$\{?LITELLM_API_KEY\b(?!_)"), "the LiteLLM key must never be expanded in a script"),
)
_OIDC_ACTIONS = (
    "aws-actions/configure-aws-credentials@",
    "google-github-actions/auth@",
    "aliyun/configure-aliyun-credentials-action@",
)
_SARIF_UPLOAD = "github/codeql-action/upload-sarif@"
_FORBIDDEN_TRIGGERS = ("pull_request_target", "workflow_run")


@dataclass(frozen=True)
class Violation:
    """One broken rule, located by file and a YAML path."""

    path: str
    where: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.where}: [{self.rule}] {self.message}"


def _load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict):
        raise ValueError(f"{path}: not a YAML mapping")
    return document


def triggers(workflow: dict[str, Any]) -> set[str]:
    """Event names of a workflow (PyYAML reads the bare key `on` as True)."""
    on = workflow.get("on", workflow.get(True))
    if isinstance(on, str):
        return {on}
    if isinstance(on, list):
        return {str(event) for event in on}
    if isinstance(on, dict):
        return {str(event) for event in on}
    return set()


def _strings(node: Any) -> Iterator[str]:
    """Every string (keys and values) inside a YAML node."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


def _steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    steps = job.get("steps") or []
    return [step for step in steps if isinstance(step, dict)]


def _uses_lines(text: str) -> dict[str, list[str]]:
    """Raw source lines of each `uses:` value, to read the version comment YAML drops."""
    lines: dict[str, list[str]] = {}
    for line in text.splitlines():
        match = re.match(r"^\s*(?:-\s+)?uses:\s*['\"]?([^'\"\s#]+)", line)
        if match:
            lines.setdefault(match.group(1), []).append(line)
    return lines


def _check_uses(path: str, where: str, uses: str, raw_lines: dict[str, list[str]]) -> Iterator[Violation]:
    if uses.startswith("./"):
        return
    if uses.startswith("docker://"):
        if not _DOCKER_PIN.match(uses):
            yield Violation(path, where, "pinned-uses", f"{uses} is not pinned by an @sha256 digest")
        return
    if not _SHA_PIN.match(uses):
        yield Violation(path, where, "pinned-uses", f"{uses} is not pinned by a full 40-hex commit SHA")
        return
    if not all(_VERSION_COMMENT.search(line) for line in raw_lines.get(uses, [""])):
        yield Violation(path, where, "pinned-uses", f"{uses} has no `# vX.Y.Z` comment naming the release")


def _check_script(path: str, where: str, script: str) -> Iterator[Violation]:
    if _EXPRESSION.search(script):
        yield Violation(path, where, "script-injection", "`${{ }}` inside a script; pass the value through env")
    if _TF_LOG_SCRIPT.search(script):
        yield Violation(path, where, "tf-log", "TF_LOG is set in a script")
    if _STATIC_CREDENTIALS.search(script):
        yield Violation(path, where, "static-credentials", "a long-lived cloud credential name appears in a script")
    for pattern, reason in _LEAKY:
        if pattern.search(script):
            yield Violation(path, where, "leaky-script", reason)


def _check_mapping(path: str, where: str, mapping: Any, *, is_env: bool) -> Iterator[Violation]:
    if not isinstance(mapping, dict):
        return
    for key, value in mapping.items():
        text = f"{key} {value}"
        if _STATIC_CREDENTIALS.search(text):
            yield Violation(
                path, f"{where}.{key}", "static-credentials", "long-lived cloud credentials are not allowed"
            )
        if is_env and _TF_LOG_ENV.match(str(key)):
            yield Violation(path, f"{where}.{key}", "tf-log", "TF_LOG* must never be set")
        for found in _SECRET_REF.finditer(str(value)):
            if found.group(2) != "GITHUB_TOKEN":
                yield Violation(path, f"{where}.{key}", "static-credentials", "only secrets.GITHUB_TOKEN may be used")


def _check_steps(path: str, where: str, steps: list[dict[str, Any]], raw: dict[str, list[str]]) -> Iterator[Violation]:
    for index, step in enumerate(steps):
        here = f"{where}.steps[{index}]"
        uses = step.get("uses")
        if isinstance(uses, str):
            yield from _check_uses(path, here, uses, raw)
            with_ = step.get("with") or {}
            yield from _check_mapping(path, f"{here}.with", with_, is_env=False)
            if uses.startswith("actions/checkout@") and with_.get("persist-credentials") is not False:
                yield Violation(path, here, "checkout", "actions/checkout must set persist-credentials: false")
            if uses.startswith("actions/github-script@") and isinstance(with_.get("script"), str):
                yield from _check_script(path, f"{here}.with.script", with_["script"])
        run = step.get("run")
        if isinstance(run, str):
            yield from _check_script(path, f"{here}.run", run)
        yield from _check_mapping(path, f"{here}.env", step.get("env"), is_env=True)


def _job_writes(permissions: Any) -> set[str]:
    if not isinstance(permissions, dict):
        return set()
    return {str(scope) for scope, level in permissions.items() if level == "write"}


def _calls_workflow_using(job: dict[str, Any], workflows_dir: Path, actions: tuple[str, ...]) -> bool:
    """Whether `job` calls a local reusable workflow one of whose jobs uses one of `actions`."""
    uses = job.get("uses")
    if not isinstance(uses, str) or not uses.startswith("./"):
        return False
    called = (workflows_dir.parent.parent / uses).resolve()
    return called.is_file() and any(
        any(str(step.get("uses", "")).startswith(actions) for step in _steps(called_job))
        for called_job in (_load(called).get("jobs") or {}).values()
        if isinstance(called_job, dict)
    )


def _check_job_permissions(path: str, where: str, job: dict[str, Any], workflows_dir: Path) -> Iterator[Violation]:
    permissions = job.get("permissions")
    if not isinstance(permissions, dict):
        yield Violation(path, where, "permissions", "every job must state its permissions as a mapping")
        return
    steps = _steps(job)
    step_uses = [str(step.get("uses", "")) for step in steps]
    for scope in sorted(_job_writes(permissions)):
        if scope == "id-token":
            if not (
                any(u.startswith(_OIDC_ACTIONS) for u in step_uses)
                or _calls_workflow_using(job, workflows_dir, _OIDC_ACTIONS)
            ):
                yield Violation(path, where, "permissions", "id-token: write without an OIDC cloud login")
        elif scope in ("pull-requests", "issues"):
            runs_code = any("run" in step for step in steps) or any(
                u.startswith("actions/checkout@") for u in step_uses
            )
            if runs_code or "uses" in job or "id-token" in _job_writes(permissions):
                yield Violation(
                    path, where, "permissions", f"{scope}: write only in a job that runs no repository code"
                )
        elif scope == "security-events":
            if not (
                any(u.startswith(_SARIF_UPLOAD) for u in step_uses)
                or _calls_workflow_using(job, workflows_dir, (_SARIF_UPLOAD,))
            ):
                yield Violation(path, where, "permissions", "security-events: write without a SARIF upload")
        else:
            yield Violation(path, where, "permissions", f"{scope}: write is not allowed")


def _runs_terraform(job: dict[str, Any]) -> bool:
    return any(isinstance(step.get("run"), str) and _TERRAFORM.search(step["run"]) for step in _steps(job))


def _runs_terraform_apply(job: dict[str, Any]) -> bool:
    return any(isinstance(step.get("run"), str) and _TERRAFORM_APPLY.search(step["run"]) for step in _steps(job))


def check_workflow(file: Path) -> list[Violation]:
    """Every rule violation in one workflow file."""
    path = str(file.relative_to(REPO)) if file.is_relative_to(REPO) else str(file)
    text = file.read_text(encoding="utf-8")
    workflow = _load(file)
    raw = _uses_lines(text)
    found: list[Violation] = []

    for event in sorted(triggers(workflow).intersection(_FORBIDDEN_TRIGGERS)):
        found.append(Violation(path, "on", "triggers", f"`{event}` runs privileged code on untrusted input"))

    top = workflow.get("permissions")
    if top is None:
        found.append(Violation(path, "permissions", "permissions", "top-level permissions must be stated ({})"))
    elif not (isinstance(top, dict) and all(level in ("read", "none") for level in top.values())):
        found.append(Violation(path, "permissions", "permissions", "top-level permissions must be {} or read-only"))

    workflow_env = workflow.get("env") or {}
    found.extend(_check_mapping(path, "env", workflow_env, is_env=True))
    if "pull_request" in triggers(workflow) and "concurrency" not in workflow:
        found.append(Violation(path, "concurrency", "concurrency", "pull-request workflows need a concurrency group"))

    for job_id, job in (workflow.get("jobs") or {}).items():
        where = f"jobs.{job_id}"
        if not isinstance(job, dict):
            continue
        found.extend(_check_job_permissions(path, where, job, file.parent))
        if "uses" in job:
            found.extend(_check_uses(path, where, str(job["uses"]), raw))
            found.extend(_check_mapping(path, f"{where}.with", job.get("with"), is_env=False))
            if job.get("secrets") == "inherit":
                found.append(Violation(path, where, "static-credentials", "`secrets: inherit` passes every secret"))
            continue
        timeout = job.get("timeout-minutes")
        if not isinstance(timeout, int) or not 0 < timeout <= 360:
            found.append(Violation(path, where, "timeout", "timeout-minutes must be set (1-360)"))
        job_env = job.get("env") or {}
        found.extend(_check_mapping(path, f"{where}.env", job_env, is_env=True))
        automation = str(job_env.get("TF_IN_AUTOMATION", workflow_env.get("TF_IN_AUTOMATION", ""))).lower()
        if _runs_terraform(job) and automation not in ("1", "true"):
            found.append(Violation(path, where, "tf-in-automation", "terraform runs without TF_IN_AUTOMATION=1"))
        if _runs_terraform_apply(job):
            concurrency = job.get("concurrency")
            if not (
                isinstance(concurrency, dict)
                and "matrix.stack.name" in str(concurrency.get("group", ""))
                and concurrency.get("cancel-in-progress") is False
            ):
                found.append(
                    Violation(
                        path, where, "concurrency", "terraform apply needs a per-stack group, cancel-in-progress: false"
                    )
                )
        found.extend(_check_steps(path, where, _steps(job), raw))
    return found


def check_action(file: Path) -> list[Violation]:
    """Rule violations in a composite action (pins, scripts, env)."""
    path = str(file.relative_to(REPO)) if file.is_relative_to(REPO) else str(file)
    action = _load(file)
    runs = action.get("runs") or {}
    steps = [step for step in runs.get("steps") or [] if isinstance(step, dict)]
    return list(_check_steps(path, "runs", steps, _uses_lines(file.read_text(encoding="utf-8"))))


def default_files(root: Path = REPO) -> list[Path]:
    """The repository's workflows and local composite actions."""
    workflows = sorted((root / ".github" / "workflows").glob("*.y*ml"))
    actions = sorted((root / ".github" / "actions").glob("*/action.y*ml"))
    return workflows + actions


def check_files(files: Sequence[Path]) -> list[Violation]:
    """Violations across workflows and actions (an `action.yml` is checked as a composite action)."""
    found: list[Violation] = []
    for file in files:
        found.extend(check_action(file) if file.name in ("action.yml", "action.yaml") else check_workflow(file))
    return found


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    files = [Path(arg).resolve() for arg in args] or default_files()
    violations = check_files(files)
    for violation in violations:
        print(violation)
    print(f"workflow rules: {len(files)} files, {len(violations)} violation(s)")
    return 1 if violations else 0


if __name__ == "__main__":
    raise SystemExit(main())
