"""Stand-in Amazon ECS: RunTask, DescribeTasks and ListTasks, the calls of the migrations step
(constructs_lib/aws/migrations.py).

A task started by RunTask has run to completion by the next DescribeTasks (the `tasks-stopped` waiter succeeds on
its first poll, so an apply does not sleep its 6 s delay). Its essential container exits 0 unless cli-failures.json
plans a failure of `aws ecs run-task` with an `exit_code`. Member names and enum values are the ECS service model's
(`ecs/2014-11-13/service-2.json`; services.py checks every answer against it). Strings the model leaves open come
from AWS's documentation:
- the stop reason of a task whose essential container exited, "Essential container in task exited"
  (https://repost.aws/knowledge-center/ecs-task-stopped, "Stopped reasons");
- the failure reasons "MISSING" (DescribeTasks: the task was not found) and "RESOURCE:MEMORY" (RunTask could not
  place the task) (https://docs.aws.amazon.com/AmazonECS/latest/userguide/api_failures_messages.html);
- a task whose container could not start stops with a reason such as "CannotPullContainerError: <reason>" and its
  container has no exit code (https://docs.aws.amazon.com/AmazonECS/latest/userguide/stopped-task-error-codes.html);
  its stop code is the model's TaskStopCode "TaskFailedToStart".

RunTask refuses a Fargate task without a network configuration as ECS does: Fargate tasks use the awsvpc network
mode, which needs one (service model: TaskDefinition.networkMode "For Amazon ECS tasks on Fargate, the awsvpc
network mode is required", RunTaskRequest.networkConfiguration "required for task definitions that use the awsvpc
network mode"); the message is the API's, as reported in fabfuel/ecs-deploy#61 and Songmu/ecschedule#22.

The stand-in knows no task definitions or container names: a container is named after the task definition's
family, and a task definition given as a family without a revision is taken as revision 1.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from . import ledger

STATE = "aws-ecs"
# AWS's documentation example account, used only when no ARN in the request names the account.
DEFAULT_ACCOUNT = "123456789012"
ESSENTIAL_CONTAINER_EXITED = "Essential container in task exited"
AWSVPC_NEEDS_NETWORK_CONFIGURATION = "Network Configuration must be provided when networkMode 'awsvpc' is specified."
_INJECTED = "the offline harness was told to fail this task (cli-failures.json)"


def _arn_parts(value: str) -> tuple[str, str] | None:
    """(account, resource) of an ARN, None for a plain name."""
    parts = value.split(":", 5)
    return (parts[4], parts[5]) if value.startswith("arn:") and len(parts) == 6 else None


def _account(*values: str) -> str:
    for value in values:
        parts = _arn_parts(value)
        if parts and parts[0]:
            return parts[0]
    return DEFAULT_ACCOUNT


def _cluster_name(cluster: str) -> str:
    parts = _arn_parts(cluster)
    return parts[1].split("/", 1)[1] if parts else cluster


def _task_definition(value: str, region: str, account: str) -> tuple[str, str]:
    """(ARN, family) of a task definition given as an ARN, family:revision or family."""
    parts = _arn_parts(value)
    if parts:
        return value, parts[1].split("/", 1)[1].split(":", 1)[0]
    family, _, revision = value.partition(":")
    return f"arn:aws:ecs:{region}:{account}:task-definition/{family}:{revision or 1}", family


def _id(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def run_task(params: dict[str, Any], region: str, failure: ledger.Failure | None) -> tuple[int, dict[str, Any]]:
    cluster = params.get("cluster", "default")
    account = _account(params["taskDefinition"], cluster)
    cluster_name = _cluster_name(cluster)
    definition_arn, family = _task_definition(params["taskDefinition"], region, account)
    if params.get("launchType") == "FARGATE" and "networkConfiguration" not in params:
        return 400, {"__type": "InvalidParameterException", "message": AWSVPC_NEEDS_NETWORK_CONFIGURATION}
    if failure is not None and failure.exit_code is None and failure.reason is None:
        failures = [{"arn": definition_arn, "reason": "RESOURCE:MEMORY", "detail": failure.message}]
        return 200, {"tasks": [], "failures": failures}
    exit_code = 0 if failure is None else failure.exit_code
    stop_reason = None if failure is None or failure.reason is None else f"{failure.reason}: {_INJECTED}"
    tasks = []
    with ledger.state(STATE) as ecs:
        started = ecs.setdefault("tasks", {})
        for _ in range(params.get("count", 1)):
            task_id = _id(region, cluster_name, definition_arn, str(len(started)))
            task_arn = f"arn:aws:ecs:{region}:{account}:task/{cluster_name}/{task_id}"
            task = {
                "taskArn": task_arn,
                "clusterArn": f"arn:aws:ecs:{region}:{account}:cluster/{cluster_name}",
                "taskDefinitionArn": definition_arn,
                "group": f"family:{family}",
                "launchType": params.get("launchType", "EC2"),
                "createdAt": time.time(),
                "version": 1,
                "containers": [
                    {
                        "containerArn": f"arn:aws:ecs:{region}:{account}:container/{cluster_name}/{task_id}/"
                        + _id(task_arn, family),
                        "taskArn": task_arn,
                        "name": family,
                    }
                ],
            }
            if "startedBy" in params:
                task["startedBy"] = params["startedBy"]
            started[task_arn] = {"task": task, "exit_code": exit_code, "stop_reason": stop_reason}
            tasks.append(_with_status(task, "PROVISIONING", "RUNNING", container_status="PENDING"))
    return 200, {"tasks": tasks, "failures": []}


def _with_status(task: dict[str, Any], last: str, desired: str, container_status: str) -> dict[str, Any]:
    containers = [{**container, "lastStatus": container_status} for container in task["containers"]]
    return {**task, "lastStatus": last, "desiredStatus": desired, "containers": containers}


def _stopped(record: dict[str, Any]) -> dict[str, Any]:
    task = _with_status(record["task"], "STOPPED", "STOPPED", container_status="STOPPED")
    created = task["createdAt"]
    times = {"stoppingAt": created, "executionStoppedAt": created, "stoppedAt": created}
    if record.get("stop_reason"):
        return task | times | {"stopCode": "TaskFailedToStart", "stoppedReason": record["stop_reason"]}
    for container in task["containers"]:
        container["exitCode"] = record["exit_code"]
    return (
        task
        | times
        | {
            "startedAt": created,
            "stopCode": "EssentialContainerExited",
            "stoppedReason": ESSENTIAL_CONTAINER_EXITED,
        }
    )


def describe_tasks(params: dict[str, Any], region: str, failure: ledger.Failure | None) -> tuple[int, dict[str, Any]]:
    if failure is not None:
        return 400, {"__type": "ClientException", "message": failure.message}
    cluster_name = _cluster_name(params.get("cluster", "default"))
    tasks, failures = [], []
    with ledger.state(STATE) as ecs:
        started = ecs.get("tasks", {})
        for wanted in params["tasks"]:
            # A task is named by its ARN or by its id within the cluster.
            record = started.get(wanted) or next(
                (r for arn, r in started.items() if arn.endswith(f"/{cluster_name}/{wanted}")), None
            )
            if record is None or _cluster_name(record["task"]["clusterArn"]) != cluster_name:
                failures.append({"arn": wanted, "reason": "MISSING"})
            else:
                tasks.append(_stopped(record))
    return 200, {"tasks": tasks, "failures": failures}


def list_tasks(params: dict[str, Any], region: str, failure: ledger.Failure | None) -> tuple[int, dict[str, Any]]:
    """ListTasks by cluster, `family`, `startedBy` and `desiredStatus` (ListTasksRequest in the service model; the
    default desired status is RUNNING). A task here has run to completion by the next call, so none is RUNNING:
    the migrations step's check for a run an earlier apply left finds none."""
    if failure is not None:
        return 400, {"__type": "ClientException", "message": failure.message}
    if params.get("desiredStatus", "RUNNING") != "STOPPED":
        return 200, {"taskArns": []}
    cluster_name = _cluster_name(params.get("cluster", "default"))
    with ledger.state(STATE) as ecs:
        records = list(ecs.get("tasks", {}).values())
    arns = [
        record["task"]["taskArn"]
        for record in records
        if _cluster_name(record["task"]["clusterArn"]) == cluster_name
        and ("family" not in params or record["task"]["group"] == f"family:{params['family']}")
        and ("startedBy" not in params or record["task"].get("startedBy") == params["startedBy"])
    ]
    return 200, {"taskArns": arns}


ECS_OPERATIONS = {"RunTask": run_task, "DescribeTasks": describe_tasks, "ListTasks": list_tasks}
