"""Alibaba Cloud section of an environment file (`clouds.alicloud`)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, model_validator

from constructs_lib.config.base import Cidr, Hostname, StrictModel, cidr_within, cidrs_overlap
from constructs_lib.config.state import AlicloudStateConfig


class AlicloudExistingNetworkConfig(StrictModel):
    """Bring your own VPC: the stack creates no VPC or vSwitch, only the gateway's security group (and NAT)."""

    vpc_id: str = Field(pattern=r"^vpc-[a-z0-9]+$")
    vswitch_ids: list[str] = Field(
        description="Private vSwitches, one per zone in `zones` order; their ranges are `vswitch_cidrs`."
    )
    alb_vswitch_ids: list[str] = Field(
        description="ALB vSwitches, one per zone in `zones` order; their ranges are `alb_vswitch_cidrs`."
    )
    create_nat: bool = Field(
        default=False,
        description="Create the NAT gateway, EIP and SNAT entries for the private vSwitches; false: the VPC "
        "already routes their egress.",
    )

    @model_validator(mode="after")
    def _vswitch_ids(self) -> AlicloudExistingNetworkConfig:
        for field in ("vswitch_ids", "alb_vswitch_ids"):
            ids = getattr(self, field)
            for item in ids:
                if not item.startswith("vsw-") or not item[4:].isalnum():
                    raise ValueError(f"{field}: {item!r} is not a vSwitch ID (`vsw-...`)")
            if len(set(ids)) != len(ids):
                raise ValueError(f"{field}: a vSwitch is listed twice")
        if set(self.vswitch_ids) & set(self.alb_vswitch_ids):
            raise ValueError("alb_vswitch_ids: the ALB needs vSwitches of its own (not the private ones)")
        return self


class AlicloudNetworkConfig(StrictModel):
    existing: AlicloudExistingNetworkConfig | None = Field(
        default=None, description="Bring your own VPC and vSwitches instead of creating them."
    )
    vpc_cidr: Cidr = "10.30.0.0/16"
    vswitch_cidrs: list[Cidr] = Field(
        default_factory=lambda: ["10.30.0.0/20", "10.30.16.0/20"],
        description="Private vSwitches of the gateway instances, the database and Redis: one per zone.",
    )
    alb_vswitch_cidrs: list[Cidr] = Field(
        default_factory=lambda: ["10.30.32.0/24", "10.30.33.0/24"],
        description="vSwitches of the ALB only (one per zone): the gateway port admits these ranges and no other.",
    )
    egress_cidrs: list[Cidr] = Field(
        default_factory=lambda: ["0.0.0.0/0"],
        min_length=1,
        description="Where the gateway may open HTTPS (443) connections through the NAT gateway: the LLM "
        "providers' APIs. Narrow it to their published ranges where they have them.",
    )
    nat_bandwidth_mbps: int = Field(default=100, ge=1, le=1000, description="EIP bandwidth of the NAT gateway.")

    @model_validator(mode="after")
    def _vswitches_inside_vpc(self) -> AlicloudNetworkConfig:
        named = [(f"vswitch_cidrs[{index}]", cidr) for index, cidr in enumerate(self.vswitch_cidrs)]
        named += [(f"alb_vswitch_cidrs[{index}]", cidr) for index, cidr in enumerate(self.alb_vswitch_cidrs)]
        for field, cidr in named:
            if not cidr_within(cidr, self.vpc_cidr):
                raise ValueError(f"{field}: vswitch {cidr} is not inside vpc_cidr {self.vpc_cidr}")
        for index, (_, first) in enumerate(named):
            for field, second in named[index + 1 :]:
                if cidrs_overlap(first, second):
                    raise ValueError(f"{field}: vswitches {first} and {second} overlap")
        return self


class AlicloudGatewayConfig(StrictModel):
    """The LiteLLM instances: `instances_per_zone` ECS instances in each zone, behind the ALB."""

    instance_type: str = Field(default="ecs.c7.large", pattern=r"^ecs\.[a-z0-9-]+\.[a-z0-9]+$")
    instances_per_zone: int = Field(default=1, ge=1, le=5)
    image_id: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,127}$",
        description="Exact public image (Ubuntu 24.04). Default: the newest system image matching image_name_regex "
        "when the instance is created (a newer match never replaces a running instance).",
    )
    image_name_regex: str = Field(default="^ubuntu_24_04_x64_20G_alibase_", min_length=1)
    system_disk_size_gb: int = Field(default=40, ge=20, le=500)
    workers: int = Field(default=2, ge=1, le=32, description="LiteLLM (uvicorn) worker processes per instance.")
    key_refresh_minutes: int = Field(
        default=15, ge=5, le=60, description="How often each instance re-reads its provider keys from KMS."
    )


class AlicloudLoadBalancerConfig(StrictModel):
    internet_facing: bool = Field(
        default=False, description="Internet-facing ALB (opt-in; needs certificate_id). Default: intranet only."
    )
    certificate_id: str | None = Field(
        default=None,
        pattern=r"^[0-9]+-[a-z0-9-]+$",
        description="SSL Certificates Service ID (`<id>-<region>`) of the HTTPS listener.",
    )
    domain_name: Hostname | None = Field(
        default=None,
        description="DNS name the certificate covers (a PrivateZone/DNS record you point at the ALB); the gateway "
        "URL uses it. Required with certificate_id: the ALB's own DNS name is not on your certificate.",
    )
    allow_plaintext: bool = Field(
        default=False,
        description="Serve plain HTTP on port 80 when there is no certificate (intranet ALB only). Off: synth refuses.",
    )
    security_policy_id: Literal[
        "tls_cipher_policy_1_2", "tls_cipher_policy_1_2_strict", "tls_cipher_policy_1_2_strict_with_1_3"
    ] = "tls_cipher_policy_1_2_strict_with_1_3"
    edition: Literal["Standard", "StandardWithWaf"] = "Standard"

    @model_validator(mode="after")
    def _tls_or_explicit_plaintext(self) -> AlicloudLoadBalancerConfig:
        if self.internet_facing and self.certificate_id is None:
            raise ValueError("internet_facing: an internet-facing ALB needs certificate_id (HTTPS only)")
        if self.internet_facing and self.allow_plaintext:
            raise ValueError("allow_plaintext: never on an internet-facing ALB")
        if self.certificate_id is not None and self.domain_name is None:
            raise ValueError(
                "domain_name: an HTTPS listener needs the DNS name its certificate covers; callers (the quotas "
                "stack, agents) verify it, and the ALB's own DNS name is not on the certificate"
            )
        if self.certificate_id is None and not self.allow_plaintext:
            raise ValueError(
                "certificate_id: no certificate for the HTTPS listener; set one, or set allow_plaintext: true "
                "to serve plain HTTP inside the VPC"
            )
        return self


class AlicloudSecretsConfig(StrictModel):
    kms_instance_id: str | None = Field(
        default=None,
        pattern=r"^kst-[a-z0-9]+$",
        description="The KMS instance (`kst-...`, bought once per region) that holds the gateway's and the agents' "
        "keys: a secret must be encrypted by a symmetric key of the same KMS instance (KMS CreateSecret). Required.",
    )
    recovery_window_days: int = Field(
        default=30, ge=7, le=30, description="KMS keeps a deleted secret (and so every version) this long."
    )
    rotation_interval_days: int = Field(
        default=30, ge=7, le=365, description="Rotation period recorded on each secret; the runbook rotates by it."
    )
    key_rotation_interval_days: int = Field(
        default=365, ge=7, le=730, description="Automatic rotation of the customer-managed KMS key material."
    )
    master_key_version: int = Field(default=1, ge=1, description="Bump to generate and store a new master key.")
    database_password_version: int = Field(default=1, ge=1, description="Bump to rotate the DB password.")
    redis_password_version: int = Field(default=1, ge=1, description="Bump to rotate the Redis password.")


class AlicloudDatabaseConfig(StrictModel):
    engine_version: Literal["14.0", "15.0", "16.0", "17.0"] = "16.0"
    instance_type: str | None = Field(
        default=None,
        pattern=r"^pg\.[a-z0-9.]+$",
        description="RDS PostgreSQL instance type of the edition in use (Basic or High-availability tables; checked "
        "at synth). Default: pg.n2.2c.1m (Basic), pg.n2.2c.2m (High-availability).",
    )
    storage_gb: int = Field(default=50, ge=20, le=32000)
    high_availability: bool | None = Field(
        default=None, description="Primary/standby across the first two zones; default: on in production."
    )
    backup_retention_days: int = Field(default=14, ge=7, le=730)
    deletion_protection: bool | None = Field(
        default=None, description="Default: on in production (where it cannot be turned off), off elsewhere."
    )


# Cloud-native Redis Open-Source Edition classes (`redis.shard.<size>.ce`, the InstanceClass column of
# https://www.alibabacloud.com/help/en/redis/product-overview/instance-types-of-cloud-native-community-edition-instances).
# Classic-mode classes (`redis.master.*.default`, ...) stop at Redis 5.0 ("classic instances can be upgraded to 5.0 at
# most": https://www.alibabacloud.com/help/id/redis/user-guide/upgrade-the-major-version-1).
CLOUD_NATIVE_REDIS_CLASS = r"^redis\.shard\.[a-z0-9.]+\.ce$"
CLASSIC_REDIS_MAX_ENGINE = "5.0"


class AlicloudCacheConfig(StrictModel):
    instance_class: str = Field(
        default="redis.shard.small.2.ce",
        pattern=r"^redis\.[a-z0-9.]+$",
        description="Redis 6.0 and 7.0 need a cloud-native class (`redis.shard.<size>.ce`); classic ones stop at 5.0.",
    )
    engine_version: Literal["5.0", "6.0", "7.0"] = "7.0"
    ca_certificate_file: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_][A-Za-z0-9_./-]*\.pem$",
        description="The ApsaraDB CA chain (PEM, public) that signs the Redis TLS certificate, relative to the "
        "environment file; shipped with the release so LiteLLM verifies Redis. Without it Redis TLS cannot verify.",
    )

    @model_validator(mode="after")
    def _class_runs_the_engine(self) -> AlicloudCacheConfig:
        cloud_native = re.match(CLOUD_NATIVE_REDIS_CLASS, self.instance_class) is not None
        if not cloud_native and float(self.engine_version) > float(CLASSIC_REDIS_MAX_ENGINE):
            raise ValueError(
                f"instance_class: {self.instance_class} is a classic class, which runs Redis {CLASSIC_REDIS_MAX_ENGINE}"
                f" at most; Redis {self.engine_version} needs a cloud-native class such as redis.shard.small.2.ce"
            )
        return self


class AlicloudLogsConfig(StrictModel):
    retention_days: int = Field(default=30, ge=1, le=3650, description="SLS logstore retention of request logs.")
    shard_count: int = Field(default=2, ge=1, le=10)


class AlicloudAlarmContactConfig(StrictModel):
    name: str = Field(
        pattern=r"^[a-z][a-z0-9-]*[a-z0-9]$",
        max_length=40,
        description="Contact name (unique in the account's CloudMonitor).",
    )
    email: str = Field(
        pattern=r"^[^@\s]+@[^@\s]+$",
        description="Where CloudMonitor mails the gateway's alarms (CloudMonitor asks the address to confirm once).",
    )


class AlicloudAlertingConfig(StrictModel):
    """CloudMonitor alarms on the gateway's ALB to one contact group; LiteLLM's per-agent budget alerts to a webhook."""

    contacts: list[AlicloudAlarmContactConfig] = Field(
        min_length=1, description="The one contact group every gateway alarm notifies."
    )
    gateway_5xx_per_second: float = Field(
        default=1.0,
        gt=0,
        description="Alarm when the ALB answers more 5XX per second than this (its own and the instances').",
    )
    unhealthy_backends: int = Field(
        default=1, ge=1, description="Alarm when at least this many gateway instances fail the ALB's health check."
    )
    consecutive_periods: int = Field(
        default=3, ge=1, le=10, description="One-minute periods the condition must hold before the alarm fires."
    )
    budget_webhook_secret_version: int | None = Field(
        default=None,
        ge=1,
        description="LiteLLM budget alerts (a key nearing or over its max_budget) POST to the URL held by the KMS "
        "secret `<prefix>-alert-webhook` at this version (created out of band like a provider key: README). "
        "Unset: no budget alerts.",
    )

    @model_validator(mode="after")
    def _unique_contacts(self) -> AlicloudAlertingConfig:
        for field in ("name", "email"):
            values = [getattr(contact, field) for contact in self.contacts]
            for index, value in enumerate(values):
                if value in values[:index]:
                    raise ValueError(f"contacts[{index}].{field}: {value!r} is listed twice")
        return self


class AlicloudMigrationsConfig(StrictModel):
    timeout_seconds: int = Field(
        default=4800,
        ge=300,
        le=86400,
        description="Cloud Assistant timeout of one deploy run (install plus migrate or restart); at least the "
        "runtime's own step waits, checked at synth.",
    )


class AlicloudConfig(StrictModel):
    enabled: bool = True
    region: str = Field(pattern=r"^[a-z]{2}(-[a-z0-9]+)+$")
    zones: list[str] = Field(description="At least two zones of `region`.")
    network: AlicloudNetworkConfig = Field(default_factory=AlicloudNetworkConfig)
    state: AlicloudStateConfig
    gateway: AlicloudGatewayConfig = Field(default_factory=AlicloudGatewayConfig)
    load_balancer: AlicloudLoadBalancerConfig = Field(default_factory=AlicloudLoadBalancerConfig)
    secrets: AlicloudSecretsConfig = Field(default_factory=AlicloudSecretsConfig)
    database: AlicloudDatabaseConfig = Field(default_factory=AlicloudDatabaseConfig)
    cache: AlicloudCacheConfig = Field(default_factory=AlicloudCacheConfig)
    logs: AlicloudLogsConfig = Field(default_factory=AlicloudLogsConfig)
    migrations: AlicloudMigrationsConfig = Field(default_factory=AlicloudMigrationsConfig)
    alerting: AlicloudAlertingConfig | None = Field(
        default=None, description="Alarms and budget alerts; unset: none (the examples set them)."
    )

    @model_validator(mode="after")
    def _secrets_need_a_kms_instance(self) -> AlicloudConfig:
        if self.enabled and self.secrets.kms_instance_id is None:
            raise ValueError(
                "secrets.kms_instance_id: KMS keeps secrets only under a key inside a KMS instance; buy or pick one "
                "in the region (KMS console, Instances) and set its ID (`kst-...`)"
            )
        return self

    @model_validator(mode="after")
    def _two_zones_one_vswitch_each(self) -> AlicloudConfig:
        if len(self.zones) < 2:
            raise ValueError(f"zones: need at least two zones for a highly available gateway, got {len(self.zones)}")
        if len(set(self.zones)) != len(self.zones):
            raise ValueError("zones: a zone is listed twice")
        for index, zone in enumerate(self.zones):
            if not zone.startswith(self.region):
                raise ValueError(f"zones[{index}]: {zone!r} is not in region {self.region!r}")
        fields = ["vswitch_cidrs", "alb_vswitch_cidrs"]
        owner = {field: self.network for field in fields}
        if self.network.existing is not None:
            fields += ["existing.vswitch_ids", "existing.alb_vswitch_ids"]
            owner |= {field: self.network.existing for field in fields[2:]}
        for field in fields:
            count, zones = len(getattr(owner[field], field.rsplit(".", 1)[-1])), len(self.zones)
            if count != zones:
                raise ValueError(f"network.{field}: {count} vswitches for {zones} zones (need one per zone)")
        return self
