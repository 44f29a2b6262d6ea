"""Memorystore for Redis on Private Services Access, with AUTH and in-transit encryption.

    cache = GatewayCache(self, "cache", GatewayCacheProps(naming=..., region=..., network_id=...,
        config=gcp.cache, production=True))
    cache.host, cache.port, cache.auth_string, cache.ca_bundle
    env |= redis_tls_client_env("/etc/litellm/redis-ca/ca.pem")

The AUTH string and the instance's CA certificates reach the containers through Secret Manager (secrets.py): the
string as `REDIS_PASSWORD`, the certificates as one mounted PEM bundle for `REDIS_SSL_CA_CERTS`, so the TLS
handshake is verified and neither is ever baked into an image or a plain env var. With `transit_encryption: false`
(explicit `allow_plaintext` opt-in, never production) there is no CA at all.

What the clients verify (redis_tls_client_env): the server's certificate chain against every CA the instance lists
(`server_ca_certs`: during a CA rotation Memorystore lists the new CA beside the old one), but not its name.
REDIS_HOST is the instance's IP, and Memorystore's server certificate carries that IP only in its subject CN, with
no subjectAltName (reported in envoyproxy/ratelimit#409: "GCP Memorystore which sets the CN to an IP address");
Python's ssl matches an IP only against subjectAltName IP entries, so redis-py's default `ssl_check_hostname=True`
refuses every Memorystore handshake. tests/test_gcp_redis_tls.py shows both against a real TLS redis-server.
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
    def ca_bundle(self) -> str:
        """Every CA certificate of `server_ca_certs` in one PEM bundle (a client trusts each of them)."""
        return f'${{join("\\n", {self.instance.fqn}.server_ca_certs[*].cert)}}'


def redis_tls_client_env(ca_file: str) -> dict[str, str]:
    """What LiteLLM (and the daily token cap hook, which builds its client with LiteLLM's factory) reads to connect
    to Memorystore over TLS: verify the chain against `ca_file`, do not match the name (see the module docstring).

    LiteLLM turns every `REDIS_<redis.Redis argument>` variable into that argument (litellm/_redis.py:194-198 and
    :274-282 at 1.106.12) and coerces "false" to the bool the argument's default is (:259-260); `ssl_cert_reqs`
    stays redis-py's default "required" (redis/client.py:356 at redis 8.2.0), so an unknown CA is still refused.
    """
    return {"REDIS_SSL": "true", "REDIS_SSL_CA_CERTS": ca_file, "REDIS_SSL_CHECK_HOSTNAME": "false"}
