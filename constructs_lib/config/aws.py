"""AWS section of an environment file (`clouds.aws`)."""

from __future__ import annotations

import re
from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from constructs_lib.config.base import (
    Cidr,
    Hostname,
    SourceCidr,
    StrictModel,
    check_sidecar_ports_and_database,
    cidr_within,
    cidrs_overlap,
)
from constructs_lib.config.components import (
    IMAGE_COMPONENTS,
    ComponentImages,
    ImageReference,
    ImageTag,
    image_field,
    image_pin_problem,
    own_image,
)
from constructs_lib.config.db_connections import ConnectionBudget, PoolClient, default_max_connections
from constructs_lib.config.messages import shown
from constructs_lib.config.runtime import CreateRuntime, ExternalGatewayUrl, RuntimeMode
from constructs_lib.config.sidecars import GatewaySidecarConfig, SpendCollectorConfig
from constructs_lib.config.state import AwsStateConfig
from constructs_lib.config.stores import StoreSourceConfig

# Fargate task sizes: CPU units -> (lowest, highest, step) of the memory it allows, in MiB.
FARGATE_MEMORY_BY_CPU: dict[int, tuple[int, int, int]] = {
    256: (512, 2048, 512),
    512: (1024, 4096, 1024),
    1024: (2048, 8192, 1024),
    2048: (4096, 16384, 1024),
    4096: (8192, 30720, 1024),
    8192: (16384, 61440, 4096),
    16384: (32768, 122880, 8192),
}
# The values CloudWatch Logs accepts for retention_in_days (0 = never expire is left out on purpose).
LOG_RETENTION_DAYS = Literal[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557]
TLS13_POLICIES = Literal[
    "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
]
EnvName = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]*$")]
SecretArn = Annotated[
    str, Field(pattern=r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$")
]
VpcId = Annotated[str, Field(pattern=r"^vpc-[0-9a-f]{8,17}$")]
SubnetId = Annotated[str, Field(pattern=r"^subnet-[0-9a-f]{8,17}$")]


def _check_fargate_size(cpu: int, memory: int) -> None:
    if cpu not in FARGATE_MEMORY_BY_CPU:
        raise ValueError(f"cpu: {cpu} is not a Fargate size (one of {sorted(FARGATE_MEMORY_BY_CPU)})")
    low, high, step = FARGATE_MEMORY_BY_CPU[cpu]
    if not (low <= memory <= high and (memory - low) % step == 0):
        raise ValueError(
            f"memory: {memory} MiB is not allowed with cpu {cpu} (Fargate: {low}-{high} in steps of {step})"
        )


class AwsNetworkConfig(StrictModel):
    vpc_cidr: Cidr = "10.10.0.0/16"
    public_subnet_cidrs: list[Cidr] = Field(default_factory=lambda: ["10.10.0.0/22", "10.10.4.0/22"])
    private_subnet_cidrs: list[Cidr] = Field(default_factory=lambda: ["10.10.16.0/20", "10.10.32.0/20"])
    nat_gateway_per_az: bool | None = Field(
        default=None,
        description="One NAT gateway per AZ instead of one shared (losing the shared one's AZ cuts every AZ's "
        "egress). Default: on in production, off elsewhere.",
    )
    vpc_endpoints: bool | None = Field(
        default=None,
        description="Private endpoints for Secrets Manager, ECR, CloudWatch Logs, KMS, STS (interface) and S3 "
        "(gateway) in the created VPC, so tasks start without NAT. Default: on in production, off elsewhere.",
    )
    flow_log_retention_days: LOG_RETENTION_DAYS = 365
    existing_vpc_id: VpcId | None = Field(
        default=None, description="Bring your own VPC (with its own NAT egress and flow logs) instead of creating one."
    )
    existing_private_subnet_ids: list[SubnetId] = Field(
        default_factory=list, description="With existing_vpc_id: the private subnets (one per AZ) tasks and data use."
    )
    existing_public_subnet_ids: list[SubnetId] = Field(
        default_factory=list,
        description="With existing_vpc_id: public subnets, needed for an internet-facing ALB or "
        "tasks_in_public_subnets.",
    )
    tasks_in_public_subnets: bool = Field(
        default=False,
        description="Cost option for dev: the services run in the public subnets with public IPs, so no NAT gateway "
        "or EIP is created. Security groups still admit only the ALB (and metrics scrapers). Refused with a managed "
        "database (its bootstrap and migrations run in the private subnets) and in production.",
    )

    @model_validator(mode="after")
    def _subnets_inside_vpc(self) -> AwsNetworkConfig:
        if self.existing_vpc_id is None and (self.existing_private_subnet_ids or self.existing_public_subnet_ids):
            raise ValueError("existing_private_subnet_ids: subnet IDs need existing_vpc_id")
        if self.existing_vpc_id is not None and not (
            self.existing_private_subnet_ids or self.existing_public_subnet_ids
        ):
            raise ValueError(
                "existing_private_subnet_ids: existing_vpc_id names a VPC but no subnets of it; list the private "
                "subnets (one per AZ) the tasks and data stores use"
            )
        for field in ("existing_private_subnet_ids", "existing_public_subnet_ids"):
            ids = getattr(self, field)
            if len(set(ids)) != len(ids):
                raise ValueError(f"{field}: a subnet is listed twice")
        for field in ("public_subnet_cidrs", "private_subnet_cidrs"):
            for index, cidr in enumerate(getattr(self, field)):
                if not cidr_within(cidr, self.vpc_cidr):
                    raise ValueError(f"{field}[{index}]: subnet {cidr} is not inside vpc_cidr {self.vpc_cidr}")
        subnets = [*self.public_subnet_cidrs, *self.private_subnet_cidrs]
        for index, first in enumerate(subnets):
            for second in subnets[index + 1 :]:
                if cidrs_overlap(first, second):
                    raise ValueError(f"subnets {first} and {second} overlap")
        return self


class AwsTokensMetricConfig(StrictModel):
    """LiteLLM's Prometheus token counter as your metrics pipeline (e.g. CloudWatch agent) publishes it."""

    namespace: str = Field(pattern=r"^[A-Za-z0-9._/#:-]{1,255}$", description="CloudWatch namespace.")
    name: str = Field(
        default="litellm_total_tokens_metric_total",
        pattern=r"^[A-Za-z0-9_.:-]{1,255}$",
        description="Metric name: LiteLLM's `litellm_total_tokens_metric` counter in Prometheus exposition.",
    )
    dimensions: dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]{1,255}$")], str] = Field(
        default_factory=dict, description="Dimensions to query the metric with (none: the metric without any)."
    )


class AwsServiceConfig(StrictModel):
    """One ECS Fargate service: image, task size, scaling and extra environment."""

    image: ImageReference | None = Field(
        default=None, description="Full image reference; default `<image_registry>/litellm-<component>:<image_tag>`."
    )
    cpu: int = Field(default=1024, description="Fargate CPU units (256, 512, 1024, 2048, 4096, 8192, 16384).")
    memory: int = Field(default=2048, description="MiB; must be a size Fargate allows with `cpu`.")
    desired_count: int = Field(default=2, ge=0, le=100, description="Initial count; autoscaling owns it afterwards.")
    min_count: int = Field(default=2, ge=0, le=100)
    max_count: int = Field(default=6, ge=1, le=1000)
    autoscaling: bool = Field(
        default=True,
        description="Application Auto Scaling between min_count and max_count (gateway and backend; the UI keeps "
        "desired_count). False: desired_count tasks, and no scaling policy at all.",
    )
    cpu_target_percent: int = Field(default=60, ge=10, le=90, description="Target-tracking autoscaling on CPU.")
    memory_target_percent: int | None = Field(
        default=None, ge=10, le=95, description="Also track average memory utilization (%); none: CPU only."
    )
    target_requests_per_second: int | None = Field(
        default=None,
        ge=1,
        le=100000,
        description="Gateway only: also track ALB requests per target (this many per second per task; the "
        "ALBRequestCountPerTarget target is 60 times it, a per-minute count).",
    )
    target_tokens_per_second: int | None = Field(
        default=None,
        ge=1,
        description="Gateway only: also track tokens per second per task, a metric-math policy over LiteLLM's "
        "token counter (published to CloudWatch by your metrics pipeline, see tokens_metric) divided by 60 and by "
        "the service's Container Insights RunningTaskCount.",
    )
    tokens_metric: AwsTokensMetricConfig | None = Field(
        default=None, description="Where the token counter is in CloudWatch; required with target_tokens_per_second."
    )
    workers: int = Field(default=1, ge=1, le=32, description="uvicorn worker processes (gateway and backend).")
    extra_env: dict[EnvName, str] = Field(
        default_factory=dict, description="Extra plain environment. Never a secret: use extra_secrets for those."
    )
    extra_secrets: dict[EnvName, SecretArn] = Field(
        default_factory=dict, description="Extra env from Secrets Manager: name -> secret ARN (ECS `valueFrom`)."
    )

    @model_validator(mode="after")
    def _valid(self) -> AwsServiceConfig:
        _check_fargate_size(self.cpu, self.memory)
        if not self.min_count <= self.desired_count <= self.max_count:
            raise ValueError(
                f"desired_count: {self.desired_count} is outside min_count {self.min_count}..max_count {self.max_count}"
            )
        clash = sorted(set(self.extra_env) & set(self.extra_secrets))
        if clash:
            raise ValueError(f"extra_secrets: {clash} are also in extra_env")
        if self.target_tokens_per_second is not None and self.tokens_metric is None:
            raise ValueError("tokens_metric: target_tokens_per_second needs the token metric's namespace")
        return self


class AwsComponentsConfig(StrictModel):
    gateway: AwsServiceConfig = Field(default_factory=lambda: AwsServiceConfig(cpu=2048, memory=4096, workers=2))
    backend: AwsServiceConfig = Field(default_factory=lambda: AwsServiceConfig(memory=4096))
    ui: AwsServiceConfig = Field(default_factory=lambda: AwsServiceConfig(cpu=256, memory=512, max_count=3))

    @model_validator(mode="after")
    def _ui_plain(self) -> AwsComponentsConfig:
        for name in ("gateway", "backend"):
            if getattr(self, name).memory < 2048:
                raise ValueError(f"{name}.memory: the LiteLLM proxy's import chain alone needs over 1 GiB; use >= 2048")
        if self.ui.extra_secrets:
            raise ValueError("ui.extra_secrets: the UI serves static files and gets no secrets")
        for name in ("backend", "ui"):
            service = getattr(self, name)
            for field in ("target_requests_per_second", "target_tokens_per_second"):
                if getattr(service, field) is not None:
                    raise ValueError(f"{name}.{field}: only the gateway scales on LLM traffic")
        if self.ui.memory_target_percent is not None:
            raise ValueError("ui.memory_target_percent: the UI does not autoscale")
        return self


class AwsMigrationsConfig(StrictModel):
    image: ImageReference | None = Field(
        default=None, description="Full image reference; default `<image_registry>/litellm-migrations:<image_tag>`."
    )
    cpu: int = 512
    # Prisma's engine peaks above 1 GiB while applying the schema: 2 GiB is the floor.
    memory: int = Field(default=4096, ge=2048)
    bootstrap_image: ImageReference = Field(
        default="public.ecr.aws/docker/library/postgres:16-alpine",
        description="psql image of the one-off task that creates the IAM-auth database user.",
    )
    timeout_seconds: int = Field(
        default=3600,
        ge=60,
        le=86400,
        description="How long an apply waits for one one-off task before it fails (the task runs on; the next apply "
        "waits for it instead of starting another).",
    )
    auto_run: bool = Field(
        default=True,
        description="Run the tasks during apply with `aws ecs run-task` and wait (needs the AWS CLI on the runner); "
        "false: run the `migration_command` output by hand.",
    )

    @model_validator(mode="after")
    def _size(self) -> AwsMigrationsConfig:
        _check_fargate_size(self.cpu, self.memory)
        return self


class AwsLoadBalancerConfig(StrictModel):
    internet_facing: bool = Field(default=False, description="Internal by default; true puts it on public subnets.")
    certificate_arn: str | None = Field(
        default=None,
        pattern=r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}$",
        description="ACM certificate of the HTTPS listener (HTTP then only redirects).",
    )
    domain_name: Hostname | None = Field(
        default=None,
        description="DNS name the certificate covers (a record you point at the ALB); the gateway URL uses it. "
        "Required with certificate_arn: the ALB's own DNS name is not on your certificate.",
    )
    allow_plaintext: bool = Field(
        default=False, description="Serve plain HTTP without a certificate (trials only). Off: synth refuses."
    )
    ingress_cidrs: list[SourceCidr] = Field(
        default_factory=list,
        description="Who may reach the listeners. Default: the VPC CIDR (internal ALB); an internet-facing ALB "
        "needs them written out.",
    )
    ssl_policy: TLS13_POLICIES = "ELBSecurityPolicy-TLS13-1-2-Res-2021-06"
    idle_timeout_seconds: int = Field(default=600, ge=1, le=4000, description="LLM streams are long.")
    deletion_protection: bool = Field(default=True, description="Refuse deletion; must stay on in production.")
    access_log_retention_days: int = Field(default=90, ge=1)

    @model_validator(mode="after")
    def _tls_or_opt_in(self) -> AwsLoadBalancerConfig:
        if self.certificate_arn is None and not self.allow_plaintext:
            raise ValueError(
                "certificate_arn: no certificate; set an ACM certificate ARN, or allow_plaintext: true to serve "
                "plain HTTP (trials only)"
            )
        if self.certificate_arn is not None and self.domain_name is None:
            raise ValueError(
                "domain_name: an HTTPS listener needs the DNS name its certificate covers; callers (the quotas "
                "stack, agents) verify it, and the ALB's own DNS name is not on the certificate"
            )
        if self.internet_facing and self.certificate_arn is None:
            raise ValueError("certificate_arn: an internet-facing ALB needs a certificate; plain HTTP stays internal")
        if self.internet_facing and not self.ingress_cidrs:
            raise ValueError("ingress_cidrs: an internet-facing ALB needs its allowed CIDRs written out")
        return self


SecretName = Annotated[str, Field(pattern=r"^[A-Za-z0-9/_+=.@-]{1,512}$")]


class _AwsStoreSourceConfig(StoreSourceConfig):
    """A store's source on AWS: a brought store's URL in Secrets Manager, and where the tasks may reach it."""

    EXTERNAL_ONLY = ("url_secret", "egress_cidrs")

    url_secret: SecretName | None = Field(
        default=None,
        description="With source `external`: name of the Secrets Manager secret holding the URL; the stack "
        "creates it (encrypted with the gateway key), you put the value in out of band with the staging label "
        "v<url_secret_version>. Default `<prefix>-<store>-url`.",
    )
    egress_cidrs: list[SourceCidr] = Field(
        default_factory=list,
        description="With source `external`: where the store is (the tasks get egress to these on `port` only).",
    )
    port: int = Field(default=0, ge=0, le=65535, description="With source `external`: its port; 0 = the default.")

    @model_validator(mode="after")
    def _external_reachable(self) -> _AwsStoreSourceConfig:
        if self.source == "external" and not self.egress_cidrs:
            raise ValueError("egress_cidrs: an external store needs the CIDRs the tasks may reach it at")
        return self


# ECS rolling updates start the new tasks before stopping the old ones, up to maximumPercent of the desired count
# (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentConfiguration.html); every service of the
# stack uses 200 (constructs_lib/aws/ecs_service.py), so a deployment at max_count runs twice max_count tasks.
ECS_DEPLOYMENT_MAXIMUM_PERCENT = 200
# LiteLLM's PgBouncerSettings.max_db_connections default (litellm/proxy/db/pgbouncer.py:108, 1.106.12).
PGBOUNCER_DEFAULT_MAX_DB_CONNECTIONS = 20


class AwsConnectionPoolConfig(StrictModel):
    """LiteLLM's bundled PgBouncer inside each gateway task (transaction mode, loopback), shared by its workers."""

    enabled: bool | None = Field(
        default=None,
        description="Start the gateway through `gateway.launch` with LITELLM_PGBOUNCER_ENABLED, so one task holds "
        "at most `max_db_connections` to PostgreSQL whatever its worker count (the gateway image must ship "
        "`gateway.launch` and PgBouncer 1.19 or newer, litellm/proxy/db/pgbouncer.py). Default: on with the "
        "managed Aurora (PgBouncer renews the IAM token in its auth file; the only bounded path, since LiteLLM keeps "
        "no pool size on an IAM-auth URL), off otherwise.",
    )
    max_db_connections: int | None = Field(
        default=None,
        ge=1,
        le=5000,
        description="Upstream connections one task may hold. Default: the largest up to LiteLLM's 20 that keeps "
        "every gateway task, at a deployment's peak, under database.max_connections (managed Aurora), else 20.",
    )
    max_client_conn: int = Field(default=1000, ge=1, le=100000, description="Client connections from the workers.")


class AwsDatabaseConfig(_AwsStoreSourceConfig):
    # The major version only: with auto minor upgrades AWS moves the cluster to later minors, and the provider keeps a
    # configured prefix of the running version as is (compareActualEngineVersion, internal/service/rds/verify.go in
    # hashicorp/terraform-provider-aws); a pinned minor would read as a downgrade, which ModifyDBCluster refuses.
    engine_version: str = Field(
        default="16",
        description="Aurora PostgreSQL major version (e.g. `16`); minors follow auto_minor_version_upgrade.",
    )
    instance_class: str = Field(default="db.r6g.large", pattern=r"^db\.[a-z0-9]+\.[a-z0-9]+$")
    readers: int = Field(default=1, ge=0, le=15, description="Reader instances next to the writer.")
    database_name: str = Field(default="litellm", pattern=r"^[a-z][a-z0-9_]{0,62}$")
    app_user: str = Field(
        default="litellm_app",
        # 53 characters leave room for the `_collector` suffix within PostgreSQL's 63-byte identifiers.
        pattern=r"^[a-z][a-z0-9_]{0,52}$",
        description="IAM-auth user the gateway and the migrations connect as; the backend and the spend collector "
        "connect as `<app_user>_backend` and `<app_user>_collector`, members of it with their own connection limits.",
    )
    master_username: str = Field(default="litellm_admin", pattern=r"^[a-z][a-z0-9_]{0,62}$")
    backup_retention_days: int = Field(default=14, ge=1, le=35)
    deletion_protection: bool = True
    connection_pool: AwsConnectionPoolConfig = Field(default_factory=AwsConnectionPoolConfig)
    max_connections: int | None = Field(
        default=None,
        ge=20,
        le=262143,
        description="Managed Aurora: every instance's `max_connections` (its DB parameter group). Default: 400 in "
        "production environments, 100 elsewhere. Keep it within the class's default "
        "`LEAST({DBInstanceClassMemory/9531392}, 5000)` unless you sized the memory for more "
        "(https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraPostgreSQL.Managing.html).",
    )
    reserved_connections: int = Field(
        default=15,
        ge=3,
        le=1000,
        description="Managed Aurora: connections kept out of the gateway's budget (AWS automation needs at least 3, "
        "per the page above; the migrations and bootstrap jobs, operator sessions).",
    )

    @model_validator(mode="after")
    def _major_version_only(self) -> AwsDatabaseConfig:
        if not re.fullmatch(r"\d+", self.engine_version):
            raise ValueError(
                f"engine_version: {self.engine_version!r}: pin the major version only (e.g. "
                f"{self.engine_version.split('.')[0]!r}); AWS upgrades minors in place and a pinned minor would plan "
                "a downgrade"
            )
        return self

    @model_validator(mode="after")
    def _distinct_users(self) -> AwsDatabaseConfig:
        if self.app_user == self.master_username:
            raise ValueError("app_user: must differ from master_username (rds_iam cannot be granted to the master)")
        if self.master_username in {f"{self.app_user}_{client}" for client in ("backend", "collector")}:
            raise ValueError(f"master_username: {self.master_username!r} is the login role of a client of app_user")
        if self.connection_pool.enabled and self.source == "none":
            raise ValueError("connection_pool.enabled: with source `none` there is no database to pool")
        return self

    @property
    def external_port(self) -> int:
        return self.port or 5432

    def max_connections_or_default(self, production: bool) -> int:
        return self.max_connections or default_max_connections(production)


class AwsCacheConfig(_AwsStoreSourceConfig):
    node_type: str = Field(default="cache.t4g.small", pattern=r"^cache\.[a-z0-9]+\.[a-z0-9]+$")
    engine_version: str = Field(default="7.1", pattern=r"^\d+\.\d+$")
    nodes: int | None = Field(default=None, ge=1, le=6, description="Default: 2 (multi-AZ) in production, 1 elsewhere.")
    snapshot_retention_days: int = Field(default=7, ge=1, le=35)

    @property
    def external_port(self) -> int:
        return self.port or 6379


class AwsSecretsConfig(StrictModel):
    recovery_window_days: int = Field(default=30, ge=7, le=30, description="Deleted secrets stay recoverable.")
    master_key_version: int = Field(default=1, ge=1, description="Bump to generate and store a new master key.")
    ui_password_version: int = Field(default=1, ge=1, description="Bump to generate a new UI admin password.")
    redis_auth_version: int = Field(default=1, ge=1, description="Bump to rotate the Redis AUTH token.")
    redis_auth_rotation: Literal["rotating", "done"] = Field(
        default="done",
        description="Two applies per Redis AUTH rotation (README): bump redis_auth_version with `rotating` (the new "
        "token is added, the old one stays valid while the services roll), then `done` (only the new token is valid).",
    )


class AwsOtelConfig(StrictModel):
    endpoint: str | None = Field(default=None, pattern=r"^https://\S+$", description="Nothing OTel-related without it.")
    exporter: Literal["otlp_http", "otlp_grpc", "console"] = "otlp_http"
    environment_name: str | None = Field(
        default=None, pattern=r"^[a-z0-9-]{1,40}$", description="OTEL_ENVIRONMENT_NAME; default: the env."
    )
    capture_message_content: Literal["no_content", "prompt_and_completion"] = Field(
        default="no_content",
        description="OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT; prompts and completions are sensitive.",
    )
    headers_secret_arn: SecretArn | None = Field(default=None, description="OTEL_HEADERS from this secret.")


# What the gateway container keeps after the sidecars' share of its task: half a vCPU and the proxy's 2 GiB floor.
GATEWAY_MIN_CPU, GATEWAY_MIN_MEMORY = 512, 2048


class AwsMetricsConfig(GatewaySidecarConfig):
    """A Prometheus metrics sidecar in the gateway task, for your scrapers (never behind the load balancer)."""

    enabled: bool = Field(
        default=False,
        description="Add a `metrics` container (the gateway image running LiteLLM's multiprocess Prometheus server "
        "over the workers' PROMETHEUS_MULTIPROC_DIR, a task volume both share) and turn on LiteLLM's Prometheus "
        "callback. The port has no key auth: only scrape_cidrs reach it, the ALB never routes to it.",
    )
    port: int = Field(default=9090, ge=1, le=65535, description="Port of the metrics sidecar on the task's ENI.")
    scrape_cidrs: list[SourceCidr] = Field(
        default_factory=list, description="Who may scrape the port (your Prometheus subnets); empty: nobody yet."
    )
    cpu: int = Field(default=256, ge=128, le=4096, description="CPU units carved out of components.gateway.cpu.")
    memory: int = Field(default=512, ge=128, le=8192, description="MiB carved out of components.gateway.memory.")


class AwsSpendCollectorConfig(SpendCollectorConfig):
    """LiteLLM's spend collector as a sidecar: workers hand spend events to it over loopback."""

    enabled: bool = Field(
        default=False,
        description="Add a `collector` container (the gateway image running `litellm.proxy.collector`), "
        "restartable and non-essential; its cpu/memory are carved out of components.gateway's and must leave the "
        "gateway 512 CPU units and 2 GiB.",
    )
    cpu: int = Field(default=512, ge=128, le=8192, description="CPU units carved out of components.gateway.cpu.")
    memory: int = Field(default=2048, ge=256, le=30720, description="MiB carved out of components.gateway.memory.")


# A Bedrock ARN in any partition, naming a resource type and an exact resource (no wildcard anywhere).
_BEDROCK_ARN = re.compile(
    r"^arn:aws(?:-[a-z]+)*:bedrock:(?:[a-z]{2}(?:-[a-z]+)+-\d)?:(?:\d{12})?:[a-z][a-z-]*/[A-Za-z0-9._:/-]+$"
)


class AwsConfig(StrictModel, RuntimeMode, ComponentImages):
    SECTION: ClassVar[str] = "clouds.aws"
    DEFAULT_IMAGE_NEEDS: ClassVar[str] = "image_tag"
    RUNTIME_WORDS: ClassVar[tuple[str, str]] = ("ECS gateway task", "ECS service")

    enabled: bool = True
    account_id: str = Field(pattern=r"^\d{12}$", description="The only account this stack may touch.")
    region: str = Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    availability_zones: list[str] = Field(description="At least two AZs of `region`.")
    network: AwsNetworkConfig = Field(default_factory=AwsNetworkConfig)
    state: AwsStateConfig
    image_registry: str = Field(
        default="ghcr.io/berriai", pattern=r"^[a-z0-9.-]+/[a-z0-9._/-]*[a-z0-9]$", description="Prefix of the images."
    )
    image_tag: ImageTag | None = None
    unified_image: ImageReference | None = Field(
        default=None,
        description="One image for every role (gateway, backend, ui, migrations), each selected by the image "
        "entrypoint's first argument; instead of per-component images.",
    )
    components: AwsComponentsConfig = Field(default_factory=AwsComponentsConfig)
    migrations: AwsMigrationsConfig = Field(default_factory=AwsMigrationsConfig)
    load_balancer: AwsLoadBalancerConfig
    database: AwsDatabaseConfig = Field(default_factory=AwsDatabaseConfig)
    cache: AwsCacheConfig = Field(default_factory=AwsCacheConfig)
    secrets: AwsSecretsConfig = Field(default_factory=AwsSecretsConfig)
    otel: AwsOtelConfig = Field(default_factory=AwsOtelConfig)
    log_retention_days: LOG_RETENTION_DAYS = Field(default=365, description="Of every component's log group.")
    bedrock_model_arns: list[str] = Field(
        default_factory=list,
        description="Bedrock models the gateway may invoke (exact ARNs in any partition, e.g. `arn:aws-cn:`; "
        "foundation models, inference profiles, imported models); empty: no Bedrock permission at all.",
    )
    bedrock_custom_model_import: bool = Field(
        default=False,
        description="Create the service role Bedrock Custom Model Import assumes (this account's import jobs "
        "only) to read model weights under `models/` of the gateway bucket. Grants the tasks nothing: invoke an "
        "imported model through bedrock_model_arns.",
    )
    create_runtime: CreateRuntime = True
    external_gateway_url: ExternalGatewayUrl = None
    metrics: AwsMetricsConfig = Field(default_factory=AwsMetricsConfig)
    spend_collector: AwsSpendCollectorConfig = Field(default_factory=AwsSpendCollectorConfig)

    @property
    def managed_stores(self) -> list[str]:
        """The data stores this stack creates (they need subnets in two zones)."""
        return [name for name in ("database", "cache") if getattr(self, name).source == "managed"]

    @model_validator(mode="after")
    def _zones_match_region_and_subnets(self) -> AwsConfig:
        if not self.availability_zones:
            raise ValueError(
                "availability_zones: no zones at all; list at least two AZs of the region (the ALB and the managed "
                "data stores span two)"
            )
        if len(self.availability_zones) < 2:
            count = len(self.availability_zones)
            raise ValueError(f"availability_zones: need at least two AZs for a highly available gateway, got {count}")
        network = self.network
        if network.existing_vpc_id is not None:
            private = len(network.existing_private_subnet_ids)
            if self.managed_stores and private < 2:
                raise ValueError(
                    f"network.existing_private_subnet_ids: {private} private subnet(s), but the managed "
                    f"{' and '.join(self.managed_stores)} need at least two private subnets (two AZs); list two, or "
                    "bring your own stores"
                )
            if not network.tasks_in_public_subnets and private == 0:
                raise ValueError("network.existing_private_subnet_ids: the tasks run in private subnets; list them")
            if self.create_runtime and not self.load_balancer.internet_facing and private < 2:
                raise ValueError(
                    "network.existing_private_subnet_ids: the internal ALB needs subnets in two AZs; list two"
                )
        if network.tasks_in_public_subnets:
            if self.database.source == "managed":
                raise ValueError(
                    "network.tasks_in_public_subnets: the managed database's bootstrap and migrations run in the "
                    "private subnets (Aurora is never public); use database.source `external` or `none`"
                )
            if network.existing_vpc_id is not None and len(network.existing_public_subnet_ids) < 2:
                raise ValueError("network.existing_public_subnet_ids: tasks in public subnets need two public subnets")
        if len(set(self.availability_zones)) != len(self.availability_zones):
            raise ValueError("availability_zones: an AZ is listed twice")
        for index, zone in enumerate(self.availability_zones):
            if not zone.startswith(self.region):
                raise ValueError(f"availability_zones[{index}]: {zone!r} is not in region {self.region!r}")
        if self.network.existing_vpc_id is None:
            for field in ("public_subnet_cidrs", "private_subnet_cidrs"):
                count = len(getattr(self.network, field))
                if count != len(self.availability_zones):
                    zones = len(self.availability_zones)
                    raise ValueError(
                        f"network.{field}: {count} subnets for {zones} availability zones (need one per AZ)"
                    )
        elif self.load_balancer.internet_facing and len(self.network.existing_public_subnet_ids) < 2:
            raise ValueError("network.existing_public_subnet_ids: an internet-facing ALB needs two public subnets")
        for arn in self.bedrock_model_arns:
            if not _BEDROCK_ARN.match(arn):
                raise ValueError(
                    f"bedrock_model_arns: {shown(arn)} is not an exact Bedrock ARN "
                    "(`arn:<partition>:bedrock:<region>:<account>:<type>/<id>`, no wildcard)"
                )
        return self

    @model_validator(mode="after")
    def _runtime_options(self) -> AwsConfig:
        self.check_runtime_mode()
        if not self.create_runtime and self.database.connection_pool.enabled is True:
            raise ValueError(
                "database.connection_pool.enabled: PgBouncer runs inside the ECS gateway task, and "
                "dependencies-only mode (create_runtime: false) runs none"
            )
        return self

    @property
    def pgbouncer_enabled(self) -> bool:
        """The gateway task runs LiteLLM's PgBouncer: as configured, by default with the managed Aurora."""
        enabled = self.database.connection_pool.enabled
        if enabled is None:
            return self.database.source == "managed" and self.create_runtime
        return enabled

    def connection_budget(self, production: bool) -> ConnectionBudget | None:
        """Every pool that holds connections to the managed Aurora, against its `max_connections`; None when the
        gateway is not pooled (its IAM-auth engines then take Prisma's CPU-sized pools, which nothing caps).

        One share (`connection_pool.max_db_connections`) per pool: each gateway task's PgBouncer caps its upstream
        connections at it (`default_pool_size`, litellm/proxy/db/pgbouncer.py:1-15, 256-257) whatever its worker
        count; the backend's workers and the spend collectors connect straight to Aurora with IAM tokens (no
        PgBouncer in the backend image; the collector bypasses the task's under token auth, litellm/proxy/collector.py
        181-194), so their login roles' CONNECTION LIMIT (role_connection_limits) holds them to their shares. A
        deployment at max_count runs ECS_DEPLOYMENT_MAXIMUM_PERCENT of its tasks."""
        if self.database.source != "managed" or not self.pgbouncer_enabled:
            return None
        return ConnectionBudget(
            max_connections=self.database.max_connections_or_default(production),
            reserved=self.database.reserved_connections,
            clients=list(self._pools().values()),
            replica=self.database.readers > 0,
            ceiling=PGBOUNCER_DEFAULT_MAX_DB_CONNECTIONS,
            engine_name="pools (gateway PgBouncers, backend and collector engines)",
            limit_name="connection_pool.max_db_connections",
        )

    def _pools(self) -> dict[str, PoolClient]:
        """Every pool at a deployment's peak, by client: the gateway tasks' PgBouncers, the backend's workers and,
        when on, one spend collector per gateway task."""
        gateway_tasks, backend_tasks = self._peak_tasks("gateway"), self._peak_tasks("backend")
        pools = {
            "gateway": PoolClient("components.gateway (peak tasks)", gateway_tasks, 1, reads_replica=False),
            "backend": PoolClient(
                "components.backend (peak tasks x workers)", backend_tasks, self.components.backend.workers
            ),
        }
        if self.spend_collector.enabled:
            pools["collector"] = PoolClient(
                "spend_collector (one per gateway task)", gateway_tasks, 1, reads_replica=False
            )
        return pools

    def _peak_tasks(self, component: str) -> int:
        service = getattr(self.components, component)
        return (
            (service.max_count if service.autoscaling else service.desired_count)
            * ECS_DEPLOYMENT_MAXIMUM_PERCENT
            // 100
        )

    def pgbouncer_max_db_connections(self, production: bool) -> int:
        budget = self.connection_budget(production)
        configured = self.database.connection_pool.max_db_connections
        if budget is None:
            return configured or PGBOUNCER_DEFAULT_MAX_DB_CONNECTIONS
        return budget.pool_size(configured)

    def role_connection_limits(self, production: bool) -> dict[str, int]:
        """PostgreSQL CONNECTION LIMIT of the login roles of the clients outside PgBouncer (the backend, and the
        collector when on): their pools x the share (-1, PostgreSQL's "no limit", when the gateway is not pooled and
        nothing is budgeted)."""
        budget = self.connection_budget(production)
        share = budget.pool_size(self.database.connection_pool.max_db_connections) if budget else None
        return {
            client: pool.engines * share if share is not None else -1
            for client, pool in self._pools().items()
            if client != "gateway"
        }

    def gateway_processes(self) -> list[tuple[str, int]]:
        """(field, count) of every knob that multiplies the gateway's processes."""
        gateway = self.components.gateway
        counts = [("components.gateway.desired_count", gateway.desired_count)]
        if gateway.autoscaling:
            counts.append(("components.gateway.max_count", gateway.max_count))
        counts.append(("components.gateway.workers", gateway.workers))
        return counts

    def single_process_problems(self) -> list[str]:
        return [
            f"{field}: {count} without Redis (cache.source none) means gateway processes that each enforce the "
            "per-agent rate limits and budgets on their own; use 1 task (autoscaling off or max_count 1) and "
            "workers 1, or keep a Redis"
            for field, count in self.gateway_processes()
            if count > 1
        ]

    @model_validator(mode="after")
    def _redis_less_single_process(self) -> AwsConfig:
        self.check_single_process_without_redis()
        return self

    @model_validator(mode="after")
    def _sidecars_fit(self) -> AwsConfig:
        metrics, collector = self.metrics, self.spend_collector
        check_sidecar_ports_and_database(metrics, collector, self.database.source)
        gateway = self.components.gateway
        cpu, memory = gateway.cpu, gateway.memory
        for prefix, share in self.sidecar_shares():
            cpu -= share.cpu
            memory -= share.memory
            if cpu < GATEWAY_MIN_CPU:
                raise ValueError(
                    f"{prefix}.cpu: the sidecars leave the gateway container {cpu} of components.gateway.cpu "
                    f"{gateway.cpu}; it needs at least {GATEWAY_MIN_CPU}"
                )
            if memory < GATEWAY_MIN_MEMORY:
                raise ValueError(
                    f"{prefix}.memory: the sidecars leave the gateway container {memory} MiB of "
                    f"components.gateway.memory {gateway.memory}; it needs at least {GATEWAY_MIN_MEMORY}"
                )
        return self

    def sidecar_shares(self) -> list[tuple[str, AwsMetricsConfig | AwsSpendCollectorConfig]]:
        """(config field, sidecar config) of each enabled gateway sidecar, in container order."""
        return [(name, getattr(self, name)) for name in ("metrics", "spend_collector") if getattr(self, name).enabled]

    @model_validator(mode="after")
    def _images_pinned(self) -> AwsConfig:
        if self.unified_image is not None:
            own = [image_field(component) for component in IMAGE_COMPONENTS if own_image(self, component)]
            if own:
                raise ValueError(f"unified_image: set either unified_image or per-component images, not both ({own})")
            if problem := image_pin_problem(self.unified_image):
                raise ValueError(f"unified_image: {problem}")
        self.check_component_images()
        if problem := image_pin_problem(self.migrations.bootstrap_image):
            raise ValueError(f"migrations.bootstrap_image: {problem}")
        return self

    def unified(self) -> str | None:
        return self.unified_image

    def has_default_image(self) -> bool:
        return self.image_tag is not None or self.unified_image is not None
