"""The one-off tasks of a release: create the IAM-auth database user, then apply the Prisma migrations.

    runs = OneOffTasks(self, "one-off", OneOffTasksProps(cluster_name=..., steps=[bootstrap, migrations], ...))
    GatewayService(..., depends_on=[runs.done])
    runs.command   # the same runs, for runners without the AWS CLI

The provider has no "run task" resource, so each step is a `terraform_data` whose local-exec provisioner starts
the task with `aws ecs run-task` (printing its `failures[]` when nothing started), polls it until it stops for up to
`clouds.aws.migrations.timeout_seconds` (the CLI's `wait tasks-stopped` gives up after 10 minutes: botocore
data/ecs/2014-11-13/waiters-2.json, TasksStopped, 100 x 6 s), and fails the apply with the exit code, the stop
reason and the log group named when the container did not exit 0. A run an earlier apply gave up on is waited for,
not doubled. A step re-runs when its task
definition changes (a new image ships new migration files) or when the step before it re-ran. With
`clouds.aws.migrations.auto_run: false` nothing runs during apply; `command` is an output instead.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cdktf import ITerraformDependable, LocalExecProvisioner
from cdktf_cdktf_provider_aws.ecs_task_definition import EcsTaskDefinition
from constructs import Construct

from constructs_lib._common.errors import PropsError
from constructs_lib._common.terraform_data import TerraformData

# `$NAME` only, never `${...}` or `%{`: Terraform would read those as template syntax in the local-exec command.
_RUN = r"""set -euo pipefail
ecs() { aws ecs "$@" --region "$REGION" --cluster "$CLUSTER"; }
fail() { echo "$STEP: $1. Logs: CloudWatch log group $LOG_GROUP" >&2; exit 1; }
# Polls until the task stops, up to TIMEOUT_SECONDS (`aws ecs wait tasks-stopped` gives up after 100 x 6 s).
wait_stopped() {
  local deadline=$((SECONDS + TIMEOUT_SECONDS)) status
  while :; do
    status=$(ecs describe-tasks --tasks "$1" --query 'tasks[0].lastStatus' --output text)
    if [ "$status" = "STOPPED" ]; then return 0; fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      fail "$1 is still $status after $TIMEOUT_SECONDS s; it runs on, and the next apply waits for it \
instead of starting another"
    fi
    sleep "$POLL_SECONDS"
  done
}
check_exit() {
  local exit_code reason
  exit_code=$(ecs describe-tasks --tasks "$1" --query 'tasks[0].containers[0].exitCode' --output text)
  if [ "$exit_code" != "0" ]; then
    reason=$(ecs describe-tasks --tasks "$1" --query 'tasks[0].stoppedReason' --output text)
    fail "failed (exit code $exit_code: $reason)"
  fi
  echo "$STEP: done"
}
family=$(basename "$TASK_DEF" | cut -d: -f1)
# A run an earlier apply stopped waiting for: wait for it rather than start a second one next to it.
earlier=$(ecs list-tasks --family "$family" --started-by terraform --desired-status RUNNING \
  --query 'taskArns[0]' --output text)
if [ -n "$earlier" ] && [ "$earlier" != "None" ]; then
  earlier_def=$(ecs describe-tasks --tasks "$earlier" --query 'tasks[0].taskDefinitionArn' --output text)
  echo "$STEP: $earlier from an earlier apply is still running; waiting for it"
  wait_stopped "$earlier"
  if [ "$earlier_def" = "$TASK_DEF" ]; then check_exit "$earlier"; exit 0; fi
fi
started=$(aws ecs run-task --region "$REGION" --cluster "$CLUSTER" --launch-type FARGATE \
  --task-definition "$TASK_DEF" --started-by terraform \
  --network-configuration \
  "awsvpcConfiguration={subnets=[$SUBNETS],securityGroups=[$SECURITY_GROUP],assignPublicIp=DISABLED}" \
  --query "[tasks[0].taskArn, join('; ', failures[].join(': ', [arn || '-', reason || '-', detail || '-']))]" \
  --output text)
IFS=$'\t' read -r task_arn failures <<< "$started"
if [ -z "$task_arn" ] || [ "$task_arn" = "None" ]; then
  echo "$STEP: the task did not start: $failures" >&2
  exit 1
fi
echo "$STEP: started $task_arn; logs in CloudWatch log group $LOG_GROUP"
wait_stopped "$task_arn"
check_exit "$task_arn"
"""


@dataclass(frozen=True)
class OneOffStep:
    name: str
    task: EcsTaskDefinition
    log_group: str


@dataclass(frozen=True)
class OneOffTasksProps:
    region: str
    cluster_name: str
    subnet_ids: Sequence[str]
    security_group_id: str
    steps: Sequence[OneOffStep]
    auto_run: bool
    # Extra re-run triggers of the first step (e.g. the database cluster's resource id).
    triggers: Mapping[str, str]
    depends_on: Sequence[ITerraformDependable] = ()
    # Tasks on public subnets (no NAT) need a public IP to pull images and reach AWS APIs.
    assign_public_ip: bool = False
    # How long the apply waits for one step before it fails (the task itself runs on).
    timeout_seconds: int = 3600
    poll_seconds: int = 15


class OneOffTasks(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: OneOffTasksProps) -> None:
        super().__init__(scope, construct_id)
        if not props.steps:
            raise PropsError("migrations", "no one-off steps")
        subnets = ",".join(props.subnet_ids)
        script_text = (
            _RUN.replace("assignPublicIp=DISABLED", "assignPublicIp=ENABLED") if props.assign_public_ip else _RUN
        )
        commands = []
        self.done: ITerraformDependable = props.steps[-1].task
        previous: TerraformData | None = None
        for step in props.steps:
            environment = {
                "STEP": step.name,
                "REGION": props.region,
                "CLUSTER": props.cluster_name,
                "TASK_DEF": step.task.arn,
                "SUBNETS": subnets,
                "SECURITY_GROUP": props.security_group_id,
                "LOG_GROUP": step.log_group,
                "TIMEOUT_SECONDS": str(props.timeout_seconds),
                "POLL_SECONDS": str(props.poll_seconds),
            }
            commands.append(" ".join(f"{name}={shlex.quote(value)}" for name, value in environment.items()))
            if not props.auto_run:
                continue
            triggers = {"task_definition": step.task.arn}
            if previous is None:
                triggers |= dict(props.triggers)
            else:
                triggers["after"] = previous.id
            run = _RunStep(
                self,
                step.name,
                triggers,
                environment,
                [*props.depends_on, *([previous] if previous else [])],
                script_text,
            )
            previous = run.data
            self.done = run.data
        # One line a person can paste: every step, in order, with the same checks.
        script = shlex.quote(script_text)
        self.command = " && ".join(f"env {command} bash -c {script}" for command in commands)


class _RunStep(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        triggers: Mapping[str, str],
        environment: Mapping[str, str],
        depends_on: Sequence[ITerraformDependable],
        script: str = _RUN,
    ) -> None:
        super().__init__(scope, construct_id)
        self.data = TerraformData(
            self,
            "run",
            triggers_replace=dict(triggers),
            provisioners=[
                LocalExecProvisioner(
                    type="local-exec", interpreter=["bash", "-c"], command=script, environment=dict(environment)
                )
            ],
            depends_on=list(depends_on),
        )
