"""The gateway's data stores, one class per `source` of `clouds.aws.database` and `clouds.aws.cache`: `managed`
(created here), `external` (brought: Terraform creates the empty URL secret, its value goes in out of band with
label v<version>) or `none`. The gateway asks every store the same questions (what the network opens, which
secrets the services read, what env they get, which outputs it has) instead of branching on the source.

    database_store = DATABASE_STORES[aws.database.source]
    network = GatewayNetwork(..., managed_database=database_store.access(aws.database).managed, ...)
    database = database_store(StoreScope(scope=..., aws=aws, network=network, ...))
    database.task_env, database.url_secrets, database.grants, ...
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol

from cdktf import ITerraformDependable
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import DataAwsIamPolicyDocumentStatement
from cdktf_cdktf_provider_random.password import Password
from constructs import Construct

from constructs_lib._common.litellm_config import DATABASE_URL_ENV, REDIS_ENV
from constructs_lib._common.naming import Naming
from constructs_lib.aws.cache import GatewayCache, GatewayCacheProps
from constructs_lib.aws.database import (
    GatewayDatabase,
    GatewayDatabaseProps,
    cluster_identifier,
    postgres_log_group_name,
)
from constructs_lib.aws.ecs_service import ContainerSpec
from constructs_lib.aws.gateway.credentials import SecretFactory
from constructs_lib.aws.gateway.outputs import GatewayOutput
from constructs_lib.aws.network import GatewayNetwork
from constructs_lib.aws.rds_ca import PSQL_VERIFY_FULL_ENV, VERIFY_FULL_ENV, rds_root_pem
from constructs_lib.aws.secrets import GatewaySecret
from constructs_lib.config.aws import AwsCacheConfig, AwsConfig, AwsDatabaseConfig

# Creates the IAM-auth application user; idempotent (re-granting is a no-op), so a re-run is harmless.
_BOOTSTRAP_SQL = """DO $$
BEGIN
  CREATE USER {user};
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
GRANT rds_iam TO {user};
GRANT ALL PRIVILEGES ON DATABASE {database} TO {user};
GRANT ALL ON SCHEMA public TO {user};
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO {user};
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON SEQUENCES TO {user};
"""


@dataclass(frozen=True)
class StoreAccess:
    """What the network opens for a store: its own security group (managed), or egress to (CIDRs, port)."""

    managed: bool = False
    egress: tuple[Sequence[str], int] | None = None


@dataclass(frozen=True)
class StoreScope:
    """What a store is defined with: the stack scope, the network it sits on, the gateway's key and secrets."""

    scope: Construct
    naming: Naming
    aws: AwsConfig
    production: bool
    kms_key_arn: str
    network: GatewayNetwork
    secret: SecretFactory


class DataStore(Protocol):
    """A store of the gateway in the mode its `source` chose."""

    # Whether LiteLLM's config names the store (ProxyRuntime): brought ones too, not absent ones.
    in_proxy_config: ClassVar[bool]
    # What the gateway and backend read: generated credentials (Redis AUTH), and the URLs of brought stores.
    auth_secrets: Sequence[GatewaySecret]
    url_secrets: Sequence[GatewaySecret]

    def runtime_env(self) -> dict[str, str]: ...

    def outputs(self) -> dict[str, GatewayOutput]: ...


class Database(DataStore, Protocol):
    """PostgreSQL: LiteLLM's keys, spend and settings; the one-off jobs prepare it before the services start."""

    # Whether the migrations job runs, and whether a bootstrap job creates the application user first (each a task
    # family of its own).
    migrates: ClassVar[bool]
    bootstraps: ClassVar[bool]
    # The environment every container that connects reads (the migrations job's too).
    task_env: dict[str, str]
    # The CA bundle the tasks verify the server against, or None.
    ca_pem: str | None
    # IAM statements of the task roles that connect (gateway, backend, migrations).
    grants: Sequence[DataAwsIamPolicyDocumentStatement]
    # The secrets the bootstrap job reads (Aurora's master secret).
    bootstrap_secret_arns: Sequence[str]
    # Re-run triggers of the one-off jobs, and what they wait for.
    one_off_triggers: dict[str, str]
    one_off_depends_on: Sequence[ITerraformDependable]

    def bootstrap_container(self, image: str, log_group: str, region: str) -> ContainerSpec | None: ...


def _region_env(region: str) -> dict[str, str]:
    return {"AWS_REGION": region, "AWS_REGION_NAME": region}


def _database_outputs(
    master_secret_arn: str | None = None,
    ca_pem: str | None = None,
    writer: str | None = None,
    reader: str | None = None,
) -> dict[str, GatewayOutput]:
    return {
        "database_master_secret_arn": GatewayOutput(master_secret_arn),
        "database_ca_root_pem": GatewayOutput(
            ca_pem,
            "The RDS root Aurora's certificate chains to: DATABASE_SSLROOTCERT, with DATABASE_SSLMODE "
            "verify-full and the writer endpoint name",
        ),
        "aurora_writer_endpoint": GatewayOutput(writer),
        "aurora_reader_endpoint": GatewayOutput(reader),
    }


def _cache_outputs(auth_secret_arn: str | None = None, endpoint: str | None = None) -> dict[str, GatewayOutput]:
    return {
        "redis_auth_secret_arn": GatewayOutput(auth_secret_arn),
        "redis_endpoint": GatewayOutput(endpoint, "TLS and AUTH required"),
    }


def _url_secret_output(secret: GatewaySecret) -> GatewayOutput:
    return GatewayOutput(secret.arn, "Put the URL in out of band as v<version>")


class ManagedDatabase:
    """Aurora PostgreSQL with IAM auth and verify-full TLS; a one-off job creates the IAM-auth application user."""

    in_proxy_config = True
    migrates = True
    bootstraps = True

    @staticmethod
    def access(_: AwsDatabaseConfig) -> StoreAccess:
        return StoreAccess(managed=True)

    @staticmethod
    def log_group_names(naming: Naming) -> list[str]:
        """Log groups the gateway key must let CloudWatch Logs use (Aurora's PostgreSQL log)."""
        return [postgres_log_group_name(cluster_identifier(naming))]

    def __init__(self, at: StoreScope) -> None:
        aws, network = at.aws, at.network
        assert network.database is not None
        self.database = database = GatewayDatabase(
            at.scope,
            "database",
            GatewayDatabaseProps(
                naming=at.naming,
                config=aws.database,
                account_id=aws.account_id,
                region=aws.region,
                subnet_ids=network.private_subnet_ids,
                security_group_id=network.database.id,
                kms_key_arn=at.kms_key_arn,
                production=at.production,
                log_retention_days=aws.log_retention_days,
            ),
        )
        self._readers = aws.database.readers
        self.auth_secrets: list[GatewaySecret] = []
        self.url_secrets: list[GatewaySecret] = []
        # LiteLLM's componentized entrypoints build DATABASE_URL from these (with a fresh IAM token) before the
        # proxy reads its config, verifying the server's certificate and the endpoint name against the RDS root
        # (constructs_lib/aws/rds_ca.py).
        self.task_env = {
            "IAM_TOKEN_DB_AUTH": "true",
            **VERIFY_FULL_ENV,
            "DATABASE_HOST": database.endpoint,
            "DATABASE_PORT": "5432",
            "DATABASE_USER": database.app_user,
            "DATABASE_NAME": database.database_name,
            **_region_env(aws.region),
        }
        self.ca_pem: str | None = rds_root_pem(aws.region)
        self.grants = [
            DataAwsIamPolicyDocumentStatement(
                sid="ConnectAsAppUser", actions=["rds-db:connect"], resources=[database.connect_arn]
            )
        ]
        self.bootstrap_secret_arns = [database.master_secret_arn]
        self.one_off_triggers = {"cluster": database.cluster.cluster_resource_id}
        self.one_off_depends_on: Sequence[ITerraformDependable] = database.instances

    def runtime_env(self) -> dict[str, str]:
        if not self._readers:
            return {}
        return {"DATABASE_HOST_READ_REPLICA": self.database.reader_endpoint, "DATABASE_PORT_READ_REPLICA": "5432"}

    def bootstrap_container(self, image: str, log_group: str, region: str) -> ContainerSpec:
        """The psql job that creates the IAM-auth application user, as Aurora's master user."""
        database = self.database
        return ContainerSpec(
            name="psql",
            image=image,
            log_group=log_group,
            region=region,
            env={
                "PGHOST": database.endpoint,
                "PGPORT": "5432",
                "PGUSER": database.master_username,
                "PGDATABASE": database.database_name,
                **PSQL_VERIFY_FULL_ENV,
                "BOOTSTRAP_SQL": _BOOTSTRAP_SQL.format(user=database.app_user, database=database.database_name),
            },
            # `:password::` picks the password field of the RDS-managed JSON secret, at AWSCURRENT.
            secrets={"PGPASSWORD": f"{database.master_secret_arn}:password::"},
            entry_point=["sh", "-c"],
            command=['printf "%s" "$BOOTSTRAP_SQL" | psql -v ON_ERROR_STOP=1'],
        )

    def outputs(self) -> dict[str, GatewayOutput]:
        database = self.database
        return _database_outputs(database.master_secret_arn, self.ca_pem, database.endpoint, database.reader_endpoint)


class ExternalDatabase:
    """A brought PostgreSQL: its URL arrives as a ready DATABASE_URL secret."""

    in_proxy_config = True
    migrates = True
    bootstraps = False

    @staticmethod
    def access(section: AwsDatabaseConfig) -> StoreAccess:
        return StoreAccess(egress=(section.egress_cidrs, section.external_port))

    @staticmethod
    def log_group_names(_: Naming) -> list[str]:
        return []

    def __init__(self, at: StoreScope) -> None:
        self.url = at.secret(
            "database-url",
            DATABASE_URL_ENV,
            "PostgreSQL URL of the brought LiteLLM database: put in out of band with staging label v<version>",
            name=at.aws.database.url_secret,
            version=at.aws.database.url_secret_version,
        )
        self.auth_secrets: list[GatewaySecret] = []
        self.url_secrets = [self.url]
        self.task_env = _region_env(at.aws.region)
        self.ca_pem: str | None = None
        self.grants: list[DataAwsIamPolicyDocumentStatement] = []
        self.bootstrap_secret_arns: list[str] = []
        self.one_off_triggers = {"database_url": self.url.value_from}
        self.one_off_depends_on: Sequence[ITerraformDependable] = []

    def runtime_env(self) -> dict[str, str]:
        return {}

    def bootstrap_container(self, *_: str) -> None:
        return None

    def outputs(self) -> dict[str, GatewayOutput]:
        return {**_database_outputs(), "database_url_secret_arn": _url_secret_output(self.url)}


class NoDatabase:
    """No PostgreSQL: nothing to migrate, no keys stored (the quotas stack is refused with it)."""

    in_proxy_config = False
    migrates = False
    bootstraps = False

    @staticmethod
    def access(_: AwsDatabaseConfig) -> StoreAccess:
        return StoreAccess()

    @staticmethod
    def log_group_names(_: Naming) -> list[str]:
        return []

    def __init__(self, at: StoreScope) -> None:
        self.auth_secrets: list[GatewaySecret] = []
        self.url_secrets: list[GatewaySecret] = []
        self.task_env = _region_env(at.aws.region)
        self.ca_pem: str | None = None
        self.grants: list[DataAwsIamPolicyDocumentStatement] = []
        self.bootstrap_secret_arns: list[str] = []
        self.one_off_triggers: dict[str, str] = {}
        self.one_off_depends_on: Sequence[ITerraformDependable] = []

    def runtime_env(self) -> dict[str, str]:
        return {}

    def bootstrap_container(self, *_: str) -> None:
        return None

    def outputs(self) -> dict[str, GatewayOutput]:
        return _database_outputs()


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


class ExternalCache:
    """A brought Redis: its URL (rediss:// for TLS) arrives as a ready REDIS_URL secret."""

    # The document keeps TLS on (see docs/DESIGN.md); an external Redis is TLS when its URL is `rediss://`.
    in_proxy_config = True

    @staticmethod
    def access(section: AwsCacheConfig) -> StoreAccess:
        return StoreAccess(egress=(section.egress_cidrs, section.external_port))

    def __init__(self, at: StoreScope) -> None:
        self.url = at.secret(
            "redis-url",
            "REDIS_URL",
            "Redis URL (rediss:// for TLS) of the brought LiteLLM cache: put in out of band with label v<version>",
            name=at.aws.cache.url_secret,
            version=at.aws.cache.url_secret_version,
        )
        self.auth_secrets: list[GatewaySecret] = []
        self.url_secrets = [self.url]

    def runtime_env(self) -> dict[str, str]:
        return {}

    def outputs(self) -> dict[str, GatewayOutput]:
        return {**_cache_outputs(), "redis_url_secret_arn": _url_secret_output(self.url)}


class NoCache:
    """No Redis: one gateway process (the config refuses more), no shared cache or rate-limit state."""

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


DATABASE_STORES = {"managed": ManagedDatabase, "external": ExternalDatabase, "none": NoDatabase}
CACHE_STORES = {"managed": ManagedCache, "external": ExternalCache, "none": NoCache}
