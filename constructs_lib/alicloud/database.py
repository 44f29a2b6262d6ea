"""ApsaraDB RDS PostgreSQL for LiteLLM: private only, TLS, encrypted disks, backups, protected in production.

The whitelist holds `127.0.0.1` (nothing) and the gateway security group: only the gateway instances reach it.
The account password is the generated `db-password` secret's value, so KMS holds the credential the
instances use; a `database_password_version` bump rotates both in one apply.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from constructs import Construct

from constructs_lib._common.errors import PropsError
from constructs_lib._common.naming import Naming
from constructs_lib.config.alicloud import AlicloudDatabaseConfig
from imports.alicloud.db_account_privilege import DbAccountPrivilege
from imports.alicloud.db_backup_policy import DbBackupPolicy
from imports.alicloud.db_database import DbDatabase
from imports.alicloud.db_instance import DbInstance, DbInstanceParameters
from imports.alicloud.rds_account import RdsAccount

DATABASE_NAME = "litellm"
ACCOUNT_NAME = "litellm"
# RDS PostgreSQL instance types by edition, from the primary-instance type tables of
# https://help.aliyun.com/document_detail/276990.htm ("规格清单"): the Basic Edition (基础系列) table, standard
# (general-purpose and dedicated) and YiTian rows. A Basic instance takes only these; a High-availability instance
# takes the High-availability (高可用系列) table, where none of these appears (its general-purpose 2-core row is
# pg.n2.2c.2m).
BASIC_CLASSES = frozenset(
    {
        "pg.n2.2c.1m", "pg.n4.2c.1m", "pg.n2.4c.1m", "pg.n4.4c.1m", "pg.n4.6c.1m", "pg.n4.8c.1m",
        "pg.x8.medium.1", "pg.x8.large.1", "pg.x8.xlarge.1", "pg.x4.2xlarge.1", "pg.x8.2xlarge.1",
        "pg.x4.4xlarge.1", "pg.x8.4xlarge.1",
        "pg.n1e.1c.1m", "pg.n2e.1c.1m", "pg.n1e.2c.1m", "pg.n2e.2c.1m",
    }
)  # fmt: skip
# YiTian types (pg.n<k>e.*) need PostgreSQL 13 or later (same page).
YITIAN_MIN_ENGINE = 13.0
DEFAULT_CLASS = {"Basic": "pg.n2.2c.1m", "HighAvailability": "pg.n2.2c.2m"}


def yitian(instance_type: str) -> bool:
    return instance_type.split(".")[1].endswith("e")


# Connection and statement logging for audit (the values PostgreSQL takes).
AUDIT_PARAMETERS = {"log_connections": "on", "log_disconnections": "on", "log_duration": "on"}


@dataclass(frozen=True)
class GatewayDatabaseProps:
    naming: Naming
    config: AlicloudDatabaseConfig
    zones: Sequence[str]
    vswitch_ids: Sequence[str]
    security_group_id: str
    password: str
    kms_key_id: str
    production: bool = False

    @property
    def high_availability(self) -> bool:
        return self.production if self.config.high_availability is None else self.config.high_availability

    @property
    def category(self) -> str:
        return "HighAvailability" if self.high_availability else "Basic"

    @property
    def instance_type(self) -> str:
        return self.config.instance_type or DEFAULT_CLASS[self.category]

    @property
    def deletion_protection(self) -> bool:
        return self.production if self.config.deletion_protection is None else self.config.deletion_protection

    def __post_init__(self) -> None:
        if self.production and not self.deletion_protection:
            raise PropsError(
                "clouds.alicloud.database.deletion_protection", "production databases keep deletion protection on"
            )
        if self.high_availability and len(self.zones) < 2:
            raise PropsError("clouds.alicloud.database.high_availability", "a standby needs a second zone")
        basic_type = self.instance_type in BASIC_CLASSES
        if self.category == "Basic" and not basic_type:
            raise PropsError(
                "clouds.alicloud.database.instance_type",
                f"{self.instance_type} is not a Basic Edition type (a single-node database; Basic types end in `.1m` "
                f"or `.1`, e.g. {DEFAULT_CLASS['Basic']}); set high_availability: true for High-availability types",
            )
        if self.category == "HighAvailability" and basic_type:
            raise PropsError(
                "clouds.alicloud.database.instance_type",
                f"{self.instance_type} is a Basic Edition type; a High-availability database needs a type of that "
                f"edition, e.g. {DEFAULT_CLASS['HighAvailability']}",
            )
        if yitian(self.instance_type) and float(self.config.engine_version) < YITIAN_MIN_ENGINE:
            raise PropsError("clouds.alicloud.database.engine_version", "YiTian types need PostgreSQL 13 or later")


class GatewayDatabase(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: GatewayDatabaseProps) -> None:
        super().__init__(scope, construct_id)
        config, ha = props.config, props.high_availability
        self.instance = DbInstance(
            self,
            "instance",
            instance_name=props.naming.name("litellm", "alicloud_db_instance"),
            engine="PostgreSQL",
            engine_version=config.engine_version,
            instance_type=props.instance_type,
            instance_storage=config.storage_gb,
            db_instance_storage_type="cloud_essd",
            category=props.category,
            instance_charge_type="Postpaid",
            zone_id=props.zones[0],
            zone_id_slave_a=props.zones[1] if ha else None,
            # One vSwitch per zone the instance spans, comma-separated.
            vswitch_id=",".join(props.vswitch_ids[:2]) if ha else props.vswitch_ids[0],
            # Private only: no public connection string is ever requested; the whitelist admits the gateway SG.
            security_ips=["127.0.0.1"],
            security_group_ids=[props.security_group_id],
            ssl_action="Open",
            encryption_key=props.kms_key_id,
            deletion_protection=props.deletion_protection,
            auto_upgrade_minor_version="Auto",
            sql_collector_status="Enabled",
            sql_collector_config_value=180,
            monitoring_period=60,
            storage_auto_scale="Enable",
            storage_threshold=20,
            storage_upper_bound=config.storage_gb * 4,
            parameters=[DbInstanceParameters(name=name, value=value) for name, value in AUDIT_PARAMETERS.items()],
        )
        DbBackupPolicy(
            self,
            "backups",
            instance_id=self.instance.id,
            backup_retention_period=config.backup_retention_days,
            preferred_backup_period=["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
            preferred_backup_time="18:00Z-19:00Z",
            enable_backup_log=True,
            log_backup_retention_period=config.backup_retention_days,
            released_keep_policy="Lastest" if props.production else "None",
        )
        self.account = RdsAccount(
            self,
            "account",
            db_instance_id=self.instance.id,
            account_name=ACCOUNT_NAME,
            account_password=props.password,
            account_type="Normal",
            account_description="LiteLLM proxy",
        )
        self.database = DbDatabase(
            self,
            "database",
            instance_id=self.instance.id,
            data_base_name=DATABASE_NAME,
            character_set="UTF8",
            description="LiteLLM keys, teams, budgets and spend logs",
        )
        self.privilege = DbAccountPrivilege(
            self,
            "owner",
            instance_id=self.instance.id,
            account_name=self.account.account_name,
            db_names=[self.database.data_base_name],
            privilege="DBOwner",
        )

    @property
    def host(self) -> str:
        return self.instance.connection_string

    @property
    def port(self) -> str:
        return self.instance.port
