"""An agent's key on Alibaba Cloud: its own KMS secret and a RAM role that can read that secret only.

`alicloud_kms_secret` has no write-only argument at 1.289.0 and requires `secret_data`, so the key material comes
from a `random_password` resource and lives in the (OSS-encrypted, access-controlled) remote state as well as in
KMS; the README's "Secrets and state" section says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from cdktf import TerraformResource
from constructs import Construct

from constructs_lib._common.naming import Naming
from constructs_lib.alicloud.ram import attach_custom_policy, ecs_assume_role_policy
from imports.alicloud.kms_secret import KmsSecret
from imports.alicloud.ram_role import RamRole


@dataclass(frozen=True)
class AlicloudAgentAccessProps:
    naming: Naming
    agent: str
    region: str
    account_id: str
    kms_key_id: str
    kms_key_arn: str
    key_material: str
    key_version: int
    recovery_window_days: int
    # The key registration: the secret is written only once LiteLLM knows the key (nothing orphaned if it fails).
    registration: TerraformResource


class AlicloudAgentAccess(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: AlicloudAgentAccessProps) -> None:
        super().__init__(scope, construct_id)
        secret_name = props.naming.name(f"agent-{props.agent}-litellm-key")
        self.secret = KmsSecret(
            self,
            "secret",
            secret_name=secret_name,
            description=f"LiteLLM virtual key of agent {props.agent}; readable only by its RAM role",
            secret_data=props.key_material,
            version_id=f"v{props.key_version}",
            encryption_key_id=props.kms_key_id,
            recovery_window_in_days=props.recovery_window_days,
            depends_on=[props.registration],
        )
        self.role = RamRole(
            self,
            "role",
            role_name=props.naming.name(f"agent-{props.agent}", "alicloud_ram_role"),
            description=f"Runtime role of agent {props.agent}: reads its own LiteLLM key, nothing else",
            assume_role_policy_document=ecs_assume_role_policy(),
        )
        secret_arn = f"acs:kms:{props.region}:{props.account_id}:secret/{secret_name}"
        document = {
            "Version": "1",
            "Statement": [
                {"Effect": "Allow", "Action": ["kms:GetSecretValue"], "Resource": [secret_arn]},
                {"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [props.kms_key_arn]},
            ],
        }
        self.policy = attach_custom_policy(
            self,
            self.role,
            name=props.naming.name(f"agent-{props.agent}-read-key", "alicloud_ram_role"),
            description=f"Read the LiteLLM key of agent {props.agent}",
            document=json.dumps(document, sort_keys=True),
        )
