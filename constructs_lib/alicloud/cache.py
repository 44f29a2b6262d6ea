"""Redis (ApsaraDB for Redis / KVStore) for LiteLLM's cross-instance rate limits and budgets.

Password auth on (`vpc_auth_mode = Open`), TLS on, whitelist = the gateway security group only, a replica in the
second zone and release protection in production. The password is the generated `redis-password` secret.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from constructs import Construct

from constructs_lib._common.errors import PropsError
from constructs_lib._common.naming import Naming
from constructs_lib.config.alicloud import AlicloudCacheConfig
from imports.alicloud.kvstore_instance import KvstoreInstance

REDIS_PORT = 6379


@dataclass(frozen=True)
class GatewayCacheProps:
    naming: Naming
    config: AlicloudCacheConfig
    zones: Sequence[str]
    vswitch_id: str
    security_group_id: str
    password: str
    production: bool = False

    def __post_init__(self) -> None:
        if self.production and len(self.zones) < 2:
            raise PropsError("clouds.alicloud.zones", "production Redis keeps a replica in a second zone")


class GatewayCache(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: GatewayCacheProps) -> None:
        super().__init__(scope, construct_id)
        self.instance = KvstoreInstance(
            self,
            "redis",
            db_instance_name=props.naming.name("litellm", "alicloud_kvstore_instance"),
            instance_type="Redis",
            instance_class=props.config.instance_class,
            engine_version=props.config.engine_version,
            payment_type="PostPaid",
            zone_id=props.zones[0],
            secondary_zone_id=props.zones[1] if props.production else None,
            vswitch_id=props.vswitch_id,
            port=REDIS_PORT,
            password=props.password,
            vpc_auth_mode="Open",
            ssl_enable="Enable",
            security_ips=["127.0.0.1"],
            security_group_id=props.security_group_id,
            instance_release_protection=props.production,
        )

    @property
    def host(self) -> str:
        return self.instance.connection_domain
