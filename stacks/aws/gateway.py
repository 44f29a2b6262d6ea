"""`aws-<env>`: the LiteLLM gateway on AWS."""

from __future__ import annotations

from constructs import Construct

from stacks.aws.base import AwsStack
from stacks.context import StackContext


class AwsGatewayStack(AwsStack):
    def __init__(self, scope: Construct, context: StackContext) -> None:
        super().__init__(scope, context)
