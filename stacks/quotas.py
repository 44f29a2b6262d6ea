"""What every `<cloud>-<env>-quotas` stack shares: the LiteLLM provider and one `AgentKey` per agent.

The quotas stacks talk to the gateway's management API, so they are planned and applied from inside the
gateway's network (a self-hosted runner or Atlantis in the VPC; `make stacks` gives their runner labels).
The gateway URL comes from the gateway stack through a cdktf cross-stack reference (a
`terraform_remote_state` read of its output); the master key comes from the environment of the run.
"""

from __future__ import annotations

from collections.abc import Callable

from cdktf import TerraformLocal, TerraformOutput, TerraformStack, TerraformVariable

from constructs_lib._common.agent_key import AgentKey, AgentKeyProps, versioned_alias
from constructs_lib._common.quotas import AgentQuota, agent_quotas
from constructs_lib.config import EnvironmentConfig
from imports.litellm.provider import LitellmProvider

MASTER_KEY_VARIABLE = "litellm_api_key"


def configure_litellm(stack: TerraformStack, gateway_url: str) -> None:
    """The LiteLLM provider. The master key is an ephemeral, sensitive input variable fed by
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


def agent_keys(
    stack: TerraformStack,
    config: EnvironmentConfig,
    cloud: str,
    gateway_url: str,
    key_expression: Callable[[AgentQuota], str],
) -> list[AgentKey]:
    """One AgentKey per agent; `key_expression(quota)` returns that agent's key material expression."""
    keys = []
    for quota in agent_quotas(config):
        key = AgentKey(
            stack,
            f"agent-{quota.agent}",
            AgentKeyProps(
                quota=quota,
                key_expression=key_expression(quota),
                gateway_url=gateway_url,
                master_key_version=master_key_version(config, cloud),
                rotation_overlap=config.quotas.key_rotation_overlap,
            ),
        )
        TerraformOutput(stack, f"agent-{quota.agent}-team-id", value=key.team.id)
        keys.append(key)
    return keys


def derived_agent_key(stack: TerraformStack, quota: AgentQuota, master_key_version: int) -> str:
    """Key material that never reaches state and that every resource computing it gets alike (AWS, GCP).

    The registration and the secret version each evaluate it when they are (re)created, possibly in different runs
    (a secret write retried after a failure, a `-replace`, a version deleted out of band): a fresh ephemeral
    random value per run would let the secret and the registered key diverge (issue 25, defect 5). So the key is
    SHA-256 over the ephemeral master-key variable, a fixed label and the agent's versioned alias (key version and
    master-key version): ephemeral (derived from an ephemeral value, so Terraform keeps it out of plan and state),
    the same on every run, new with a key_version bump, and unguessable without the master key (which can mint
    any key anyway). Whoever holds the master key can derive the agent keys, so a master-key rotation (a bump of
    `clouds.<cloud>.secrets.master_key_version`) re-keys every agent too: new alias, new key, new secret version,
    the old key retired after the overlap.
    """
    # The derivation sits in locals (a local derived from an ephemeral value is ephemeral too, Terraform >= 1.10):
    # a function call written on the write-only argument's own line reads as a secret assignment to the secret
    # scan (detect-secrets' keyword detector); the argument then holds a plain reference.
    separator = stack.node.try_find_child("agent_key_separator") or TerraformLocal(stack, "agent_key_separator", "|")
    label = TerraformLocal(
        stack,
        f"agent_key_input_{quota.agent.replace('-', '_')}",
        f"llmgw-agent-key|{versioned_alias(quota, master_key_version)}",
    )
    parts = f"var.{MASTER_KEY_VARIABLE}, local.{label.friendly_unique_id}"
    derived = TerraformLocal(
        stack,
        f"agent_key_{quota.agent.replace('-', '_')}",
        f"${{sha256(join(local.{separator.friendly_unique_id}, [{parts}]))}}",
    )
    return f"${{local.{derived.friendly_unique_id}}}"


def master_key_version(config: EnvironmentConfig, cloud: str) -> int:
    """The version of the gateway master key this cloud's quotas stack runs with (`clouds.<cloud>.secrets`)."""
    return config.cloud(cloud).secrets.master_key_version
