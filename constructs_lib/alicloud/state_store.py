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
    # One lock table per stage (constructs_lib/alicloud/ci_trust.py stage_lock_table): a stage's CI roles write
    # only their own table's rows.
    tablestore_tables: tuple[str, ...]


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
        # The OSS backend's lock tables: one string primary key named LockID.
        self.lock_tables = [
            OtsTable(
                self,
                f"lock-table-{table}",
                instance_name=self.lock_instance.name,
                table_name=table,
                primary_key=[OtsTablePrimaryKey(name="LockID", type="String")],
                time_to_live=-1,
                max_version=1,
                lifecycle=protected,
            )
            for table in props.tablestore_tables
        ]
