"""An S3 bucket with every control on: versioned, encrypted, private, owner-enforced, TLS-only."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
)
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import (
    S3BucketOwnershipControls,
    S3BucketOwnershipControlsRule,
)
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import (
    S3BucketVersioningA,
    S3BucketVersioningVersioningConfiguration,
)
from constructs import Construct


@dataclass(frozen=True)
class SecureBucketProps:
    bucket_name: str
    # A customer-managed KMS key; None means SSE-S3 (AES256), which ALB access logs require.
    kms_key_arn: str | None
    noncurrent_version_days: int = 90
    # Stateful buckets (state, data) refuse `terraform destroy`; log buckets may opt out.
    prevent_destroy: bool = True
    # Current objects expire after this many days (log buckets); None keeps them.
    expiration_days: int | None = None
    # Extra statements for the bucket policy (e.g. the ELB log-delivery principal).
    extra_policy_statements: tuple[DataAwsIamPolicyDocumentStatement, ...] = ()


class SecureBucket(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: SecureBucketProps) -> None:
        super().__init__(scope, construct_id)
        self.bucket = S3Bucket(
            self,
            "bucket",
            bucket=props.bucket_name,
            force_destroy=False,
            lifecycle=TerraformResourceLifecycle(prevent_destroy=props.prevent_destroy),
        )
        bucket_id = self.bucket.id
        S3BucketOwnershipControls(
            self,
            "ownership",
            bucket=bucket_id,
            rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"),
        )
        public_access = S3BucketPublicAccessBlock(
            self,
            "public-access",
            bucket=bucket_id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
        S3BucketVersioningA(
            self,
            "versioning",
            bucket=bucket_id,
            versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"),
        )
        self._encryption(props)
        self._lifecycle(props)
        deny_plaintext = DataAwsIamPolicyDocumentStatement(
            sid="DenyInsecureTransport",
            effect="Deny",
            actions=["s3:*"],
            principals=[DataAwsIamPolicyDocumentStatementPrincipals(type="*", identifiers=["*"])],
            resources=[self.bucket.arn, f"{self.bucket.arn}/*"],
            condition=[
                DataAwsIamPolicyDocumentStatementCondition(
                    test="Bool", variable="aws:SecureTransport", values=["false"]
                )
            ],
        )
        policy = DataAwsIamPolicyDocument(
            self, "policy-document", statement=[deny_plaintext, *props.extra_policy_statements]
        )
        # The public-access block must exist first, or S3 may reject a policy it deems public.
        self.policy = S3BucketPolicy(self, "policy", bucket=bucket_id, policy=policy.json, depends_on=[public_access])

    def _encryption(self, props: SecureBucketProps) -> None:
        """SSE-KMS with the given key (and a bucket key), else SSE-S3."""
        by_default = (
            S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                sse_algorithm="aws:kms", kms_master_key_id=props.kms_key_arn
            )
            if props.kms_key_arn
            else S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                sse_algorithm="AES256"
            )
        )
        S3BucketServerSideEncryptionConfigurationA(
            self,
            "encryption",
            bucket=self.bucket.id,
            rule=[
                S3BucketServerSideEncryptionConfigurationRuleA(
                    apply_server_side_encryption_by_default=by_default,
                    bucket_key_enabled=bool(props.kms_key_arn),
                )
            ],
        )

    def _lifecycle(self, props: SecureBucketProps) -> None:
        """Noncurrent versions expire after their window; objects too where asked; stale uploads go."""
        S3BucketLifecycleConfiguration(
            self,
            "lifecycle",
            bucket=self.bucket.id,
            rule=[
                S3BucketLifecycleConfigurationRule(
                    id="expire-noncurrent-versions",
                    status="Enabled",
                    filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                    noncurrent_version_expiration=[
                        S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                            noncurrent_days=props.noncurrent_version_days
                        )
                    ],
                    expiration=(
                        [S3BucketLifecycleConfigurationRuleExpiration(days=props.expiration_days)]
                        if props.expiration_days
                        else None
                    ),
                    abort_incomplete_multipart_upload=[
                        S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(days_after_initiation=7)
                    ],
                )
            ],
        )

    @property
    def arn(self) -> str:
        return self.bucket.arn

    @property
    def name(self) -> str:
        return self.bucket.bucket
