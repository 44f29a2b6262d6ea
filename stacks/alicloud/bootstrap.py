"""`alicloud-bootstrap`: the OSS bucket and Tablestore lock table for Alibaba Cloud state, on local state."""

from __future__ import annotations

from cdktf import TerraformOutput
from constructs import Construct

from constructs_lib.alicloud.state_store import AlicloudStateStore, AlicloudStateStoreProps
from stacks.alicloud.base import AlicloudStack
from stacks.context import StackContext


class AlicloudBootstrapStack(AlicloudStack):
    def __init__(self, scope: Construct, context: StackContext) -> None:
        super().__init__(scope, context, remote_state=False)
        state = context.config.cloud("alicloud").state
        store = AlicloudStateStore(
            self,
            "state",
            AlicloudStateStoreProps(
                bucket_name=state.bucket,
                tablestore_instance=state.tablestore_instance,
                tablestore_table=state.tablestore_table,
            ),
        )
        TerraformOutput(self, "state_bucket", value=store.bucket.bucket)
        TerraformOutput(self, "tablestore_endpoint", value=state.tablestore_endpoint)
