"""The OSS bucket and Tablestore lock table that hold every Alibaba Cloud stack's Terraform state."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle
from constructs import Construct

from constructs_lib.alicloud.bucket import private_bucket
from imports.alicloud.kms_key import KmsKey
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
        self.key = KmsKey(
            self,
            "key",
            description=f"Encrypts Terraform state in oss://{props.bucket_name}",
            automatic_rotation="Enabled",
            rotation_interval="8760h",
            pending_window_in_days=30,
            deletion_protection="Enabled",
            lifecycle=protected,
        )
        self.bucket = private_bucket(self, props.bucket_name, self.key.id, lifecycle=protected)
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
