"""The gateway instances' RAM role: assumable only by ECS, reading exactly the gateway's secrets and release.

No AccessKey exists anywhere: the instances take the role's STS credentials from the metadata service, and
`alicloud_ecs_ram_role_attachment` attaches it (the instance's `role_name` argument is deprecated since 1.275.0).
Every statement names its resources: the secrets by ARN, the key by ARN, the release objects by exact key.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from cdktf import Fn
from constructs import Construct

from constructs_lib._common.errors import PropsError
from constructs_lib._common.naming import Naming
from imports.alicloud.ecs_ram_role_attachment import EcsRamRoleAttachment
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


def attach_custom_policy(scope: Construct, role: RamRole, *, name: str, description: str, document: str) -> RamPolicy:
    """A custom policy (`policy`) and its attachment to `role` (`attachment`), in `scope`."""
    policy = RamPolicy(scope, "policy", policy_name=name, description=description, policy_document=document)
    RamRolePolicyAttachment(
        scope, "attachment", policy_name=policy.policy_name, policy_type="Custom", role_name=role.role_name
    )
    return policy


@dataclass(frozen=True)
class GatewayRoleProps:
    naming: Naming
    secret_arns: Sequence[str]
    key_arn: str
    # `acs:oss:<region>:<account>:<bucket>/<key>` of each release object the instances download.
    object_arns: Sequence[str]

    def __post_init__(self) -> None:
        if not self.secret_arns:
            raise PropsError("secret_arns", "the gateway reads at least one secret")
        for arn in (*self.object_arns,):
            if "*" in arn:
                raise PropsError("object_arns", f"{arn!r}: name each object exactly, no wildcards")


class GatewayRole(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: GatewayRoleProps) -> None:
        super().__init__(scope, construct_id)
        naming = props.naming
        self.role = RamRole(
            self,
            "role",
            role_name=naming.name("gateway", "alicloud_ram_role"),
            description="LLM gateway ECS instances: read the gateway's KMS secrets and release objects",
            assume_role_policy_document=ecs_assume_role_policy(),
            max_session_duration=3600,
        )
        statements = [
            {"Effect": "Allow", "Action": ["kms:GetSecretValue"], "Resource": list(props.secret_arns)},
            {"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [props.key_arn]},
        ]
        if props.object_arns:
            statements.append({"Effect": "Allow", "Action": ["oss:GetObject"], "Resource": list(props.object_arns)})
        self.policy = attach_custom_policy(
            self,
            self.role,
            name=naming.name("gateway-read-secrets", "alicloud_ram_role"),
            description="Read exactly the LLM gateway's secrets, their key and its release objects",
            document=Fn.jsonencode({"Version": "1", "Statement": statements}),
        )
        self.role_name = naming.name("gateway", "alicloud_ram_role")

    def attach(self, construct_id: str, instance_id: str) -> EcsRamRoleAttachment:
        return EcsRamRoleAttachment(self, construct_id, ram_role_name=self.role.role_name, instance_id=instance_id)
