"""A push to main, run through `apply.yml` by the simulator: the git history, the GitHub context, the run."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.workflow_sim.runner import Simulation

STAND_INS = Path(__file__).resolve().parent / "stand_ins"
REPOSITORY = "acme/llm-gateway"
# The GitHub environment variables docs/CI.md lists (identifiers, not secrets).
VARIABLES = (
    "AWS_PLAN_ROLE_ARN",
    "AWS_APPLY_ROLE_ARN",
    "AWS_REGION",
    "GCP_WORKLOAD_IDENTITY_PROVIDER",
    "GCP_SERVICE_ACCOUNT",
    "ALIBABA_CLOUD_ROLE_ARN",
    "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
    "ALIBABA_CLOUD_REGION",
    "LITELLM_API_KEY_SECRET",
    "LITELLM_VIEWER_KEY_SECRET",
)


@dataclass(frozen=True)
class SampleChange:
    name: str
    paths: tuple[str, ...]
    # Stacks whose plan shows no changes (already deployed, untouched by the change).
    unchanged: tuple[str, ...] = ()
    # Stacks whose plan fails (the lanes after them must not run).
    failing: tuple[str, ...] = ()


def _git(git_dir: Path, *args: str, cwd: Path) -> str:
    env = {
        "GIT_DIR": str(git_dir),
        "GIT_WORK_TREE": str(cwd),
        "GIT_AUTHOR_NAME": "sim",
        "GIT_AUTHOR_EMAIL": "sim@example.invalid",
        "GIT_COMMITTER_NAME": "sim",
        "GIT_COMMITTER_EMAIL": "sim@example.invalid",
        "GIT_CONFIG_NOSYSTEM": "1",
        "HOME": str(cwd),
        "PATH": os.environ["PATH"],
    }
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout.strip()


def history(work: Path, paths: tuple[str, ...]) -> tuple[Path, str, str]:
    """A real git history with the change: (git dir, commit before the push, pushed commit)."""
    tree = work / "git-tree"
    git_dir = work / "git"
    tree.mkdir()
    _git(git_dir, "init", "-q", "-b", "main", cwd=tree)
    for path in paths:
        (tree / path).parent.mkdir(parents=True, exist_ok=True)
        (tree / path).write_text("before\n")
    _git(git_dir, "add", "-A", cwd=tree)
    _git(git_dir, "commit", "-q", "-m", "before", cwd=tree)
    before = _git(git_dir, "rev-parse", "HEAD", cwd=tree)
    for path in paths:
        (tree / path).write_text("after\n")
    _git(git_dir, "commit", "-q", "-am", "the sample change", cwd=tree)
    return git_dir, before, _git(git_dir, "rev-parse", "HEAD", cwd=tree)


def simulate_push(repo: Path, work: Path, change: SampleChange, tool_dir: Path = STAND_INS) -> Simulation:
    git_dir, before, after = history(work, change.paths)
    github = {
        "event_name": "push",
        "ref": "refs/heads/main",
        "ref_name": "main",
        "base_ref": "",
        "sha": after,
        "repository": REPOSITORY,
        "run_id": "1001",
        "run_attempt": "1",
        "server_url": "https://github.com",
        "token": "sim-token",
        "event": {"before": before, "repository": {"default_branch": "main"}},
    }
    simulation = Simulation(
        repo=repo,
        work=work,
        tool_dir=tool_dir,
        github=github,
        git_dir=git_dir,
        modelled_workflows=frozenset({"ci.yml"}),
        variables=VARIABLES,
        extra_env={
            "SIM_TERRAFORM_LOG": str(work / "terraform.log"),
            "SIM_UNCHANGED_STACKS": ",".join(change.unchanged),
            "SIM_FAILING_STACKS": ",".join(change.failing),
        },
    )
    simulation.run_workflow("apply.yml")
    return simulation


def make_stacks(repo: Path) -> list[dict]:
    """The stack list exactly as the workflows compute it (`make stacks`)."""
    completed = subprocess.run(
        ["make", "-s", "--no-print-directory", "stacks"], cwd=repo, capture_output=True, text=True, check=True
    )
    return json.loads(completed.stdout)
