"""`clouds.gcp.database.source` as objects: `ManagedDatabase` (Cloud SQL PostgreSQL on a private IP, its password
write-only in Secret Manager), `ExternalDatabase` (a brought PostgreSQL behind a DATABASE_URL secret) and
`NoDatabase`.

    database = DATABASE_STORES[gcp.database.source](store_scope)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cdktf import ITerraformDependable
from constructs import Construct

from constructs_lib._common.ephemeral import ephemeral_random_password
from constructs_lib._common.outputs import GatewayOutput
from constructs_lib.gcp.cloud_sql_connection import CloudSqlConnection, grant_cloud_sql_client, instance_tls
from constructs_lib.gcp.database import GatewayDatabase, GatewayDatabaseProps
from constructs_lib.gcp.gateway.containers import MIGRATIONS_ENTRYPOINT, startup_command
from constructs_lib.gcp.gateway.stores import StoreScope, brought_url_secret, url_secret_output
from constructs_lib.gcp.secrets import GatewaySecret, WriteOnlyValue


def _elsewhere_outputs(
    host: str | None = None, connection_name: str | None = None, replica_host: str | None = None
) -> dict[str, GatewayOutput]:
    return {
        "database_host": GatewayOutput(host),
        "database_connection_name": GatewayOutput(
            connection_name,
            "For the Cloud SQL Auth Proxy, which verifies the server (the private IP has no name in its certificate)",
        ),
        "database_read_replica_host": GatewayOutput(replica_host),
    }


class NoDatabase:
    """No PostgreSQL: nothing to migrate, no keys stored (the quotas stack is refused with it). The base of
    `ExternalDatabase`: neither has a host here, a password of this stack, or a replica."""

    managed = False
    in_proxy_config = False
    migrates = False
    # Whether the containers build DATABASE_URL from the discrete env vars (the managed database's password).
    builds_url = False

    def __init__(self, _: StoreScope) -> None:
        self.secrets: list[GatewaySecret] = []
        self.env: dict[str, str] = {}
        self.replica_ip: str | None = None
        self.migrations_depend_on: Sequence[ITerraformDependable] = ()
        # Cloud Run's Cloud SQL connection: the instances its volume mounts, and the replica's socket env.
        self.cloud_sql_instances: list[str] = []
        self.reader_env: Mapping[str, str] = {}
        # The migrations job's command; None: the image's own entrypoint (a brought database's URL arrives whole).
        self.migrations_command: list[str] | None = None

    def client_grants(self, scope: Construct, project: str, component: str, member: str) -> list[ITerraformDependable]:
        """What `member` needs to connect (beyond reading its secrets)."""
        del scope, project, component, member
        return []

    def outputs(self) -> dict[str, GatewayOutput]:
        return {"database_password_secret_id": GatewayOutput(None)}

    def elsewhere_outputs(self) -> dict[str, GatewayOutput]:
        return _elsewhere_outputs()


class ExternalDatabase(NoDatabase):
    """A brought PostgreSQL: its URL arrives as a ready DATABASE_URL secret; migrations run against it."""

    in_proxy_config = True
    migrates = True

    def __init__(self, at: StoreScope) -> None:
        super().__init__(at)
        self.url = brought_url_secret(at, "database-url", "DATABASE_URL", at.gcp.database)
        self.secrets = [self.url]

    def outputs(self) -> dict[str, GatewayOutput]:
        return {**super().outputs(), "database_url_secret_id": url_secret_output(self.url)}


class ManagedDatabase(NoDatabase):
    """Cloud SQL PostgreSQL on the private network; one ephemeral password, written to the SQL user and to its
    secret in the same apply."""

    managed = True
    in_proxy_config = True
    migrates = True
    builds_url = True

    def __init__(self, at: StoreScope) -> None:
        super().__init__(at)
        password = WriteOnlyValue(
            value=ephemeral_random_password(at.scope, "database_password", length=32),
            version=at.gcp.secrets.database_password_version,
        )
        self.password = at.secret("db-password", "DATABASE_PASSWORD", write_only=password)
        self.secrets = [self.password]
        self.database = database = GatewayDatabase(
            at.scope,
            "database",
            GatewayDatabaseProps(
                naming=at.naming,
                region=at.region,
                network_id=at.network.network_id,
                config=at.gcp.database,
                production=at.production,
                password=password,
                max_connections=at.gcp.database_max_connections(at.production),
                # Cloud Run reaches it through its Cloud SQL connection only (cloud_sql_connection.py).
                **instance_tls(at.gcp.create_runtime, at.gcp.database.allow_private_ip_clients),
                depends_on=[*at.apis.of("sqladmin.googleapis.com"), *at.network.private_services],
            ),
        )
        self.env = {
            "DATABASE_HOST": database.private_ip,
            "DATABASE_PORT": "5432",
            "DATABASE_USER": database.user.name,
            "DATABASE_NAME": database.database.name,
        }
        self.replica_ip = database.replica_private_ip
        self.migrations_depend_on = (database.user, database.database)
        self._runtime_here = at.gcp.create_runtime
        if self._runtime_here:
            self.env |= CloudSqlConnection(database.connection_name).env
        connection = CloudSqlConnection(database.connection_name, database.replica_connection_name)
        self.cloud_sql_instances = connection.instances
        self.reader_env = connection.reader_env
        # The image's entrypoint (python3 /app/run.py, BerriAI/litellm migrations/Dockerfile) after the socket URL.
        self.migrations_command = startup_command(MIGRATIONS_ENTRYPOINT, build_database_url=True, replica=False)

    def client_grants(self, scope: Construct, project: str, component: str, member: str) -> list[ITerraformDependable]:
        """`roles/cloudsql.client` on exactly these instances, for the Cloud SQL connection (runtime here only)."""
        if not self._runtime_here:
            return []
        instances = self.database.instance_names
        return [grant_cloud_sql_client(scope, f"sql-client-{component}", project, member, instances)]

    def outputs(self) -> dict[str, GatewayOutput]:
        return {"database_password_secret_id": GatewayOutput(self.password.id)}

    def elsewhere_outputs(self) -> dict[str, GatewayOutput]:
        return _elsewhere_outputs(self.database.private_ip, self.database.connection_name, self.replica_ip or None)


DATABASE_STORES = {"managed": ManagedDatabase, "external": ExternalDatabase, "none": NoDatabase}
