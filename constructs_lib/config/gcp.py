"""Google Cloud section of an environment file (`clouds.gcp`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from constructs_lib.config.base import (
    Cidr,
    Hostname,
    SourceCidr,
    StrictModel,
    check_sidecar_ports_and_database,
    cidrs_overlap,
)
from constructs_lib.config.components import (
    ComponentImages,
    ImageReference,
    ImageTag,
    image_pin_problem,
)
from constructs_lib.config.db_connections import (
    LITELLM_DEFAULT_POOL_TIMEOUT_SECONDS,
    ConnectionBudget,
    PoolClient,
    default_max_connections,
)
from constructs_lib.config.runtime import CreateRuntime, ExternalGatewayUrl, RuntimeMode
from constructs_lib.config.sidecars import GATEWAY_CONTAINER_PORT, GatewaySidecarConfig, SpendCollectorConfig
from constructs_lib.config.state import GcpStateConfig
from constructs_lib.config.stores import StoreSourceConfig

# Registries Cloud Run pulls from (it authenticates only against these): Artifact Registry, gcr.io, Docker Hub.
_CLOUD_RUN_REGISTRIES = re.compile(r"^(?:[a-z0-9-]+-docker\.pkg\.dev|(?:[a-z]+\.)?gcr\.io|docker\.io)$")
_MIRROR_HINT = (
    "Cloud Run pulls only from Artifact Registry, gcr.io or docker.io and rejects ghcr.io images; set "
    "clouds.gcp.image_registry to `<region>-docker.pkg.dev/<project>/<repo>/berriai`: the stack creates that "
    "Artifact Registry remote repository in front of ghcr.io and lets Cloud Run read it"
)
# Cloud Run CPU limits (whole vCPUs) and the memory range each allows, in MiB.
_MEMORY_RANGE_BY_CPU: dict[str, tuple[int, int]] = {
    "1": (512, 4096),
    "2": (512, 8192),
    "4": (2048, 16384),
    "6": (4096, 24576),
    "8": (4096, 32768),
}


def registry_problem(reference: str) -> str | None:
    """Why Cloud Run cannot pull `reference` (an image or a registry prefix), or None if it can."""
    host = reference.split("/", 1)[0]
    if host == "ghcr.io":
        return f"{reference!r} is on ghcr.io. {_MIRROR_HINT}"
    if not _CLOUD_RUN_REGISTRIES.match(host):
        return f"{reference!r}: registry {host!r} is not one Cloud Run pulls from. {_MIRROR_HINT}"
    return None


def memory_mib(memory: str) -> int:
    number = int(memory[:-2])
    return number * 1024 if memory.endswith("Gi") else number


class GcpNetworkConfig(StrictModel):
    subnet_cidr: Cidr = "10.20.0.0/20"
    private_services_cidr: Cidr = Field(
        default="10.21.0.0/16", description="Range reserved for Private Services Access (Cloud SQL, Memorystore)."
    )
    connector_cidr: Cidr = Field(
        default="10.22.0.0/28", description="Serverless VPC Access connector range (/28); used with egress `connector`."
    )
    existing_network: str | None = Field(
        default=None,
        pattern=r"^projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/global/networks/[a-z]([-a-z0-9]*[a-z0-9])?$",
        description="Bring your own VPC (`projects/<p>/global/networks/<n>`) instead of creating one.",
    )
    existing_subnetwork: str | None = Field(
        default=None,
        pattern=r"^projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/regions/[a-z]+-[a-z]+\d/subnetworks/[a-z]([-a-z0-9]*[a-z0-9])?$",
        description="The subnet of `existing_network` that Cloud Run's Direct VPC egress uses.",
    )
    create_private_services_access: bool = Field(
        default=True, description="Reserve `private_services_cidr` and peer it; false if the BYO VPC already has PSA."
    )
    egress: Literal["direct", "connector"] = Field(
        default="direct",
        description="Direct VPC egress (no connector VMs) or a Serverless VPC Access connector in `connector_cidr`.",
    )
    route_all_egress: bool = Field(
        default=False,
        description="Send all egress (LLM providers too) through the VPC and a Cloud NAT, for a fixed egress IP. "
        "Off: only private ranges use the VPC, the rest leaves through Cloud Run's own internet access.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> GcpNetworkConfig:
        if (self.existing_network is None) != (self.existing_subnetwork is None):
            raise ValueError("existing_subnetwork: set existing_network and existing_subnetwork together")
        if self.existing_network is None and not self.create_private_services_access:
            raise ValueError(
                "create_private_services_access: a VPC this stack creates has no Private Services Access otherwise"
            )
        ranges = {"subnet_cidr": self.subnet_cidr, "private_services_cidr": self.private_services_cidr}
        if self.egress == "connector":
            ranges["connector_cidr"] = self.connector_cidr
            if not self.connector_cidr.endswith("/28"):
                raise ValueError("connector_cidr: a Serverless VPC Access connector needs a /28 range")
        names = list(ranges)
        for index, first in enumerate(names):
            for second in names[index + 1 :]:
                if cidrs_overlap(ranges[first], ranges[second]):
                    raise ValueError(f"{second}: {ranges[second]} overlaps {first} {ranges[first]}")
        return self


class GcpServiceConfig(StrictModel):
    """One Cloud Run service: image, size and scaling."""

    image: ImageReference | None = Field(
        default=None, description="Full image URI; default `<image_registry>/litellm-<component>:<image_tag>`."
    )
    cpu: Literal["1", "2", "4", "6", "8"] = "1"
    memory: str = Field(default="2Gi", pattern=r"^[1-9][0-9]*(Mi|Gi)$")
    min_instances: int = Field(default=0, ge=0, le=100)
    max_instances: int = Field(default=5, ge=1, le=1000)
    concurrency: int = Field(default=80, ge=1, le=1000, description="Requests one instance serves at once.")
    timeout_seconds: int = Field(default=300, ge=1, le=3600, description="Request timeout (LLM streams are long).")
    workers: int | None = Field(
        default=None,
        ge=1,
        le=32,
        description="uvicorn worker processes per instance (gateway and backend); default: one per vCPU.",
    )

    @model_validator(mode="after")
    def _valid_sizes(self) -> GcpServiceConfig:
        if self.min_instances > self.max_instances:
            raise ValueError(f"min_instances: {self.min_instances} is above max_instances {self.max_instances}")
        low, high = _MEMORY_RANGE_BY_CPU[self.cpu]
        if not low <= memory_mib(self.memory) <= high:
            raise ValueError(
                f"memory: {self.memory} is outside {low}Mi-{high}Mi, what Cloud Run allows with cpu {self.cpu}"
            )
        return self

    @property
    def processes(self) -> int:
        """uvicorn workers one instance runs."""
        return self.workers or int(self.cpu)


class GcpComponentsConfig(StrictModel):
    gateway: GcpServiceConfig = Field(
        default_factory=lambda: GcpServiceConfig(cpu="2", memory="4Gi", max_instances=10, timeout_seconds=900)
    )
    backend: GcpServiceConfig = Field(default_factory=GcpServiceConfig)
    ui: GcpServiceConfig = Field(
        default_factory=lambda: GcpServiceConfig(memory="512Mi", concurrency=250, max_instances=3)
    )


class GcpMigrationsConfig(StrictModel):
    image: ImageReference | None = Field(
        default=None, description="Full image URI; default `<image_registry>/litellm-migrations:<image_tag>`."
    )
    # Prisma's engine peaks above 1 GiB while applying the schema: 2 GiB is the floor.
    memory: str = Field(default="4Gi", pattern=r"^[1-9][0-9]*(Mi|Gi)$")
    timeout_seconds: int = Field(default=900, ge=60, le=86400)
    auto_run: bool = Field(
        default=True,
        description="Execute the job during apply with `gcloud run jobs execute --wait` (needs gcloud on the "
        "runner); false: run the `migration_command` output by hand.",
    )

    @model_validator(mode="after")
    def _enough_memory(self) -> GcpMigrationsConfig:
        if not 2048 <= memory_mib(self.memory) <= 4096:
            raise ValueError(f"memory: {self.memory}: Prisma needs at least 2Gi, and 1 vCPU allows at most 4Gi")
        return self


class GcpArmorConfig(StrictModel):
    """Cloud Armor rate-based ban on every backend: a client above the rate is throttled, then banned."""

    enabled: bool = True
    requests_per_minute: int = Field(default=1200, ge=1, description="Per client IP, before 429s start.")
    ban_requests_per_minute: int = Field(default=3000, ge=1, description="Per client IP, before the ban starts.")
    ban_duration_seconds: int = Field(default=600, ge=60, le=86400)

    @model_validator(mode="after")
    def _ban_above_rate(self) -> GcpArmorConfig:
        if self.ban_requests_per_minute < self.requests_per_minute:
            raise ValueError("ban_requests_per_minute: must not be below requests_per_minute")
        return self


class GcpLoadBalancerConfig(StrictModel):
    lb_domains: list[Hostname] = Field(
        default_factory=list, description="DNS names of the Google-managed certificate; they must point at the LB IP."
    )
    allow_plaintext: bool = Field(
        default=False, description="Serve plain HTTP when lb_domains is empty (trials only). Off: synth refuses."
    )
    ssl_policy_profile: Literal["MODERN", "RESTRICTED"] = Field(
        default="RESTRICTED", description="TLS 1.2 minimum either way; RESTRICTED drops the non-PFS/CBC suites."
    )
    log_sample_rate: float = Field(default=1.0, ge=0.0, le=1.0)
    armor: GcpArmorConfig = Field(default_factory=GcpArmorConfig)
    admin_ingress_cidrs: list[SourceCidr] = Field(
        default_factory=list,
        description="Who may reach the management API and the UI through the load balancer (Cloud Armor allowlist "
        "on their backends; everything else gets 403). Empty (default): nobody; the data plane (/v1/..., /chat/...) "
        "is not affected.",
    )

    @model_validator(mode="after")
    def _unique_domains(self) -> GcpLoadBalancerConfig:
        if len(set(self.lb_domains)) != len(self.lb_domains):
            raise ValueError("lb_domains: a domain is listed twice")
        if len(self.lb_domains) > 100:
            raise ValueError("lb_domains: a managed certificate holds at most 100 domains")
        return self


class _GcpStoreSourceConfig(StoreSourceConfig):
    """A store's source on Google Cloud: a brought store's URL in Secret Manager."""

    EXTERNAL_ONLY = ("url_secret",)
    EXTERNAL_ONLY_CALLED = "a URL secret"

    url_secret: str | None = Field(
        default=None,
        pattern=r"^[a-z][a-z0-9-]{0,62}[a-z0-9]$",
        description="With source `external`: Secret Manager secret id (in the gateway project) holding the URL; "
        "the stack creates the secret, you add the value out of band (`gcloud secrets versions add`). "
        "Default `<prefix>-<store>-url`.",
    )


class GcpConnectionPoolConfig(StrictModel):
    """LiteLLM's bundled PgBouncer inside each gateway instance (transaction mode, loopback), shared by its workers."""

    enabled: bool = Field(
        default=False,
        description="Start the gateway through `gateway.launch` with LITELLM_PGBOUNCER_ENABLED, so one instance "
        "holds at most `max_db_connections` to PostgreSQL whatever its worker count. Needs a gateway image that "
        "ships `gateway.launch` and PgBouncer; an external database only (the managed one is reached through a Unix "
        "socket, which LiteLLM's PgBouncer cannot dial).",
    )
    max_db_connections: int = Field(
        default=20, ge=1, le=1000, description="Upstream PostgreSQL connections one gateway instance may hold."
    )
    max_client_conn: int = Field(
        default=1000, ge=1, le=100000, description="Client connections PgBouncer accepts from the workers."
    )


class GcpDatabaseConfig(_GcpStoreSourceConfig):
    tier: str = Field(default="db-custom-2-7680", pattern=r"^db-[a-z0-9-]+$")
    edition: Literal["ENTERPRISE", "ENTERPRISE_PLUS"] = "ENTERPRISE"
    high_availability: bool | None = Field(
        default=None, description="Regional (HA) instance; default: on in production environments."
    )
    read_replica: bool = False
    disk_size_gb: int = Field(default=20, ge=10, le=65536, description="Initial size; autoresize owns it later.")
    backup_retention_days: int = Field(default=14, ge=1, le=365)
    deletion_protection: bool = True
    cmek_key: str | None = Field(
        default=None,
        pattern=r"^projects/[^/]+/locations/[a-z0-9-]+/keyRings/[^/]+/cryptoKeys/[^/]+$",
        description="Customer-managed key (in the region) for the instance; Google-managed otherwise.",
    )
    connection_pool: GcpConnectionPoolConfig = Field(default_factory=GcpConnectionPoolConfig)
    allow_private_ip_clients: bool = Field(
        default=False,
        description="Keep admitting password logins over the private IP (ssl_mode ENCRYPTED_ONLY) next to Cloud Run's "
        "Cloud SQL connection: only for the one apply that moves a live environment onto the socket, while its old "
        "revisions still dial the IP (README, GCP database). Off: the connector's mTLS only.",
    )
    max_connections: int | None = Field(
        default=None,
        ge=20,
        le=262143,
        description="The instances' `max_connections` flag (writer and replica). Default: 400 in production "
        "environments, 100 (PostgreSQL's own default) elsewhere. Keep it within what the tier's memory holds "
        "(https://cloud.google.com/sql/docs/postgres/quotas, connection limits).",
    )
    reserved_connections: int = Field(
        default=15,
        ge=3,
        le=1000,
        description="Connections kept out of the Prisma pools' budget: PostgreSQL's superuser_reserved_connections "
        "(3 by default), the migrations job, operator sessions.",
    )
    connection_limit: int | None = Field(
        default=None,
        ge=1,
        le=1000,
        description="Prisma pool per worker process and database (the URL's `connection_limit`). Default: the "
        "largest pool up to LiteLLM's default of 10 that keeps every instance's pools under max_connections.",
    )
    pool_timeout_seconds: int = Field(
        default=LITELLM_DEFAULT_POOL_TIMEOUT_SECONDS,
        ge=1,
        le=3600,
        description="How long a query waits for a pooled connection (the URL's `pool_timeout`; LiteLLM's default).",
    )

    @model_validator(mode="after")
    def _managed_only_options(self) -> GcpDatabaseConfig:
        if self.source != "managed":
            if self.read_replica:
                raise ValueError(f"read_replica: only a managed database has a read replica (source {self.source!r})")
            if self.cmek_key:
                raise ValueError(f"cmek_key: only a managed database is encrypted by this stack ({self.source!r})")
        if self.source == "none" and self.connection_pool.enabled:
            raise ValueError("connection_pool.enabled: with source `none` there is no database to pool")
        if self.source == "managed" and self.connection_pool.enabled:
            # litellm/proxy/db/pgbouncer.py:213, 233-239 (1.106.12) dials the URL's host name and port only, while the
            # managed instance is reached through Cloud Run's Cloud SQL socket (gcp/cloud_sql_connection.py).
            raise ValueError(
                "connection_pool.enabled: LiteLLM's in-container PgBouncer connects to a TCP host and port only, and "
                "the managed Cloud SQL instance is reached through Cloud Run's Cloud SQL socket (the route that "
                "verifies the server); size the pool with database.connection_limit instead, or use source `external`"
            )
        return self


class GcpCacheConfig(_GcpStoreSourceConfig):
    tier: Literal["BASIC", "STANDARD_HA"] | None = Field(
        default=None, description="Default: STANDARD_HA in production environments, BASIC elsewhere."
    )
    memory_size_gb: int = Field(default=1, ge=1, le=300)
    transit_encryption: bool = Field(
        default=True,
        description="Memorystore in-transit encryption (TLS on port 6378, CA mounted for verification). False: "
        "plaintext Redis (no CA, no REDIS_SSL), allowed only with `allow_plaintext` and never in production.",
    )
    allow_plaintext: bool = Field(default=False, description="Explicit opt-in for `transit_encryption: false`.")

    @model_validator(mode="after")
    def _plaintext_opt_in(self) -> GcpCacheConfig:
        if not self.transit_encryption:
            if self.source != "managed":
                raise ValueError(
                    "transit_encryption: only applies to the managed Memorystore; an external Redis is TLS when "
                    "its URL is `rediss://`"
                )
            if not self.allow_plaintext:
                raise ValueError("transit_encryption: plaintext Redis needs the explicit opt-in allow_plaintext: true")
        return self


class GcpSecretsConfig(StrictModel):
    version_pin: Literal["pinned", "latest"] = Field(
        default="pinned",
        description="`pinned`: services read the exact version Terraform wrote (provider keys: their `version`), "
        "so a rotation rolls a new revision; `latest`: whatever version is newest when an instance starts.",
    )
    master_key_version: int = Field(default=1, ge=1, description="Bump to generate and store a new master key.")
    database_password_version: int = Field(default=1, ge=1, description="Bump to rotate the DB password.")
    # LiteLLM encrypts the credentials it stores in the database with LITELLM_SALT_KEY, or with the master key when
    # that is unset (litellm/proxy/common_utils/encrypt_decrypt_utils.py:32-40, get_salt_key).
    salt_key: Literal["generated", "out_of_band"] = Field(
        default="out_of_band",
        description="LITELLM_SALT_KEY: `generated` (a new environment: a random key, write-only) or `out_of_band` "
        "(an environment that already stored credentials: its first version must be the current master key, "
        "copied in by the README runbook). Never change it once set: stored credentials need the same key.",
    )
    salt_key_version: int = Field(
        default=0,
        ge=0,
        description="Salt-key version the services read; 0: not read yet (LiteLLM falls back to the master key). "
        "`generated` writes this version; `out_of_band` needs it put in first.",
    )

    @model_validator(mode="after")
    def _salt_key_before_a_master_key_rotation(self) -> GcpSecretsConfig:
        if self.salt_key == "generated" and self.salt_key_version < 1:
            raise ValueError("salt_key_version: a generated salt key starts at version 1")
        if self.master_key_version > 1 and self.salt_key_version < 1:
            raise ValueError(
                "master_key_version: rotating the master key while LITELLM_SALT_KEY is unset makes every credential "
                "LiteLLM stored (encrypted with the master key) unreadable; first copy the current master key into "
                "the salt-key secret and set salt_key_version: 1 (README, 'Salt key'), then rotate"
            )
        return self


# The gateway container's port, and the health port of the Managed Prometheus collector sidecar.
GMP_HEALTH_PORT = 13133
_RESERVED_SIDECAR_PORTS = {
    GATEWAY_CONTAINER_PORT: "the gateway port",
    GMP_HEALTH_PORT: "the Prometheus collector's health port",
}
SidecarCpu = Annotated[str, Field(pattern=r"^(?:[1-9][0-9]{1,3}m|[1-8])$")]
SidecarMemory = Annotated[str, Field(pattern=r"^[1-9][0-9]*(Mi|Gi)$")]
# What the gateway container keeps after the sidecars' share: one whole vCPU (Cloud Run needs it for
# concurrency above 1) and 512 MiB.
GATEWAY_MIN_CPU_MILLIS, GATEWAY_MIN_MEMORY_MIB = 1000, 512


def cpu_millis(cpu: str) -> int:
    return int(cpu[:-1]) if cpu.endswith("m") else int(cpu) * 1000


def _sidecar_size_problem(cpu: str, memory: str) -> tuple[str, str] | None:
    """("cpu" or "memory", problem) against Cloud Run's container limits: above 1 vCPU whole numbers only;
    below 1 vCPU, more than 512Mi needs 0.5 vCPU and more than 1Gi needs a whole vCPU."""
    millis, mib = cpu_millis(cpu), memory_mib(memory)
    if millis > 1000 and millis % 1000:
        return "cpu", f"{cpu}: Cloud Run takes CPU limits above 1 vCPU in whole vCPUs only"
    if millis < 80:
        return "cpu", f"{cpu}: Cloud Run's smallest CPU limit is 80m"
    if (millis < 500 and mib > 512) or (millis < 1000 and mib > 1024):
        return (
            "memory",
            f"{memory} is more than Cloud Run allows with cpu {cpu} (below 0.5 vCPU 512Mi, below 1 vCPU 1Gi)",
        )
    return None


class GcpMetricsConfig(GatewaySidecarConfig):
    """Prometheus metrics of the gateway, scraped inside each instance and written to Cloud Monitoring."""

    RESERVED_PORTS = _RESERVED_SIDECAR_PORTS

    enabled: bool = Field(
        default=False,
        description="Add a `metrics` sidecar (LiteLLM's multiprocess Prometheus server, sharing an in-memory "
        "PROMETHEUS_MULTIPROC_DIR with the gateway workers) and Google's Managed Service for Prometheus collector "
        "sidecar, whose RunMonitoring config lives in Secret Manager. The port is never declared to Cloud Run, so "
        "neither the load balancer nor anything outside the instance reaches it.",
    )
    port: int = Field(default=9090, ge=1, le=65535, description="Loopback port of the metrics sidecar.")
    scrape_interval_seconds: int = Field(default=30, ge=5, le=300)
    collector_image: ImageReference = Field(
        default="us-docker.pkg.dev/cloud-ops-agents-artifacts/cloud-run-gmp-sidecar/cloud-run-gmp-sidecar:1.9.2",
        description="Managed Service for Prometheus sidecar for Cloud Run; production needs it pinned by digest.",
    )
    # Each 500m by default: together one whole vCPU out of components.gateway.cpu.
    server_cpu: SidecarCpu = "500m"
    server_memory: SidecarMemory = "256Mi"
    collector_cpu: SidecarCpu = "500m"
    collector_memory: SidecarMemory = "256Mi"

    @model_validator(mode="after")
    def _collector_image_pullable(self) -> GcpMetricsConfig:
        if problem := registry_problem(self.collector_image):
            raise ValueError(f"collector_image: {problem}")
        return self


class GcpSpendCollectorConfig(SpendCollectorConfig):
    """LiteLLM's spend collector as a sidecar: workers hand spend events to it over loopback instead of writing
    spend logs themselves."""

    RESERVED_PORTS = _RESERVED_SIDECAR_PORTS

    enabled: bool = Field(
        default=False,
        description="Add a `spend-collector` sidecar (the gateway image running `litellm.proxy.collector`); its "
        "cpu/memory are carved out of components.gateway's and must leave the gateway whole vCPUs (at least 1) "
        "and at least 512Mi.",
    )
    cpu: SidecarCpu = "1"
    memory: SidecarMemory = "512Mi"


class GcpConfig(StrictModel, RuntimeMode, ComponentImages):
    SECTION: ClassVar[str] = "clouds.gcp"
    DEFAULT_IMAGE_NEEDS: ClassVar[str] = "image_registry and image_tag"
    RUNTIME_WORDS: ClassVar[tuple[str, str]] = ("Cloud Run gateway", "Cloud Run service")

    enabled: bool = True
    project: str = Field(pattern=r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
    region: str = Field(pattern=r"^[a-z]+-[a-z]+\d$")
    network: GcpNetworkConfig = Field(default_factory=GcpNetworkConfig)
    state: GcpStateConfig
    image_registry: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9.-]+/[a-z0-9._/-]*[a-z0-9]$",
        description="Registry prefix of the `litellm-<component>` images, e.g. an Artifact Registry remote "
        "repository in front of ghcr.io: `<region>-docker.pkg.dev/<project>/<repo>/berriai`.",
    )
    image_tag: ImageTag | None = None
    components: GcpComponentsConfig = Field(default_factory=GcpComponentsConfig)
    migrations: GcpMigrationsConfig = Field(default_factory=GcpMigrationsConfig)
    load_balancer: GcpLoadBalancerConfig = Field(default_factory=GcpLoadBalancerConfig)
    database: GcpDatabaseConfig = Field(default_factory=GcpDatabaseConfig)
    cache: GcpCacheConfig = Field(default_factory=GcpCacheConfig)
    secrets: GcpSecretsConfig = Field(default_factory=GcpSecretsConfig)
    create_runtime: CreateRuntime = True
    external_gateway_url: ExternalGatewayUrl = None
    metrics: GcpMetricsConfig = Field(default_factory=GcpMetricsConfig)
    spend_collector: GcpSpendCollectorConfig = Field(default_factory=GcpSpendCollectorConfig)

    @model_validator(mode="after")
    def _runtime_options(self) -> GcpConfig:
        self.check_runtime_mode()
        return self

    @model_validator(mode="after")
    def _existing_network_consistent(self) -> GcpConfig:
        network = self.network
        if network.existing_network is None or network.existing_subnetwork is None:
            return self
        network_project = network.existing_network.split("/")[1]
        _, subnet_project, _, subnet_region, _, _ = network.existing_subnetwork.split("/")
        if subnet_project != network_project:
            raise ValueError(
                f"network.existing_subnetwork: in project {subnet_project!r}, but existing_network is in "
                f"{network_project!r}; a subnetwork belongs to its network's (host) project"
            )
        if subnet_region != self.region:
            raise ValueError(
                f"network.existing_subnetwork: in region {subnet_region!r}, but the gateway runs in {self.region!r}"
            )
        if self.create_runtime and network.egress == "connector" and network_project != self.project:
            raise ValueError(
                f"network.egress: a Serverless VPC Access connector must be in the network's project "
                f"({network_project!r}), not {self.project!r}; use egress `direct` with a Shared VPC"
            )
        return self

    def single_process_problems(self) -> list[str]:
        gateway = self.components.gateway
        problems = []
        if gateway.max_instances > 1:
            problems.append(
                f"components.gateway.max_instances: {gateway.max_instances} instances without Redis (cache.source "
                "none) would each enforce the per-agent rate limits on their own; use 1, or keep a Redis"
            )
        if gateway.processes > 1:
            problems.append(
                f"components.gateway.workers: {gateway.processes} worker processes without Redis (cache.source "
                "none) would each enforce the per-agent rate limits on their own; set workers: 1, or keep a Redis"
            )
        return problems

    @model_validator(mode="after")
    def _redis_less_single_process(self) -> GcpConfig:
        self.check_single_process_without_redis()
        return self

    @model_validator(mode="after")
    def _sidecars_fit(self) -> GcpConfig:
        """Sidecars get their own ports and a share of the gateway instance that leaves the gateway enough."""
        collector, metrics = self.spend_collector, self.metrics
        check_sidecar_ports_and_database(metrics, collector, self.database.source)
        gateway = self.components.gateway
        cpu, memory = cpu_millis(gateway.cpu), memory_mib(gateway.memory)
        shares = self.sidecar_shares()
        for cpu_field, share_cpu, memory_field, share_memory in shares:
            if found := _sidecar_size_problem(share_cpu, share_memory):
                kind, problem = found
                raise ValueError(f"{cpu_field if kind == 'cpu' else memory_field}: {problem}")
            cpu -= cpu_millis(share_cpu)
            memory -= memory_mib(share_memory)
            if cpu < GATEWAY_MIN_CPU_MILLIS:
                raise ValueError(
                    f"{cpu_field}: the sidecars leave the gateway container {cpu}m of components.gateway.cpu "
                    f"{gateway.cpu}; it needs at least {GATEWAY_MIN_CPU_MILLIS}m"
                )
            if memory < GATEWAY_MIN_MEMORY_MIB:
                raise ValueError(
                    f"{memory_field}: the sidecars leave the gateway container {memory}Mi of components.gateway.memory "
                    f"{gateway.memory}; it needs at least {GATEWAY_MIN_MEMORY_MIB}Mi"
                )
        if shares:
            last_cpu_field, last_memory_field = shares[-1][0], shares[-1][2]
            if cpu % 1000:
                raise ValueError(
                    f"{last_cpu_field}: the sidecars leave the gateway container {cpu}m; Cloud Run takes CPU "
                    "limits above 1 vCPU in whole vCPUs only, so the sidecars' CPU must add up to whole vCPUs"
                )
            low, high = _MEMORY_RANGE_BY_CPU.get(str(cpu // 1000), (512, 32768))
            if not low <= memory <= high:
                raise ValueError(
                    f"{last_memory_field}: the gateway container keeps {cpu // 1000} vCPU and {memory}Mi, outside "
                    f"{low}Mi-{high}Mi that Cloud Run allows with it; adjust components.gateway.memory"
                )
        return self

    def sidecar_shares(self) -> list[tuple[str, str, str, str]]:
        """(cpu field, cpu, memory field, memory) of each enabled gateway sidecar, in container order."""
        shares: list[tuple[str, str, str, str]] = []
        metrics, collector = self.metrics, self.spend_collector
        if metrics.enabled:
            shares.append(("metrics.server_cpu", metrics.server_cpu, "metrics.server_memory", metrics.server_memory))
            shares.append(
                ("metrics.collector_cpu", metrics.collector_cpu, "metrics.collector_memory", metrics.collector_memory)
            )
        if collector.enabled:
            shares.append(("spend_collector.cpu", collector.cpu, "spend_collector.memory", collector.memory))
        return shares

    def connection_budget(self, production: bool) -> ConnectionBudget | None:
        """The Prisma pools Cloud Run may open against the managed instances; None when this stack runs none."""
        if self.database.source != "managed" or not self.create_runtime:
            return None
        gateway, backend = self.components.gateway, self.components.backend
        clients = [
            PoolClient("components.gateway", gateway.max_instances, gateway.processes),
            PoolClient("components.backend", backend.max_instances, backend.processes),
        ]
        if self.spend_collector.enabled:
            # One collector process next to each gateway instance, with the gateway's database env.
            clients.append(PoolClient("spend_collector", gateway.max_instances, 1))
        return ConnectionBudget(
            max_connections=self.database_max_connections(production),
            reserved=self.database.reserved_connections,
            clients=clients,
            replica=self.database.read_replica,
        )

    def database_max_connections(self, production: bool) -> int:
        return self.database.max_connections or default_max_connections(production)

    def database_pool_params(self, production: bool) -> dict[str, int]:
        """`connection_limit` and `pool_timeout` for the URLs the start commands build (managed database)."""
        budget = self.connection_budget(production)
        limit = budget.pool_size(self.database.connection_limit) if budget else self.database.connection_limit
        params = {"connection_limit": limit} if limit else {}
        return params | {"pool_timeout": self.database.pool_timeout_seconds}

    def gateway_container_limits(self) -> tuple[str, str]:
        """CPU and memory the gateway container keeps once the sidecars took their share of the instance."""
        gateway = self.components.gateway
        shares = self.sidecar_shares()
        if not shares:
            return gateway.cpu, gateway.memory
        cpu = cpu_millis(gateway.cpu) - sum(cpu_millis(share[1]) for share in shares)
        memory = memory_mib(gateway.memory) - sum(memory_mib(share[3]) for share in shares)
        return str(cpu // 1000), f"{memory}Mi"

    @model_validator(mode="after")
    def _images_pullable(self) -> GcpConfig:
        if self.image_registry and (problem := registry_problem(self.image_registry)):
            raise ValueError(f"image_registry: {problem}")
        self.check_component_images()
        return self

    def has_default_image(self) -> bool:
        return bool(self.image_registry and self.image_tag)

    def image_checks(self) -> tuple[Callable[[str], str | None], ...]:
        return (registry_problem, image_pin_problem)
