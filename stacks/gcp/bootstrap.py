"""`gcp-bootstrap`: the GCS state bucket and the GitHub Actions OIDC trust. Applied by an administrator, on local
state, never by CI.

Everything lives in the state project (`clouds.gcp.state.project`): the bucket, the Workload Identity pool, and
every stage's CI service accounts; each environment's accounts get their roles in that environment's project.
"""

from __future__ import annotations

from cdktf import TerraformOutput
from cdktf_cdktf_provider_google.project_service import ProjectService
from constructs import Construct

from constructs_lib._common.ci_identity import ROLES, oidc_subject
from constructs_lib.gcp.ci_trust import (
    GcpCiAccounts,
    GcpCiAccountsProps,
    GithubWorkloadIdentity,
    GithubWorkloadIdentityProps,
)
from constructs_lib.gcp.secure_bucket import SecureGcsBucket, SecureGcsBucketProps
from stacks.context import StackContext
from stacks.gcp.base import GcpStack

BOOTSTRAP_APIS = (
    "storage.googleapis.com",
    "iam.googleapis.com",
    "iamcredentials.googleapis.com",
    "sts.googleapis.com",
    "cloudresourcemanager.googleapis.com",
)


class GcpBootstrapStack(GcpStack):
    def __init__(self, scope: Construct, context: StackContext) -> None:
        super().__init__(scope, context, remote_state=False)
        config = context.config
        state = config.cloud("gcp").state
        apis = {
            api: ProjectService(self, api.split(".")[0] + "-api", service=api, disable_on_destroy=False)
            for api in BOOTSTRAP_APIS
        }
        bucket = SecureGcsBucket(
            self,
            "state",
            SecureGcsBucketProps(
                name=state.bucket, location=state.location, depends_on=(apis["storage.googleapis.com"],)
            ),
        )
        # Every environment's CI accounts; the bootstrap stack itself has none (an administrator applies it).
        stage_projects = {environment.env: environment.cloud("gcp").project for environment in context.environments}
        identity = GithubWorkloadIdentity(
            self,
            "github",
            GithubWorkloadIdentityProps(
                repository=config.repository,
                pool_id=f"{config.tenant}-github",
                subjects=tuple(
                    oidc_subject(config.repository, stage, role) for stage in stage_projects for role in ROLES
                ),
                depends_on=tuple(apis[api] for api in BOOTSTRAP_APIS if api != "storage.googleapis.com"),
            ),
        )
        TerraformOutput(
            self,
            "workload_identity_provider",
            value=identity.name,
            description="GCP_WORKLOAD_IDENTITY_PROVIDER of every stage",
        )
        for stage, project in stage_projects.items():
            accounts = GcpCiAccounts(
                self,
                f"ci-{stage}",
                GcpCiAccountsProps(
                    repository=config.repository,
                    stage=stage,
                    name_prefix=f"{config.tenant}-{stage}",
                    project=project,
                    state_bucket=bucket.name,
                ),
                identity,
            )
            for role, account in accounts.accounts.items():
                TerraformOutput(
                    self,
                    f"{stage}_{role}_service_account",
                    value=account.email,
                    description=f"GCP_SERVICE_ACCOUNT of {stage}'s {role} jobs",
                )
        TerraformOutput(self, "state_bucket", value=bucket.name)
