"""The one-off tasks of a release: create the IAM-auth database user, then apply the Prisma migrations.

    runs = OneOffTasks(self, "one-off", OneOffTasksProps(cluster_name=..., steps=[bootstrap, migrations], ...))
    GatewayService(..., depends_on=[runs.done])
    runs.command   # the same runs, for runners without the AWS CLI

The provider has no "run task" resource, so each step is a `terraform_data` whose local-exec provisioner starts
the task with `aws ecs run-task`, waits with `aws ecs wait tasks-stopped`, and fails the apply with the exit code,
the stop reason and the log group named when the container did not exit 0. A step re-runs when its task
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

_RUN = r"""set -euo pipefail
task_arn=$(aws ecs run-task --region "$REGION" --cluster "$CLUSTER" --launch-type FARGATE \
  --task-definition "$TASK_DEF" --started-by terraform \
  --network-configuration \
  "awsvpcConfiguration={subnets=[$SUBNETS],securityGroups=[$SECURITY_GROUP],assignPublicIp=DISABLED}" \
  --query 'tasks[0].taskArn' --output text)
if [ -z "$task_arn" ] || [ "$task_arn" = "None" ]; then echo "$STEP: the task did not start" >&2; exit 1; fi
echo "$STEP: started $task_arn; logs in CloudWatch log group $LOG_GROUP"
aws ecs wait tasks-stopped --region "$REGION" --cluster "$CLUSTER" --tasks "$task_arn"
exit_code=$(aws ecs describe-tasks --region "$REGION" --cluster "$CLUSTER" --tasks "$task_arn" \
  --query 'tasks[0].containers[0].exitCode' --output text)
if [ "$exit_code" != "0" ]; then
  reason=$(aws ecs describe-tasks --region "$REGION" --cluster "$CLUSTER" --tasks "$task_arn" \
    --query 'tasks[0].stoppedReason' --output text)
  echo "$STEP failed (exit code $exit_code: $reason). Logs: CloudWatch log group $LOG_GROUP" >&2
  exit 1
fi
echo "$STEP: done"
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
