"""`aws-<env>-quotas`: one LiteLLM key per agent, in its own secret, readable only by the agent's IAM role."""

from __future__ import annotations

from cdktf import TerraformOutput
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from constructs import Construct

from constructs_lib.aws.agent_access import AwsAgentAccess, AwsAgentAccessProps
from stacks.aws.base import AwsStack
from stacks.context import StackContext
from stacks.quotas import agent_keys, configure_litellm, derived_agent_key, master_key_version


class AwsQuotasStack(AwsStack):
    def __init__(self, scope: Construct, context: StackContext, gateway_url: str) -> None:
        super().__init__(scope, context)
        config, aws = context.config, context.config.cloud("aws")
        configure_litellm(self, gateway_url)
        kms_key = KmsKey(
            self,
            "agent-keys-kms",
            description=f"Encrypts the agents' LiteLLM keys of {context.naming.prefix}",
            enable_key_rotation=True,
            deletion_window_in_days=30,
        )
        KmsAlias(
            self, "agent-keys-kms-alias", name=f"alias/{context.naming.prefix}-agent-keys", target_key_id=kms_key.key_id
        )
        keys = agent_keys(
            self,
            config,
            "aws",
            gateway_url,
            lambda quota: derived_agent_key(self, quota, master_key_version(config, "aws")),
        )
        for key in keys:
            quota = key.quota
            access = AwsAgentAccess(
                self,
                f"access-{quota.agent}",
                AwsAgentAccessProps(
                    naming=context.naming,
                    agent=quota.agent,
                    account_id=aws.account_id,
                    region=aws.region,
                    kms_key_arn=kms_key.arn,
                    key_material=key.key_material,
                    key_version=quota.key_version,
                    recovery_window_days=config.quotas.secret_recovery_window_days,
                    registration=key.registration,
                ),
            )
            TerraformOutput(self, f"agent-{quota.agent}-role-arn", value=access.role.arn)
            TerraformOutput(self, f"agent-{quota.agent}-secret-arn", value=access.secret.arn)
