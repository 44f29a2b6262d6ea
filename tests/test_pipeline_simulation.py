"""The deploy pipeline, simulated from the workflow files themselves for three sample pushes to main.

`apply.yml` is run by tests/workflow_sim: the `select` job's script runs for real (`make stacks`,
`tools.ci.affected_stacks`, `git diff` over a real history of the sample change), the job graph is walked with
its `needs` and `if` (an evaluator of the expression subset the workflows use, failing closed), every matrix is
expanded from the real stack list, the plan jobs' scripts run for real (`make synth` of the one stack), each
artifact is laid out as upload-artifact/download-artifact define it, and the apply step's script runs from the
downloaded layout. In the simulated jobs Terraform is the stand-in in tests/workflow_sim/stand_ins, whose
`apply` is the artifact layout check (the plan file, the lock file and every
`assets/` file the configuration references must be in the working directory), and the clouds' CLIs are the
offline-apply harness's, reading the LiteLLM keys from its secret stores. The last stage then applies each
stack the pipeline applied, from its layout exactly as downloaded, with the real Terraform on the offline-apply
harness (tools/offline_apply), in the pipeline's order (a quotas stack reads the state its gateway's apply left).

Set LLMGW_SIM_REPO to another checkout (e.g. an export of an older commit) to simulate that tree's workflows.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os
import shutil
from pathlib import Path

import pytest

from tests.workflow_sim.runner import LegRun, Simulation
from tests.workflow_sim.scenario import STAND_INS, SampleChange, make_stacks, simulate_push
from tools.offline_apply import OfflineApply
from tools.offline_apply.drill import _blocker as harness_blocker

# A drill (`make drill`): each sample push runs a real `make synth` per plan leg (13 in the shared-code push),
# about 90 s of CPU in all, which would double `make test`.
pytestmark = pytest.mark.drill


def _load_standin_terraform():
    """The pipeline's stand-in `terraform` script as a module: its asset rule is the one the layout check uses."""
    loader = importlib.machinery.SourceFileLoader("standin_terraform", str(STAND_INS / "terraform"))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(module)
    return module


_STANDIN_TERRAFORM = _load_standin_terraform()

REPO = Path(os.environ.get("LLMGW_SIM_REPO") or Path(__file__).resolve().parent.parent)

SCENARIOS = {
    # One environment's configuration: that environment's stacks on every cloud, nothing else.
    "one-environment-config": SampleChange("one-environment-config", ("config/staging.yaml",)),
    # Shared code reaches every stack; gcp-dev's plan fails, so gcp stops there and the other clouds go on.
    "shared-code": SampleChange("shared-code", ("constructs_lib/_common/naming.py",), failing=("gcp-dev",)),
    # A change to the AWS quotas stacks: the AWS gateways are selected too (a conservative selection) but their
    # plans show no changes, so only the quotas stacks are applied.
    "quotas-only": SampleChange(
        "quotas-only", ("stacks/aws/quotas.py",), unchanged=("aws-dev", "aws-staging", "aws-prod")
    ),
}


@pytest.fixture(scope="module")
def stacks() -> dict[str, dict]:
    return {stack["name"]: stack for stack in make_stacks(REPO)}


_RUNS: dict[str, Simulation] = {}


def _simulation(name: str, tmp_path_factory) -> Simulation:
    if name not in _RUNS:
        _RUNS[name] = simulate_push(REPO, tmp_path_factory.mktemp(name), SCENARIOS[name])
    return _RUNS[name]


@pytest.fixture(params=sorted(SCENARIOS))
def run(request, tmp_path_factory) -> tuple[SampleChange, Simulation]:
    return SCENARIOS[request.param], _simulation(request.param, tmp_path_factory)


def _terraform_calls(simulation: Simulation, leg: LegRun) -> list[list[str]]:
    log = Path(simulation.extra_env["SIM_TERRAFORM_LOG"])
    if not log.exists():
        return []
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    return [entry["argv"] for entry in entries if Path(entry["cwd"]) == leg.workspace]


def _runs(simulation: Simulation, leg: LegRun, command: str) -> bool:
    return any(
        command in argv[:2] or (argv and argv[0].startswith("-chdir=") and argv[1:2] == [command])
        for argv in _terraform_calls(simulation, leg)
    )


def _plan_legs(simulation: Simulation) -> list[LegRun]:
    return [leg for leg in simulation.legs if leg.stack and _runs(simulation, leg, "plan")]


def _apply_legs(simulation: Simulation) -> list[LegRun]:
    return [leg for leg in simulation.legs if leg.stack and _runs(simulation, leg, "apply")]


def _expected_applied(change: SampleChange, stacks: dict[str, dict]) -> set[str]:
    deployable = {name for name, stack in stacks.items() if stack["kind"] != "bootstrap"}
    if change.name == "one-environment-config":
        return {name for name in deployable if stacks[name]["env"] == "staging"}
    if change.name == "shared-code":
        (failed,) = change.failing
        order = ("dev", "staging", "prod")
        cloud, env = stacks[failed]["cloud"], stacks[failed]["env"]
        stopped = {
            name
            for name in deployable
            if stacks[name]["cloud"] == cloud and order.index(stacks[name]["env"]) >= order.index(env)
        }
        return deployable - stopped
    return {name for name in deployable if stacks[name]["cloud"] == "aws" and stacks[name]["kind"] == "quotas"}


# --- item 1: bootstrap stacks are never in the automatic lanes ---------------------------------------


def test_bootstrap_stacks_never_run_in_the_automatic_pipeline(run, stacks):
    _, simulation = run
    bootstrap = {name for name, stack in stacks.items() if stack["kind"] == "bootstrap"}
    ran = sorted({leg.stack for leg in simulation.legs if leg.stack in bootstrap})
    assert ran == [], f"bootstrap stacks planned or applied by apply.yml: {ran}"
    assert not [leg for leg in simulation.legs if str(leg.environment).startswith("bootstrap")]


# --- what gets applied, and that nothing else waits for an approval -----------------------------------


def test_exactly_the_affected_stacks_are_applied(run, stacks):
    change, simulation = run
    applied = {leg.stack for leg in _apply_legs(simulation) if leg.result == "success"}
    assert applied == _expected_applied(change, stacks)


def test_no_apply_job_and_no_approval_for_a_stack_without_changes(run):
    change, simulation = run
    gated = {leg.stack for leg in simulation.legs if leg.stack in change.unchanged and leg.job_id == "apply"}
    assert gated == set(), f"apply jobs (environment approvals) for unchanged stacks: {sorted(gated)}"


# --- item 2: apply runs from the artifact exactly as upload/download lay it out -----------------------


def test_apply_runs_from_the_whole_stack_directory_as_the_artifact_lays_it_out(run):
    _, simulation = run
    applies = _apply_legs(simulation)
    assert applies
    plans = {leg.stack: leg for leg in _plan_legs(simulation)}
    for leg in applies:
        apply_step = next(step for step in leg.steps if step.name.startswith("terraform apply"))
        assert apply_step.outcome == "success", f"{leg.stack}: {apply_step.output}"
        synthesized = plans[leg.stack].workspace / "cdktf.out" / "stacks" / leg.stack
        expected = {
            path.relative_to(synthesized).as_posix()
            for path in synthesized.rglob("*")
            if path.is_file() and ".terraform" not in path.relative_to(synthesized).parts
        }
        downloaded = leg.workspace / "cdktf.out" / "stacks" / leg.stack
        have = {
            path.relative_to(downloaded).as_posix()
            for path in downloaded.rglob("*")
            if path.is_file() and ".terraform" not in path.relative_to(downloaded).parts
        }
        assert expected <= have, f"{leg.stack}: missing after download: {sorted(expected - have)}"
        assert {"cdk.tf.json", "tfplan", ".terraform.lock.hcl"} <= have
        config = (downloaded / "cdk.tf.json").read_text()
        for asset in _STANDIN_TERRAFORM.referenced_assets(config):
            assert (downloaded / asset).is_file(), f"{leg.stack}: {asset} missing"


def test_artifacts_never_carry_provider_binaries_and_are_unique_per_attempt(run):
    _, simulation = run
    for name, content in simulation.artifacts.artifacts.items():
        assert not [path for path in content if path.startswith(".terraform/")], name
        assert name.endswith("-" + simulation.github["run_attempt"]), f"artifact {name!r} is not per attempt"


# --- item 3: gateway, then quotas, per cloud and environment ------------------------------------------


def test_quotas_are_planned_only_after_their_gateway_is_applied(run, stacks):
    change, simulation = run
    plans = _plan_legs(simulation)
    applies = {leg.stack: leg for leg in _apply_legs(simulation)}
    by_stack = {leg.stack: leg for leg in plans}
    quotas_plans = [leg for leg in plans if stacks[leg.stack]["kind"] == "quotas"]
    assert quotas_plans
    for leg in quotas_plans:
        gateway = leg.stack.removesuffix("-quotas")
        assert by_stack[gateway].node in leg.ancestors, f"{leg.stack} is planned without waiting for {gateway}"
        if gateway not in change.unchanged:
            assert gateway in applies, f"{gateway} has changes but no apply"
            assert applies[gateway].node in leg.ancestors, f"{leg.stack} is planned before {gateway} is applied"


# --- item 10: a failure stops the lanes after it, not the other clouds ---------------------------------


def test_nothing_runs_after_a_failed_plan_of_the_same_cloud(run, stacks):
    change, simulation = run
    for failed in change.failing:
        (failed_leg,) = [leg for leg in _plan_legs(simulation) if leg.stack == failed]
        assert failed_leg.result == "failure"
        later = [leg.stack for leg in simulation.legs if failed_leg.node in leg.ancestors]
        assert later == [], f"ran after the failed plan of {failed}: {later}"


# --- items 4, 6, 8: runners, identities and keys per cloud, environment and role ----------------------


def test_quotas_runners_are_chosen_by_cloud_environment_and_role(run, stacks):
    _, simulation = run
    for leg in simulation.legs:
        if not leg.stack or stacks[leg.stack]["kind"] != "quotas":
            continue
        stack = stacks[leg.stack]
        role = "apply" if leg in _apply_legs(simulation) else "plan"
        assert isinstance(leg.runs_on, list), leg.runs_on
        assert f"llmgw-{stack['cloud']}-{stack['env']}" in leg.runs_on, (leg.stack, leg.runs_on)
        assert {"self-hosted", f"llmgw-{role}", "ephemeral"} <= set(leg.runs_on), (leg.stack, leg.runs_on)


def _cli_calls(simulation: Simulation) -> list[dict]:
    log = simulation.work / "offline" / "cli-calls.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def _login(leg: LegRun, prefix: str) -> dict:
    return next(step.inputs for step in leg.steps if step.uses and step.uses.startswith(prefix))


def test_plan_jobs_get_plan_identities_and_the_read_only_key_apply_jobs_the_apply_identities(run, stacks):
    _, simulation = run
    for leg in _plan_legs(simulation) + _apply_legs(simulation):
        stack = stacks[leg.stack]
        role = "apply" if leg in _apply_legs(simulation) else "plan"
        environment = stack["env"] if role == "apply" else f"{stack['env']}-plan"
        assert leg.environment == environment
        if stack["cloud"] == "aws":
            assert _login(leg, "aws-actions/")["role-to-assume"] == f"AWS_{role.upper()}_ROLE_ARN@{environment}"
        elif stack["cloud"] == "gcp":
            assert _login(leg, "google-github-actions/")["service_account"] == f"GCP_SERVICE_ACCOUNT@{environment}"
        else:
            assert _login(leg, "aliyun/")["role-to-assume"] == f"ALIBABA_CLOUD_ROLE_ARN@{environment}"
        if stack["kind"] == "quotas":
            secret = next(
                step.environ["LITELLM_API_KEY_SECRET"]
                for step in leg.steps
                if "LITELLM_API_KEY_SECRET" in step.environ and step.outcome != "skipped"
            )
            variable = "LITELLM_API_KEY_SECRET" if role == "apply" else "LITELLM_VIEWER_KEY_SECRET"
            assert secret == f"projects/sim/secrets/{variable}.{environment}", (leg.stack, role)
            # ... and read it through its cloud's CLI (the harness's: the real AWS CLI, the gcloud/aliyun stand-ins).
            cli = {"aws": "aws", "gcp": "gcloud", "alicloud": "aliyun"}[stack["cloud"]]
            reads = {(c["cli"], c["exit"]) for c in _cli_calls(simulation) if any(secret in w for w in c["argv"])}
            assert (cli, 0) in reads and all(code == 0 for _, code in reads), (leg.stack, role, reads)


def test_deploys_wait_for_the_checks_of_the_same_commit(run):
    _, simulation = run
    checks = {leg.node for leg in simulation.legs if leg.workflow == "ci.yml"}
    assert {"test", "checkov"} <= {leg.job_id for leg in simulation.legs if leg.workflow == "ci.yml"}
    for leg in _plan_legs(simulation):
        assert checks <= leg.ancestors, f"{leg.stack} is planned before the checks finished"


# --- last stage: the downloaded layouts applied by the real Terraform on the offline-apply harness -----


def test_every_applied_stack_applies_from_its_downloaded_layout_on_the_offline_apply_harness(tmp_path_factory):
    simulation = _simulation("one-environment-config", tmp_path_factory)
    applies = sorted(_apply_legs(simulation), key=lambda leg: leg.node)
    out = tmp_path_factory.mktemp("harness-out")
    for leg in applies:
        shutil.copytree(leg.workspace / "cdktf.out" / "stacks" / leg.stack, out / "stacks" / leg.stack)
    outcomes = {}
    with OfflineApply(out_dir=out) as harness:
        for leg in applies:
            result = harness.apply(leg.stack)
            # What the harness cannot apply yet (a stand-in cloud CLI or the real LiteLLM it lacks) is reported as
            # blocked, the way `make drill` reports it; any other failure fails this test.
            outcomes[leg.stack] = "applied" if result.ok else harness_blocker(result.output, False) or result.output
    failed = {
        stack: outcome[-3000:]
        for stack, outcome in outcomes.items()
        if outcome != "applied" and not outcome.startswith(("stand-in CLI missing", "no LiteLLM"))
    }
    assert failed == {}
    assert "applied" in outcomes.values(), outcomes
