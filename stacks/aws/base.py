"""The AWS provider every AWS stack shares: one account, one region, identity tags by default_tags."""

from __future__ import annotations

from cdktf import Aspects, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct

from constructs_lib.aws.ci_trust import boundary_policy_arn
from constructs_lib.aws.permissions_boundary import PermissionsBoundary
from stacks.backends import aws_s3_backend, bootstrap_local_backend, require_terraform_version
from stacks.context import StackContext


class AwsStack(TerraformStack):
    """Provider pinned to the configured account and region; remote state in the bootstrap's S3 bucket."""

    def __init__(self, scope: Construct, context: StackContext, *, remote_state: bool = True) -> None:
        super().__init__(scope, context.name)
        self.context = context
        aws = context.config.cloud("aws")
        self.provider = AwsProvider(
            self,
            "aws",
            region=aws.state.region if context.kind == "bootstrap" else aws.region,
            allowed_account_ids=None if context.kind == "bootstrap" else [aws.account_id],
            default_tags=[AwsProviderDefaultTags(tags=context.tags)],
        )
        require_terraform_version(self)
        if context.kind != "bootstrap":
            # The stage's apply role creates roles only with this boundary (constructs_lib/aws/ci_trust.py).
            prefix = f"{context.config.tenant}-{context.env}"
            Aspects.of(self).add(PermissionsBoundary(boundary_policy_arn(aws.account_id, prefix)))
        if remote_state:
            aws_s3_backend(self, aws.state, context.name)
        else:
            bootstrap_local_backend(self, context.name)
