"""`alicloud-<env>`: the LiteLLM gateway on Alibaba Cloud.

LiteLLM on ECS instances in (at least) two zones behind an intranet ALB; KMS Secrets Manager holds every
credential under one customer-managed key; a RAM role assumable only by ECS reads exactly those secrets;
RDS PostgreSQL and Redis admit only the gateway security group; SLS keeps the request logs; Cloud Assistant
invocations install each release, migrate the database once per release and roll the instances onto new
secret versions. The stack composes one `AlicloudGateway` (constructs_lib/alicloud/llm_gateway.py), a construct per
concern below it in constructs_lib/alicloud/.
"""

from __future__ import annotations

from cdktf_cdktf_provider_random.provider import RandomProvider
from constructs import Construct

from constructs_lib.alicloud.llm_gateway import AlicloudGateway, AlicloudGatewayProps
from stacks.alicloud.base import AlicloudStack
from stacks.context import StackContext
from stacks.outputs import write_outputs


class AlicloudGatewayStack(AlicloudStack):
    def __init__(self, scope: Construct, context: StackContext) -> None:
        super().__init__(scope, context)
        # random_password makes the master key and the DB/Redis passwords (kept in the encrypted OSS state).
        RandomProvider(self, "random")
        gateway = AlicloudGateway(
            self,
            AlicloudGatewayProps(config=context.config, naming=context.naming, config_dir=context.config_path.parent),
        )
        # Read by the quotas stack (cross-stack reference).
        self.gateway_url = gateway.gateway_url
        write_outputs(self, gateway.outputs)
