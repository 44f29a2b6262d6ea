"""Select the stacks a CI run covers, from `make stacks` and the files a change touches.

The plan and apply workflows build their job matrices from this module's output, so the set of
stacks CI can plan or apply is exactly the list `main.py --list-stacks` synthesizes. Selection is
deliberately conservative: a path is narrowed to a cloud or an environment only when its name says
so (`stacks/aws/...`, `config/dev.yaml`); a path that no rule recognises selects every stack, and only
a short list of paths that cannot change synthesized output selects none.

    make -s stacks > stacks.json
    git diff --name-only HEAD^1 HEAD > changed.txt
    python -m tools.ci.affected_stacks --stacks stacks.json --changed-files changed.txt

Bootstrap stacks are never selected: they keep local state and create the CI identities themselves, so an
administrator plans and applies them (docs/CI.md, "Bootstrap"); `--only <cloud>-bootstrap` is an error.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

CLOUDS = ("aws", "gcp", "alicloud")
ENVS = ("dev", "staging", "prod")
KINDS = ("gateway", "quotas", "bootstrap")
# The kinds CI deploys, in apply order within a cloud and environment: quotas read the gateway's remote state.
DEPLOYED_KINDS = ("gateway", "quotas")
# Promotion order of the environments.
ENV_ORDER = ENVS
PLAN_ENVIRONMENT_SUFFIX = "-plan"

_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_RUNNER_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")

# Directories whose file names carry the cloud or environment they belong to.
_SCOPED_ROOTS = ("constructs_lib/", "stacks/", "config/")
# Paths that cannot change what is synthesized (docs, tests, linters, this repo's own CI checks).
_NEUTRAL_PREFIXES = ("docs/", "tests/", "bench/", "tools/lint/")
_NEUTRAL_FILES = frozenset(
    {
        ".gitignore",
        ".pre-commit-config.yaml",
        ".secrets.baseline",
        "LICENSE",
        ".github/workflows/ci.yml",
        ".github/actionlint.yaml",
    }
)


@dataclass(frozen=True, kw_only=True)
class Stack:
    """One entry of `main.py --list-stacks`."""

    name: str
    cloud: str
    env: str | None
    kind: str
    github_environment: str | None
    plan_runs_on: tuple[str, ...]
    apply_runs_on: tuple[str, ...]

    @classmethod
    def from_json(cls, raw: object) -> Stack:
        """Validate one stack object; names end up in paths and artifact names, so they are checked strictly."""
        if not isinstance(raw, dict):
            raise ValueError(f"stack entry must be an object, got {raw!r}")
        name = raw.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValueError(f"stack name {name!r} must match {_NAME.pattern}")
        cloud, env, kind = raw.get("cloud"), raw.get("env"), raw.get("kind")
        if cloud not in CLOUDS:
            raise ValueError(f"stack {name}: cloud {cloud!r} is not one of {', '.join(CLOUDS)}")
        if env is not None and env not in ENVS:
            raise ValueError(f"stack {name}: env {env!r} is not one of {', '.join(ENVS)} or null")
        if kind not in KINDS:
            raise ValueError(f"stack {name}: kind {kind!r} is not one of {', '.join(KINDS)}")
        github_environment = raw.get("github_environment")
        expected = None if kind == "bootstrap" else env
        if github_environment != expected or (kind != "bootstrap" and env is None):
            raise ValueError(
                f"stack {name}: github_environment {github_environment!r} must be its env ({expected!r}); "
                "bootstrap stacks have none"
            )
        runners = {role: _runner_labels(name, raw, f"{role}_runs_on") for role in ("plan", "apply")}
        return cls(
            name=name,
            cloud=cloud,
            env=env,
            kind=kind,
            github_environment=github_environment,
            plan_runs_on=runners["plan"],
            apply_runs_on=runners["apply"],
        )

    @property
    def lane(self) -> str:
        """The `select` job output that carries this stack: `<cloud>_<env>_<kind>` (apply.yml has one job each)."""
        return lane_key(self.cloud, self.env or "", self.kind)

    def matrix_entry(self) -> dict[str, object]:
        """The object a workflow matrix leg sees as `matrix.stack`."""
        return {
            "name": self.name,
            "cloud": self.cloud,
            "env": self.env,
            "kind": self.kind,
            "github_environment": self.github_environment,
            "plan_environment": f"{self.github_environment}{PLAN_ENVIRONMENT_SUFFIX}",
            "plan_runs_on": list(self.plan_runs_on),
            "apply_runs_on": list(self.apply_runs_on),
        }


def _runner_labels(name: str, raw: dict, field: str) -> tuple[str, ...]:
    labels = raw.get(field)
    if (
        not isinstance(labels, list)
        or not labels
        or not all(isinstance(label, str) and _RUNNER_LABEL.match(label) for label in labels)
    ):
        raise ValueError(f"stack {name}: {field} {labels!r} must be a non-empty list of runner labels")
    return tuple(labels)


def lane_key(cloud: str, env: str, kind: str) -> str:
    return f"{cloud}_{env}_{kind}"


LANE_KEYS = tuple(lane_key(cloud, env, kind) for cloud in CLOUDS for env in ENV_ORDER for kind in DEPLOYED_KINDS)


def parse_stacks(text: str) -> list[Stack]:
    """Parse the JSON array printed by `make stacks`; duplicate names are an error."""
    raw = json.loads(text)
    if not isinstance(raw, list) or not raw:
        raise ValueError("the stack list must be a non-empty JSON array")
    stacks = [Stack.from_json(item) for item in raw]
    names = [stack.name for stack in stacks]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"duplicate stack names: {', '.join(duplicates)}")
    return stacks


def _is_neutral(path: str) -> bool:
    return path in _NEUTRAL_FILES or path.endswith(".md") or path.startswith(_NEUTRAL_PREFIXES)


def _matches(path: str, stack: Stack) -> bool:
    """Whether a change to `path` can alter `stack`'s synthesized configuration."""
    if not path.startswith(_SCOPED_ROOTS):
        return True
    # A directory named after a cloud or environment, or a file whose stem is one (config/dev.yaml).
    pure = PurePosixPath(path)
    names = {*pure.parts[:-1], pure.stem}
    clouds = names.intersection(CLOUDS)
    envs = names.intersection(ENVS)
    if clouds and stack.cloud not in clouds:
        return False
    # Environment-less (bootstrap) stacks serve every environment, so any environment's change reaches them.
    return not envs or stack.env is None or stack.env in envs


def deployable(stacks: Sequence[Stack]) -> list[Stack]:
    """Every stack CI plans and applies: all but the bootstrap stacks."""
    return [stack for stack in stacks if stack.kind in DEPLOYED_KINDS]


def affected(stacks: Sequence[Stack], changed_paths: Iterable[str]) -> list[Stack]:
    """Deployable stacks (in list order) that any of the changed repository paths can affect."""
    relevant = [str(PurePosixPath(p.strip())) for p in changed_paths if p.strip()]
    relevant = [p for p in relevant if not _is_neutral(p)]
    return [stack for stack in deployable(stacks) if any(_matches(path, stack) for path in relevant)]


def only(stacks: Sequence[Stack], name: str) -> list[Stack]:
    """The one stack called `name`; the workflow_dispatch input is validated here."""
    for stack in stacks:
        if stack.name == name:
            if stack.kind not in DEPLOYED_KINDS:
                raise ValueError(f"{name} is applied by an administrator, not by CI (docs/CI.md, Bootstrap)")
            return [stack]
    raise ValueError(f"unknown stack {name!r}; known stacks: {', '.join(s.name for s in deployable(stacks))}")


def outputs(selected: Sequence[Stack]) -> dict[str, list[dict[str, object]]]:
    """`stacks` (everything selected) plus one list per `<cloud>_<env>_<kind>` apply job (at most one stack)."""
    result: dict[str, list[dict[str, object]]] = {"stacks": [s.matrix_entry() for s in selected]}
    for key in LANE_KEYS:
        result[key] = [s.matrix_entry() for s in selected if s.lane == key]
        if len(result[key]) > 1:
            raise ValueError(f"{key}: more than one stack ({', '.join(e['name'] for e in result[key])})")
    return result


def _read_text(path: str) -> str:
    return sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stacks", required=True, help="JSON file printed by `make stacks` ('-' for stdin)")
    selection = parser.add_mutually_exclusive_group(required=True)
    selection.add_argument("--changed-files", help="file with one changed repository path per line")
    selection.add_argument("--all", action="store_true", help="select every stack")
    selection.add_argument("--only", metavar="STACK", help="select exactly this stack (validated)")
    parser.add_argument(
        "--skip-env",
        action="append",
        default=[],
        choices=ENVS,
        help="leave this environment's stacks out (pull requests not targeting the default branch skip prod)",
    )
    parser.add_argument("--github-output", help="append name=json lines to this file ($GITHUB_OUTPUT)")
    args = parser.parse_args(argv)

    try:
        stacks = parse_stacks(_read_text(args.stacks))
        if args.all:
            selected = deployable(stacks)
        elif args.only is not None:
            selected = only(stacks, args.only)
        else:
            selected = affected(stacks, _read_text(args.changed_files).splitlines())
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    selected = [stack for stack in selected if stack.env not in args.skip_env]
    try:
        result = outputs(selected)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.github_output:
        with Path(args.github_output).open("a", encoding="utf-8") as handle:
            for key, value in result.items():
                handle.write(f"{key}={json.dumps(value, separators=(',', ':'))}\n")
    print(json.dumps(result, indent=2))
    names = ", ".join(s.name for s in selected) or "none"
    print(f"selected {len(selected)} of {len(stacks)} stacks: {names}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
