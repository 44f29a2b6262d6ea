"""Cloud SQL for PostgreSQL 16: private IP only, TLS required, PITR backups, deletion protection, insights.

    db = GatewayDatabase(self, "database", GatewayDatabaseProps(naming=..., region=..., network_id=...,
        config=gcp.database, production=True, password=WriteOnlyValue(value=<ephemeral>, version=1)))
    db.connection_name, db.replica_connection_name, db.instance_names, db.private_ip

Cloud Run reaches it through its Cloud SQL connection (cloud_sql_connection.py: a socket behind the Auth Proxy,
which verifies the server); `max_connections` is the flag the Prisma pools are sized against.
Password authentication: LiteLLM's IAM-auth helper mints AWS RDS and Azure tokens only. The password is generated
ephemerally and written twice through write-only arguments (the SQL user's `password_wo` and the Secret Manager
version's `secret_data_wo`), so it is in neither plan nor state; bumping
`clouds.gcp.secrets.database_password_version` rotates both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf import ITerraformDependable, TerraformResourceLifecycle
from cdktf_cdktf_provider_google.data_google_project import DataGoogleProject
from cdktf_cdktf_provider_google.kms_crypto_key_iam_member import KmsCryptoKeyIamMember
from cdktf_cdktf_provider_google.sql_database import SqlDatabase
from cdktf_cdktf_provider_google.sql_database_instance import (
    SqlDatabaseInstance,
    SqlDatabaseInstanceSettings,
    SqlDatabaseInstanceSettingsBackupConfiguration,
    SqlDatabaseInstanceSettingsBackupConfigurationBackupRetentionSettings,
    SqlDatabaseInstanceSettingsDatabaseFlags,
    SqlDatabaseInstanceSettingsInsightsConfig,
    SqlDatabaseInstanceSettingsIpConfiguration,
    SqlDatabaseInstanceSettingsMaintenanceWindow,
)
from cdktf_cdktf_provider_google.sql_user import SqlUser
from constructs import Construct

from constructs_lib._common.naming import Naming
from constructs_lib.config.gcp import GcpDatabaseConfig
from constructs_lib.gcp.secrets import WriteOnlyValue

DATABASE_VERSION = "POSTGRES_16"
DATABASE_NAME = "litellm"
USER_NAME = "litellm"
# Without a runtime here (dependencies-only mode) the runtime elsewhere may connect over the private IP: TLS
# required, client certificates not. With one, cloud_sql_connection.SSL_MODE: only the Auth Proxy's mTLS.
SSL_MODE = "ENCRYPTED_ONLY"
# disk_autoresize grows the disk; a later plan would read the configured size as a shrink, which replaces the
# instance (data loss). The size is set at creation only.
_IGNORE_DISK_SIZE = TerraformResourceLifecycle(ignore_changes=["settings[0].disk_size"])


@dataclass(frozen=True)
class GatewayDatabaseProps:
    naming: Naming
    region: str
    network_id: str
    config: GcpDatabaseConfig
    production: bool
    password: WriteOnlyValue
    # ip_configuration.ssl_mode / server_ca_mode (cloud_sql_connection.py when Cloud Run connects through sockets).
    ssl_mode: str = SSL_MODE
    # The `max_connections` flag the Prisma pools are sized against (constructs_lib/config/db_connections.py).
    max_connections: int | None = None
    server_ca_mode: str | None = None
    # Private Services Access peering (and APIs): the instance takes its private IP from the peered range.
    depends_on: Sequence[ITerraformDependable] = ()


def _database_flags(max_connections: int | None) -> list[SqlDatabaseInstanceSettingsDatabaseFlags]:
    """The instances' flags (writer and replica)."""
    # Audit-grade logging (CIS PostgreSQL on Cloud SQL): connections, checkpoints, schema changes through
    # pgAudit, errors and durations. No slow-statement text: PostgreSQL logs it with its bind values (spend
    # rows, emails, key hashes); CIS GCP 6.2.7 asks for log_min_duration_statement -1. Query Insights shows slow
    # queries normalized, without values.
    return [
        SqlDatabaseInstanceSettingsDatabaseFlags(name=name, value=value)
        for name, value in (
            ("cloudsql.enable_pgaudit", "on"),
            ("pgaudit.log", "ddl,role"),
            ("log_checkpoints", "on"),
            ("log_connections", "on"),
            ("log_disconnections", "on"),
            ("log_duration", "on"),
            ("log_hostname", "on"),
            ("log_lock_waits", "on"),
            ("log_min_duration_statement", "-1"),
            ("log_min_error_statement", "error"),
            ("log_min_messages", "warning"),
            ("log_statement", "ddl"),
            *((("max_connections", str(max_connections)),) if max_connections else ()),
        )
    ]


class GatewayDatabase(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: GatewayDatabaseProps) -> None:
        super().__init__(scope, construct_id)
        config, naming = props.config, props.naming
        high_availability = props.production if config.high_availability is None else config.high_availability
        depends_on = list(props.depends_on)
        if config.cmek_key:
            depends_on.append(self._grant_key_to_cloud_sql(config.cmek_key))
        ip_configuration = SqlDatabaseInstanceSettingsIpConfiguration(
            ipv4_enabled=False,
            private_network=props.network_id,
            ssl_mode=props.ssl_mode,
            server_ca_mode=props.server_ca_mode,
            enable_private_path_for_google_cloud_services=False,
        )
        flags = _database_flags(props.max_connections)
        self.instance = SqlDatabaseInstance(
            self,
            "instance",
            name=naming.name("pg", "google_sql_database_instance"),
            region=props.region,
            database_version=DATABASE_VERSION,
            deletion_protection=config.deletion_protection,
            encryption_key_name=config.cmek_key,
            settings=SqlDatabaseInstanceSettings(
                edition=config.edition,
                tier=config.tier,
                availability_type="REGIONAL" if high_availability else "ZONAL",
                disk_type="PD_SSD",
                disk_size=config.disk_size_gb,
                disk_autoresize=True,
                deletion_protection_enabled=config.deletion_protection,
                ip_configuration=ip_configuration,
                backup_configuration=SqlDatabaseInstanceSettingsBackupConfiguration(
                    enabled=True,
                    point_in_time_recovery_enabled=True,
                    start_time="03:00",
                    transaction_log_retention_days=min(7, config.backup_retention_days),
                    backup_retention_settings=SqlDatabaseInstanceSettingsBackupConfigurationBackupRetentionSettings(
                        retained_backups=config.backup_retention_days, retention_unit="COUNT"
                    ),
                ),
                insights_config=SqlDatabaseInstanceSettingsInsightsConfig(
                    query_insights_enabled=True,
                    record_application_tags=True,
                    record_client_address=True,
                    query_string_length=1024,
                ),
                maintenance_window=SqlDatabaseInstanceSettingsMaintenanceWindow(day=7, hour=4, update_track="stable"),
                database_flags=flags,
                retain_backups_on_delete=True,
            ),
            depends_on=depends_on,
            lifecycle=_IGNORE_DISK_SIZE,
        )
        self.replica = self._replica(props, ip_configuration, flags) if config.read_replica else None
        # ABANDON on both: the app role owns every table the migrations create, so Postgres refuses DROP ROLE
        # (and dropping the database would lose data); deleting the instance removes both anyway.
        self.database = SqlDatabase(
            self, "database", name=DATABASE_NAME, instance=self.instance.name, deletion_policy="ABANDON"
        )
        self.user = SqlUser(
            self,
            "user",
            name=USER_NAME,
            instance=self.instance.name,
            password_wo=props.password.value,
            password_wo_version=props.password.version,
            deletion_policy="ABANDON",
        )

    def _replica(
        self,
        props: GatewayDatabaseProps,
        ip_configuration: SqlDatabaseInstanceSettingsIpConfiguration,
        flags: list[SqlDatabaseInstanceSettingsDatabaseFlags],
    ) -> SqlDatabaseInstance:
        """The read replica: the writer's network, TLS and flags, zonal."""
        config, naming = props.config, props.naming
        return SqlDatabaseInstance(
            self,
            "replica",
            name=naming.name("pg-replica", "google_sql_database_instance"),
            region=props.region,
            database_version=DATABASE_VERSION,
            master_instance_name=self.instance.name,
            deletion_protection=config.deletion_protection,
            encryption_key_name=config.cmek_key,
            settings=SqlDatabaseInstanceSettings(
                edition=config.edition,
                tier=config.tier,
                availability_type="ZONAL",
                disk_type="PD_SSD",
                disk_autoresize=True,
                deletion_protection_enabled=config.deletion_protection,
                ip_configuration=ip_configuration,
                insights_config=SqlDatabaseInstanceSettingsInsightsConfig(query_insights_enabled=True),
                database_flags=flags,
            ),
            lifecycle=_IGNORE_DISK_SIZE,
        )

    def _grant_key_to_cloud_sql(self, key: str) -> KmsCryptoKeyIamMember:
        """The Cloud SQL service agent must be able to use the key before the instance is created.

        The agent exists once `gcloud beta services identity create --service=sqladmin.googleapis.com` ran
        (or the project created a CMEK instance before); the provider's GA resources cannot create it.
        """
        project = DataGoogleProject(self, "project")
        return KmsCryptoKeyIamMember(
            self,
            "cmek-agent",
            crypto_key_id=key,
            role="roles/cloudkms.cryptoKeyEncrypterDecrypter",
            member=f"serviceAccount:service-{project.number}@gcp-sa-cloud-sql.iam.gserviceaccount.com",
        )

    @property
    def private_ip(self) -> str:
        return self.instance.private_ip_address

    @property
    def replica_private_ip(self) -> str | None:
        return self.replica.private_ip_address if self.replica else None

    @property
    def connection_name(self) -> str:
        return self.instance.connection_name

    @property
    def replica_connection_name(self) -> str | None:
        return self.replica.connection_name if self.replica else None

    @property
    def instance_names(self) -> list[str]:
        return [self.instance.name, *([self.replica.name] if self.replica else [])]
