"""`clouds.aws.cache.source` as objects: `ManagedCache` (ElastiCache Redis, TLS and AUTH), `ExternalCache` (a
brought Redis behind a REDIS_URL secret) and `NoCache`, each a `DataStore` (stores.py).

    cache = CACHE_STORES[aws.cache.source](store_scope)
"""

from __future__ import annotations

from cdktf_cdktf_provider_random.password import Password

from constructs_lib._common.litellm_config import REDIS_ENV
from constructs_lib._common.outputs import GatewayOutput
from constructs_lib.aws.cache import GatewayCache, GatewayCacheProps
from constructs_lib.aws.gateway.stores import StoreAccess, StoreScope, url_secret_output
from constructs_lib.aws.secrets import GatewaySecret
from constructs_lib.config.aws import AwsCacheConfig


def _cache_outputs(auth_secret_arn: str | None = None, endpoint: str | None = None) -> dict[str, GatewayOutput]:
    """The cache outputs every mode has (null where the mode has no ElastiCache)."""
    return {
        "redis_auth_secret_arn": GatewayOutput(auth_secret_arn),
        "redis_endpoint": GatewayOutput(endpoint, "TLS and AUTH required"),
    }


class ManagedCache:
    """ElastiCache Redis with TLS and an AUTH token (rotated by version)."""

    in_proxy_config = True

    @staticmethod
    def access(_: AwsCacheConfig) -> StoreAccess:
        return StoreAccess(managed=True)

    def __init__(self, at: StoreScope) -> None:
        aws, network, versions = at.aws, at.network, at.aws.secrets
        # ElastiCache takes the token only as a plain argument, so it is a state value (encrypted backend).
        token = Password(
            at.scope,
            "redis-auth-token",
            length=64,
            special=False,
            min_numeric=4,
            keepers={"version": str(versions.redis_auth_version)},
        )
        self.auth = at.secret(
            "redis-auth",
            REDIS_ENV["password"],
            "Redis AUTH token of the LiteLLM cache",
            state_value=token.result,
            version=versions.redis_auth_version,
        )
        self.auth_secrets = [self.auth]
        self.url_secrets: list[GatewaySecret] = []
        assert network.cache is not None
        self.cache = GatewayCache(
            at.scope,
            "cache",
            GatewayCacheProps(
                naming=at.naming,
                config=aws.cache,
                subnet_ids=network.private_subnet_ids,
                security_group_id=network.cache.id,
                kms_key_arn=at.kms_key_arn,
                auth_token=token.result,
                auth_rotation=versions.redis_auth_rotation,
                production=at.production,
                log_retention_days=aws.log_retention_days,
            ),
        )

    def runtime_env(self) -> dict[str, str]:
        return {REDIS_ENV["host"]: self.cache.host, REDIS_ENV["port"]: self.cache.port, REDIS_ENV["ssl"]: "true"}

    def outputs(self) -> dict[str, GatewayOutput]:
        return _cache_outputs(self.auth.arn, f"{self.cache.host}:{self.cache.port}")


class NoCache:
    """No Redis: one gateway process (the config refuses more), no shared cache or rate-limit state. The base of
    `ExternalCache`: neither has env of its own or an AUTH token here."""

    in_proxy_config = False

    @staticmethod
    def access(_: AwsCacheConfig) -> StoreAccess:
        return StoreAccess()

    def __init__(self, _: StoreScope) -> None:
        self.auth_secrets: list[GatewaySecret] = []
        self.url_secrets: list[GatewaySecret] = []

    def runtime_env(self) -> dict[str, str]:
        return {}

    def outputs(self) -> dict[str, GatewayOutput]:
        return _cache_outputs()


class ExternalCache(NoCache):
    """A brought Redis: its URL (rediss:// for TLS) arrives as a ready REDIS_URL secret."""

    # The document keeps TLS on (see docs/DESIGN.md); an external Redis is TLS when its URL is `rediss://`.
    in_proxy_config = True

    @staticmethod
    def access(section: AwsCacheConfig) -> StoreAccess:
        return StoreAccess(egress=(section.egress_cidrs, section.external_port))

    def __init__(self, at: StoreScope) -> None:
        super().__init__(at)
        self.url = at.secret(
            "redis-url",
            "REDIS_URL",
            "Redis URL (rediss:// for TLS) of the brought LiteLLM cache: put in out of band with label v<version>",
            name=at.aws.cache.url_secret,
            version=at.aws.cache.url_secret_version,
        )
        self.url_secrets = [self.url]

    def outputs(self) -> dict[str, GatewayOutput]:
        return {**_cache_outputs(), "redis_url_secret_arn": url_secret_output(self.url)}


CACHE_STORES = {"managed": ManagedCache, "external": ExternalCache, "none": NoCache}
