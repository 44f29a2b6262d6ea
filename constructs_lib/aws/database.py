"""Aurora PostgreSQL for LiteLLM: writer + readers, IAM database authentication, SSL enforced, CMK-encrypted.

    database = GatewayDatabase(self, "database", GatewayDatabaseProps(naming=..., config=aws.database, ...))
    database.endpoint, database.reader_endpoint, database.master_secret_arn, database.connect_arn(user)

The master password is generated and kept by RDS in Secrets Manager (`manage_master_user_password`, rotated by
RDS), so it is never a Terraform value; only the one-off bootstrap task reads it, to create the IAM-auth user
the applications connect as. `rds.force_ssl` refuses unencrypted connections.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.db_parameter_group import DbParameterGroup, DbParameterGroupParameter
from cdktf_cdktf_provider_aws.db_subnet_group import DbSubnetGroup
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from cdktf_cdktf_provider_aws.rds_cluster import RdsCluster
from cdktf_cdktf_provider_aws.rds_cluster_instance import RdsClusterInstance
from cdktf_cdktf_provider_aws.rds_cluster_parameter_group import (
    RdsClusterParameterGroup,
    RdsClusterParameterGroupParameter,
)
from constructs import Construct

from constructs_lib._common.errors import PropsError
from constructs_lib._common.naming import Naming
from constructs_lib.aws.iam import service_trust
from constructs_lib.aws.rds_ca import CA_CERT_IDENTIFIER
from constructs_lib.config.aws import AwsDatabaseConfig

ENGINE = "aurora-postgresql"
POSTGRES_PORT = 5432
MONITORING_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
# Cluster parameters: TLS only; connection and DDL logging for the audit trail. No slow-statement text: PostgreSQL
# logs a slow extended-protocol statement with its bind values (`log_parameter_max_length` defaults to -1, "in
# full": https://www.postgresql.org/docs/16/runtime-config-logging.html), and LiteLLM binds spend rows, emails and
# key hashes. Slow queries are found with Performance Insights (normalized text, no values) instead.
CLUSTER_PARAMETERS = {
    "rds.force_ssl": "1",
    "log_connections": "1",
    "log_disconnections": "1",
    "log_min_duration_statement": "-1",
    "log_statement": "ddl",
}


def cluster_identifier(naming: Naming) -> str:
    return naming.name("litellm")


def postgres_log_group_name(cluster_identifier: str) -> str:
    """Where RDS exports the cluster's `postgresql` log (`enabled_cloudwatch_logs_exports`).

    https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraPostgreSQL.CloudWatch.html: "Aurora
    PostgreSQL ... log group /aws/rds/cluster/<cluster-name>/postgresql"; created by RDS without encryption or
    retention unless it exists first.
    """
    return f"/aws/rds/cluster/{cluster_identifier}/postgresql"


@dataclass(frozen=True)
class GatewayDatabaseProps:
    naming: Naming
    config: AwsDatabaseConfig
    account_id: str
    region: str
    subnet_ids: Sequence[str]
    security_group_id: str
    kms_key_arn: str
    production: bool
    log_retention_days: int


class GatewayDatabase(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: GatewayDatabaseProps) -> None:
        super().__init__(scope, construct_id)
        config, naming = props.config, props.naming
        if len(props.subnet_ids) < 2:
            raise PropsError("clouds.aws.network", "Aurora needs subnets in at least two AZs")
        if props.production and not config.deletion_protection:
            raise PropsError("clouds.aws.database.deletion_protection", "must stay true in production environments")
        identifier = cluster_identifier(naming)
        parameters = RdsClusterParameterGroup(
            self,
            "parameters",
            name=naming.name("litellm-cluster"),
            family=f"{ENGINE}{config.engine_version.split('.')[0]}",
            description="LiteLLM Aurora PostgreSQL: TLS only, connection and DDL logging",
            parameter=[
                RdsClusterParameterGroupParameter(name=name, value=value, apply_method="pending-reboot")
                for name, value in CLUSTER_PARAMETERS.items()
            ],
        )
        # max_connections is an instance-level parameter ("the max_connections parameter in the instance-level
        # parameter group", https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraPostgreSQL.Managing.html):
        # set explicitly, so the gateway's connection budget (AwsConfig.connection_budget) is checked against it.
        self.max_connections = config.max_connections_or_default(props.production)
        self.instance_parameters = DbParameterGroup(
            self,
            "instance-parameters",
            name=naming.name("litellm-instance"),
            family=f"{ENGINE}{config.engine_version.split('.')[0]}",
            description="LiteLLM Aurora PostgreSQL instances: max_connections sized with the gateway's PgBouncers",
            parameter=[
                DbParameterGroupParameter(
                    name="max_connections", value=str(self.max_connections), apply_method="pending-reboot"
                )
            ],
        )
        subnets = DbSubnetGroup(
            self,
            "subnets",
            name=naming.name("litellm-db"),
            subnet_ids=list(props.subnet_ids),
            description="LiteLLM Aurora",
        )
        # Owned here, before the cluster exports to it: the gateway key and a retention period.
        self.log_group = CloudwatchLogGroup(
            self,
            "postgresql-logs",
            name=postgres_log_group_name(identifier),
            retention_in_days=props.log_retention_days,
            kms_key_id=props.kms_key_arn,
        )
        self.cluster = RdsCluster(
            self,
            "cluster",
            cluster_identifier=identifier,
            engine=ENGINE,
            engine_mode="provisioned",
            engine_version=config.engine_version,
            database_name=config.database_name,
            master_username=config.master_username,
            manage_master_user_password=True,
            master_user_secret_kms_key_id=props.kms_key_arn,
            iam_database_authentication_enabled=True,
            storage_encrypted=True,
            kms_key_id=props.kms_key_arn,
            db_subnet_group_name=subnets.name,
            vpc_security_group_ids=[props.security_group_id],
            db_cluster_parameter_group_name=parameters.name,
            port=POSTGRES_PORT,
            backup_retention_period=config.backup_retention_days,
            preferred_backup_window="03:00-05:00",
            preferred_maintenance_window="sun:05:30-sun:06:30",
            copy_tags_to_snapshot=True,
            deletion_protection=config.deletion_protection,
            skip_final_snapshot=False,
            final_snapshot_identifier=f"{identifier}-final",
            enabled_cloudwatch_logs_exports=["postgresql"],
            depends_on=[self.log_group],
        )
        self.instances = self._instances(props, subnets.name)
        self.endpoint = self.cluster.endpoint
        self.reader_endpoint = self.cluster.reader_endpoint
        self.database_name = config.database_name
        self.app_user = config.app_user
        self.master_username = config.master_username
        self.master_secret_arn = self.cluster.master_user_secret.get(0).secret_arn
        self._dbuser_arn_prefix = f"arn:aws:rds-db:{props.region}:{props.account_id}:dbuser"

    def connect_arn(self, user: str) -> str:
        """`rds-db:connect` as exactly `user` of exactly this cluster."""
        return f"{self._dbuser_arn_prefix}:{self.cluster.cluster_resource_id}/{user}"

    def _instances(self, props: GatewayDatabaseProps, subnet_group_name: str) -> list[RdsClusterInstance]:
        """The writer and the readers, with Performance Insights and Enhanced Monitoring (its role here)."""
        config, naming = props.config, props.naming
        trust = service_trust(self, "monitoring-trust", "monitoring.rds.amazonaws.com", None)
        monitoring = IamRole(
            self, "monitoring-role", name=naming.name("rds-monitoring", "aws_iam_role"), assume_role_policy=trust.json
        )
        attachment = IamRolePolicyAttachment(
            self, "monitoring-policy", role=monitoring.name, policy_arn=MONITORING_POLICY
        )
        return [
            RdsClusterInstance(
                self,
                name,
                identifier=naming.name(f"litellm-{name}"),
                cluster_identifier=self.cluster.id,
                engine=ENGINE,
                engine_version=self.cluster.engine_version,
                instance_class=config.instance_class,
                db_subnet_group_name=subnet_group_name,
                db_parameter_group_name=self.instance_parameters.name,
                publicly_accessible=False,
                auto_minor_version_upgrade=True,
                # The server certificate chains to the one root the clients trust (constructs_lib/aws/rds_ca.py).
                ca_cert_identifier=CA_CERT_IDENTIFIER,
                # The writer is first in line on failover; readers only when it is gone.
                promotion_tier=0 if name == "writer" else 15,
                performance_insights_enabled=True,
                performance_insights_kms_key_id=props.kms_key_arn,
                monitoring_interval=60,
                monitoring_role_arn=monitoring.arn,
                copy_tags_to_snapshot=True,
                depends_on=[attachment],
            )
            for name in ("writer", *(f"reader-{index}" for index in range(config.readers)))
        ]
