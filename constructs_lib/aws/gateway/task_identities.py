"""The gateway's ECS task families, each with its own log group and its two IAM roles (constructs_lib/aws/iam.py),
granted exactly what that family's containers read and do.

    families = TaskFamilies(scope, FamiliesProps(naming=..., aws=aws, runtime=True, ...))
    families.identities["gateway"].task_role.arn, families.readers["backend"], families.log_groups["ui"].name
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import DataAwsIamPolicyDocumentStatement
from constructs import Construct

from constructs_lib._common.naming import Naming
from constructs_lib.aws.ecs_service import log_group
from constructs_lib.aws.gateway.credentials import GatewayCredentials
from constructs_lib.aws.gateway.stores import Database, DataStore
from constructs_lib.aws.iam import TaskIdentity, TaskIdentityProps, via_service
from constructs_lib.aws.secrets import GatewaySecret
from constructs_lib.aws.secure_bucket import SecureBucket
from constructs_lib.config.aws import AwsConfig
from constructs_lib.config.components import IMAGE_COMPONENTS

_ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/(?P<repo>[a-z0-9._/-]+?)(?:[:@].*)?$"
)


def ecr_repository_arns(*images: str) -> list[str]:
    """ARNs of the private ECR repositories among `images` (the execution role may pull from exactly these)."""
    found = {
        f"arn:aws:ecr:{m['region']}:{m['account']}:repository/{m['repo']}" for i in images if (m := _ECR_IMAGE.match(i))
    }
    return sorted(found)


@dataclass(frozen=True, kw_only=True)
class FamiliesProps:
    naming: Naming
    aws: AwsConfig
    kms_key_arn: str
    bucket: SecureBucket
    credentials: GatewayCredentials
    database: Database
    cache: DataStore
    # False in dependencies-only mode: no UI, no bootstrap job (the identities of gateway, backend, migrations only).
    runtime: bool


class TaskFamilies:
    """Log groups (`<family>-logs`) and identities (`<family>-identity`) in `scope`, one per family."""

    def __init__(self, scope: Construct, props: FamiliesProps) -> None:
        aws, database, cache, credentials = props.aws, props.database, props.cache, props.credentials
        # Which task families exist: no migrations without a database, no IAM-user bootstrap without Aurora.
        families = ["gateway", "backend"]
        if props.runtime:
            families.append("ui")
        if database.migrates:
            families.append("migrations")
        if database.bootstraps and props.runtime:
            families.append("bootstrap-db")
        self.log_groups: dict[str, CloudwatchLogGroup] = {
            family: log_group(
                scope,
                f"{family}-logs",
                f"/{props.naming.prefix}/ecs/{family}",
                aws.log_retention_days,
                props.kms_key_arn,
            )
            for family in families
        }
        # What each family's container reads: env var -> GatewaySecret (store credentials, then brought URLs).
        stores = (database, cache)
        store_secrets = [item for store in stores for item in store.auth_secrets] + [
            item for store in stores for item in store.url_secrets
        ]
        self.readers: dict[str, list[GatewaySecret]] = {
            "gateway": [credentials.master_key, credentials.salt_key, *store_secrets, *credentials.ready_provider_keys],
            "backend": [credentials.master_key, credentials.salt_key, *store_secrets, credentials.ui_password],
            "migrations": list(database.url_secrets),
        }
        self.extra_secret_arns = _extra_secret_arns(aws)
        secret_arns = {
            "gateway": [item.arn for item in self.readers["gateway"]]
            + sorted(set(self.extra_secret_arns["gateway"].values())),
            "backend": [item.arn for item in self.readers["backend"]]
            + sorted(set(self.extra_secret_arns["backend"].values())),
            "ui": [],
            "migrations": [item.arn for item in self.readers["migrations"]],
            "bootstrap-db": list(database.bootstrap_secret_arns),
        }
        statements = _task_statements(aws, props.bucket, props.kms_key_arn, database)
        images = {
            **{component: aws.image(component) for component in IMAGE_COMPONENTS},
            "bootstrap-db": aws.migrations.bootstrap_image,
        }
        self.identities = {
            family: TaskIdentity(
                scope,
                f"{family}-identity",
                TaskIdentityProps(
                    naming=props.naming,
                    family=family,
                    account_id=aws.account_id,
                    region=aws.region,
                    log_group_arn=self.log_groups[family].arn,
                    kms_key_arn=props.kms_key_arn,
                    secret_arns=secret_arns[family],
                    task_statements=statements[family],
                    ecr_repository_arns=ecr_repository_arns(images[family]),
                ),
            )
            for family in self.log_groups
        }


def _extra_secret_arns(aws: AwsConfig) -> dict[str, dict[str, str]]:
    """The configured extra secrets of gateway and backend (env var -> ARN), with the OTel headers when set."""
    extra = {component: dict(getattr(aws.components, component).extra_secrets) for component in ("gateway", "backend")}
    otel = aws.otel
    if otel.endpoint and otel.headers_secret_arn:
        for component in extra:
            extra[component].setdefault("OTEL_HEADERS", otel.headers_secret_arn)
    return extra


def _task_statements(
    aws: AwsConfig, bucket: SecureBucket, kms_key_arn: str, database: Database
) -> dict[str, list[DataAwsIamPolicyDocumentStatement]]:
    """What each family's running container may do: the gateway bucket (through the key), the database, Bedrock."""
    data_access = [
        DataAwsIamPolicyDocumentStatement(sid="ListGatewayBucket", actions=["s3:ListBucket"], resources=[bucket.arn]),
        DataAwsIamPolicyDocumentStatement(
            sid="UseGatewayBucketObjects",
            # GetObjectVersion: the proxy config is fetched by the version its task definition pins.
            actions=["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject"],
            resources=[f"{bucket.arn}/*"],
        ),
        DataAwsIamPolicyDocumentStatement(
            sid="GatewayKeyThroughS3",
            actions=["kms:Decrypt", "kms:GenerateDataKey"],
            resources=[kms_key_arn],
            condition=[via_service("s3", aws.region)],
        ),
    ]
    connect = database.grants
    statements = {
        "gateway": [*data_access, *connect.get("gateway", [])],
        "backend": [*data_access, *connect.get("backend", [])],
        "ui": [],
        "migrations": list(connect.get("migrations", [])),
        "bootstrap-db": [],
    }
    if aws.bedrock_model_arns:
        statements["gateway"].append(
            DataAwsIamPolicyDocumentStatement(
                sid="InvokeConfiguredBedrockModels",
                actions=["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
                resources=list(aws.bedrock_model_arns),
            )
        )
    return statements
