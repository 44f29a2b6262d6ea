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
from tests.test_cli_standins import calls as recorded_calls
from tests.test_cli_standins import run_step

# Answers as the AWS CLI prints with `--output text`: a scalar on its own line, a list's items tab-separated on one
# line, null as `None`. Task states come from FAKE_STATUSES (one per describe-tasks lastStatus call, then STOPPED).
FAKE_AWS = r"""#!/usr/bin/env bash
echo "$*" >> "$CALLS"
case "$1 $2" in
  "ecs list-tasks") echo "${FAKE_EARLIER:-None}" ;;
  "ecs run-task") printf '%s\t%s\n' "$FAKE_TASK_ARN" "${FAKE_FAILURES:-}" ;;
  "ecs describe-tasks")
    case "$*" in
      *lastStatus*)
        count=$(grep -c lastStatus "$CALLS")
        status=$(echo "${FAKE_STATUSES:-}" | tr ' ' '\n' | sed -n "${count}p")
        echo "${status:-STOPPED}" ;;
      *taskDefinitionArn*) echo "${FAKE_EARLIER_DEF}" ;;
      *exitCode*) echo "${FAKE_EXIT_CODE}" ;;
      *stoppedReason*) echo "Essential container in task exited" ;;
    esac ;;
  *) exit 2 ;;
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
    "TIMEOUT_SECONDS": "3600",
    "POLL_SECONDS": "0",
}
TASK = "arn:aws:ecs:us-east-1:111111111111:task/acme-dev-litellm/0123abcd"
EARLIER = "arn:aws:ecs:us-east-1:111111111111:task/acme-dev-litellm/feedbeef"
# botocore data/ecs/2014-11-13/waiters-2.json, TasksStopped: delay 6, maxAttempts 100 (`aws ecs wait` gives up there).
CLI_WAITER_ATTEMPTS = 100


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
        "FAKE_TASK_ARN": TASK,
        **ENVIRONMENT,
        **fake,
    }
    result = subprocess.run(["bash", "-c", _RUN], env=env, capture_output=True, text=True, timeout=60, check=False)
    return result, calls.read_text().splitlines() if calls.exists() else []


def test_success_starts_waits_and_checks_the_exit_code(tmp_path):
    result, calls = _run(tmp_path, FAKE_EXIT_CODE="0", FAKE_STATUSES="PENDING RUNNING")
    assert result.returncode == 0, result.stderr
    assert calls[0].startswith("ecs list-tasks --family acme-dev-migrations --started-by terraform")
    assert calls[1].startswith("ecs run-task --region us-east-1 --cluster acme-dev-litellm --launch-type FARGATE")
    assert "subnets=[subnet-a,subnet-b],securityGroups=[sg-jobs],assignPublicIp=DISABLED" in calls[1]
    assert [call for call in calls if "lastStatus" in call][-1].startswith(f"ecs describe-tasks --tasks {TASK}")
    assert "exitCode" in calls[-1]
    assert "/acme-dev/ecs/migrations" in result.stdout and "migrations: done" in result.stdout


@pytest.mark.parametrize("exit_code", ["1", "137", "None"])
def test_a_failed_or_unstarted_container_fails_the_apply_naming_the_log_group(tmp_path, exit_code):
    result, _ = _run(tmp_path, FAKE_EXIT_CODE=exit_code)
    assert result.returncode == 1
    assert f"migrations: failed (exit code {exit_code}" in result.stderr
    assert "Logs: CloudWatch log group /acme-dev/ecs/migrations" in result.stderr


def test_a_task_that_never_started_fails_printing_run_tasks_failures(tmp_path):
    # RunTaskResponse.failures[] of Failure{arn, reason, detail} (botocore ecs service-2.json).
    reason = "arn:aws:ecs:us-east-1:111111111111:container-instance/x: RESOURCE:MEMORY: -"
    result, calls = _run(tmp_path, FAKE_TASK_ARN="None", FAKE_FAILURES=reason)
    assert result.returncode == 1
    assert f"the task did not start: {reason}" in result.stderr
    assert [call.split()[1] for call in calls] == ["list-tasks", "run-task"]


def test_waits_past_the_cli_waiters_ten_minutes(tmp_path):
    statuses = " ".join(["RUNNING"] * (CLI_WAITER_ATTEMPTS + 50))
    result, calls = _run(tmp_path, FAKE_EXIT_CODE="0", FAKE_STATUSES=statuses)
    assert result.returncode == 0, result.stderr
    assert sum("lastStatus" in call for call in calls) == CLI_WAITER_ATTEMPTS + 51


def test_the_wait_is_bounded_and_says_the_task_runs_on(tmp_path):
    statuses = " ".join(["RUNNING"] * 1000)
    result, calls = _run(tmp_path, FAKE_STATUSES=statuses, TIMEOUT_SECONDS="1", POLL_SECONDS="0.2")
    assert result.returncode == 1
    assert f"{TASK} is still RUNNING after 1 s; it runs on" in result.stderr
    assert not any("exitCode" in call for call in calls)


def test_a_re_apply_waits_for_the_run_an_earlier_apply_left_instead_of_starting_another(tmp_path):
    result, calls = _run(
        tmp_path,
        FAKE_EARLIER=EARLIER,
        FAKE_EARLIER_DEF=ENVIRONMENT["TASK_DEF"],
        FAKE_STATUSES="RUNNING RUNNING",
        FAKE_EXIT_CODE="0",
    )
    assert result.returncode == 0, result.stderr
    assert not any(call.startswith("ecs run-task") for call in calls)
    assert any(call.startswith(f"ecs describe-tasks --tasks {EARLIER}") and "exitCode" in call for call in calls)


def test_an_earlier_run_of_an_older_revision_finishes_before_this_one_starts(tmp_path):
    older = ENVIRONMENT["TASK_DEF"].replace(":7", ":6")
    result, calls = _run(tmp_path, FAKE_EARLIER=EARLIER, FAKE_EARLIER_DEF=older, FAKE_EXIT_CODE="0")
    assert result.returncode == 0, result.stderr
    run_task = next(index for index, call in enumerate(calls) if call.startswith("ecs run-task"))
    assert any(f"--tasks {EARLIER}" in call and "lastStatus" in call for call in calls[:run_task])


def test_the_script_has_no_terraform_template_syntax():
    assert "${" not in _RUN and "%{" not in _RUN


def test_the_synthesized_step_runs_this_script_with_these_variables(synthesized):
    (run,) = [
        body for name, body in synthesized["aws-dev"]["resource"]["terraform_data"].items() if "migrations" in name
    ]
    (provisioner,) = run["provisioner"]
    local_exec = provisioner["local-exec"]
    assert local_exec["command"] == _RUN and local_exec["interpreter"] == ["bash", "-c"]
    assert set(local_exec["environment"]) == set(ENVIRONMENT)
    assert local_exec["environment"]["TIMEOUT_SECONDS"] == "3600"
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


def test_services_fail_the_apply_unless_their_deployment_becomes_stable(synthesized):
    """aws_ecs_service `wait_for_steady_state`: the apply waits for the deployment (like `aws ecs wait
    services-stable`), so a crash-looping revision fails it instead of passing while tasks restart."""
    services = synthesized["aws-dev"]["resource"]["aws_ecs_service"].values()
    assert services and all(body["wait_for_steady_state"] is True for body in services)
    assert all(body["deployment_circuit_breaker"] == {"enable": True, "rollback": True} for body in services)


# The same script against the offline harness's stand-in `aws` (the real AWS CLI's parser and `--output text`
# rendering of the JMESPath queries, a stand-in ECS checked against the service model): the queries parse and print
# what the script reads.
def test_the_script_runs_against_the_real_cli_front_end(tmp_path):
    result = run_step(tmp_path, _RUN, ENVIRONMENT, None)
    assert result.returncode == 0, result.stderr
    operations = [call["argv"][:2] for call in recorded_calls(tmp_path)]
    assert operations[:2] == [["ecs", "list-tasks"], ["ecs", "run-task"]]
    assert "migrations: done" in result.stdout


def test_run_tasks_failures_are_printed_through_the_real_cli_front_end(tmp_path):
    result = run_step(tmp_path, _RUN, ENVIRONMENT, {"aws ecs run-task": 1})
    assert result.returncode == 1
    assert (
        "the task did not start: arn:aws:ecs:us-east-1:111111111111:task-definition/acme-dev-migrations:7: "
        in result.stderr
    )
    assert "RESOURCE:MEMORY" in result.stderr
