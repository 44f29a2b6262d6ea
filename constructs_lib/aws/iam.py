"""The two IAM roles of one ECS task family, each with exactly what that family uses.

    identity = TaskIdentity(self, "gateway-identity", TaskIdentityProps(naming=..., family="gateway",
        log_group_arn=..., secret_arns=[...], kms_key_arn=..., task_statements=[...]))
    identity.execution_role.arn, identity.task_role.arn

- Execution role (used by the ECS agent before the container starts): writes to the family's own log group, reads
  exactly the secrets its container definition references, and decrypts them with exactly the gateway key, only
  through Secrets Manager; pulls from exactly the private ECR repositories its image is in (none for public images).
  No managed policy.
- Task role (what the running container can do): only the given statements; none at all for the UI.
Both trust `ecs-tasks.amazonaws.com` from this account only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from constructs_lib._common.naming import Naming


@dataclass(frozen=True)
class TaskIdentityProps:
    naming: Naming
    family: str
    account_id: str
    region: str
    log_group_arn: str
    kms_key_arn: str
    # Secret ARNs (bare, without the `::label:` suffix of valueFrom) the container definition references.
    secret_arns: Sequence[str] = ()
    task_statements: Sequence[DataAwsIamPolicyDocumentStatement] = ()
    # Private ECR repositories the family's image comes from (public registries need no permission).
    ecr_repository_arns: Sequence[str] = ()


def service_trust(
    scope: Construct, construct_id: str, service: str, account_id: str | None
) -> DataAwsIamPolicyDocument:
    """Trust policy: `service` may assume the role (only on behalf of `account_id`, when given)."""
    condition = (
        [
            DataAwsIamPolicyDocumentStatementCondition(
                test="StringEquals", variable="aws:SourceAccount", values=[account_id]
            )
        ]
        if account_id
        else None
    )
    return DataAwsIamPolicyDocument(
        scope,
        construct_id,
        statement=[
            DataAwsIamPolicyDocumentStatement(
                actions=["sts:AssumeRole"],
                principals=[DataAwsIamPolicyDocumentStatementPrincipals(type="Service", identifiers=[service])],
                condition=condition,
            )
        ],
    )


def via_service(service: str, region: str) -> DataAwsIamPolicyDocumentStatementCondition:
    return DataAwsIamPolicyDocumentStatementCondition(
        test="StringEquals", variable="kms:ViaService", values=[f"{service}.{region}.amazonaws.com"]
    )


class TaskIdentity(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: TaskIdentityProps) -> None:
        super().__init__(scope, construct_id)
        naming, family = props.naming, props.family
        trust = service_trust(self, "trust", "ecs-tasks.amazonaws.com", props.account_id)
        self.execution_role = IamRole(
            self,
            "execution-role",
            name=naming.name(f"{family}-execution", "aws_iam_role"),
            description=f"ECS agent of {family}: its log group and its own secrets only",
            assume_role_policy=trust.json,
        )
        statements = [
            DataAwsIamPolicyDocumentStatement(
                sid="WriteOwnLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[f"{props.log_group_arn}:*"],
            )
        ]
        if props.secret_arns:
            statements += [
                DataAwsIamPolicyDocumentStatement(
                    sid="ReadOwnSecrets", actions=["secretsmanager:GetSecretValue"], resources=list(props.secret_arns)
                ),
                DataAwsIamPolicyDocumentStatement(
                    sid="DecryptOwnSecrets",
                    actions=["kms:Decrypt"],
                    resources=[props.kms_key_arn],
                    condition=[via_service("secretsmanager", props.region)],
                ),
            ]
        if props.ecr_repository_arns:
            statements += [
                DataAwsIamPolicyDocumentStatement(
                    sid="PullOwnImages",
                    actions=["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
                    resources=list(props.ecr_repository_arns),
                ),
                # The registry login has no resource-level permission: `*` is the only value AWS accepts.
                DataAwsIamPolicyDocumentStatement(
                    sid="RegistryLogin", actions=["ecr:GetAuthorizationToken"], resources=["*"]
                ),
            ]
        execution = DataAwsIamPolicyDocument(self, "execution-policy-document", statement=statements)
        # What a task of this family needs in place before it starts.
        self.policies: list[IamRolePolicy] = [
            IamRolePolicy(
                self, "execution-policy", name=f"{family}-execution", role=self.execution_role.id, policy=execution.json
            )
        ]
        self.task_role = IamRole(
            self,
            "task-role",
            name=naming.name(f"{family}-task", "aws_iam_role"),
            description=f"Runtime of {family}: "
            + ("only what it needs" if props.task_statements else "no permissions"),
            assume_role_policy=trust.json,
        )
        if props.task_statements:
            task = DataAwsIamPolicyDocument(self, "task-policy-document", statement=list(props.task_statements))
            self.policies.append(
                IamRolePolicy(self, "task-policy", name=f"{family}-task", role=self.task_role.id, policy=task.json)
            )
