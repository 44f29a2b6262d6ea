"""GitHub Actions OIDC trust in one AWS account: the identity provider and a plan + apply role per stage.

Trust is exact: `aud = sts.amazonaws.com` and `sub = repo:<owner>/<name>:environment:<stage>[-plan]`
(StringEquals, no wildcard), so only this repository, in that GitHub environment, gets the role.
- plan role: AWS-managed ReadOnlyAccess, plus the Terraform state (read, and lock files: deploy-time plans
  lock; pull-request plans run -lock=false).
- apply role: AWS-managed PowerUserAccess (every service the gateway uses, but no IAM), plus IAM management
  only of roles and policies named `<tenant>-<stage>-*` (the stacks' own naming), PassRole of those roles, and
  the Terraform state. It cannot touch any other IAM principal, so it cannot escalate beyond the stage.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from cdktf import TerraformProvider
from cdktf_cdktf_provider_aws.iam_openid_connect_provider import IamOpenidConnectProvider
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct

from constructs_lib._common.ci_identity import (
    GITHUB_OIDC_HOST,
    GITHUB_OIDC_ISSUER,
    master_key_secret_name,
    oidc_subject,
)

AWS_AUDIENCE = "sts.amazonaws.com"
MANAGED_POLICY = {"plan": "ReadOnlyAccess", "apply": "PowerUserAccess"}


class GithubOidcProvider(Construct):
    """One per AWS account; every stage's roles in that account federate through it."""

    def __init__(self, scope: Construct, construct_id: str, *, provider: TerraformProvider | None = None) -> None:
        super().__init__(scope, construct_id)
        self.resource = IamOpenidConnectProvider(
            self, "provider", url=GITHUB_OIDC_ISSUER, client_id_list=[AWS_AUDIENCE], provider=provider
        )

    @property
    def arn(self) -> str:
        return self.resource.arn


@dataclass(frozen=True)
class AwsCiRolesProps:
    repository: str
    stage: str
    account_id: str
    # `<tenant>-<stage>`: the roles' names and the IAM names the apply role may manage.
    name_prefix: str
    oidc_provider_arn: str
    provider: TerraformProvider | None = None


def _state_access(bucket: str, key_arn: str, *, write_state: bool) -> list[dict]:
    object_actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"] if write_state else ["s3:GetObject"]
    statements = [
        {
            "Sid": "ListStateBucket",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": [f"arn:aws:s3:::{bucket}"],
        },
        {"Sid": "StateObjects", "Effect": "Allow", "Action": object_actions, "Resource": [f"arn:aws:s3:::{bucket}/*"]},
        {
            "Sid": "StateKey",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
            "Resource": [key_arn],
        },
    ]
    if not write_state:
        statements.append(
            {
                "Sid": "StateLockFiles",
                "Effect": "Allow",
                "Action": ["s3:PutObject", "s3:DeleteObject"],
                "Resource": [f"arn:aws:s3:::{bucket}/*.tflock"],
            }
        )
    return statements


def _gateway_master_key(account_id: str, name_prefix: str) -> list[dict]:
    """The quotas stacks' jobs read the gateway's master key (Secrets Manager adds a 6-character suffix)."""
    return [
        {
            "Sid": "ReadGatewayMasterKey",
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
            "Resource": [f"arn:aws:secretsmanager:*:{account_id}:secret:{master_key_secret_name(name_prefix)}-??????"],
        },
        {
            "Sid": "DecryptThroughSecretsManager",
            "Effect": "Allow",
            "Action": ["kms:Decrypt"],
            "Resource": [f"arn:aws:kms:*:{account_id}:key/*"],
            "Condition": {"StringLike": {"kms:ViaService": "secretsmanager.*.amazonaws.com"}},
        },
    ]


def _iam_of_own_stage(account_id: str, name_prefix: str) -> list[dict]:
    roles = f"arn:aws:iam::{account_id}:role/{name_prefix}-*"
    policies = f"arn:aws:iam::{account_id}:policy/{name_prefix}-*"
    return [
        {
            "Sid": "ManageOwnStageRolesAndPolicies",
            "Effect": "Allow",
            "Action": [
                "iam:CreateRole", "iam:DeleteRole", "iam:GetRole", "iam:UpdateRole", "iam:UpdateAssumeRolePolicy",
                "iam:TagRole", "iam:UntagRole", "iam:ListRoleTags", "iam:PutRolePolicy", "iam:GetRolePolicy",
                "iam:DeleteRolePolicy", "iam:ListRolePolicies", "iam:AttachRolePolicy", "iam:DetachRolePolicy",
                "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole", "iam:CreatePolicy",
                "iam:DeletePolicy", "iam:GetPolicy", "iam:GetPolicyVersion", "iam:CreatePolicyVersion",
                "iam:DeletePolicyVersion", "iam:ListPolicyVersions", "iam:TagPolicy",
            ],
            "Resource": [roles, policies],
        },
        {"Sid": "PassOwnStageRoles", "Effect": "Allow", "Action": ["iam:PassRole"], "Resource": [roles]},
        {
            "Sid": "ServiceLinkedRoles",
            "Effect": "Allow",
            "Action": ["iam:CreateServiceLinkedRole"],
            "Resource": [f"arn:aws:iam::{account_id}:role/aws-service-role/*"],
        },
    ]  # fmt: skip


class AwsCiRoles(Construct):
    """The plan and apply roles of one stage; `allow_state` adds their permissions once the state key exists
    (the state store's key and bucket policies name these roles, so the roles come first)."""

    def __init__(self, scope: Construct, construct_id: str, props: AwsCiRolesProps) -> None:
        super().__init__(scope, construct_id)
        self._props = props
        self.roles: dict[str, IamRole] = {}
        for role in ("plan", "apply"):
            trust = {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Federated": props.oidc_provider_arn},
                        "Action": "sts:AssumeRoleWithWebIdentity",
                        "Condition": {
                            "StringEquals": {
                                f"{GITHUB_OIDC_HOST}:aud": AWS_AUDIENCE,
                                f"{GITHUB_OIDC_HOST}:sub": oidc_subject(props.repository, props.stage, role),
                            }
                        },
                    }
                ],
            }
            iam_role = IamRole(
                self,
                role,
                name=f"{props.name_prefix}-ci-{role}",
                description=f"GitHub Actions {role} of stage {props.stage} ({props.repository})",
                assume_role_policy=json.dumps(trust, sort_keys=True),
                max_session_duration=3600,
                provider=props.provider,
            )
            IamRolePolicyAttachment(
                self,
                f"{role}-managed",
                role=iam_role.name,
                policy_arn=f"arn:aws:iam::aws:policy/{MANAGED_POLICY[role]}",
                provider=props.provider,
            )
            self.roles[role] = iam_role

    @property
    def arns(self) -> list[str]:
        return [role.arn for role in self.roles.values()]

    def allow_state(self, state_bucket: str, state_key_arn: str) -> None:
        props = self._props
        for role, iam_role in self.roles.items():
            statements = _state_access(state_bucket, state_key_arn, write_state=role == "apply")
            statements += _gateway_master_key(props.account_id, props.name_prefix)
            if role == "apply":
                statements += _iam_of_own_stage(props.account_id, props.name_prefix)
            IamRolePolicy(
                self,
                f"{role}-inline",
                name=f"{props.name_prefix}-ci-{role}",
                role=iam_role.id,
                policy=json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True),
                provider=props.provider,
            )
