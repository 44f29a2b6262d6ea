"""The S3 (+ optional DynamoDB) store that holds every AWS stack's Terraform state."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle
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


class AwsStateStore(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: StateStoreProps) -> None:
        super().__init__(scope, construct_id)
        self.key = KmsKey(
            self,
            "key",
            description=f"Encrypts Terraform state in s3://{props.bucket_name}",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True),
        )
        KmsAlias(self, "alias", name=f"alias/{props.alias_prefix}-tfstate", target_key_id=self.key.key_id)
        self.bucket = SecureBucket(
            self, "bucket", SecureBucketProps(bucket_name=props.bucket_name, kms_key_arn=self.key.arn)
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
