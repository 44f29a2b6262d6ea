"""`aws-bootstrap`: the state store every other AWS stack uses, and the GitHub Actions OIDC trust.

Applied by an administrator, on local state, never by CI. The state store lives in the account of these
credentials; each environment's CI roles (and their permissions boundary) live in that environment's account
(`clouds.aws.account_id`), reached by assuming `ci.aws_bootstrap_role_name` there.
"""

from __future__ import annotations

from cdktf import TerraformOutput
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderAssumeRole, AwsProviderDefaultTags
from constructs import Construct

from constructs_lib.aws.ci_trust import AwsCiRoles, AwsCiRolesProps, GithubOidcProvider
from constructs_lib.aws.state_store import AwsStateStore, StateStoreProps
from stacks.aws.base import AwsStack
from stacks.context import StackContext


class AwsBootstrapStack(AwsStack):
    def __init__(self, scope: Construct, context: StackContext) -> None:
        super().__init__(scope, context, remote_state=False)
        config = context.config
        state = config.cloud("aws").state

        # Every environment's CI roles; the bootstrap stack itself has none (an administrator applies it).
        stages: dict[str, AwsCiRoles] = {}
        # Each environment's roles, in its own account (one provider and one OIDC provider per account).
        accounts: dict[str, tuple[AwsProvider, GithubOidcProvider]] = {}
        for environment in context.environments:
            account = environment.cloud("aws").account_id
            if account not in accounts:
                provider = AwsProvider(
                    self,
                    f"account-{account}",
                    alias=f"account_{account}",
                    region=state.region,
                    allowed_account_ids=[account],
                    assume_role=[
                        AwsProviderAssumeRole(
                            role_arn=f"arn:aws:iam::{account}:role/{config.ci.aws_bootstrap_role_name}",
                            session_name="llmgw-bootstrap",
                        )
                    ],
                    default_tags=[AwsProviderDefaultTags(tags=context.tags)],
                )
                accounts[account] = (provider, GithubOidcProvider(self, f"github-oidc-{account}", provider=provider))
            provider, oidc = accounts[account]
            stages[environment.env] = AwsCiRoles(
                self,
                f"ci-{environment.env}",
                AwsCiRolesProps(
                    repository=config.repository,
                    stage=environment.env,
                    account_id=account,
                    name_prefix=f"{config.tenant}-{environment.env}",
                    oidc_provider_arn=oidc.arn,
                    provider=provider,
                ),
            )

        store = AwsStateStore(
            self,
            "state",
            StateStoreProps(
                bucket_name=state.bucket,
                alias_prefix=config.tenant,
                dynamodb_table=state.dynamodb_table if state.locking == "dynamodb" else None,
                cross_account_role_arns=tuple(arn for roles in stages.values() for arn in roles.arns),
                state_policy_statements=tuple(
                    grant for roles in stages.values() for grant in roles.state_grants(state.bucket)
                ),
            ),
        )
        for stage, roles in stages.items():
            roles.allow_state(state.bucket, store.key.arn)
            TerraformOutput(
                self,
                f"{stage}_plan_role_arn",
                value=roles.roles["plan"].arn,
                description=f"AWS_PLAN_ROLE_ARN of {stage}",
            )
            TerraformOutput(
                self,
                f"{stage}_apply_role_arn",
                value=roles.roles["apply"].arn,
                description=f"AWS_APPLY_ROLE_ARN of {stage}",
            )
        TerraformOutput(self, "state_bucket", value=store.bucket.name)
        TerraformOutput(self, "state_kms_key_arn", value=store.key.arn)
