"""ECS Fargate: the cluster, one task definition per family, and the long-running services with autoscaling.

    cluster = GatewayCluster(self, "cluster", GatewayClusterProps(name=...))
    task = FargateTask(self, "gateway-task", FargateTaskProps(family=..., container=ContainerSpec(...), ...))
    GatewayService(self, "gateway", GatewayServiceProps(cluster=cluster, task=task, config=aws.components.gateway,
        autoscaling=True, target_group_arn=..., ...))

Container definitions are one JSON string (ECS's own format), built here with sorted keys so the output is
deterministic. Secrets reach containers only through `secrets[].valueFrom` (an ARN pinned to a version label);
`environment` carries names, endpoints and sizes. tests/test_aws_gateway.py parses the string and checks both.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cdktf import ITerraformDependable, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.appautoscaling_policy import (
    AppautoscalingPolicy,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification,
)
from cdktf_cdktf_provider_aws.appautoscaling_policy import (
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecification as CustomizedMetric,
)
from cdktf_cdktf_provider_aws.appautoscaling_policy import (
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetrics as MetricQuery,
)
from cdktf_cdktf_provider_aws.appautoscaling_policy import (
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetricsMetricStat as MetricStat,  # noqa: E501
)
from cdktf_cdktf_provider_aws.appautoscaling_policy import (
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetricsMetricStatMetric as Metric,  # noqa: E501
)
from cdktf_cdktf_provider_aws.appautoscaling_policy import (
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetricsMetricStatMetricDimensions as MetricDimension,  # noqa: E501
)
from cdktf_cdktf_provider_aws.appautoscaling_target import AppautoscalingTarget
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.ecs_cluster import EcsCluster, EcsClusterSetting
from cdktf_cdktf_provider_aws.ecs_service import (
    EcsService,
    EcsServiceDeploymentCircuitBreaker,
    EcsServiceLoadBalancer,
    EcsServiceNetworkConfiguration,
)
from cdktf_cdktf_provider_aws.ecs_task_definition import (
    EcsTaskDefinition,
    EcsTaskDefinitionRuntimePlatform,
    EcsTaskDefinitionVolume,
)
from constructs import Construct

from constructs_lib._common.errors import PropsError
from constructs_lib.config.aws import ECS_DEPLOYMENT_MAXIMUM_PERCENT, AwsServiceConfig

# Plain env whose name says "secret" is refused: such values belong in `secrets` (valueFrom).
_SENSITIVE_NAME_SUFFIXES = ("_KEY", "_SECRET", "_PASSWORD", "_TOKEN", "_CREDENTIALS", "_HEADERS")


# Terraform reads `${` and `%{` in any string as template syntax; plain values are escaped with this.
def terraform_literal(text: str) -> str:
    return text.replace("${", "$${").replace("%{", "%%{")


class GatewayCluster(Construct):
    def __init__(self, scope: Construct, construct_id: str, name: str) -> None:
        super().__init__(scope, construct_id)
        self.cluster = EcsCluster(
            self, "cluster", name=name, setting=[EcsClusterSetting(name="containerInsights", value="enabled")]
        )
        self.name = self.cluster.name
        self.arn = self.cluster.arn


@dataclass(frozen=True)
class ContainerSpec:
    name: str
    image: str
    log_group: str
    region: str
    port: int | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    # env var -> valueFrom (a secret ARN with its `:<json-key>:<stage>:` suffix)
    secrets: Mapping[str, str] = field(default_factory=dict)
    entry_point: Sequence[str] | None = None
    command: Sequence[str] | None = None
    # Sidecars: not essential (ECS restarts them in place), with their own share of the task.
    essential: bool = True
    cpu: int | None = None
    memory: int | None = None
    # (task volume name, container path) of the task's shared ephemeral volumes.
    mount_points: Sequence[tuple[str, str]] = ()
    # An init container: runs to completion once (no restart policy); others wait on it with `depends_on_success`.
    init: bool = False
    depends_on_success: Sequence[str] = ()
    user: str | None = None

    def definition(self) -> str:
        return json.dumps([self.container()], sort_keys=True, separators=(",", ":"))

    def container(self) -> dict[str, object]:
        clash = sorted(set(self.env) & set(self.secrets))
        if clash:
            raise PropsError(f"container {self.name}", f"{clash} are both plain env and secrets")
        for name in self.env:
            if name.endswith(_SENSITIVE_NAME_SUFFIXES):
                raise PropsError(f"container {self.name}", f"{name} looks like a secret: pass it as a secret, not env")
        container: dict[str, object] = {
            "name": self.name,
            "image": self.image,
            "essential": self.essential,
            "environment": [{"name": name, "value": value} for name, value in sorted(self.env.items())],
            "secrets": [{"name": name, "valueFrom": value} for name, value in sorted(self.secrets.items())],
            "linuxParameters": {"initProcessEnabled": True},
            "ulimits": [{"name": "nofile", "softLimit": 65536, "hardLimit": 65536}],
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": self.log_group,
                    "awslogs-region": self.region,
                    "awslogs-stream-prefix": self.name,
                },
            },
        }
        if self.port is not None:
            container["portMappings"] = [{"containerPort": self.port, "protocol": "tcp"}]
        if self.entry_point is not None:
            container["entryPoint"] = list(self.entry_point)
        if self.command is not None:
            container["command"] = list(self.command)
        if self.cpu is not None:
            container["cpu"] = self.cpu
        if self.memory is not None:
            container["memory"] = self.memory
        if self.mount_points:
            container["mountPoints"] = [
                {"sourceVolume": volume, "containerPath": path, "readOnly": False} for volume, path in self.mount_points
            ]
        if self.depends_on_success:
            container["dependsOn"] = [
                {"containerName": name, "condition": "SUCCESS"} for name in sorted(self.depends_on_success)
            ]
        if self.user is not None:
            container["user"] = self.user
        if not self.essential and not self.init:
            container["restartPolicy"] = {"enabled": True}
        return container


@dataclass(frozen=True)
class FargateTaskProps:
    family: str
    cpu: int
    memory: int
    container: ContainerSpec
    execution_role_arn: str
    task_role_arn: str
    # The secret versions its `valueFrom` labels name: the definition is registered only after they exist.
    depends_on: Sequence[ITerraformDependable] = ()
    # Sidecars next to `container` (the load-balanced one), and the task-scoped volumes they share with it.
    sidecars: Sequence[ContainerSpec] = ()
    volumes: Sequence[str] = ()


class FargateTask(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: FargateTaskProps) -> None:
        super().__init__(scope, construct_id)
        self.container = props.container
        names = [props.container.name, *(sidecar.name for sidecar in props.sidecars)]
        if len(set(names)) != len(names):
            raise PropsError(props.family, f"container names repeat: {names}")
        sidecar_cpu = sum(sidecar.cpu or 0 for sidecar in props.sidecars)
        sidecar_memory = sum(sidecar.memory or 0 for sidecar in props.sidecars)
        if props.sidecars and (sidecar_cpu >= props.cpu or sidecar_memory >= props.memory):
            raise PropsError(props.family, "the sidecars take the whole task; nothing is left for the main container")
        definitions = [props.container.container(), *(sidecar.container() for sidecar in props.sidecars)]
        if props.sidecars:
            # The main container gets exactly what the sidecars leave of the task.
            definitions[0] |= {"cpu": props.cpu - sidecar_cpu, "memory": props.memory - sidecar_memory}
        self.task = EcsTaskDefinition(
            self,
            "task",
            family=props.family,
            cpu=str(props.cpu),
            memory=str(props.memory),
            network_mode="awsvpc",
            requires_compatibilities=["FARGATE"],
            runtime_platform=EcsTaskDefinitionRuntimePlatform(
                operating_system_family="LINUX", cpu_architecture="X86_64"
            ),
            execution_role_arn=props.execution_role_arn,
            task_role_arn=props.task_role_arn,
            container_definitions=json.dumps(definitions, sort_keys=True, separators=(",", ":")),
            volume=[EcsTaskDefinitionVolume(name=name) for name in props.volumes] or None,
            depends_on=list(props.depends_on),
        )
        self.arn = self.task.arn


def log_group(
    scope: Construct, construct_id: str, name: str, retention_days: int, kms_key_arn: str
) -> CloudwatchLogGroup:
    return CloudwatchLogGroup(scope, construct_id, name=name, retention_in_days=retention_days, kms_key_id=kms_key_arn)


@dataclass(frozen=True)
class GatewayServiceProps:
    name: str
    cluster: GatewayCluster
    task: FargateTask
    config: AwsServiceConfig
    subnet_ids: Sequence[str]
    security_group_id: str
    target_group_arn: str
    autoscaling: bool
    depends_on: Sequence[ITerraformDependable] = ()
    # Tasks on public subnets need a public IP to reach the internet (no NAT).
    assign_public_ip: bool = False
    # `<alb arn_suffix>/<target group arn_suffix>`: for the requests-per-target policy.
    request_count_label: str | None = None


class GatewayService(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: GatewayServiceProps) -> None:
        super().__init__(scope, construct_id)
        config = props.config
        if props.task.container.port is None:
            raise PropsError(props.name, "a load-balanced service needs a container port")
        self.service = EcsService(
            self,
            "service",
            name=props.name,
            cluster=props.cluster.arn,
            task_definition=props.task.arn,
            desired_count=config.desired_count,
            launch_type="FARGATE",
            platform_version="LATEST",
            network_configuration=EcsServiceNetworkConfiguration(
                subnets=list(props.subnet_ids),
                security_groups=[props.security_group_id],
                assign_public_ip=props.assign_public_ip,
            ),
            load_balancer=[
                EcsServiceLoadBalancer(
                    target_group_arn=props.target_group_arn,
                    container_name=props.task.container.name,
                    container_port=props.task.container.port,
                )
            ],
            deployment_circuit_breaker=EcsServiceDeploymentCircuitBreaker(enable=True, rollback=True),
            # The apply returns only once the deployment is stable, so a crash-looping revision fails it (and the
            # circuit breaker rolls the service back) instead of "succeeding" while tasks restart.
            wait_for_steady_state=True,
            deployment_minimum_healthy_percent=100,
            deployment_maximum_percent=ECS_DEPLOYMENT_MAXIMUM_PERCENT,
            # LiteLLM connects to the database and Redis before it reports ready.
            health_check_grace_period_seconds=120,
            propagate_tags="SERVICE",
            enable_ecs_managed_tags=True,
            # Application Auto Scaling owns the count once the service exists.
            lifecycle=TerraformResourceLifecycle(ignore_changes=["desired_count"])
            if props.autoscaling and config.autoscaling
            else None,
            depends_on=list(props.depends_on),
        )
        self.policies: dict[str, AppautoscalingPolicy] = {}
        if props.autoscaling and config.autoscaling:
            self._autoscale(props)

    def _autoscale(self, props: GatewayServiceProps) -> None:
        """Target tracking on CPU, and on memory, ALB requests and LLM tokens where configured."""
        config = props.config
        target = AppautoscalingTarget(
            self,
            "scaling-target",
            service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=f"service/{props.cluster.name}/{self.service.name}",
            min_capacity=config.min_count,
            max_capacity=config.max_count,
        )

        def policy(kind: str, target_value: float, **metric: object) -> None:
            self.policies[kind] = AppautoscalingPolicy(
                self,
                f"{kind}-scaling",
                name=f"{props.name}-{kind}",
                policy_type="TargetTrackingScaling",
                service_namespace=target.service_namespace,
                scalable_dimension=target.scalable_dimension,
                resource_id=target.resource_id,
                target_tracking_scaling_policy_configuration=AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration(
                    target_value=target_value, scale_in_cooldown=300, scale_out_cooldown=60, **metric
                ),
            )

        def predefined(metric_type: str, resource_label: str | None = None) -> dict[str, object]:
            spec = AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification(
                predefined_metric_type=metric_type, resource_label=resource_label
            )
            return {"predefined_metric_specification": spec}

        policy("cpu", config.cpu_target_percent, **predefined("ECSServiceAverageCPUUtilization"))
        if config.memory_target_percent is not None:
            policy("memory", config.memory_target_percent, **predefined("ECSServiceAverageMemoryUtilization"))
        if config.target_requests_per_second is not None:
            if props.request_count_label is None:
                raise PropsError(props.name, "target_requests_per_second needs the ALB's request_count_label")
            # ALBRequestCountPerTarget is a count per minute.
            policy(
                "requests",
                config.target_requests_per_second * 60,
                **predefined("ALBRequestCountPerTarget", props.request_count_label),
            )
        if config.target_tokens_per_second is not None and config.tokens_metric is not None:
            policy(
                "tokens",
                config.target_tokens_per_second,
                customized_metric_specification=_tokens_per_task(config, props.cluster.name, self.service.name),
            )


def _tokens_per_task(config: AwsServiceConfig, cluster_name: str, service_name: str) -> CustomizedMetric:
    """Tokens per second per running task: the token counter's 60 s Sum / 60 / Container Insights' task count."""
    metric = config.tokens_metric
    assert metric is not None

    def stat(namespace: str, name: str, dimensions: Mapping[str, str], statistic: str) -> MetricStat:
        return MetricStat(
            stat=statistic,
            metric=Metric(
                namespace=namespace,
                metric_name=name,
                dimensions=[MetricDimension(name=key, value=value) for key, value in sorted(dimensions.items())]
                or None,
            ),
        )

    query = MetricQuery
    return CustomizedMetric(
        metrics=[
            query(
                id="tokens",
                return_data=False,
                metric_stat=stat(metric.namespace, metric.name, metric.dimensions, "Sum"),
            ),
            query(
                id="running_tasks",
                return_data=False,
                metric_stat=stat(
                    "ECS/ContainerInsights",
                    "RunningTaskCount",
                    {"ClusterName": cluster_name, "ServiceName": service_name},
                    "Average",
                ),
            ),
            query(id="tokens_per_second", expression="tokens / 60", return_data=False),
            query(
                id="tokens_per_second_per_task",
                expression="tokens_per_second / running_tasks",
                label="Tokens per second per gateway task",
                return_data=True,
            ),
        ]
    )
