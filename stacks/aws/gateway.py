"""`aws-<env>`: the LiteLLM gateway on AWS.

gateway (4000), backend (4001) and ui (3000) run as ECS Fargate services in private subnets behind a path-routing
ALB (internal by default) that routes the shared path list; Aurora PostgreSQL (IAM auth, SSL enforced), ElastiCache
Redis (TLS + AUTH) and an S3 bucket sit on the private network; Secrets Manager holds every credential, encrypted
with the gateway's KMS key; one-off ECS tasks create the IAM-auth database user and apply the Prisma migrations
before the services start. The stack composes one `AwsGateway` (constructs_lib/aws/gateway/), a construct per
concern below it in constructs_lib/aws/.

Options (clouds.aws, all off by default; docs/DESIGN.md "AWS parity"): brought or no PostgreSQL/Redis
(`database.source`/`cache.source`), tasks in public subnets, dependencies-only mode (`create_runtime: false`),
memory/requests/tokens autoscaling, the metrics and spend-collector sidecars, PgBouncer, Bedrock model import.
"""

from __future__ import annotations

from cdktf_cdktf_provider_random.provider import RandomProvider
from constructs import Construct

from constructs_lib.aws.gateway import AwsGateway, AwsGatewayProps
from stacks.aws.base import AwsStack
from stacks.context import StackContext
from stacks.outputs import write_outputs


class AwsGatewayStack(AwsStack):
    def __init__(self, scope: Construct, context: StackContext) -> None:
        super().__init__(scope, context)
        # Ephemeral random_password (master key, UI password) and the Redis token come from hashicorp/random.
        RandomProvider(self, "random")
        gateway = AwsGateway(self, AwsGatewayProps(config=context.config, naming=context.naming))
        # Read by the quotas stack (cross-stack reference).
        self.gateway_url = gateway.gateway_url
        write_outputs(self, gateway.outputs)
