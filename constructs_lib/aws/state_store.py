"""The S3 (+ optional DynamoDB) store that holds every AWS stack's Terraform state."""

from __future__ import annotations

import json
from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import DataAwsIamPolicyDocumentStatement
from cdktf_cdktf_provider_aws.dynamodb_table import (
    DynamodbTable,
    DynamodbTableAttribute,
    DynamodbTablePointInTimeRecovery,
    DynamodbTableServerSideEncryption,
)
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from constructs import Construct

from constructs_lib.aws.secure_bucket import SecureBucket, SecureBucketProps


@dataclass(frozen=True)
class StateStoreProps:
    bucket_name: str
    alias_prefix: str
    # None: S3-native lockfile (Terraform >= 1.10); otherwise the DynamoDB lock table's name.
    dynamodb_table: str | None = None
    # CI roles that use the state key: granted in the key policy (an identity policy is not enough across accounts).
    cross_account_role_arns: tuple[str, ...] = ()
    # The bucket policy's per-role statements (AwsCiRoles.state_grants): each stage's roles reach only its objects.
    state_policy_statements: tuple[DataAwsIamPolicyDocumentStatement, ...] = ()


class AwsStateStore(Construct):
    def _key_policy(self, role_arns: tuple[str, ...]) -> str:
        """The default key policy (the account administers the key through IAM) plus the other accounts' CI roles."""
        account = DataAwsCallerIdentity(self, "account")
        statements = [
            {
                "Sid": "AccountAdministersKeyThroughIam",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account.account_id}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "CiRolesOfEnvironmentAccountsUseKeyForState",
                "Effect": "Allow",
                "Principal": {"AWS": list(role_arns)},
                "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
                "Resource": "*",
            },
        ]
        return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)

    def __init__(self, scope: Construct, construct_id: str, props: StateStoreProps) -> None:
        super().__init__(scope, construct_id)
        self.key = KmsKey(
            self,
            "key",
            description=f"Encrypts Terraform state in s3://{props.bucket_name}",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=self._key_policy(props.cross_account_role_arns) if props.cross_account_role_arns else None,
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True),
        )
        KmsAlias(self, "alias", name=f"alias/{props.alias_prefix}-tfstate", target_key_id=self.key.key_id)
        self.bucket = SecureBucket(
            self,
            "bucket",
            SecureBucketProps(
                bucket_name=props.bucket_name,
                kms_key_arn=self.key.arn,
                extra_policy_statements=props.state_policy_statements,
            ),
        )
        self.lock_table: DynamodbTable | None = None
        if props.dynamodb_table:
            self.lock_table = DynamodbTable(
                self,
                "lock-table",
                name=props.dynamodb_table,
                billing_mode="PAY_PER_REQUEST",
                hash_key="LockID",
                attribute=[DynamodbTableAttribute(name="LockID", type="S")],
                point_in_time_recovery=DynamodbTablePointInTimeRecovery(enabled=True),
                server_side_encryption=DynamodbTableServerSideEncryption(enabled=True, kms_key_arn=self.key.arn),
                deletion_protection_enabled=True,
                lifecycle=TerraformResourceLifecycle(prevent_destroy=True),
            )
