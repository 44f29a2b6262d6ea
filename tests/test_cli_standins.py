"""The stand-in cloud CLIs of the offline apply (tools/offline_apply/cli): the stacks' own local-exec steps run
against them, the CLIs refuse what the real ones refuse, and an injected failure fails the step.

The steps are taken from the synthesized stacks (their command and environment); Terraform references in the
environment are replaced by the values a stand-in provider would hand the step (the referenced resource's own
`name`/`family`, an id for an `.id`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tools.offline_apply.harness import CLI_DIR

REPO = Path(__file__).resolve().parent.parent
ACCOUNT = "111122223333"
_REFERENCE = re.compile(r"\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)\}")


def _resolve(stack: dict, value: str, region: str) -> str:
    def one(match: re.Match) -> str:
        resource_type, name, attribute = match.groups()
        config = stack["resource"][resource_type][name]
        if resource_type == "aws_ecs_task_definition" and attribute == "arn":
            return f"arn:aws:ecs:{region}:{ACCOUNT}:task-definition/{config['family']}:1"
        if attribute == "name":
            return config["name"]
        assert attribute == "id", match.group(0)
        prefix = {"aws_subnet": "subnet", "aws_security_group": "sg"}[resource_type]
        return f"{prefix}-{hashlib.sha256(name.encode()).hexdigest()[:17]}"

    resolved = _REFERENCE.sub(one, value)
    assert "${" not in resolved, value
    return resolved


def local_exec_steps(synthesized: dict, cli: str) -> list[tuple[str, str, dict]]:
    """(stack/resource, command, resolved environment) of every local-exec step whose script calls `cli`."""
    steps = []
    for stack_name, stack in sorted(synthesized.items()):
        for resource_type, resources in stack.get("resource", {}).items():
            for name, body in resources.items():
                for provisioner in body.get("provisioner", []):
                    local_exec = provisioner.get("local-exec")
                    if not local_exec or not re.search(rf"(^|[\s;(]){cli} ", local_exec["command"]):
                        continue
                    assert local_exec.get("interpreter") == ["bash", "-c"], name
                    environment = local_exec.get("environment", {})
                    region = environment.get("REGION", "")
                    resolved = {key: _resolve(stack, value, region) for key, value in environment.items()}
                    steps.append((f"{stack_name}/{resource_type}.{name}", local_exec["command"], resolved))
    return steps


@pytest.fixture
def offline_dir(tmp_path) -> Path:
    directory = tmp_path / "offline"
    directory.mkdir()
    return directory


def run_step(offline_dir: Path, command: str, environment: dict, failures: dict | None = None):
    if failures is not None:
        (offline_dir / "cli-failures.json").write_text(json.dumps(failures))
    env = {
        "PATH": f"{CLI_DIR}:{os.environ['PATH']}",
        "LLMGW_OFFLINE_DIR": str(offline_dir),
        "HOME": str(offline_dir),
        **environment,
    }
    return subprocess.run(["bash", "-c", command], env=env, capture_output=True, text=True, timeout=120, check=False)


def calls(offline_dir: Path) -> list[dict]:
    path = offline_dir / "cli-calls.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def cli(offline_dir: Path, name: str, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(CLI_DIR / name), *argv],
        env={**os.environ, "LLMGW_OFFLINE_DIR": str(offline_dir), "HOME": str(offline_dir)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# --- aws --------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def aws_steps(synthesized) -> list[tuple[str, str, dict]]:
    steps = local_exec_steps(synthesized, "aws")
    assert {name.split("/")[0] for name, _, _ in steps} == {"aws-dev", "aws-staging", "aws-prod"}
    return steps


def _distinct(steps):
    """One step per distinct script (every stack runs the same text; the environment differs in names only)."""
    seen, distinct = set(), []
    for step in steps:
        if step[1] not in seen:
            seen.add(step[1])
            distinct.append(step)
    return distinct


def test_the_migration_steps_run_task_wait_and_check_the_exit_code(aws_steps, offline_dir):
    for name, command, environment in _distinct(aws_steps):
        result = run_step(offline_dir, command, environment)
        assert result.returncode == 0, (name, result.stderr)
        assert f"{environment['STEP']}: done" in result.stdout
    recorded = calls(offline_dir)
    # The migrations step (constructs_lib/aws/migrations.py): look for a run an earlier apply left, start the task,
    # poll its lastStatus, then read its exit code.
    assert [call["argv"][:2] for call in recorded] == [
        ["ecs", "list-tasks"],
        ["ecs", "run-task"],
        ["ecs", "describe-tasks"],
        ["ecs", "describe-tasks"],
    ]
    assert all(call["exit"] == 0 for call in recorded), recorded
    # The task the step polled and described is the one run-task started.
    task_arn = re.search(r"started (\S+);", result.stdout).group(1)
    assert task_arn.startswith(f"arn:aws:ecs:{environment['REGION']}:{ACCOUNT}:task/{environment['CLUSTER']}/")
    assert task_arn in recorded[2]["argv"] and task_arn in recorded[3]["argv"]


def test_a_task_whose_container_exits_non_zero_fails_the_step_with_that_exit_code(aws_steps, offline_dir):
    _, command, environment = aws_steps[0]
    result = run_step(offline_dir, command, environment, {"aws ecs run-task": {"times": 1, "exit_code": 3}})
    assert result.returncode == 1
    assert f"{environment['STEP']}: failed (exit code 3: Essential container in task exited)" in result.stderr
    assert environment["LOG_GROUP"] in result.stderr
    # Consumed once: the next run of the step succeeds.
    again = run_step(offline_dir, command, environment)
    assert again.returncode == 0, again.stderr


def test_a_task_that_does_not_start_fails_the_step(aws_steps, offline_dir):
    _, command, environment = aws_steps[0]
    result = run_step(offline_dir, command, environment, {"aws ecs run-task": 1})
    assert result.returncode == 1 and "the task did not start" in result.stderr
    assert [call["argv"][1] for call in calls(offline_dir)] == ["list-tasks", "run-task"]


def test_a_failed_status_poll_fails_the_step(aws_steps, offline_dir):
    """The step polls describe-tasks itself (the CLI's tasks-stopped waiter gives up after 10 minutes); a call that
    fails stops it (set -e) before any exit code is read."""
    _, command, environment = aws_steps[0]
    result = run_step(offline_dir, command, environment, {"aws ecs describe-tasks": 1})
    assert result.returncode != 0
    assert [call["exit"] for call in calls(offline_dir)][:2] == [0, 0] and calls(offline_dir)[-1]["exit"] != 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ecs", "run-taskx", "--task-definition", "x"], "Invalid choice"),
        (["ecs", "run-task", "--task-definition", "x", "--bogus", "1"], "Unknown options: --bogus, 1"),
        (["ecs", "run-task", "--cluster", "c"], "the following arguments are required: --task-definition"),
        (["ecs", "wait", "task-stopped", "--tasks", "t"], "Invalid choice"),
        (
            ["ecs", "run-task", "--task-definition", "x", "--network-configuration", "awsvpcConfiguration={x=[a]}"],
            "Unknown parameter in networkConfiguration.awsvpcConfiguration",
        ),
    ],
)
def test_a_command_the_real_cli_refuses_exits_252(offline_dir, argv, message):
    result = cli(offline_dir, "aws", *argv, "--region", "us-east-1")
    assert result.returncode == 252, result.stderr
    assert message in result.stderr
    assert calls(offline_dir) == [{"cli": "aws", "argv": [*argv, "--region", "us-east-1"], "exit": 252}]


def test_an_operation_without_a_stand_in_answer_fails_loudly(offline_dir):
    result = cli(offline_dir, "aws", "ecs", "list-clusters", "--region", "us-east-1")
    assert result.returncode == 255 and "no answer for ecs ListClusters" in result.stderr


def test_a_value_the_model_marks_sensitive_is_not_recorded(offline_dir):
    argv = ["secretsmanager", "put-secret-value", "--secret-id", "s", "--secret-string", "canary-9d2f", "--region", "x"]
    cli(offline_dir, "aws", *argv)
    (call,) = calls(offline_dir)
    assert "canary-9d2f" not in json.dumps(call)
    assert call["argv"][4:6] == ["--secret-string", "<redacted>"]


def test_outside_a_harness_session_the_stand_in_refuses_to_run(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "LLMGW_OFFLINE_DIR"}
    result = subprocess.run(
        [str(CLI_DIR / "aws"), "ecs", "describe-tasks", "--tasks", "t"], env=env, capture_output=True, text=True
    )
    assert result.returncode == 127 and "LLMGW_OFFLINE_DIR is not set" in result.stderr


# --- gcloud -----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gcloud_steps(synthesized) -> list[tuple[str, str, dict]]:
    steps = local_exec_steps(synthesized, "gcloud")
    assert {name.split("/")[0] for name, _, _ in steps} == {"gcp-dev", "gcp-staging", "gcp-prod"}
    return steps


def test_the_migration_steps_execute_the_job_and_wait(gcloud_steps, offline_dir):
    for name, command, environment in gcloud_steps:
        result = run_step(offline_dir, command, environment)
        assert result.returncode == 0, (name, result.stderr)
        assert f"Execution [{environment['JOB']}-" in result.stderr and "has successfully completed." in result.stderr
    recorded = calls(offline_dir)
    assert len(recorded) == len(gcloud_steps)
    for call, (_, _, environment) in zip(recorded, gcloud_steps, strict=True):
        assert call["argv"] == [
            "run", "jobs", "execute", environment["JOB"], "--region", environment["REGION"],
            "--project", environment["PROJECT"], "--wait",
        ]  # fmt: skip
        assert call["exit"] == 0


def test_a_failed_execution_fails_the_step_once(gcloud_steps, offline_dir):
    _, command, environment = gcloud_steps[0]
    result = run_step(offline_dir, command, environment, {"gcloud run jobs execute": {"times": 1, "exit_code": 3}})
    assert result.returncode == 1
    assert "ERROR: (gcloud.run.jobs.execute) The execution failed." in result.stderr
    assert run_step(offline_dir, command, environment).returncode == 0


def test_without_wait_a_failing_execution_still_exits_0(offline_dir):
    (offline_dir / "cli-failures.json").write_text(json.dumps({"gcloud run jobs execute": 1}))
    result = cli(offline_dir, "gcloud", "run", "jobs", "execute", "job", "--region", "r", "--project", "p")
    assert result.returncode == 0 and "has successfully started running." in result.stderr
    assert json.loads((offline_dir / "cli-failures.json").read_text()) == {"gcloud run jobs execute": 0}


# Each message and exit code was compared with the installed gcloud (Google Cloud SDK 528.0.0) on this machine.
@pytest.mark.parametrize(
    ("argv", "exit_code", "message"),
    [
        (["run", "jobs", "exec", "job"], 2, "ERROR: (gcloud.run.jobs) Invalid choice: 'exec'."),
        (["run", "jobs", "execute", "job", "--wait", "--bogus"], 2, "unrecognized arguments: --bogus"),
        (
            ["run", "jobs", "execute", "job", "--wait", "--async"],
            2,
            "argument --async: At most one of --async | --wait can be specified.",
        ),
        (["run", "jobs", "execute", "job", "--tasks", "many"], 2, "Value must be an integer; received: many"),
        (["run", "jobs", "execute", "job", "--tasks", "0"], 2, "Value must be greater than or equal to 1"),
        (["run", "jobs", "execute", "--wait"], 1, "The [Job] resource is not properly specified."),
    ],
)
def test_a_command_gcloud_refuses(offline_dir, argv, exit_code, message):
    result = cli(offline_dir, "gcloud", *argv, "--region", "r", "--project", "p")
    assert result.returncode == exit_code, result.stderr
    assert message in result.stderr
    assert calls(offline_dir)[-1]["exit"] == exit_code


# --- aliyun -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "exit_code", "message"),
    [
        (["kms", "PutSecretValu", "--SecretName", "s"], 2, "ERROR: 'PutSecretValu' is not a valid api."),
        (
            ["kms", "PutSecretValue", "--SecretName", "s", "--VersionId", "v1", "--SecretData", "x", "--Secret", "y"],
            2,
            "ERROR: '--Secret' is not a valid parameter or flag. See `aliyun help kms PutSecretValue`.",
        ),
        (["kms", "PutSecretValue", "--SecretName", "s", "--VersionId", "v1"], 1, "required parameters not assigned"),
    ],
)
def test_a_command_the_alibaba_cloud_cli_refuses(offline_dir, argv, exit_code, message):
    result = cli(offline_dir, "aliyun", *argv)
    assert result.returncode == exit_code and message in result.stderr


def test_an_injected_failure_of_put_secret_value_exits_1_once(offline_dir):
    argv = ["kms", "PutSecretValue", "--SecretName", "s", "--VersionId", "v1", "--SecretData", "x"]
    (offline_dir / "cli-failures.json").write_text(json.dumps({"aliyun kms PutSecretValue": 1}))
    assert cli(offline_dir, "aliyun", *argv).returncode == 1
    assert cli(offline_dir, "aliyun", *argv).returncode == 0


def test_aws_prints_timestamps_in_iso_8601_as_cli_v2_does(offline_dir):
    # awscli 1.46.3 customizations/scalarparse.py: "In AWS CLI v2, all timestamp response values are returned in
    # the ISO 8601 format"; v1 would print the epoch seconds sent on the wire.
    run = ["ecs", "run-task", "--region", "us-east-1", "--task-definition", "f", "--query", "tasks[0]"]
    result = cli(offline_dir, "aws", *run)
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00", json.loads(result.stdout)["createdAt"])


def test_a_fargate_task_without_network_configuration_is_refused_by_ecs(offline_dir):
    # ECS answers InvalidParameterException (a client error: exit 254 in AWS CLI v2); aws_ecs.py cites the source.
    run = ["ecs", "run-task", "--region", "us-east-1", "--launch-type", "FARGATE", "--task-definition", "f"]
    result = cli(offline_dir, "aws", *run)
    assert result.returncode == 254
    assert "Network Configuration must be provided when networkMode 'awsvpc' is specified." in result.stderr


# --- the shared files -------------------------------------------------------------------------------------------


def test_a_planned_failure_is_consumed_one_count_per_call(offline_dir, monkeypatch):
    from tools.offline_apply.cli import ledger

    monkeypatch.setenv(ledger.OFFLINE_DIR_ENV, str(offline_dir))
    (offline_dir / "cli-failures.json").write_text(
        json.dumps({"gcloud run jobs execute": {"times": 2, "exit_code": 7}})
    )
    taken = [ledger.take_failure("gcloud run jobs execute") for _ in range(3)]
    assert taken == [ledger.Failure("gcloud run jobs execute", 7), ledger.Failure("gcloud run jobs execute", 7), None]
    assert ledger.take_failure("aws ecs run-task") is None


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        ('{"gcloud run jobs execute": "once"}', "'gcloud run jobs execute': expected a count"),
        ('{"gcloud run jobs execute": {"times": 1, "exit": 3}}', "'gcloud run jobs execute': expected a count"),
        ('{"gcloud run jobs execute": 1,}', "line 1: not JSON"),
    ],
)
def test_a_malformed_failure_plan_is_one_clear_error_naming_the_file(offline_dir, plan, message):
    (offline_dir / "cli-failures.json").write_text(plan)
    result = cli(offline_dir, "gcloud", "run", "jobs", "execute", "job", "--region", "r", "--project", "p", "--wait")
    assert result.returncode == 1
    assert result.stderr.startswith(f"gcloud (offline stand-in): {offline_dir / 'cli-failures.json'}: ")
    assert message in result.stderr and "Traceback" not in result.stderr


# --- through the real Terraform ---------------------------------------------------------------------------------


def _terraform(workdir: Path, offline_dir: Path, *args: str) -> subprocess.CompletedProcess:
    (workdir / "empty.tfrc").write_text("")
    env = {
        **os.environ,
        "PATH": f"{CLI_DIR}:{os.environ['PATH']}",
        "LLMGW_OFFLINE_DIR": str(offline_dir),
        "HOME": str(offline_dir),
        "TF_CLI_CONFIG_FILE": str(workdir / "empty.tfrc"),
        "TF_IN_AUTOMATION": "1",
        "CHECKPOINT_DISABLE": "1",
    }
    command = ["terraform", *args, "-input=false", "-no-color"]
    return subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=180, check=False)


def test_terraform_runs_the_synthesized_step_through_the_stand_in_and_a_failed_execution_fails_the_apply_once(
    synthesized, gcloud_steps, offline_dir, tmp_path
):
    """The real Terraform 1.11 runs the step's own local-exec (terraform_data is built into Terraform, so no
    provider is needed): the stand-in is found on PATH, a failed execution fails the apply with gcloud's error,
    and the next apply converges. (The gcp step: its stand-in starts in a tenth of the aws one's time.)"""
    name, _, environment = gcloud_steps[0]
    stack_name, address = name.split("/")
    resource_type, resource_name = address.split(".")
    body = synthesized[stack_name]["resource"][resource_type][resource_name]
    (local_exec,) = [provisioner["local-exec"] for provisioner in body["provisioner"]]
    step = {"provisioner": [{"local-exec": {**local_exec, "environment": environment}}]}
    (tmp_path / "main.tf.json").write_text(json.dumps({"resource": {resource_type: {resource_name: step}}}))
    assert _terraform(tmp_path, offline_dir, "init").returncode == 0
    (offline_dir / "cli-failures.json").write_text(json.dumps({"gcloud run jobs execute": 1}))
    failed = _terraform(tmp_path, offline_dir, "apply", "-auto-approve")
    assert failed.returncode == 1
    assert "exit status 1" in failed.stderr
    assert "ERROR: (gcloud.run.jobs.execute) The execution failed." in failed.stderr
    converged = _terraform(tmp_path, offline_dir, "apply", "-auto-approve")
    assert converged.returncode == 0, converged.stderr
    assert "has successfully completed." in converged.stdout
    assert [call["exit"] for call in calls(offline_dir)] == [1, 0]


# --- the CI jobs' read of the LiteLLM key (tools/ci/litellm_key.py) against each cloud's CLI --------------------

# (cloud and its stand-in store, its CLI, the secret id as the GitHub environment variable names it, the store's key
# and aliases)
_KEY_SECRETS = [
    (
        "aws",
        "aws",
        "arn:aws:secretsmanager:eu-west-1:111122223333:secret:llmgw-dev-litellm-master-Ab12Cd",
        "llmgw-dev-litellm-master",
        ["arn:aws:secretsmanager:eu-west-1:111122223333:secret:llmgw-dev-litellm-master-Ab12Cd"],
    ),
    ("gcp", "gcloud", "projects/acme-dev/secrets/llmgw-litellm", "projects/acme-dev/secrets/llmgw-litellm", []),
    ("alicloud", "aliyun", "llmgw-dev-litellm-master", "llmgw-dev-litellm-master", []),
]


def _litellm_key(offline_dir: Path, cloud: str, secret_id: str) -> subprocess.CompletedProcess:
    """`python -m tools.ci.litellm_key` as the plan and apply jobs run it, with the stand-in CLIs first on PATH; the
    command it hands the key to prints a digest of what it got."""
    show = 'for v in "$LITELLM_API_KEY" "$TF_VAR_litellm_api_key"; do printf %s "$v" | sha256sum; done'
    return subprocess.run(
        [
            str(REPO / ".venv" / "bin" / "python"),
            "-m",
            "tools.ci.litellm_key",
            "--cloud",
            cloud,
            "--",
            "sh",
            "-c",
            show,
        ],
        cwd=REPO,
        env={
            "PATH": f"{CLI_DIR}:{os.environ['PATH']}",
            "LLMGW_OFFLINE_DIR": str(offline_dir),
            "HOME": str(offline_dir),
            "AWS_DEFAULT_REGION": "eu-west-1",
            "ALIBABA_CLOUD_REGION": "cn-shanghai",
            "LITELLM_API_KEY_SECRET": secret_id,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("cloud", "cli_name", "secret_id", "name", "aliases"), _KEY_SECRETS, ids=[c[0] for c in _KEY_SECRETS]
)
def test_the_ci_key_read_gets_the_current_value_through_each_clouds_cli(
    offline_dir, cloud, cli_name, secret_id, name, aliases
):
    """The exact command line litellm_key builds is accepted by the CLI (the real AWS CLI parses `--query
    SecretString --output text`), its output is parsed back to the value put last, byte for byte (no newline
    added or lost), and the value reaches the command only through its environment, masked first."""
    from tools.offline_apply.secret_store import SecretStore

    secrets = SecretStore(offline_dir, cloud)
    secrets.create_secret(name, aliases=aliases)
    secrets.put(name, "sk-old-value")
    current = "sk-current-value-\u00e9"
    secrets.put(name, current)

    result = _litellm_key(offline_dir, cloud, secret_id)

    assert result.returncode == 0, result.stderr
    digest = hashlib.sha256(current.encode()).hexdigest()
    mask, printed = result.stdout.split("\n", 1)
    assert mask == f"::add-mask::{current}"
    assert printed == f"{digest}  -\n{digest}  -\n"
    calls = [json.loads(line) for line in (offline_dir / "cli-calls.jsonl").read_text().splitlines()]
    assert [(call["cli"], call["exit"]) for call in calls] == [(cli_name, 0)]
    assert current not in json.dumps(calls)


@pytest.mark.parametrize(
    ("cloud", "cli_name", "secret_id", "name", "aliases"), _KEY_SECRETS, ids=[c[0] for c in _KEY_SECRETS]
)
def test_the_ci_key_read_fails_the_step_when_the_secret_holds_no_value(
    offline_dir, cloud, cli_name, secret_id, name, aliases
):
    """A secret created by the apply but never given its value (or not there at all): the step fails, runs no
    command, and prints no value."""
    from tools.offline_apply.secret_store import SecretStore

    SecretStore(offline_dir, cloud).create_secret(name, aliases=aliases)
    result = _litellm_key(offline_dir, cloud, secret_id)
    assert result.returncode == 2 and "reading the key failed" in result.stderr, result.stderr
    assert result.stdout == ""
