"""`gcp-<env>`: the LiteLLM gateway on Google Cloud.

gateway (4000), backend (4001) and ui (3000) run on Cloud Run behind a global external HTTPS load balancer that
routes the shared path list; Cloud SQL PostgreSQL, Memorystore Redis and a GCS bucket sit on the private
network; Secret Manager holds every credential; a Cloud Run job applies the Prisma migrations before the
services start. The gateway and backend load LiteLLM's rendered config.yaml from a pinned Secret Manager version
(constructs_lib/gcp/proxy_config.py). The stack composes one `GcpGateway` (constructs_lib/gcp/gateway/), a construct
per concern below it in constructs_lib/gcp/.

Options (clouds.gcp, all off by default): bring-your-own PostgreSQL/Redis (`database.source`/`cache.source`
`external`, URL in Secret Manager) or none at all (`none`), dependencies-only mode (`create_runtime: false`),
Prometheus metrics and spend-collector sidecars, the gateway's PgBouncer (`database.connection_pool`) and
plaintext Redis (`cache.transit_encryption: false` with `allow_plaintext`). docs/DESIGN.md explains each.
"""

from __future__ import annotations

from cdktf_cdktf_provider_random.provider import RandomProvider
from constructs import Construct

from constructs_lib._common.ci_identity import gcp_ci_member
from constructs_lib.gcp.ci_grants import CiPlanRefreshReads
from constructs_lib.gcp.gateway import GcpGateway, GcpGatewayProps
from stacks.context import StackContext
from stacks.gcp.base import GcpStack
from stacks.outputs import write_outputs


class GcpGatewayStack(GcpStack):
    def __init__(self, scope: Construct, context: StackContext) -> None:
        super().__init__(scope, context)
        # Ephemeral random_password (master key, DB password) comes from hashicorp/random.
        RandomProvider(self, "random")
        gateway = GcpGateway(
            self,
            GcpGatewayProps(config=context.config, naming=context.naming, project=self.project, region=self.region),
        )
        # Read by the quotas stack (cross-stack reference).
        self.gateway_url = gateway.gateway_url
        write_outputs(self, gateway.outputs)
        # Last: grants the stage's CI plan identity what refreshing the resources above reads.
        state_project = context.config.cloud("gcp").state.project
        CiPlanRefreshReads(self, "ci-plan-refresh", gcp_ci_member(context.naming.prefix, "plan", state_project))
