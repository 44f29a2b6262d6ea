"""`clouds.gcp.cache.source` as objects: `ManagedCache` (Memorystore Redis with AUTH, TLS unless opted out),
`ExternalCache` (a brought Redis behind a REDIS_URL secret) and `NoCache`.

    cache = CACHE_STORES[gcp.cache.source](store_scope)
"""

from __future__ import annotations

from typing import Literal

from constructs_lib._common.outputs import GatewayOutput
from constructs_lib.config.gcp import GcpCacheConfig
from constructs_lib.gcp.cache import GatewayCache, GatewayCacheProps, redis_tls_client_env
from constructs_lib.gcp.cloud_run import SecretFile
from constructs_lib.gcp.gateway.stores import StoreScope, brought_url_secret, url_secret_output
from constructs_lib.gcp.secrets import GatewaySecret

# The Memorystore CA certificates, mounted from Secret Manager; REDIS_SSL_CA_CERTS points at them.
REDIS_CA_DIR, REDIS_CA_FILE = "/etc/litellm/redis-ca", "ca.pem"
ProxyRedis = Literal["none", "url", "tls", "plaintext"]


def _elsewhere_outputs(
    host: str | None = None, port: str | None = None, ca_secret_id: str | None = None
) -> dict[str, GatewayOutput]:
    return {
        "redis_host": GatewayOutput(host),
        "redis_port": GatewayOutput(port),
        "redis_ca_secret_id": GatewayOutput(
            ca_secret_id,
            "Memorystore's CA certificates (one PEM file): mount it as REDIS_SSL_CA_CERTS and set "
            "REDIS_SSL_CHECK_HOSTNAME=false (its certificate names the IP only in its CN)",
        ),
    }


class NoCache:
    """No Redis: one gateway process (the config refuses more), no shared cache or rate-limit state. The base of
    `ExternalCache`: neither has a host, an AUTH string or a CA of this stack."""

    managed = False

    @staticmethod
    def proxy_redis(_: GcpCacheConfig) -> ProxyRedis:
        """How LiteLLM's config reaches Redis (ProxyRuntime.redis)."""
        return "none"

    def __init__(self, _: StoreScope) -> None:
        self.secrets: list[GatewaySecret] = []
        # The CA certificate secret, mounted as a file rather than read as env (TLS only).
        self.ca: GatewaySecret | None = None
        self.secret_files: list[SecretFile] = []

    def runtime_env(self) -> dict[str, str]:
        return {}

    def outputs(self) -> dict[str, GatewayOutput]:
        return {"redis_auth_secret_id": GatewayOutput(None)}

    def elsewhere_outputs(self) -> dict[str, GatewayOutput]:
        return _elsewhere_outputs()


class ExternalCache(NoCache):
    """A brought Redis: its URL (rediss:// for TLS) arrives as a ready REDIS_URL secret."""

    @staticmethod
    def proxy_redis(_: GcpCacheConfig) -> ProxyRedis:
        return "url"

    def __init__(self, at: StoreScope) -> None:
        super().__init__(at)
        self.url = brought_url_secret(at, "redis-url", "REDIS_URL", at.gcp.cache)
        self.secrets = [self.url]

    def outputs(self) -> dict[str, GatewayOutput]:
        return {**super().outputs(), "redis_url_secret_id": url_secret_output(self.url)}


class ManagedCache(NoCache):
    """Memorystore Redis with its AUTH string in Secret Manager, and (transit encryption) its CA mounted as a file."""

    managed = True

    @staticmethod
    def proxy_redis(section: GcpCacheConfig) -> ProxyRedis:
        return "tls" if section.transit_encryption else "plaintext"

    def __init__(self, at: StoreScope) -> None:
        super().__init__(at)
        self.cache = cache = GatewayCache(
            at.scope,
            "cache",
            GatewayCacheProps(
                naming=at.naming,
                region=at.region,
                network_id=at.network.network_id,
                config=at.gcp.cache,
                production=at.production,
                depends_on=[*at.apis.of("redis.googleapis.com"), *at.network.private_services],
            ),
        )
        self.auth = at.secret("redis-auth", "REDIS_PASSWORD", state_value=cache.auth_string)
        self.secrets = [self.auth]
        if at.gcp.cache.transit_encryption:
            self.ca = at.secret("redis-ca", "", state_value=cache.ca_bundle)
            self.secret_files = [
                SecretFile(secret=self.ca, volume="redis-ca", mount_dir=REDIS_CA_DIR, file_name=REDIS_CA_FILE)
            ]

    def runtime_env(self) -> dict[str, str]:
        env = {"REDIS_HOST": self.cache.host, "REDIS_PORT": self.cache.port}
        for ca_file in self.secret_files:
            env |= redis_tls_client_env(ca_file.path)
        return env

    def outputs(self) -> dict[str, GatewayOutput]:
        return {"redis_auth_secret_id": GatewayOutput(self.auth.id)}

    def elsewhere_outputs(self) -> dict[str, GatewayOutput]:
        return _elsewhere_outputs(self.cache.host, self.cache.port, self.ca.id if self.ca else None)


CACHE_STORES = {"managed": ManagedCache, "external": ExternalCache, "none": NoCache}
