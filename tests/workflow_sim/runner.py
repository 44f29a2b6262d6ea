"""Run a workflow file as GitHub would, offline: its job graph, matrices, conditions, scripts and artifacts.

What is real: the YAML is the repository's own; every `if`, `needs`, matrix, `runs-on`, `environment`, `env`,
`with` and output is evaluated from it (expressions.py, failing closed); every `run:` script of a simulated job is
executed by bash in a workspace laid out like a checkout (the repository's files, `make`, `main.py`, the CI
helpers, a real git history of the sample change); artifacts are laid out as upload/download define them
(artifacts.py). What stands in: the `uses:` steps that need GitHub or a cloud (checkout, toolchain set-up,
OIDC logins, github-script) are recorded, not run (the AWS login exports the region, as the action does);
`terraform` comes from `tool_dir` (stand_ins/) and the clouds' CLIs are the offline-apply harness's
(tools/offline_apply/cli: the real AWS CLI, the gcloud and aliyun stand-ins), reading the LiteLLM keys from the
harness's secret stores, where the simulation puts one for every secret id a job names (the operator's one-time
step in docs/CI.md); jobs of `modelled_workflows` (the checks workflow, which is this test suite itself) are
recorded as successful without running.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.workflow_sim.artifacts import ArtifactError, ArtifactStore
from tests.workflow_sim.expressions import ExpressionError, Status, condition, render
from tools.offline_apply.harness import CLI_DIR as HARNESS_CLIS
from tools.offline_apply.secret_store import CLOUDS, SecretStore

SCRIPT_TIMEOUT_SECONDS = 300
# `uses:` steps that only prepare the machine or talk to GitHub/a cloud: recorded with their evaluated inputs.
RECORDED_ACTIONS = (
    "actions/checkout@",
    "./.github/actions/setup-toolchain",
    "actions/setup-python@",
    "actions/setup-node@",
    "hashicorp/setup-terraform@",
    "aws-actions/configure-aws-credentials@",
    "google-github-actions/auth@",
    "aliyun/configure-aliyun-credentials-action@",
    "actions/github-script@",
)
UPLOAD = "actions/upload-artifact@"
# What `actions/setup-python` with python-version 3.11 provides; this machine's Python 3.11 stands in.
SYSTEM_PYTHON = Path("/usr/bin/python3")
DOWNLOAD = "actions/download-artifact@"


class SimulationError(Exception):
    """The workflow uses something the simulation does not model: it stops instead of guessing."""


@dataclass
class StepRun:
    name: str
    uses: str | None
    inputs: dict[str, Any]
    outcome: str
    output: str = ""
    # The outputs a script wrote to $GITHUB_OUTPUT.
    env: dict[str, str] = field(default_factory=dict)
    # The environment a script ran with (from `env:` at workflow, job and step level).
    environ: dict[str, str] = field(default_factory=dict)
    # What an action exported to the job's later steps (core.exportVariable).
    exported: dict[str, str] = field(default_factory=dict)


@dataclass
class LegRun:
    """One executed job (one matrix leg), with everything the checks look at."""

    node: int
    workflow: str
    job_id: str
    matrix: dict[str, Any]
    runs_on: Any
    environment: Any
    concurrency: Any
    ancestors: set[int]
    result: str = "success"
    steps: list[StepRun] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    workspace: Path | None = None

    @property
    def stack(self) -> str | None:
        stack = self.matrix.get("stack")
        return stack.get("name") if isinstance(stack, dict) else None


@dataclass
class JobResult:
    result: str
    outputs: dict[str, Any]
    nodes: set[int]


@dataclass
class Simulation:
    repo: Path
    work: Path
    tool_dir: Path
    github: dict[str, Any]
    git_dir: Path | None = None
    modelled_workflows: frozenset[str] = frozenset()
    variables: tuple[str, ...] = ()
    extra_env: dict[str, str] = field(default_factory=dict)
    legs: list[LegRun] = field(default_factory=list)
    artifacts: ArtifactStore = field(default_factory=ArtifactStore)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    _path_additions: dict[Path, list[Path]] = field(default_factory=dict)

    # --- workflows and jobs -----------------------------------------------------------------------

    def run_workflow(self, name: str, inputs: dict[str, Any] | None = None, ancestors: set[int] | None = None):
        path = self.repo / ".github" / "workflows" / name
        workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
        jobs: dict[str, dict] = workflow["jobs"]
        results: dict[str, JobResult] = {}
        remaining = list(jobs)
        while remaining:
            ready = [j for j in remaining if all(n in results for n in _needs(jobs[j]))]
            if not ready:
                raise SimulationError(f"{name}: a `needs` cycle or an unknown job among {remaining}")
            for job_id in ready:
                remaining.remove(job_id)
                results[job_id] = self._run_job(name, workflow, job_id, results, inputs or {}, ancestors or set())
        return results

    def _contexts(self, results: dict[str, JobResult], job: dict, inputs: dict) -> dict[str, Any]:
        needs = {n: {"result": results[n].result, "outputs": results[n].outputs} for n in _needs(job)}
        return {"github": self.github, "needs": needs, "inputs": inputs, "vars": {}}

    def _run_job(self, name, workflow, job_id, results, inputs, caller_ancestors) -> JobResult:
        job = workflow["jobs"][job_id]
        needed = _needs(job)
        ancestors = set(caller_ancestors)
        for node in set().union(*(results[n].nodes for n in needed)) if needed else set():
            ancestors |= {node, *self.legs[node].ancestors}
        contexts = self._contexts(results, job, inputs)
        status = Status(
            success=all(results[n].result == "success" for n in needed),
            failure=any(results[n].result == "failure" for n in needed),
        )
        if not condition(job.get("if"), contexts, status):
            self.skipped.append((name, job_id))
            return JobResult("skipped", {}, set())
        if "uses" in job:
            return self._call(name, job, contexts, ancestors)
        if name in self.modelled_workflows:
            node = self._new_leg(name, job_id, {}, job, contexts, ancestors)
            return JobResult("success", {}, {node.node})
        matrix_legs = self._matrix(job, contexts)
        nodes, outcome, outputs = set(), "success", {}
        total = len(matrix_legs)
        for index, matrix in enumerate(matrix_legs):
            leg_contexts = {
                **contexts,
                "matrix": matrix,
                "strategy": {"job-index": index, "job-total": total, "fail-fast": True, "max-parallel": total},
            }
            leg = self._new_leg(name, job_id, matrix, job, leg_contexts, ancestors)
            self._run_steps(workflow, job, leg, leg_contexts)
            nodes.add(leg.node)
            if leg.result == "failure":
                outcome = "failure"
            outputs = leg.outputs  # the last leg's outputs, as GitHub keeps one set per matrix job
        if total == 0:
            raise SimulationError(f"{name}:{job_id}: an empty matrix fails the workflow on GitHub")
        return JobResult(outcome, outputs, nodes)

    def _call(self, name: str, job: dict, contexts: dict, ancestors: set[int]) -> JobResult:
        uses = job["uses"]
        if not uses.startswith("./.github/workflows/"):
            raise SimulationError(f"{name}: reusable workflow {uses!r} is not local")
        called_name = uses.removeprefix("./.github/workflows/")
        called = yaml.safe_load((self.repo / ".github" / "workflows" / called_name).read_text(encoding="utf-8"))
        declared = (called.get(True) or called.get("on") or {}).get("workflow_call") or {}
        declared_inputs = declared.get("inputs") or {}
        given = render(job.get("with") or {}, contexts)
        unknown = set(given) - set(declared_inputs)
        if unknown:
            raise SimulationError(f"{called_name}: inputs {sorted(unknown)} are not declared")
        inputs = {}
        for key, spec in declared_inputs.items():
            if key in given:
                value = given[key]
            elif spec.get("required"):
                raise SimulationError(f"{called_name}: required input {key!r} missing")
            else:
                value = spec.get("default")
            inputs[key] = _typed(value, spec.get("type", "string"), f"{called_name}:{key}")
        inner = self.run_workflow(called_name, inputs, ancestors)
        nodes = set().union(*(r.nodes for r in inner.values())) if inner else set()
        result = "failure" if any(r.result == "failure" for r in inner.values()) else "success"
        return JobResult(result, {}, nodes)

    def _matrix(self, job: dict, contexts: dict) -> list[dict[str, Any]]:
        strategy = job.get("strategy") or {}
        matrix = render(strategy.get("matrix"), contexts) if "matrix" in strategy else None
        if matrix is None:
            return [{}]
        if not isinstance(matrix, dict) or {"include", "exclude"} & set(matrix):
            raise SimulationError(f"matrix form not modelled: {strategy.get('matrix')!r}")
        keys = list(matrix)
        for key in keys:
            if not isinstance(matrix[key], list):
                raise SimulationError(f"matrix.{key} must be a list, got {matrix[key]!r}")
        return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*(matrix[k] for k in keys))]

    def _new_leg(self, name, job_id, matrix, job, contexts, ancestors) -> LegRun:
        environment = render(job.get("environment"), contexts)
        contexts["vars"] = {var: _variable(var, environment) for var in self.variables}
        leg = LegRun(
            node=len(self.legs),
            workflow=name,
            job_id=job_id,
            matrix=matrix,
            runs_on=render(job.get("runs-on"), contexts),
            environment=environment,
            concurrency=render(job.get("concurrency"), contexts),
            ancestors=set(ancestors),
        )
        self.legs.append(leg)
        return leg

    # --- steps --------------------------------------------------------------------------------------

    def _run_steps(self, workflow: dict, job: dict, leg: LegRun, contexts: dict) -> None:
        workspace = Path(tempfile.mkdtemp(prefix=f"{leg.job_id}-", dir=self.work))
        runner_temp = Path(tempfile.mkdtemp(prefix="runner-temp-", dir=self.work))
        leg.workspace = workspace
        env = {**_strings(render(workflow.get("env") or {}, contexts))}
        env.update(_strings(render(job.get("env") or {}, contexts)))
        steps_context: dict[str, Any] = {}
        failed = False
        for index, step in enumerate(job.get("steps") or []):
            step_contexts = {
                **contexts,
                "env": env,
                "steps": steps_context,
                "runner": {"temp": str(runner_temp), "os": "Linux"},
                "job": {},
            }
            status = Status(success=not failed, failure=failed)
            name = step.get("name") or step.get("uses") or f"step {index}"
            if not condition(step.get("if"), step_contexts, status):
                leg.steps.append(StepRun(name, step.get("uses"), {}, "skipped"))
                if "id" in step:
                    steps_context[step["id"]] = {"outcome": "skipped", "conclusion": "skipped", "outputs": {}}
                continue
            step_env = {**env, **_strings(render(step.get("env") or {}, step_contexts))}
            record = self._run_step(step, step_contexts, step_env, workspace, runner_temp)
            record.name = name
            leg.steps.append(record)
            if "id" in step:
                steps_context[step["id"]] = {
                    "outcome": record.outcome,
                    "conclusion": record.outcome,
                    "outputs": record.env,
                }
            env.update(record.exported)
            failed = failed or record.outcome == "failure"
        leg.result = "failure" if failed else "success"
        outputs_contexts = {**contexts, "steps": steps_context, "env": env}
        leg.outputs = {key: render(value, outputs_contexts) for key, value in (job.get("outputs") or {}).items()}

    def _run_step(self, step, contexts, env, workspace: Path, runner_temp: Path) -> StepRun:
        uses = step.get("uses")
        inputs = render(step.get("with") or {}, contexts)
        if uses is None:
            return self._run_script(step["run"], env, workspace, runner_temp)
        if uses.startswith("actions/checkout@"):
            self._checkout(workspace)
            return StepRun("", uses, inputs, "success")
        if uses.startswith(UPLOAD):
            try:
                content = self.artifacts.upload(workspace, inputs)
            except ArtifactError as error:
                return StepRun("", uses, inputs, "failure", output=str(error))
            return StepRun("", uses, inputs, "success", output="\n".join(sorted(content)))
        if uses.startswith(DOWNLOAD):
            try:
                names = self.artifacts.download(workspace, inputs)
            except ArtifactError as error:
                return StepRun("", uses, inputs, "failure", output=str(error))
            return StepRun("", uses, inputs, "success", output="\n".join(names))
        if uses.startswith("actions/setup-python@"):
            # The action puts the requested Python first on PATH as `python` (and `python3`).
            bin_dir = runner_temp / "setup-python-bin"
            bin_dir.mkdir(exist_ok=True)
            for command in ("python", "python3"):
                if not (bin_dir / command).exists():
                    (bin_dir / command).symlink_to(SYSTEM_PYTHON)
            self._path_additions.setdefault(runner_temp, []).append(bin_dir)
            return StepRun("", uses, inputs, "success")
        if uses.startswith("aws-actions/configure-aws-credentials@"):
            # src/helpers.ts exportRegion (aws-actions/configure-aws-credentials@87ec0e2): both variables, for the
            # steps after it, unless output-env-credentials is false.
            exported = {}
            if str(inputs.get("output-env-credentials", "true")).lower() != "false":
                exported = {"AWS_DEFAULT_REGION": inputs["aws-region"], "AWS_REGION": inputs["aws-region"]}
            return StepRun("", uses, inputs, "success", exported=exported)
        if uses.startswith(RECORDED_ACTIONS):
            return StepRun("", uses, inputs, "success")
        raise SimulationError(f"action {uses!r} is not modelled")

    def _checkout(self, workspace: Path) -> None:
        """The repository's files at the simulated commit (links; `cdktf.out` is never part of a checkout)."""
        for entry in self.repo.iterdir():
            if entry.name in (".git", "cdktf.out", ".cache", ".pytest_cache"):
                continue
            target = workspace / entry.name
            if not target.exists():
                target.symlink_to(entry)

    def _put_named_keys(self, env: dict[str, str]) -> Path:
        """The harness's secret stores, holding a key for every secret id the step names (`*_SECRET`)."""
        offline_dir = self.work / "offline"
        offline_dir.mkdir(exist_ok=True)
        for name, secret_id in sorted(env.items()):
            if not name.endswith("_SECRET") or not secret_id:
                continue
            for cloud in CLOUDS:
                store = SecretStore(offline_dir, cloud)
                if not store.exists(secret_id):
                    store.create_secret(secret_id)
                    store.put(secret_id, f"sim-key-of-{secret_id}")
        return offline_dir

    def _run_script(self, script: str, env: dict[str, str], workspace: Path, runner_temp: Path) -> StepRun:
        output_file = runner_temp / f"github-output-{len(os.listdir(runner_temp))}"
        output_file.touch()
        summary = runner_temp / "step-summary.md"
        base = {
            "PATH": ":".join(
                [
                    str(self.tool_dir),
                    str(HARNESS_CLIS),
                    *map(str, self._path_additions.get(runner_temp, [])),
                    "/usr/local/bin:/usr/bin:/bin",
                ]
            ),
            "HOME": os.environ.get("HOME", "/root"),
            "LANG": "C.UTF-8",
            "GITHUB_OUTPUT": str(output_file),
            "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_SHA": self.github["sha"],
            "GITHUB_REF": self.github["ref"],
            "GITHUB_REPOSITORY": self.github["repository"],
            "GITHUB_EVENT_NAME": self.github["event_name"],
            "RUNNER_TEMP": str(runner_temp),
            "CI": "true",
            "LLMGW_OFFLINE_DIR": str(self._put_named_keys(env)),
            **self.extra_env,
        }
        if self.git_dir is not None:
            base["GIT_DIR"] = str(self.git_dir)
        # GitHub's default shell for `run` on Linux: bash --noprofile --norc -eo pipefail {0}.
        script_file = runner_temp / "script.sh"
        script_file.write_text(script, encoding="utf-8")
        completed = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script_file)],
            cwd=workspace,
            env={**base, **env},
            capture_output=True,
            text=True,
            timeout=SCRIPT_TIMEOUT_SECONDS,
            check=False,
        )
        outputs = _parse_outputs(output_file.read_text(encoding="utf-8"))
        outcome = "success" if completed.returncode == 0 else "failure"
        return StepRun("", None, {}, outcome, output=completed.stdout + completed.stderr, env=outputs, environ=env)


_REGIONS = {"AWS_REGION": "eu-west-1", "ALIBABA_CLOUD_REGION": "cn-shanghai"}


def _variable(name: str, environment: Any) -> str:
    """A GitHub environment variable's value that names the variable and the environment it was read in."""
    if name.endswith("_SECRET"):
        return f"projects/sim/secrets/{name}.{environment}"  # the one form every cloud's key reader accepts
    if name.endswith("_REGION"):
        return _REGIONS[name]  # the real AWS CLI refuses a region that is not a host name label
    return f"{name}@{environment}"


def _needs(job: dict) -> list[str]:
    needs = job.get("needs") or []
    return [needs] if isinstance(needs, str) else list(needs)


def _strings(mapping: dict) -> dict[str, str]:
    from tests.workflow_sim.expressions import to_string

    return {str(key): to_string(value) for key, value in mapping.items()}


def _typed(value: Any, kind: str, where: str) -> Any:
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if value in ("true", "false"):
            return value == "true"
        raise SimulationError(f"{where}: {value!r} is not a boolean")
    if kind == "string":
        if isinstance(value, (dict, list)):
            raise SimulationError(f"{where}: an object passed to a string input")
        from tests.workflow_sim.expressions import to_string

        return to_string(value)
    raise ExpressionError(f"{where}: input type {kind!r} not modelled")


def _parse_outputs(text: str) -> dict[str, str]:
    """`name=value` lines and `name<<DELIMITER` blocks, as the runner reads $GITHUB_OUTPUT."""
    outputs: dict[str, str] = {}
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            key, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, index + 1)
            outputs[key] = "\n".join(lines[index + 1 : end])
            index = end + 1
            continue
        if "=" in line:
            key, value = line.split("=", 1)
            outputs[key] = value
        index += 1
    return outputs
