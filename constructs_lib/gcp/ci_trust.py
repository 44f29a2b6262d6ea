"""GitHub Actions OIDC trust on Google Cloud: one Workload Identity pool, and a plan + apply service account per stage.

The pool's provider admits only tokens of this repository (`attribute_condition` on `assertion.repository`); each
service account can be impersonated only by one exact subject, `repo:<owner>/<name>:environment:<stage>[-plan]`,
through `roles/iam.workloadIdentityUser` on `principal://iam.googleapis.com/<pool>/subject/<subject>`. The
accounts live in the state project (where the pool is); their roles are granted in the stage's project.
- plan: `roles/viewer` and `roles/iam.securityReviewer` (reads configuration and IAM, never secret payloads),
  the state bucket's objects read-only, and lock files (`*.tflock`) writable.
- apply: the admin roles of exactly the services the gateway stacks use, and the state bucket's objects.
  `roles/resourcemanager.projectIamAdmin` is among them because the stacks grant roles to their own service
  accounts; that is what makes the apply identity a stage administrator, which is why it is gated by the
  GitHub environment's reviewers (docs/CI.md).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from cdktf import ITerraformDependable
from cdktf_cdktf_provider_google.iam_workload_identity_pool import IamWorkloadIdentityPool
from cdktf_cdktf_provider_google.iam_workload_identity_pool_provider import (
    IamWorkloadIdentityPoolProvider,
    IamWorkloadIdentityPoolProviderOidc,
)
from cdktf_cdktf_provider_google.project_iam_member import ProjectIamMember, ProjectIamMemberCondition
from cdktf_cdktf_provider_google.service_account import ServiceAccount
from cdktf_cdktf_provider_google.service_account_iam_member import ServiceAccountIamMember
from cdktf_cdktf_provider_google.storage_bucket_iam_member import (
    StorageBucketIamMember,
    StorageBucketIamMemberCondition,
)
from constructs import Construct

from constructs_lib._common.ci_identity import GITHUB_OIDC_ISSUER, ROLES, master_key_secret_name, oidc_subject
from constructs_lib._common.errors import PropsError

PLAN_PROJECT_ROLES = ("roles/viewer", "roles/iam.securityReviewer")
APPLY_PROJECT_ROLES = (
    "roles/artifactregistry.reader",
    "roles/cloudkms.admin",
    "roles/cloudsql.admin",
    "roles/compute.loadBalancerAdmin",
    "roles/compute.networkAdmin",
    "roles/compute.securityAdmin",
    "roles/iam.serviceAccountAdmin",
    "roles/iam.serviceAccountUser",
    "roles/logging.configWriter",
    "roles/redis.admin",
    "roles/resourcemanager.projectIamAdmin",
    "roles/run.admin",
    "roles/secretmanager.admin",
    "roles/servicenetworking.networksAdmin",
    "roles/serviceusage.serviceUsageAdmin",
    "roles/storage.admin",
    "roles/vpcaccess.admin",
)


@dataclass(frozen=True)
class GithubWorkloadIdentityProps:
    repository: str
    # `<tenant>-github`: 4-32 characters, unique per project (a deleted pool's id stays reserved for 30 days).
    pool_id: str
    # Every subject any service account trusts: the pool admits no other token.
    subjects: Sequence[str] = ()
    depends_on: Sequence[ITerraformDependable] = ()


def _admission_condition(props: GithubWorkloadIdentityProps) -> str:
    if not props.subjects:
        raise PropsError("subjects", "a GitHub Workload Identity pool needs at least one trusted subject")
    subjects = " || ".join(f"assertion.sub == {json.dumps(subject)}" for subject in sorted(props.subjects))
    return f"assertion.repository == {json.dumps(props.repository)} && ({subjects})"


class GithubWorkloadIdentity(Construct):
    """The pool and its GitHub provider; `name` is what `google-github-actions/auth` calls the provider."""

    def __init__(self, scope: Construct, construct_id: str, props: GithubWorkloadIdentityProps) -> None:
        super().__init__(scope, construct_id)
        self.pool = IamWorkloadIdentityPool(
            self,
            "pool",
            workload_identity_pool_id=props.pool_id,
            display_name="GitHub Actions",
            description=f"GitHub Actions of {props.repository}",
            depends_on=list(props.depends_on) or None,
        )
        self.provider = IamWorkloadIdentityPoolProvider(
            self,
            "github",
            workload_identity_pool_id=self.pool.workload_identity_pool_id,
            workload_identity_pool_provider_id="github",
            display_name="GitHub",
            attribute_mapping={
                "google.subject": "assertion.sub",
                "attribute.repository": "assertion.repository",
            },
            # Tokens of any other repository or GitHub environment are refused before any binding is considered.
            attribute_condition=_admission_condition(props),
            oidc=IamWorkloadIdentityPoolProviderOidc(issuer_uri=GITHUB_OIDC_ISSUER),
        )

    @property
    def name(self) -> str:
        return self.provider.name

    def principal(self, subject: str) -> str:
        return f"principal://iam.googleapis.com/{self.pool.name}/subject/{subject}"


@dataclass(frozen=True)
class GcpCiAccountsProps:
    repository: str
    stage: str
    # `<tenant>-<stage>`: the accounts are `<prefix>-ci-plan` / `<prefix>-ci-apply` (at most 30 characters).
    name_prefix: str
    # The stage's project: where the roles are granted.
    project: str
    state_bucket: str


class GcpCiAccounts(Construct):
    """The plan and apply service accounts of one stage, each impersonable by one GitHub environment only."""

    def __init__(
        self, scope: Construct, construct_id: str, props: GcpCiAccountsProps, identity: GithubWorkloadIdentity
    ) -> None:
        super().__init__(scope, construct_id)
        self.accounts: dict[str, ServiceAccount] = {}
        master_key = master_key_secret_name(props.name_prefix)
        for role in ROLES:
            account = ServiceAccount(
                self,
                role,
                account_id=f"{props.name_prefix}-ci-{role}",
                display_name=f"GitHub Actions {role} of stage {props.stage}",
                description=f"Impersonated only by {oidc_subject(props.repository, props.stage, role)}",
            )
            member = f"serviceAccount:{account.email}"
            ServiceAccountIamMember(
                self,
                f"{role}-github",
                service_account_id=account.name,
                role="roles/iam.workloadIdentityUser",
                member=identity.principal(oidc_subject(props.repository, props.stage, role)),
            )
            for project_role in PLAN_PROJECT_ROLES if role == "plan" else APPLY_PROJECT_ROLES:
                ProjectIamMember(
                    self,
                    f"{role}-{project_role.removeprefix('roles/').replace('.', '-')}",
                    project=props.project,
                    role=project_role,
                    member=member,
                )
            self._grant_state(role, member, props.state_bucket)
            # The quotas stacks' jobs read the gateway's master key; the secret may not exist yet, so the grant is
            # a project binding conditioned on that one secret's name.
            ProjectIamMember(
                self,
                f"{role}-master-key",
                project=props.project,
                role="roles/secretmanager.secretAccessor",
                member=member,
                condition=ProjectIamMemberCondition(
                    title="gateway-master-key-only",
                    description="The LiteLLM master key of this stage",
                    expression=f'resource.name.extract("/secrets/{{secret}}/") == "{master_key}"',
                ),
            )
            self.accounts[role] = account

    def _grant_state(self, role: str, member: str, bucket: str) -> None:
        if role == "apply":
            StorageBucketIamMember(self, "apply-state", bucket=bucket, role="roles/storage.objectUser", member=member)
            return
        StorageBucketIamMember(self, "plan-state", bucket=bucket, role="roles/storage.objectViewer", member=member)
        # Deploy-time plans take the state lock (pull-request plans run -lock=false).
        StorageBucketIamMember(
            self,
            "plan-state-locks",
            bucket=bucket,
            role="roles/storage.objectUser",
            member=member,
            condition=StorageBucketIamMemberCondition(
                title="lock-files-only",
                description="Terraform lock files only",
                expression='resource.name.endsWith(".tflock")',
            ),
        )
