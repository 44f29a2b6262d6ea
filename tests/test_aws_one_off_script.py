"""The one-off task runner's shell script, run against a stand-in `aws` CLI: exit codes, waits and messages.

Terraform runs the same text through local-exec (bash -c) with these environment variables; here a fake `aws`
on PATH answers run-task / wait / describe-tasks the way the real CLI prints with `--output text`.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from constructs_lib.aws.migrations import _RUN

FAKE_AWS = """#!/usr/bin/env bash
echo "$*" >> "$CALLS"
case "$1 $2" in
  "ecs run-task") echo "${FAKE_TASK_ARN}" ;;
  "ecs wait") exit "${FAKE_WAIT_RC:-0}" ;;
  "ecs describe-tasks")
    case "$*" in
      *exitCode*) echo "${FAKE_EXIT_CODE}" ;;
      *stoppedReason*) echo "Essential container in task exited" ;;
    esac ;;
esac
"""
ENVIRONMENT = {
    "STEP": "migrations",
    "REGION": "us-east-1",
    "CLUSTER": "acme-dev-litellm",
    "TASK_DEF": "arn:aws:ecs:us-east-1:111111111111:task-definition/acme-dev-migrations:7",
    "SUBNETS": "subnet-a,subnet-b",
    "SECURITY_GROUP": "sg-jobs",
    "LOG_GROUP": "/acme-dev/ecs/migrations",
}


def _run(tmp_path: Path, **fake: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    aws = bin_dir / "aws"
    aws.write_text(FAKE_AWS)
    aws.chmod(0o755)
    calls = tmp_path / "calls"
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "CALLS": str(calls),
        "FAKE_TASK_ARN": "arn:aws:ecs:us-east-1:111111111111:task/acme-dev-litellm/0123abcd",
        **ENVIRONMENT,
        **fake,
    }
    result = subprocess.run(["bash", "-c", _RUN], env=env, capture_output=True, text=True, timeout=30, check=False)
    return result, calls.read_text().splitlines() if calls.exists() else []


def test_success_starts_waits_and_checks_the_exit_code(tmp_path):
    result, calls = _run(tmp_path, FAKE_EXIT_CODE="0")
    assert result.returncode == 0, result.stderr
    assert calls[0].startswith("ecs run-task --region us-east-1 --cluster acme-dev-litellm --launch-type FARGATE")
    assert "subnets=[subnet-a,subnet-b],securityGroups=[sg-jobs],assignPublicIp=DISABLED" in calls[0]
    assert calls[1].startswith("ecs wait tasks-stopped") and calls[1].endswith("0123abcd")
    assert "exitCode" in calls[2]
    assert "/acme-dev/ecs/migrations" in result.stdout


@pytest.mark.parametrize("exit_code", ["1", "137", "None"])
def test_a_failed_or_unstarted_container_fails_the_apply_naming_the_log_group(tmp_path, exit_code):
    result, _ = _run(tmp_path, FAKE_EXIT_CODE=exit_code)
    assert result.returncode == 1
    assert f"migrations failed (exit code {exit_code}" in result.stderr
    assert "Logs: CloudWatch log group /acme-dev/ecs/migrations" in result.stderr


def test_a_task_that_never_started_fails(tmp_path):
    result, calls = _run(tmp_path, FAKE_TASK_ARN="None")
    assert result.returncode == 1 and "did not start" in result.stderr
    assert len(calls) == 1


def test_a_wait_that_gives_up_fails(tmp_path):
    result, calls = _run(tmp_path, FAKE_WAIT_RC="255", FAKE_EXIT_CODE="0")
    assert result.returncode != 0
    assert not any("exitCode" in call for call in calls)


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
