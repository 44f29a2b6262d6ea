"""GitHub Actions OIDC trust in one AWS account: the identity provider and a plan + apply role per stage.

Trust is exact: `aud = sts.amazonaws.com` and `sub = repo:<owner>/<name>:environment:<stage>[-plan]`
(StringEquals, no wildcard), so only this repository, in that GitHub environment, gets the role.
- State: each role reaches only its stage's state objects (`<bucket>/aws-<stage>/...`, `aws-<stage>-quotas/...`);
  the plan role reads them and writes only their lock files, the apply role reads and writes them. The state
  bucket's policy repeats this per role, with an explicit deny of every other object (state_grants()).
- plan role: AWS-managed ReadOnlyAccess, the stage's state as above, and the LiteLLM viewer key (read-only
  LiteLLM access for the quotas stacks' plans); never the master key.
- apply role: AWS-managed PowerUserAccess (every service the gateway uses, no IAM), the LiteLLM master key, and
  IAM only on roles and policies named `<tenant>-<stage>-*`: a role may be created or given permissions only
  with the stage's permissions boundary `<tenant>-<stage>-ci-boundary` (which allows no more than PowerUser and
  nothing on the state bucket), no boundary can be removed, and the CI roles and the boundary themselves cannot
  be changed at all. So the apply role cannot grant itself or any role it creates more than it has.
Sessions last up to 2 hours (`max_session_duration`), longer than any apply job (60 min).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from cdktf import TerraformProvider
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.iam_openid_connect_provider import IamOpenidConnectProvider
from cdktf_cdktf_provider_aws.iam_policy import IamPolicy
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct

from constructs_lib._common.ci_identity import (
    GITHUB_OIDC_HOST,
    GITHUB_OIDC_ISSUER,
    master_key_secret_name,
    oidc_subject,
    stage_state_names,
    viewer_key_secret_name,
)

AWS_AUDIENCE = "sts.amazonaws.com"
MANAGED_POLICY = {"plan": "ReadOnlyAccess", "apply": "PowerUserAccess"}
# Longer than the apply job's timeout (60 min, deploy-stack.yml), so credentials never expire mid-apply.
MAX_SESSION_SECONDS = 7200
STATE_OBJECT_ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
# Every IAM action that changes a role or policy: denied on the CI roles and the boundary themselves.
IAM_WRITES = [
    "iam:Attach*", "iam:Create*", "iam:Delete*", "iam:Detach*", "iam:Put*", "iam:Remove*", "iam:Set*",
    "iam:Tag*", "iam:Untag*", "iam:Update*", "iam:Add*",
]  # fmt: skip


def boundary_policy_name(name_prefix: str) -> str:
    """The permissions boundary every role of the stage must carry (constructs_lib/aws/permissions_boundary.py)."""
    return f"{name_prefix}-ci-boundary"


def boundary_policy_arn(account_id: str, name_prefix: str) -> str:
    return f"arn:aws:iam::{account_id}:policy/{boundary_policy_name(name_prefix)}"


def state_object_arns(bucket: str, stage: str, suffix: str = "*") -> list[str]:
    return [f"arn:aws:s3:::{bucket}/{name}/{suffix}" for name in stage_state_names("aws", stage)]


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


def _state_access(bucket: str, key_arn: str, stage: str, *, write_state: bool) -> list[dict]:
    statements = [
        {
            "Sid": "ListStateBucket",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": [f"arn:aws:s3:::{bucket}"],
        },
        {
            "Sid": "StateObjectsOfThisStage",
            "Effect": "Allow",
            "Action": STATE_OBJECT_ACTIONS if write_state else ["s3:GetObject"],
            "Resource": state_object_arns(bucket, stage),
        },
        {
            "Sid": "StateKeyThroughS3",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
            "Resource": [key_arn],
            "Condition": {"StringLike": {"kms:ViaService": "s3.*.amazonaws.com"}},
        },
    ]
    if not write_state:
        # Deploy-time plans take the S3-native lock (`<key>.tflock`); pull-request plans run -lock=false.
        statements.append(
            {
                "Sid": "StateLockFilesOfThisStage",
                "Effect": "Allow",
                "Action": ["s3:PutObject", "s3:DeleteObject"],
                "Resource": state_object_arns(bucket, stage, "*.tflock"),
            }
        )
    return statements


def _litellm_key(account_id: str, name_prefix: str, role: str) -> list[dict]:
    """The quotas stacks' jobs read a LiteLLM key: the read-only viewer key to plan, the master key to apply
    (Secrets Manager adds a 6-character suffix to the name)."""
    secret = master_key_secret_name(name_prefix) if role == "apply" else viewer_key_secret_name(name_prefix)
    return [
        {
            "Sid": "ReadLiteLLMKey",
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
            "Resource": [f"arn:aws:secretsmanager:*:{account_id}:secret:{secret}-??????"],
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
    boundary = {"StringEquals": {"iam:PermissionsBoundary": boundary_policy_arn(account_id, name_prefix)}}
    return [
        {
            "Sid": "ManageOwnStageRolesAndPolicies",
            "Effect": "Allow",
            "Action": [
                "iam:DeleteRole", "iam:GetRole", "iam:UpdateRole", "iam:UpdateRoleDescription",
                "iam:UpdateAssumeRolePolicy", "iam:TagRole", "iam:UntagRole", "iam:ListRoleTags", "iam:GetRolePolicy",
                "iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole",
                "iam:CreatePolicy", "iam:DeletePolicy", "iam:GetPolicy", "iam:GetPolicyVersion",
                "iam:CreatePolicyVersion", "iam:DeletePolicyVersion", "iam:ListPolicyVersions", "iam:TagPolicy",
                "iam:UntagPolicy", "iam:ListPolicyTags",
            ],
            "Resource": [roles, policies],
        },
        {
            # What gives a role permissions only ever with the stage's boundary on it.
            "Sid": "GrantOnlyWithinTheStageBoundary",
            "Effect": "Allow",
            "Action": [
                "iam:CreateRole", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy", "iam:DeleteRolePolicy",
                "iam:AttachRolePolicy", "iam:DetachRolePolicy",
            ],
            "Resource": [roles],
            "Condition": boundary,
        },
        {"Sid": "PassOwnStageRoles", "Effect": "Allow", "Action": ["iam:PassRole"], "Resource": [roles]},
        {
            "Sid": "ServiceLinkedRoles",
            "Effect": "Allow",
            "Action": ["iam:CreateServiceLinkedRole"],
            "Resource": [f"arn:aws:iam::{account_id}:role/aws-service-role/*"],
        },
        {
            "Sid": "NeverChangeTheCiRolesOrTheBoundary",
            "Effect": "Deny",
            "Action": IAM_WRITES,
            "Resource": [
                f"arn:aws:iam::{account_id}:role/{name_prefix}-ci-*",
                boundary_policy_arn(account_id, name_prefix),
            ],
        },
        {
            "Sid": "NeverRemoveABoundary",
            "Effect": "Deny",
            "Action": ["iam:DeleteRolePermissionsBoundary", "iam:DeleteUserPermissionsBoundary"],
            "Resource": ["*"],
        },
    ]  # fmt: skip


def boundary_document(state_bucket: str) -> dict:
    """The most a role created by a stage's apply role may ever do: PowerUser's scope (no IAM, Organizations or
    account changes) and nothing at all on the Terraform state bucket."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "NoMoreThanPowerUser",
                "Effect": "Allow",
                "NotAction": ["iam:*", "organizations:*", "account:*"],
                "Resource": "*",
            },
            {
                "Sid": "NeverTheState",
                "Effect": "Deny",
                "Action": ["s3:*"],
                "Resource": [f"arn:aws:s3:::{state_bucket}", f"arn:aws:s3:::{state_bucket}/*"],
            },
        ],
    }


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
                max_session_duration=MAX_SESSION_SECONDS,
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

    def state_grants(self, state_bucket: str) -> list[DataAwsIamPolicyDocumentStatement]:
        """The state bucket's policy for this stage's roles: their own objects only, everything else denied
        (an explicit deny holds even where an identity policy such as ReadOnlyAccess would allow)."""
        stage = self._props.stage
        own = state_object_arns(state_bucket, stage)
        grants = []
        for role, iam_role in self.roles.items():
            principal = [DataAwsIamPolicyDocumentStatementPrincipals(type="AWS", identifiers=[iam_role.arn])]
            allowed = STATE_OBJECT_ACTIONS if role == "apply" else ["s3:GetObject"]
            grants.append(
                DataAwsIamPolicyDocumentStatement(
                    sid=f"{stage.capitalize()}{role.capitalize()}OwnState",
                    actions=["s3:ListBucket"],
                    principals=principal,
                    resources=[f"arn:aws:s3:::{state_bucket}"],
                )
            )
            grants.append(
                DataAwsIamPolicyDocumentStatement(
                    sid=f"{stage.capitalize()}{role.capitalize()}OwnStateObjects",
                    actions=allowed,
                    principals=principal,
                    resources=own,
                )
            )
            if role == "plan":
                grants.append(
                    DataAwsIamPolicyDocumentStatement(
                        sid=f"{stage.capitalize()}PlanOwnLockFiles",
                        actions=["s3:PutObject", "s3:DeleteObject"],
                        principals=principal,
                        resources=state_object_arns(state_bucket, stage, "*.tflock"),
                    )
                )
            grants.append(
                DataAwsIamPolicyDocumentStatement(
                    sid=f"{stage.capitalize()}{role.capitalize()}NoOtherState",
                    effect="Deny",
                    actions=STATE_OBJECT_ACTIONS,
                    principals=principal,
                    not_resources=own,
                )
            )
        return grants

    def allow_state(self, state_bucket: str, state_key_arn: str) -> None:
        props = self._props
        IamPolicy(
            self,
            "boundary",
            name=boundary_policy_name(props.name_prefix),
            description=f"Permissions boundary of every role stage {props.stage}'s apply role creates",
            policy=json.dumps(boundary_document(state_bucket), sort_keys=True),
            provider=props.provider,
        )
        for role, iam_role in self.roles.items():
            statements = _state_access(state_bucket, state_key_arn, props.stage, write_state=role == "apply")
            statements += _litellm_key(props.account_id, props.name_prefix, role)
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
