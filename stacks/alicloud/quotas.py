"""`alicloud-<env>-quotas`: one LiteLLM key per agent, in its own KMS secret, readable only by its RAM role."""

from __future__ import annotations

from cdktf import TerraformOutput
from cdktf_cdktf_provider_random.password import Password
from constructs import Construct

from constructs_lib._common.quotas import AgentQuota
from constructs_lib.alicloud.agent_access import AlicloudAgentAccess, AlicloudAgentAccessProps
from imports.alicloud.data_alicloud_account import DataAlicloudAccount
from imports.alicloud.kms_key import KmsKey
from stacks.alicloud.base import AlicloudStack
from stacks.context import StackContext
from stacks.quotas import agent_keys, configure_litellm


class AlicloudQuotasStack(AlicloudStack):
    def __init__(self, scope: Construct, context: StackContext, gateway_url: str) -> None:
        super().__init__(scope, context)
        config, alicloud = context.config, context.config.cloud("alicloud")
        configure_litellm(self, gateway_url)
        account = DataAlicloudAccount(self, "account")
        kms_key = KmsKey(
            self,
            "agent-keys-kms",
            description=f"Encrypts the agents' LiteLLM keys of {context.naming.prefix}",
            # Secrets need a key inside a KMS instance (KMS CreateSecret).
            dkms_instance_id=alicloud.secrets.kms_instance_id,
            automatic_rotation="Enabled",
            rotation_interval="8760h",
            pending_window_in_days=30,
        )

        def stored_key(quota: AgentQuota) -> str:
            # No write-only argument on alicloud_kms_secret: the material lives in encrypted remote state.
            # A new key_version (rotation) regenerates it.
            return Password(
                self,
                f"agent-{quota.agent}-key-material",
                length=48,
                special=False,
                min_numeric=4,
                keepers={"key_version": str(quota.key_version)},
            ).result

        for key in agent_keys(self, config, gateway_url, stored_key):
            access = AlicloudAgentAccess(
                self,
                f"access-{key.quota.agent}",
                AlicloudAgentAccessProps(
                    naming=context.naming,
                    agent=key.quota.agent,
                    region=alicloud.region,
                    account_id=account.id,
                    kms_key_id=kms_key.id,
                    kms_key_arn=kms_key.arn,
                    key_material=key.key_material,
                    key_version=key.quota.key_version,
                    recovery_window_days=config.quotas.secret_recovery_window_days,
                ),
            )
            TerraformOutput(self, f"agent-{key.quota.agent}-role-name", value=access.role.role_name)
            TerraformOutput(self, f"agent-{key.quota.agent}-secret-name", value=access.secret.secret_name)
