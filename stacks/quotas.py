"""What every `<cloud>-<env>-quotas` stack shares: the LiteLLM provider and one `AgentKey` per agent.

The quotas stacks talk to the gateway's management API, so they are planned and applied from inside the
gateway's network (a self-hosted runner or Atlantis in the VPC; `make stacks` gives their runner labels).
The gateway URL comes from the gateway stack through a cdktf cross-stack reference (a
`terraform_remote_state` read of its output); the master key comes from the environment of the run.
"""

from __future__ import annotations

from collections.abc import Callable

from cdktf import TerraformOutput, TerraformStack, TerraformVariable
from cdktf_cdktf_provider_random.provider import RandomProvider

from constructs_lib._common.agent_key import AgentKey, AgentKeyProps
from constructs_lib._common.ephemeral import ephemeral_random_password
from constructs_lib._common.quotas import AgentQuota, agent_quotas
from constructs_lib.config import EnvironmentConfig
from imports.litellm.provider import LitellmProvider

MASTER_KEY_VARIABLE = "litellm_api_key"


def configure_litellm(stack: TerraformStack, gateway_url: str) -> None:
    """LiteLLM + random providers. The master key is an ephemeral, sensitive input variable fed by
    TF_VAR_litellm_api_key: ephemeral (Terraform >= 1.10) keeps it out of saved plan files and state, which
    the workflows upload as artifacts; Terraform then lets it flow only into ephemeral contexts such as this
    provider block (https://developer.hashicorp.com/terraform/language/values/variables#exclude-values-from-state).

    The provider's own LITELLM_API_KEY default cannot be relied on: the SDK reports `api_key` as required
    unless that variable is set, so a config without it would validate only where the key is exported.
    """
    master_key = TerraformVariable(
        stack,
        MASTER_KEY_VARIABLE,
        type="string",
        sensitive=True,
        nullable=False,
        description="LiteLLM master key, from the environment of the run (TF_VAR_litellm_api_key); never in code",
    )
    # cdktf 0.21's TerraformVariable has no `ephemeral` argument (hashicorp/terraform-cdk#3886): an override.
    master_key.add_override("ephemeral", True)
    LitellmProvider(stack, "litellm", api_base=gateway_url, api_key=master_key.string_value)
    RandomProvider(stack, "random")


def agent_keys(
    stack: TerraformStack, config: EnvironmentConfig, gateway_url: str, key_expression: Callable[[AgentQuota], str]
) -> list[AgentKey]:
    """One AgentKey per agent; `key_expression(quota)` returns that agent's key material expression."""
    keys = []
    for quota in agent_quotas(config):
        key = AgentKey(
            stack,
            f"agent-{quota.agent}",
            AgentKeyProps(quota=quota, key_expression=key_expression(quota), gateway_url=gateway_url),
        )
        TerraformOutput(stack, f"agent-{quota.agent}-team-id", value=key.team.id)
        keys.append(key)
    return keys


def ephemeral_agent_key(stack: TerraformStack, quota: AgentQuota) -> str:
    """Key material that never reaches state: for secret stores with a write-only argument (AWS, GCP)."""
    return ephemeral_random_password(stack, "agent_key_" + quota.agent.replace("-", "_"))
