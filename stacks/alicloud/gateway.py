"""`alicloud-<env>`: the LiteLLM gateway on Alibaba Cloud."""

from __future__ import annotations

from constructs import Construct

from stacks.alicloud.base import AlicloudStack
from stacks.context import StackContext


class AlicloudGatewayStack(AlicloudStack):
    def __init__(self, scope: Construct, context: StackContext) -> None:
        super().__init__(scope, context)
