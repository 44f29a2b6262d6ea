"""The OSS bucket and Tablestore lock table that hold every Alibaba Cloud stack's Terraform state."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle
from constructs import Construct

from imports.alicloud.oss_bucket import OssBucket
from imports.alicloud.oss_bucket_acl import OssBucketAcl
from imports.alicloud.oss_bucket_public_access_block import OssBucketPublicAccessBlock
from imports.alicloud.oss_bucket_server_side_encryption import OssBucketServerSideEncryption
from imports.alicloud.oss_bucket_versioning import OssBucketVersioning
from imports.alicloud.ots_instance import OtsInstance
from imports.alicloud.ots_table import OtsTable, OtsTablePrimaryKey


@dataclass(frozen=True)
class AlicloudStateStoreProps:
    bucket_name: str
    tablestore_instance: str
    tablestore_table: str


class AlicloudStateStore(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: AlicloudStateStoreProps) -> None:
        super().__init__(scope, construct_id)
        protected = TerraformResourceLifecycle(prevent_destroy=True)
        self.bucket = OssBucket(self, "bucket", bucket=props.bucket_name, lifecycle=protected)
        bucket = self.bucket.bucket
        OssBucketAcl(self, "acl", bucket=bucket, acl="private")
        OssBucketPublicAccessBlock(self, "public-access", bucket=bucket, block_public_access=True)
        OssBucketVersioning(self, "versioning", bucket=bucket, status="Enabled")
        # KMS with the OSS-managed key: state objects are encrypted at rest even if a client forgets `encrypt`.
        OssBucketServerSideEncryption(self, "encryption", bucket=bucket, sse_algorithm="KMS")
        self.lock_instance = OtsInstance(
            self,
            "lock-instance",
            name=props.tablestore_instance,
            description="Terraform state locks",
            accessed_by="Any",
            instance_type="Capacity",
            lifecycle=protected,
        )
        # The OSS backend's lock table: one string primary key named LockID.
        self.lock_table = OtsTable(
            self,
            "lock-table",
            instance_name=self.lock_instance.name,
            table_name=props.tablestore_table,
            primary_key=[OtsTablePrimaryKey(name="LockID", type="String")],
            time_to_live=-1,
            max_version=1,
            lifecycle=protected,
        )
