"""The one-off task runner's shell script, run against the stand-in `aws` CLI: exit codes, waits and messages.

Terraform runs the same text through local-exec (bash -c) with these environment variables; here the offline
harness's stand-in `aws` (tools/offline_apply/cli: the real AWS CLI's parser and output, a stand-in ECS) answers
run-task / wait / describe-tasks, and cli-failures.json makes the task fail as ECS reports it.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from constructs_lib.aws.migrations import _RUN
from tests.test_cli_standins import calls as recorded_calls
from tests.test_cli_standins import run_step

ENVIRONMENT = {
    "STEP": "migrations",
    "REGION": "us-east-1",
    "CLUSTER": "acme-dev-litellm",
    "TASK_DEF": "arn:aws:ecs:us-east-1:111111111111:task-definition/acme-dev-migrations:7",
    "SUBNETS": "subnet-a,subnet-b",
    "SECURITY_GROUP": "sg-jobs",
    "LOG_GROUP": "/acme-dev/ecs/migrations",
}


def _run(tmp_path: Path, failures: dict | None = None) -> tuple[subprocess.CompletedProcess, list[list[str]]]:
    result = run_step(tmp_path, _RUN, ENVIRONMENT, failures)
    return result, [call["argv"] for call in recorded_calls(tmp_path)]


def test_success_starts_waits_and_checks_the_exit_code(tmp_path):
    result, calls = _run(tmp_path)
    assert result.returncode == 0, result.stderr
    assert calls[0][:9] == [
        "ecs", "run-task", "--region", "us-east-1", "--cluster", "acme-dev-litellm", "--launch-type", "FARGATE",
        "--task-definition",
    ]  # fmt: skip
    assert (
        "awsvpcConfiguration={subnets=[subnet-a,subnet-b],securityGroups=[sg-jobs],assignPublicIp=DISABLED}" in calls[0]
    )
    task_arn = result.stdout.split("started ", 1)[1].split(";", 1)[0]
    assert task_arn.startswith("arn:aws:ecs:us-east-1:111111111111:task/acme-dev-litellm/")
    assert calls[1][:3] == ["ecs", "wait", "tasks-stopped"] and calls[1][-1] == task_arn
    assert "tasks[0].containers[0].exitCode" in calls[2]
    assert "/acme-dev/ecs/migrations" in result.stdout


# A container that exits non-zero, and one that never started (no exit code: describe-tasks prints "None").
@pytest.mark.parametrize(
    ("failure", "exit_code"),
    [({"exit_code": 1}, "1"), ({"exit_code": 137}, "137"), ({"reason": "CannotPullContainerError"}, "None")],
)
def test_a_failed_or_unstarted_container_fails_the_apply_naming_the_log_group(tmp_path, failure, exit_code):
    result, _ = _run(tmp_path, {"aws ecs run-task": {"times": 1, **failure}})
    assert result.returncode == 1
    assert f"migrations failed (exit code {exit_code}" in result.stderr
    assert "Logs: CloudWatch log group /acme-dev/ecs/migrations" in result.stderr


def test_a_task_that_never_started_fails(tmp_path):
    result, calls = _run(tmp_path, {"aws ecs run-task": 1})
    assert result.returncode == 1 and "did not start" in result.stderr
    assert len(calls) == 1


def test_a_wait_that_gives_up_fails(tmp_path):
    result, calls = _run(tmp_path, {"aws ecs wait tasks-stopped": 1})
    assert result.returncode != 0
    assert not any("tasks[0].containers[0].exitCode" in call for call in calls)


def test_the_synthesized_step_runs_this_script_with_these_variables(synthesized):
    (run,) = [
        body for name, body in synthesized["aws-dev"]["resource"]["terraform_data"].items() if "migrations" in name
    ]
    (provisioner,) = run["provisioner"]
    local_exec = provisioner["local-exec"]
    assert local_exec["command"] == _RUN and local_exec["interpreter"] == ["bash", "-c"]
    assert set(local_exec["environment"]) == set(ENVIRONMENT)
    assert json.dumps(local_exec).count("${") >= 5


def test_container_commands_are_valid_shell_and_python(synthesized):
    import shlex

    from tests.test_aws_gateway import containers

    for family, container in containers(synthesized["aws-prod"]).items():
        if "command" not in container or container.get("entryPoint") != ["sh", "-c"]:
            continue
        (command,) = container["command"]
        checked = subprocess.run(["sh", "-n", "-c", command], capture_output=True, text=True, check=False)
        assert checked.returncode == 0, (family, checked.stderr)
        words = shlex.split(command)
        if words[:2] == ["python", "-c"]:
            compile(words[2], f"<{family} config fetch>", "exec")
