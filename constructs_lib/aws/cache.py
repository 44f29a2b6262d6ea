"""ElastiCache Redis for LiteLLM: encrypted at rest (CMK) and in transit, AUTH token, multi-AZ in production.

    cache = GatewayCache(self, "cache", GatewayCacheProps(naming=..., config=aws.cache, auth_token=..., ...))
    cache.host, cache.port

ElastiCache takes the AUTH token only as a plain argument (no write-only variant in the pinned provider), so the
token is a `random_password` kept in the encrypted remote state and copied into its Secrets Manager secret; the
containers read the secret. Rotation, two applies: bump `clouds.aws.secrets.redis_auth_version` with
`redis_auth_rotation: rotating` (a new token, taken with the ROTATE strategy: old and new both valid while the
services roll), then `redis_auth_rotation: done` (SET: the old token stops working).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.elasticache_replication_group import (
    ElasticacheReplicationGroup,
    ElasticacheReplicationGroupLogDeliveryConfiguration,
)
from cdktf_cdktf_provider_aws.elasticache_subnet_group import ElasticacheSubnetGroup
from constructs import Construct

from constructs_lib._common.errors import PropsError
from constructs_lib._common.naming import Naming
from constructs_lib.config.aws import AwsCacheConfig

REDIS_PORT = 6379


@dataclass(frozen=True)
class GatewayCacheProps:
    naming: Naming
    config: AwsCacheConfig
    subnet_ids: Sequence[str]
    security_group_id: str
    kms_key_arn: str
    auth_token: str
    production: bool
    log_retention_days: int
    # clouds.aws.secrets.redis_auth_rotation: "rotating" (ROTATE) or "done" (SET).
    auth_rotation: str = "done"


class GatewayCache(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: GatewayCacheProps) -> None:
        super().__init__(scope, construct_id)
        naming, config = props.naming, props.config
        nodes = config.nodes if config.nodes is not None else (2 if props.production else 1)
        if props.production and nodes < 2:
            raise PropsError("clouds.aws.cache.nodes", "production needs at least 2 nodes for multi-AZ failover")
        multi_az = nodes >= 2
        subnets = ElasticacheSubnetGroup(
            self, "subnets", name=naming.name("litellm-redis"), subnet_ids=list(props.subnet_ids), description="LiteLLM"
        )
        slow_log = CloudwatchLogGroup(
            self,
            "slow-log",
            name=f"/{naming.prefix}/redis/slow-log",
            retention_in_days=props.log_retention_days,
            kms_key_id=props.kms_key_arn,
        )
        self.group = ElasticacheReplicationGroup(
            self,
            "redis",
            replication_group_id=naming.name("litellm", "aws_elasticache_replication_group"),
            description="LiteLLM rate limits, budgets and cache",
            engine="redis",
            engine_version=config.engine_version,
            node_type=config.node_type,
            num_cache_clusters=nodes,
            port=REDIS_PORT,
            subnet_group_name=subnets.name,
            security_group_ids=[props.security_group_id],
            at_rest_encryption_enabled="true",
            kms_key_id=props.kms_key_arn,
            transit_encryption_enabled=True,
            transit_encryption_mode="required",
            auth_token=props.auth_token,
            # ROTATE adds the new token and keeps the old one valid; SET (allowed only after ROTATE) leaves the new one
            # alone (ModifyReplicationGroup AuthTokenUpdateStrategy, botocore elasticache 2015-02-02 service-2.json).
            # The provider sends the token with the strategy whenever either changes (internal/service/elasticache/
            # replication_group.go, resourceReplicationGroupUpdate), so `done` after `rotating` revokes the old token.
            auth_token_update_strategy="ROTATE" if props.auth_rotation == "rotating" else "SET",
            automatic_failover_enabled=multi_az,
            multi_az_enabled=multi_az,
            auto_minor_version_upgrade="true",
            snapshot_retention_limit=config.snapshot_retention_days,
            snapshot_window="02:00-03:00",
            maintenance_window="sun:06:30-sun:07:30",
            apply_immediately=not props.production,
            log_delivery_configuration=[
                ElasticacheReplicationGroupLogDeliveryConfiguration(
                    destination=slow_log.name,
                    destination_type="cloudwatch-logs",
                    log_format="json",
                    log_type="slow-log",
                )
            ],
        )
        self.host = self.group.primary_endpoint_address
        self.port = str(REDIS_PORT)
