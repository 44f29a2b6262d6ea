"""Cloud SQL reached through Cloud Run's built-in Cloud SQL connection, which authenticates the server.

    connection = CloudSqlConnection(writer=db.connection_name, reader=db.replica_connection_name)
    connection.env, connection.reader_env  # DATABASE_HOST(_READ_REPLICA): the socket directories
    database_url("$DATABASE_HOST", pool)   # the Prisma URL a container's start command exports
    grant_cloud_sql_client(self, "sql-client-gateway", project, member, [instance_name, ...])

The private IP has no name in the instance's certificate, and LiteLLM turns verify-ca/verify-full into Prisma's
`sslaccept=strict` (chain and hostname, litellm/proxy/db/db_url_settings.py:221-254), so a TCP URL can be encrypted
but never verified. A Cloud Run `cloud_sql_instance` volume instead puts a Unix socket per instance under
`/cloudsql/<connection name>`; behind it Cloud Run's Cloud SQL Auth Proxy opens an mTLS tunnel in which client and
server identities are verified whatever the instance's SSL mode
(https://cloud.google.com/sql/docs/postgres/configure-ssl-instance). With no public IP the proxy dials the
private one (GoogleCloudPlatform/cloud-sql-proxy#848, a maintainer's answer), over the service's VPC egress, on
port 3307, the proxy protocol's port (cloud-sql-proxy#370): an egress rule added to the network must let it through.

Prisma takes a socket directory as the `host` query parameter next to a placeholder host name
(`postgresql://<user>@localhost/<db>?host=/cloudsql/<connection name>`, the password as usual; Prisma's PostgreSQL
connector page, https://www.prisma.io/docs/orm/overview/databases/postgresql, and prisma/orm#1508 for Cloud Run); the
socket in that directory is `.s.PGSQL.<port>`, as for libpq.

The proxy needs `cloudsql.instances.connect`/`get` (roles/cloudsql.client,
https://cloud.google.com/sql/docs/postgres/connect-run). Cloud SQL has no instance-level IAM policy (the google
provider at v6.50.0 has no `google_sql_database_instance_iam_*` resource), so the role is bound on the project with
an IAM condition naming the instances, as Google's own sample does
(terraform-google-modules/terraform-docs-samples, cloud_sql/instance_iam_condition/main.tf).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_google.project_iam_member import ProjectIamMember, ProjectIamMemberCondition
from constructs import Construct

# Where Cloud Run mounts the sockets (the volume's mount path), one directory per instance connection name.
SOCKET_ROOT = "/cloudsql"
VOLUME = "cloudsql"
CLIENT_ROLE = "roles/cloudsql.client"
# Only clients with a certificate the instance trusts, i.e. the Auth Proxy / connectors, may connect: a password
# alone over the private IP is refused (IpConfiguration.SslMode TRUSTED_CLIENT_CERTIFICATE_REQUIRED,
# https://cloud.google.com/sql/docs/postgres/configure-ssl-instance).
SSL_MODE = "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"
# "You must select the per-instance CA option (GOOGLE_MANAGED_INTERNAL_CA) as the server CA mode for instances that
# you want to connect to from web applications" (https://cloud.google.com/sql/docs/postgres/connect-run).
SERVER_CA_MODE = "GOOGLE_MANAGED_INTERNAL_CA"
# The placeholder host Prisma's socket URLs carry; the `host` parameter wins over it.
PLACEHOLDER_HOST = "localhost"


def instance_tls(cloud_run_here: bool, allow_private_ip_clients: bool) -> dict[str, str]:
    """ip_configuration settings for GatewayDatabaseProps: {} keeps the database construct's defaults (TLS required,
    no client certificate) for a runtime elsewhere; Cloud Run here gets the connector's CA mode and, unless a live
    environment is moving onto the socket (its old revisions still dial the private IP), the connector-only mode."""
    if not cloud_run_here:
        return {}
    return {"server_ca_mode": SERVER_CA_MODE} | ({} if allow_private_ip_clients else {"ssl_mode": SSL_MODE})


def socket_dir(connection_name: str) -> str:
    return f"{SOCKET_ROOT}/{connection_name}"


@dataclass(frozen=True)
class CloudSqlConnection:
    """The instances one workload reaches: the writer, and the read replica when the stack has one."""

    writer: str
    reader: str | None = None

    @property
    def instances(self) -> list[str]:
        """Connection names for the `cloud_sql_instance` volume."""
        return [self.writer, *([self.reader] if self.reader else [])]

    @property
    def env(self) -> Mapping[str, str]:
        """The writer's socket directory (libpq's notion of a host: a directory means a Unix socket in it)."""
        return {"DATABASE_HOST": socket_dir(self.writer), "DATABASE_PORT": "5432"}

    @property
    def reader_env(self) -> Mapping[str, str]:
        """The replica's, for the services that read through it (LiteLLM opts in on DATABASE_HOST_READ_REPLICA)."""
        return {"DATABASE_HOST_READ_REPLICA": socket_dir(self.reader)} if self.reader else {}


def database_url(host: str, params: Mapping[str, str | int] | None = None) -> str:
    """The Prisma URL a start command exports (`$NAME` expanded by the shell; the password comes from Secret
    Manager); `host` is a socket directory. No `sslmode`: the socket is local, the proxy behind it does the TLS."""
    query = "&".join([f"host={host}", *(f"{key}={value}" for key, value in (params or {}).items())])
    return f"postgresql://$DATABASE_USER:$DATABASE_PASSWORD@{PLACEHOLDER_HOST}:$DATABASE_PORT/$DATABASE_NAME?{query}"


def instance_condition(project: str, instance_names: Sequence[str]) -> str:
    """The CEL expression that limits a project-level Cloud SQL binding to these instances."""
    names = " || ".join(f"resource.name == 'projects/{project}/instances/{name}'" for name in instance_names)
    return f"resource.type == 'sqladmin.googleapis.com/Instance' && ({names})"


def grant_cloud_sql_client(
    scope: Construct, construct_id: str, project: str, member: str, instance_names: Sequence[str]
) -> ProjectIamMember:
    """roles/cloudsql.client for `member` on exactly these instances."""
    return ProjectIamMember(
        scope,
        construct_id,
        project=project,
        role=CLIENT_ROLE,
        member=member,
        condition=ProjectIamMemberCondition(
            title="gateway-database-only",
            description="Cloud Run's Cloud SQL connection to the gateway's own instances",
            expression=instance_condition(project, instance_names),
        ),
    )
