"""`clouds.aws.database.source` as objects: `ManagedDatabase` (Aurora PostgreSQL, IAM auth, verify-full TLS),
`ExternalDatabase` (a brought PostgreSQL behind a DATABASE_URL secret) and `NoDatabase`, each a `Database`
(stores.py).

    database = DATABASE_STORES[aws.database.source](store_scope)
"""

from __future__ import annotations

from collections.abc import Sequence

from cdktf import ITerraformDependable
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import DataAwsIamPolicyDocumentStatement

from constructs_lib._common.litellm_config import DATABASE_URL_ENV
from constructs_lib._common.naming import Naming
from constructs_lib._common.outputs import GatewayOutput
from constructs_lib.aws.database import (
    GatewayDatabase,
    GatewayDatabaseProps,
    cluster_identifier,
    postgres_log_group_name,
)
from constructs_lib.aws.ecs_service import ContainerSpec
from constructs_lib.aws.gateway.stores import StoreAccess, StoreScope, url_secret_output
from constructs_lib.aws.rds_ca import PSQL_VERIFY_FULL_ENV, VERIFY_FULL_ENV, rds_root_pem
from constructs_lib.aws.secrets import GatewaySecret
from constructs_lib.config.aws import AwsDatabaseConfig

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


def _region_env(region: str) -> dict[str, str]:
    return {"AWS_REGION": region, "AWS_REGION_NAME": region}


def _database_outputs(
    master_secret_arn: str | None = None,
    ca_pem: str | None = None,
    writer: str | None = None,
    reader: str | None = None,
) -> dict[str, GatewayOutput]:
    """The database outputs every mode has (null where the mode has no Aurora)."""
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


class NoDatabase:
    """No PostgreSQL: nothing to migrate, no keys stored (the quotas stack is refused with it). The base of
    `ExternalDatabase`: neither has an IAM grant, a CA bundle here, or a bootstrap job."""

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


class ExternalDatabase(NoDatabase):
    """A brought PostgreSQL: its URL arrives as a ready DATABASE_URL secret; migrations run against it."""

    in_proxy_config = True
    migrates = True

    @staticmethod
    def access(section: AwsDatabaseConfig) -> StoreAccess:
        return StoreAccess(egress=(section.egress_cidrs, section.external_port))

    def __init__(self, at: StoreScope) -> None:
        super().__init__(at)
        self.url = at.secret(
            "database-url",
            DATABASE_URL_ENV,
            "PostgreSQL URL of the brought LiteLLM database: put in out of band with staging label v<version>",
            name=at.aws.database.url_secret,
            version=at.aws.database.url_secret_version,
        )
        self.url_secrets = [self.url]
        self.one_off_triggers = {"database_url": self.url.value_from}

    def outputs(self) -> dict[str, GatewayOutput]:
        return {**_database_outputs(), "database_url_secret_arn": url_secret_output(self.url)}


DATABASE_STORES = {"managed": ManagedDatabase, "external": ExternalDatabase, "none": NoDatabase}
