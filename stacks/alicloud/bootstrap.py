"""`alicloud-bootstrap`: the OSS state bucket, its Tablestore lock table, and the GitHub Actions OIDC trust.

Applied by an administrator, on local state, never by CI. Every stage's CI roles live in this account (the Alibaba Cloud
config names no per-environment account).
"""

from __future__ import annotations

from cdktf import TerraformOutput
from constructs import Construct

from constructs_lib._common.ci_identity import stage_lock_table
from constructs_lib.alicloud.ci_trust import (
    AlicloudCiRoles,
    AlicloudCiRolesProps,
    GithubOidcIdentity,
    GithubOidcIdentityProps,
)
from constructs_lib.alicloud.state_store import AlicloudStateStore, AlicloudStateStoreProps
from imports.alicloud.data_alicloud_account import DataAlicloudAccount
from stacks.alicloud.base import AlicloudStack
from stacks.context import StackContext


class AlicloudBootstrapStack(AlicloudStack):
    def __init__(self, scope: Construct, context: StackContext) -> None:
        super().__init__(scope, context, remote_state=False)
        config = context.config
        alicloud = config.cloud("alicloud")
        state = alicloud.state
        store = AlicloudStateStore(
            self,
            "state",
            AlicloudStateStoreProps(
                bucket_name=state.bucket,
                tablestore_instance=state.tablestore_instance,
                tablestore_tables=tuple(
                    stage_lock_table(state.tablestore_table, environment.env) for environment in context.environments
                ),
            ),
        )
        account = DataAlicloudAccount(self, "account")
        identity = GithubOidcIdentity(
            self, "github-oidc", GithubOidcIdentityProps(fingerprints=tuple(config.ci.alicloud_oidc_fingerprints))
        )
        TerraformOutput(
            self, "oidc_provider_arn", value=identity.arn, description="ALIBABA_CLOUD_OIDC_PROVIDER_ARN of every stage"
        )
        # Every environment's CI roles; the bootstrap stack itself has none (an administrator applies it).
        stages = [environment.env for environment in context.environments]
        for stage in stages:
            roles = AlicloudCiRoles(
                self,
                f"ci-{stage}",
                AlicloudCiRolesProps(
                    repository=config.repository,
                    stage=stage,
                    account_id=account.id,
                    region=alicloud.region,
                    name_prefix=f"{config.tenant}-{stage}",
                    state_bucket=state.bucket,
                    state_key_arn=store.key.arn,
                    lock_instance=state.tablestore_instance,
                    lock_table=state.tablestore_table,
                ),
                identity,
            )
            for role, ram_role in roles.roles.items():
                TerraformOutput(
                    self,
                    f"{stage}_{role}_role_arn",
                    value=ram_role.arn,
                    description=f"ALIBABA_CLOUD_ROLE_ARN of {stage}'s {role} jobs",
                )
        TerraformOutput(self, "state_bucket", value=store.bucket.bucket)
        TerraformOutput(self, "tablestore_endpoint", value=state.tablestore_endpoint)
