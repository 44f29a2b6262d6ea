"""The gateway's runtime, one class per `clouds.aws.create_runtime`: `FargateRuntime` (the ECS cluster, the task
definitions, the one-off jobs, the ALB and the three services) or `DependenciesOnly` (nothing runs here: the
outputs hand the identities, security groups and environment to the LiteLLM you run, e.g. on EKS).

    runtime = FargateRuntime(RuntimeScope(scope=..., aws=aws, families=families, database=database, ...))
    runtime.gateway_url, runtime.outputs()
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from constructs import Construct

from constructs_lib._common.naming import Naming
from constructs_lib._common.outputs import GatewayOutput
from constructs_lib._common.routes import BACKEND_HEALTH_PATH, GATEWAY_HEALTH_PATH, UI_HEALTH_PATH, path_rules
from constructs_lib.aws.ecs_service import (
    ContainerSpec,
    FargateTask,
    FargateTaskProps,
    GatewayCluster,
    GatewayService,
    GatewayServiceProps,
)
from constructs_lib.aws.gateway.containers import (
    MULTIPROC_DIR,
    MULTIPROC_VOLUME,
    PORTS,
    gateway_extras,
    launch,
    otel_env,
)
from constructs_lib.aws.gateway.stores import Database
from constructs_lib.aws.gateway.task_identities import TaskFamilies
from constructs_lib.aws.load_balancer import GatewayLoadBalancer, GatewayLoadBalancerProps, TargetSpec
from constructs_lib.aws.migrations import OneOffStep, OneOffTasks, OneOffTasksProps
from constructs_lib.aws.network import GatewayNetwork
from constructs_lib.aws.rds_ca import with_rds_ca
from constructs_lib.aws.secrets import GatewaySecret
from constructs_lib.config.aws import AwsConfig

HEALTH = {"gateway": GATEWAY_HEALTH_PATH, "backend": BACKEND_HEALTH_PATH, "ui": UI_HEALTH_PATH}


@dataclass(frozen=True, kw_only=True)
class RuntimeScope:
    """What a runtime is defined with: everything below it in the gateway, already defined."""

    scope: Construct
    naming: Naming
    aws: AwsConfig
    env: str
    production: bool
    network: GatewayNetwork
    families: TaskFamilies
    database: Database
    # The environment of the gateway and backend containers (stores, proxy config objects, region).
    runtime_env: dict[str, str]


class GatewayRuntime(Protocol):
    # What the quotas stack talks to (cross-stack reference), or None.
    gateway_url: str | None

    def outputs(self) -> dict[str, GatewayOutput]: ...


class DependenciesOnly:
    """Stores, secrets and identities only; the quotas stack talks to the gateway you run (its URL required)."""

    def __init__(self, at: RuntimeScope) -> None:
        self.gateway_url = at.aws.external_gateway_url
        self._at = at

    def outputs(self) -> dict[str, GatewayOutput]:
        at = self._at
        identities = at.families.identities
        null = GatewayOutput(None, "null: dependencies-only mode")
        return {
            "runtime_role_arns": GatewayOutput(
                {family: identities[family].task_role.arn for family in identities},
                "Task roles with the gateway's grants, for the LiteLLM you run (e.g. EKS Pod Identity)",
            ),
            "runtime_security_group_ids": GatewayOutput(
                {name: at.network.tasks[name].id for name in ("gateway", "backend")},
                "Security groups the data stores admit; attach them to the pods",
            ),
            "runtime_environment": GatewayOutput(at.runtime_env),
            **dict.fromkeys(("alb_dns_name", "gateway_url", "migration_command", "ecs_cluster"), null),
        }


class FargateRuntime:
    """gateway, backend and ui as ECS Fargate services behind the path-routing ALB; the one-off jobs before them."""

    def __init__(self, at: RuntimeScope) -> None:
        self._at = at
        aws = at.aws
        self.cluster = GatewayCluster(at.scope, "cluster", at.naming.name("litellm"))
        # Public-subnet tasks need a public IP for the internet (no NAT); the one-off jobs then run there too.
        self._public_tasks = aws.network.tasks_in_public_subnets
        network = at.network
        self._task_subnets = network.public_subnet_ids if self._public_tasks else network.private_subnet_ids
        self.one_off = self._one_off_tasks()
        self.lb = self._load_balancer()
        self.services = {component: self._service(component) for component in ("gateway", "backend", "ui")}
        self.gateway_url: str | None = self.lb.url

    def outputs(self) -> dict[str, GatewayOutput]:
        return {
            "alb_dns_name": GatewayOutput(self.lb.lb.dns_name, "Point your DNS name here"),
            "gateway_url": GatewayOutput(self.lb.url),
            "migration_command": GatewayOutput(self.one_off.command if self.one_off is not None else None),
            "ecs_cluster": GatewayOutput(self.cluster.name),
        }

    def _task(
        self,
        family: str,
        cpu: int,
        memory: int,
        container: ContainerSpec,
        secrets: Sequence[GatewaySecret],
        sidecars: Sequence[ContainerSpec] = (),
        volumes: Sequence[str] = (),
    ) -> FargateTask:
        at = self._at
        sidecars, volumes = list(sidecars), list(volumes)
        if at.database.ca_pem is not None:
            container, sidecars, volumes = with_rds_ca(container, sidecars, volumes, at.database.ca_pem)
        identity = at.families.identities[family]
        return FargateTask(
            at.scope,
            f"{family}-task",
            FargateTaskProps(
                family=at.naming.name(family),
                cpu=cpu,
                memory=memory,
                container=container,
                execution_role_arn=identity.execution_role.arn,
                task_role_arn=identity.task_role.arn,
                depends_on=[
                    *identity.policies,
                    *at.network.egress_routes,
                    *(written for item in secrets for written in item.written),
                ],
                sidecars=sidecars,
                volumes=volumes,
            ),
        )

    def _one_off_steps(self) -> list[OneOffStep]:
        """The IAM-user bootstrap (managed database), then the migrations (any database)."""
        at = self._at
        aws, database, log_groups = at.aws, at.database, at.families.log_groups
        steps: list[OneOffStep] = []
        if database.bootstraps:
            log_group_name = log_groups["bootstrap-db"].name
            bootstrap = database.bootstrap_container(aws.migrations.bootstrap_image, log_group_name, aws.region)
            assert bootstrap is not None
            task = self._task("bootstrap-db", 256, 512, bootstrap, [])
            steps.append(OneOffStep("bootstrap-db", task.task, log_group_name))
        if database.migrates:
            readers = at.families.readers["migrations"]
            container = ContainerSpec(
                name="migrations",
                image=aws.image("migrations"),
                log_group=log_groups["migrations"].name,
                region=aws.region,
                env=database.task_env,
                secrets={item.env_var: item.value_from for item in readers},
                command=["migrations"] if aws.unified_image is not None else None,
            )
            task = self._task("migrations", aws.migrations.cpu, aws.migrations.memory, container, readers)
            steps.append(OneOffStep("migrations", task.task, log_groups["migrations"].name))
        return steps

    def _one_off_tasks(self) -> OneOffTasks | None:
        steps = self._one_off_steps()
        if not steps:
            return None
        at = self._at
        aws = at.aws
        return OneOffTasks(
            at.scope,
            "one-off",
            OneOffTasksProps(
                region=aws.region,
                cluster_name=self.cluster.name,
                subnet_ids=self._task_subnets,
                security_group_id=at.network.jobs.id,
                steps=steps,
                auto_run=aws.migrations.auto_run,
                triggers=at.database.one_off_triggers,
                depends_on=at.database.one_off_depends_on,
                assign_public_ip=self._public_tasks,
                timeout_seconds=aws.migrations.timeout_seconds,
            ),
        )

    def _load_balancer(self) -> GatewayLoadBalancer:
        at = self._at
        network, lb_config = at.network, at.aws.load_balancer
        alb_group = network.alb
        assert alb_group is not None
        return GatewayLoadBalancer(
            at.scope,
            "lb",
            GatewayLoadBalancerProps(
                naming=at.naming,
                config=lb_config,
                account_id=at.aws.account_id,
                production=at.production,
                vpc_id=network.vpc_id,
                subnet_ids=network.public_subnet_ids if lb_config.internet_facing else network.private_subnet_ids,
                security_group_id=alb_group.id,
                targets={component: TargetSpec(PORTS[component], HEALTH[component]) for component in PORTS},
                default_target="backend",
                rules=path_rules(),
            ),
        )

    def _container(self, component: str) -> tuple[ContainerSpec, list[GatewaySecret], list[ContainerSpec], list[str]]:
        """The component's container, the secrets it reads, and (gateway) its sidecars and shared volumes."""
        at = self._at
        aws, region = at.aws, at.aws.region
        unified = aws.unified_image is not None
        component_config = getattr(aws.components, component)
        log_group_name = at.families.log_groups[component].name
        entry_point: list[str] | None = ["sh", "-c"]
        sidecars: list[ContainerSpec] = []
        volumes: list[str] = []
        if component == "ui":
            env, secrets, entry_point = dict(component_config.extra_env), {}, None
            command = ["ui"] if unified else None
            readable: list[GatewaySecret] = []
        else:
            env = {
                **at.runtime_env,
                **otel_env(aws, at.naming.name(component), at.env),
                **component_config.extra_env,
            }
            if component == "backend":
                env["UI_USERNAME"] = "admin"
            env |= at.database.client_env.get(component, {})
            readable = at.families.readers[component]
            secrets = {item.env_var: item.value_from for item in readable} | at.families.extra_secret_arns[component]
            command = launch(component, unified, component_config.workers)
            if component == "gateway":
                command, sidecars, volumes = gateway_extras(
                    aws,
                    env,
                    secrets,
                    command,
                    log_group_name,
                    region,
                    at.production,
                    collector_env=at.database.client_env.get("collector", {}),
                )
        container = ContainerSpec(
            name=component,
            image=aws.image(component),
            log_group=log_group_name,
            region=region,
            port=PORTS[component],
            env=env,
            secrets=secrets,
            entry_point=entry_point,
            command=command,
            mount_points=[(MULTIPROC_VOLUME, MULTIPROC_DIR)] if MULTIPROC_VOLUME in volumes else (),
        )
        return container, readable, sidecars, volumes

    def _service(self, component: str) -> GatewayService:
        at = self._at
        component_config = getattr(at.aws.components, component)
        container, readable, sidecars, volumes = self._container(component)
        target_group = self.lb.target_groups[component]
        task = self._task(
            component, component_config.cpu, component_config.memory, container, readable, sidecars, volumes
        )
        return GatewayService(
            at.scope,
            f"{component}-service",
            GatewayServiceProps(
                name=at.naming.name(component),
                cluster=self.cluster,
                task=task,
                config=component_config,
                subnet_ids=self._task_subnets,
                security_group_id=at.network.tasks[component].id,
                target_group_arn=target_group.arn,
                autoscaling=component != "ui",
                assign_public_ip=self._public_tasks,
                request_count_label=f"{self.lb.lb.arn_suffix}/{target_group.arn_suffix}",
                # Never start against an unmigrated schema; the listener rules exist before traffic arrives.
                depends_on=[
                    *self.lb.listeners,
                    *self.lb.rules,
                    *([self.one_off.done] if component != "ui" and self.one_off is not None else []),
                ],
            ),
        )
