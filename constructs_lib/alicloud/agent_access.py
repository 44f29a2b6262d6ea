"""An agent's key on Alibaba Cloud: its own KMS secret and a RAM role that can read that secret only.

`alicloud_kms_secret` has no write-only argument at 1.289.0 and requires `secret_data`, so the key material comes
from a `random_password` resource and lives in the (OSS-encrypted, access-controlled) remote state as well as in
KMS; the README's "Secrets and state" section says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from constructs import Construct

from constructs_lib._common.naming import Naming
from imports.alicloud.kms_secret import KmsSecret
from imports.alicloud.ram_policy import RamPolicy
from imports.alicloud.ram_role import RamRole
from imports.alicloud.ram_role_policy_attachment import RamRolePolicyAttachment


def ecs_assume_role_policy() -> str:
    """Trust document: only ECS instances (with the role attached) may assume the role; no AccessKey anywhere."""
    return json.dumps(
        {
            "Version": "1",
            "Statement": [
                {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": ["ecs.aliyuncs.com"]}}
            ],
        },
        sort_keys=True,
    )


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
        self.policy = RamPolicy(
            self,
            "policy",
            policy_name=props.naming.name(f"agent-{props.agent}-read-key", "alicloud_ram_role"),
            description=f"Read the LiteLLM key of agent {props.agent}",
            policy_document=json.dumps(document, sort_keys=True),
        )
        RamRolePolicyAttachment(
            self,
            "attachment",
            policy_name=self.policy.policy_name,
            policy_type="Custom",
            role_name=self.role.role_name,
        )
