"""Memorystore for Redis on Private Services Access, with AUTH and in-transit encryption.

    cache = GatewayCache(self, "cache", GatewayCacheProps(naming=..., region=..., network_id=...,
        config=gcp.cache, production=True))
    cache.host, cache.port, cache.auth_string, cache.ca_certificate

The AUTH string and the instance's self-signed CA certificate reach the containers through Secret Manager
(secrets.py): the string as `REDIS_PASSWORD`, the certificate as a mounted file for `REDIS_SSL_CA_CERTS`,
so the `rediss://` handshake is verified and neither is ever baked into an image or a plain env var.
With `transit_encryption: false` (explicit `allow_plaintext` opt-in, never production) there is no CA at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf import ITerraformDependable, Token
from cdktf_cdktf_provider_google.redis_instance import (
    RedisInstance,
    RedisInstanceMaintenancePolicy,
    RedisInstanceMaintenancePolicyWeeklyMaintenanceWindow,
    RedisInstanceMaintenancePolicyWeeklyMaintenanceWindowStartTime,
)
from constructs import Construct

from constructs_lib._common.naming import Naming
from constructs_lib.config.gcp import GcpCacheConfig

REDIS_VERSION = "REDIS_7_2"
TRANSIT_ENCRYPTION = "SERVER_AUTHENTICATION"


@dataclass(frozen=True)
class GatewayCacheProps:
    naming: Naming
    region: str
    network_id: str
    config: GcpCacheConfig
    production: bool
    depends_on: Sequence[ITerraformDependable] = ()


class GatewayCache(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: GatewayCacheProps) -> None:
        super().__init__(scope, construct_id)
        tier = props.config.tier or ("STANDARD_HA" if props.production else "BASIC")
        self.transit_encryption = props.config.transit_encryption
        self.instance = RedisInstance(
            self,
            "redis",
            name=props.naming.name("redis", "google_redis_instance"),
            region=props.region,
            tier=tier,
            memory_size_gb=props.config.memory_size_gb,
            redis_version=REDIS_VERSION,
            authorized_network=props.network_id,
            connect_mode="PRIVATE_SERVICE_ACCESS",
            auth_enabled=True,
            # DISABLED only with clouds.gcp.cache.allow_plaintext (the config refuses it otherwise).
            transit_encryption_mode=TRANSIT_ENCRYPTION if props.config.transit_encryption else "DISABLED",
            maintenance_policy=RedisInstanceMaintenancePolicy(
                weekly_maintenance_window=[
                    RedisInstanceMaintenancePolicyWeeklyMaintenanceWindow(
                        day="SUNDAY",
                        start_time=RedisInstanceMaintenancePolicyWeeklyMaintenanceWindowStartTime(hours=4, minutes=0),
                    )
                ]
            ),
            depends_on=list(props.depends_on),
        )

    @property
    def host(self) -> str:
        return self.instance.host

    @property
    def port(self) -> str:
        """6378 with in-transit encryption (Memorystore moves TLS off 6379), 6379 without."""
        return Token.as_string(self.instance.port)

    @property
    def auth_string(self) -> str:
        return self.instance.auth_string

    @property
    def ca_certificate(self) -> str:
        return self.instance.server_ca_certs.get(0).cert
