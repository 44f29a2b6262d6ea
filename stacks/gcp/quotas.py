"""`gcp-<env>-quotas`: one LiteLLM key per agent, in its own secret, readable only by the agent's service account."""

from __future__ import annotations

from cdktf import TerraformOutput
from constructs import Construct

from constructs_lib.gcp.agent_access import GcpAgentAccess, GcpAgentAccessProps
from stacks.context import StackContext
from stacks.gcp.base import GcpStack
from stacks.quotas import agent_keys, configure_litellm, derived_agent_key, master_key_version


class GcpQuotasStack(GcpStack):
    def __init__(self, scope: Construct, context: StackContext, gateway_url: str) -> None:
        super().__init__(scope, context)
        configure_litellm(self, gateway_url)
        keys = agent_keys(
            self,
            context.config,
            "gcp",
            gateway_url,
            lambda quota: derived_agent_key(self, quota, master_key_version(context.config, "gcp")),
        )
        for key in keys:
            access = GcpAgentAccess(
                self,
                f"access-{key.quota.agent}",
                GcpAgentAccessProps(
                    naming=context.naming,
                    agent=key.quota.agent,
                    key_material=key.key_material,
                    key_version=key.quota.key_version,
                    registration=key.registration,
                ),
            )
            TerraformOutput(self, f"agent-{key.quota.agent}-service-account", value=access.service_account.email)
            TerraformOutput(self, f"agent-{key.quota.agent}-secret-id", value=access.secret.id)
