"""Resource names: `<tenant>-<env>-<suffix>`, checked against each cloud's length limit at synth time."""

from __future__ import annotations

from dataclasses import dataclass

from constructs_lib._common.errors import PropsError

# Limits of the name fields the stacks fill from the prefix. Where a limit is shorter than 63 the
# resource is listed here, so a long tenant/env fails at synth with the resource named, not at apply.
NAME_LIMITS: dict[str, int] = {
    "default": 63,
    "aws_lb": 32,
    "aws_lb_target_group": 32,
    "aws_iam_role": 64,
    "aws_elasticache_replication_group": 40,
    "google_service_account": 30,
    "google_vpc_access_connector": 25,
    "google_sql_database_instance": 84,
    "google_compute": 63,
    "alicloud_ram_role": 64,
    "alicloud_kvstore_instance": 128,
    "alicloud_db_instance": 64,
    "alicloud_ots_instance": 16,
    "google_cloud_run_v2_service": 49,
    "google_redis_instance": 40,
    "google_storage_bucket": 63,
}


@dataclass(frozen=True)
class Naming:
    """Builds every physical name of one stack from one prefix."""

    tenant: str
    env: str

    @property
    def prefix(self) -> str:
        return f"{self.tenant}-{self.env}"

    def name(self, suffix: str, kind: str = "default") -> str:
        limit = NAME_LIMITS[kind]
        name = f"{self.prefix}-{suffix}" if suffix else self.prefix
        if len(name) > limit:
            raise PropsError(
                "tenant/env",
                f"name {name!r} for {kind} is {len(name)} characters, over that resource's limit of {limit}; "
                "shorten tenant or env",
            )
        return name
