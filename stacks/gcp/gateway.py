"""`gcp-<env>`: the LiteLLM gateway on Google Cloud."""

from __future__ import annotations

from constructs import Construct

from stacks.context import StackContext
from stacks.gcp.base import GcpStack


class GcpGatewayStack(GcpStack):
    def __init__(self, scope: Construct, context: StackContext) -> None:
        super().__init__(scope, context)
