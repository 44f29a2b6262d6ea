"""The service role Bedrock Custom Model Import assumes to read model weights under `models/` of the gateway bucket
(`clouds.aws.bedrock_custom_model_import`).

    bedrock_model_import_role(scope, naming.name("bedrock-model-import", "aws_iam_role"), aws, bucket, key_arn)
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from constructs_lib.aws.iam import via_service
from constructs_lib.aws.secure_bucket import SecureBucket
from constructs_lib.config.aws import AwsConfig


def bedrock_model_import_role(scope: Construct, name: str, aws: AwsConfig, bucket: SecureBucket, key_arn: str) -> None:
    """The service role Bedrock Custom Model Import assumes to read weights under `models/` of the gateway bucket."""
    account, region = aws.account_id, aws.region
    trust = DataAwsIamPolicyDocument(
        scope,
        "bedrock-model-import-trust",
        statement=[
            DataAwsIamPolicyDocumentStatement(
                actions=["sts:AssumeRole"],
                principals=[
                    DataAwsIamPolicyDocumentStatementPrincipals(type="Service", identifiers=["bedrock.amazonaws.com"])
                ],
                # Confused deputy: only this account's import jobs in this region.
                condition=[
                    DataAwsIamPolicyDocumentStatementCondition(
                        test="StringEquals", variable="aws:SourceAccount", values=[account]
                    ),
                    DataAwsIamPolicyDocumentStatementCondition(
                        test="ArnLike",
                        variable="aws:SourceArn",
                        values=[f"arn:{_partition(region)}:bedrock:{region}:{account}:model-import-job/*"],
                    ),
                ],
            )
        ],
    )
    role = IamRole(
        scope,
        "bedrock-model-import-role",
        name=name,
        description="Bedrock Custom Model Import: reads model weights under models/ of the gateway bucket",
        assume_role_policy=trust.json,
    )
    read = DataAwsIamPolicyDocument(
        scope,
        "bedrock-model-import-read",
        statement=[
            DataAwsIamPolicyDocumentStatement(
                sid="ReadModelWeights",
                actions=["s3:GetObject", "s3:GetObjectAttributes"],
                resources=[f"{bucket.arn}/models/*"],
            ),
            DataAwsIamPolicyDocumentStatement(
                sid="ListModelWeights", actions=["s3:ListBucket"], resources=[bucket.arn]
            ),
            # The bucket is encrypted with the gateway key: decrypt through S3 only.
            DataAwsIamPolicyDocumentStatement(
                sid="DecryptModelWeights",
                actions=["kms:Decrypt"],
                resources=[key_arn],
                condition=[via_service("s3", region)],
            ),
        ],
    )
    IamRolePolicy(scope, "bedrock-model-import-policy", name="read-model-weights", role=role.id, policy=read.json)


def _partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"
