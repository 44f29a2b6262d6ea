"""Google Cloud section of an environment file (`clouds.gcp`)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, model_validator

from constructs_lib.config.base import Cidr, StrictModel, cidrs_overlap
from constructs_lib.config.components import IMAGE_COMPONENTS, IMAGE_PATTERN, SERVICE_COMPONENTS  # noqa: F401
from constructs_lib.config.state import GcpStateConfig

# Registries Cloud Run pulls from (it authenticates only against these): Artifact Registry, gcr.io, Docker Hub.
_CLOUD_RUN_REGISTRIES = re.compile(r"^(?:[a-z0-9-]+-docker\.pkg\.dev|(?:[a-z]+\.)?gcr\.io|docker\.io)$")
_MIRROR_HINT = (
    "Cloud Run pulls only from Artifact Registry, gcr.io or docker.io and rejects ghcr.io images; mirror them "
    "through an Artifact Registry remote repository (`gcloud artifacts repositories create <repo> "
    "--repository-format=docker --mode=remote-repository --remote-docker-repo=https://ghcr.io --location=<region>`) "
    "and set clouds.gcp.image_registry to `<region>-docker.pkg.dev/<project>/<repo>/berriai`"
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


Hostname = Annotated[str, Field(pattern=r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", max_length=253)]
ImageReference = Annotated[str, Field(pattern=IMAGE_PATTERN.pattern, max_length=512)]


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

    @model_validator(mode="after")
    def _unique_domains(self) -> GcpLoadBalancerConfig:
        if len(set(self.lb_domains)) != len(self.lb_domains):
            raise ValueError("lb_domains: a domain is listed twice")
        if len(self.lb_domains) > 100:
            raise ValueError("lb_domains: a managed certificate holds at most 100 domains")
        return self


class GcpDatabaseConfig(StrictModel):
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


class GcpCacheConfig(StrictModel):
    tier: Literal["BASIC", "STANDARD_HA"] | None = Field(
        default=None, description="Default: STANDARD_HA in production environments, BASIC elsewhere."
    )
    memory_size_gb: int = Field(default=1, ge=1, le=300)


class GcpSecretsConfig(StrictModel):
    version_pin: Literal["pinned", "latest"] = Field(
        default="pinned",
        description="`pinned`: services read the exact version Terraform wrote (provider keys: their `version`), "
        "so a rotation rolls a new revision; `latest`: whatever version is newest when an instance starts.",
    )
    master_key_version: int = Field(default=1, ge=1, description="Bump to generate and store a new master key.")
    database_password_version: int = Field(default=1, ge=1, description="Bump to rotate the DB password.")


class GcpConfig(StrictModel):
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
    image_tag: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
    components: GcpComponentsConfig = Field(default_factory=GcpComponentsConfig)
    migrations: GcpMigrationsConfig = Field(default_factory=GcpMigrationsConfig)
    load_balancer: GcpLoadBalancerConfig = Field(default_factory=GcpLoadBalancerConfig)
    database: GcpDatabaseConfig = Field(default_factory=GcpDatabaseConfig)
    cache: GcpCacheConfig = Field(default_factory=GcpCacheConfig)
    secrets: GcpSecretsConfig = Field(default_factory=GcpSecretsConfig)

    @model_validator(mode="after")
    def _images_pullable(self) -> GcpConfig:
        if self.image_registry and (problem := registry_problem(self.image_registry)):
            raise ValueError(f"image_registry: {problem}")
        for component in IMAGE_COMPONENTS:
            field = self._image_field(component)
            own = self._own_image(component)
            if own is None and not (self.image_registry and self.image_tag):
                raise ValueError(f"{field}: no image; set it, or set image_registry and image_tag")
            image = self.image(component)
            if problem := registry_problem(image):
                raise ValueError(f"{field}: {problem}")
            parsed = IMAGE_PATTERN.match(image)
            if parsed is None or not (parsed["tag"] or parsed["digest"]):
                raise ValueError(f"{field}: {image!r} names neither a tag nor a digest")
            if parsed["tag"] == "latest" and not parsed["digest"]:
                raise ValueError(f"{field}: {image!r}: `latest` is not a pin; use a release tag or a digest")
        return self

    def _own_image(self, component: str) -> str | None:
        return self.migrations.image if component == "migrations" else getattr(self.components, component).image

    @staticmethod
    def _image_field(component: str) -> str:
        return "migrations.image" if component == "migrations" else f"components.{component}.image"

    def image(self, component: str) -> str:
        """The image a component runs: its own URI, or `<image_registry>/litellm-<component>:<image_tag>`."""
        return self._own_image(component) or f"{self.image_registry}/litellm-{component}:{self.image_tag}"

    def image_config_path(self, component: str) -> str:
        """Where the image of `component` comes from in the file (for error messages)."""
        return f"clouds.gcp.{self._image_field(component)}" if self._own_image(component) else "clouds.gcp.image_tag"
