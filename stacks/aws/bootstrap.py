"""`aws-bootstrap`: the state store every other AWS stack uses. Applied once, on local state."""

from __future__ import annotations

from cdktf import TerraformOutput
from constructs import Construct

from constructs_lib.aws.state_store import AwsStateStore, StateStoreProps
from stacks.aws.base import AwsStack
from stacks.context import StackContext


class AwsBootstrapStack(AwsStack):
    def __init__(self, scope: Construct, context: StackContext) -> None:
        super().__init__(scope, context, remote_state=False)
        state = context.config.cloud("aws").state
        store = AwsStateStore(
            self,
            "state",
            StateStoreProps(
                bucket_name=state.bucket,
                alias_prefix=context.config.tenant,
                dynamodb_table=state.dynamodb_table if state.locking == "dynamodb" else None,
            ),
        )
        TerraformOutput(self, "state_bucket", value=store.bucket.name)
        TerraformOutput(self, "state_kms_key_arn", value=store.key.arn)
