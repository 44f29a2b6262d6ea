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
# A client that connects straight to Aurora rather than through the gateway task's PgBouncer (the backend, the spend
# collector) logs in as a role of its own: a member of the application user, so it inherits its privileges on
# LiteLLM's tables, views and sequences (https://www.postgresql.org/docs/16/role-membership.html), and capped by
# CONNECTION LIMIT, which the server enforces per role on each instance ("too many connections for role",
# https://www.postgresql.org/docs/16/sql-createrole.html). A re-run sets the limit the config now sizes. The master
# (CREATEROLE, not a superuser) may grant and alter them: on PostgreSQL 16 the roles it creates are granted to it WITH
# ADMIN OPTION ("Such a grant occurs automatically when a CREATEROLE user that is not a superuser creates a new role",
# https://www.postgresql.org/docs/16/role-attributes.html).
_CLIENT_ROLE_SQL = """DO $$
BEGIN
  CREATE USER {role};
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
GRANT rds_iam TO {role};
GRANT {user} TO {role};
ALTER ROLE {role} CONNECTION LIMIT {limit};
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
        self._client_roles = self._client_role_limits(at)
        self.client_env = {client: {"DATABASE_USER": role} for client, (role, _) in self._client_roles.items()}
        users = {family: database.app_user for family in ("gateway", "backend", "migrations")}
        users |= {client: role for client, (role, _) in self._client_roles.items()}
        self.grants = {family: [self._connect_as(users[family])] for family in ("gateway", "backend", "migrations")}
        if "collector" in users:
            # The collector is a sidecar of the gateway task: its task role connects as the collector's role too.
            self.grants["gateway"].append(self._connect_as(users["collector"]))
        self.bootstrap_secret_arns = [database.master_secret_arn]
        self.one_off_triggers = {"cluster": database.cluster.cluster_resource_id}
        self.one_off_depends_on: Sequence[ITerraformDependable] = database.instances

    def _connect_as(self, user: str) -> DataAwsIamPolicyDocumentStatement:
        database = self.database
        role = "App" if user == database.app_user else user.removeprefix(f"{database.app_user}_").title()
        return DataAwsIamPolicyDocumentStatement(
            sid=f"ConnectAs{role}User", actions=["rds-db:connect"], resources=[database.connect_arn(user)]
        )

    @staticmethod
    def _client_role_limits(at: StoreScope) -> dict[str, tuple[str, int]]:
        """client -> (login role, CONNECTION LIMIT) of the backend and, when on, the spend collector; none without the
        runtime (no bootstrap job runs there to create them, the tasks elsewhere connect as the application user)."""
        aws = at.aws
        if not aws.create_runtime:
            return {}
        limits = aws.role_connection_limits(at.production)
        return {client: (f"{aws.database.app_user}_{client}", limit) for client, limit in limits.items()}

    def runtime_env(self) -> dict[str, str]:
        if not self._readers:
            return {}
        return {"DATABASE_HOST_READ_REPLICA": self.database.reader_endpoint, "DATABASE_PORT_READ_REPLICA": "5432"}

    def bootstrap_sql(self) -> str:
        """The application user, then the clients' own login roles with their connection limits."""
        database = self.database
        sql = _BOOTSTRAP_SQL.format(user=database.app_user, database=database.database_name)
        for role, limit in self._client_roles.values():
            sql += _CLIENT_ROLE_SQL.format(role=role, user=database.app_user, limit=limit)
        return sql

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
                "BOOTSTRAP_SQL": self.bootstrap_sql(),
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
        self.grants: dict[str, list[DataAwsIamPolicyDocumentStatement]] = {}
        self.client_env: dict[str, dict[str, str]] = {}
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
