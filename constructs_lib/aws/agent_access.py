"""An agent's key on AWS: its own Secrets Manager secret and an IAM role that can read that secret only."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformResource
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
from cdktf_cdktf_provider_aws.secretsmanager_secret_version import SecretsmanagerSecretVersion
from constructs import Construct

from constructs_lib._common.lifecycle import replaced_with
from constructs_lib._common.naming import Naming


@dataclass(frozen=True)
class AwsAgentAccessProps:
    naming: Naming
    agent: str
    account_id: str
    region: str
    kms_key_arn: str
    # Ephemeral key material: reaches Secrets Manager through the write-only argument only.
    key_material: str
    key_version: int
    recovery_window_days: int
    # The key registration: re-writing the secret follows it, so a retried registration and the secret agree.
    registration: TerraformResource


class AwsAgentAccess(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: AwsAgentAccessProps) -> None:
        super().__init__(scope, construct_id)
        self.secret = SecretsmanagerSecret(
            self,
            "secret",
            name=f"{props.naming.prefix}/agents/{props.agent}/litellm-key",
            description=f"LiteLLM virtual key of agent {props.agent}; readable only by its role",
            kms_key_id=props.kms_key_arn,
            recovery_window_in_days=props.recovery_window_days,
        )
        SecretsmanagerSecretVersion(
            self,
            "version",
            secret_id=self.secret.id,
            secret_string_wo=props.key_material,
            secret_string_wo_version=props.key_version,
            depends_on=[props.registration],
            lifecycle=replaced_with(props.registration),
        )
        trust = DataAwsIamPolicyDocument(
            self,
            "trust",
            statement=[
                DataAwsIamPolicyDocumentStatement(
                    actions=["sts:AssumeRole"],
                    principals=[
                        DataAwsIamPolicyDocumentStatementPrincipals(
                            type="Service", identifiers=["ecs-tasks.amazonaws.com"]
                        )
                    ],
                    condition=[
                        DataAwsIamPolicyDocumentStatementCondition(
                            test="StringEquals", variable="aws:SourceAccount", values=[props.account_id]
                        )
                    ],
                )
            ],
        )
        self.role = IamRole(
            self,
            "role",
            name=props.naming.name(f"agent-{props.agent}", "aws_iam_role"),
            description=f"Runtime role of agent {props.agent}: reads its own LiteLLM key, nothing else",
            assume_role_policy=trust.json,
        )
        read_own_key = DataAwsIamPolicyDocument(
            self,
            "read-own-key",
            statement=[
                DataAwsIamPolicyDocumentStatement(
                    sid="ReadOwnKey",
                    actions=["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                    resources=[self.secret.arn],
                ),
                DataAwsIamPolicyDocumentStatement(
                    sid="DecryptOwnKeyOnly",
                    actions=["kms:Decrypt"],
                    resources=[props.kms_key_arn],
                    # The key is shared by all agents' secrets: the encryption context pins it to this secret.
                    condition=[
                        DataAwsIamPolicyDocumentStatementCondition(
                            test="StringEquals",
                            variable="kms:ViaService",
                            values=[f"secretsmanager.{props.region}.amazonaws.com"],
                        ),
                        DataAwsIamPolicyDocumentStatementCondition(
                            test="StringEquals",
                            variable="kms:EncryptionContext:SecretARN",
                            values=[self.secret.arn],
                        ),
                    ],
                ),
            ],
        )
        IamRolePolicy(self, "policy", name="read-own-litellm-key", role=self.role.id, policy=read_own_key.json)
