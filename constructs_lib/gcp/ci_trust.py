"""GitHub Actions OIDC trust on Google Cloud: one Workload Identity pool, and a plan + apply service account per stage.

The pool's provider admits only tokens of this repository (`attribute_condition` on `assertion.repository`); each
service account can be impersonated only by one exact subject, `repo:<owner>/<name>:environment:<stage>[-plan]`,
through `roles/iam.workloadIdentityUser` on `principal://iam.googleapis.com/<pool>/subject/<subject>`. The
accounts live in the state project (where the pool is); their roles are granted in the stage's project.
- state: each account reaches only its stage's state objects (`gcp-<stage>/...`, `gcp-<stage>-quotas/...`), by
  IAM conditions on the object name (plan: read, and write only lock files; apply: read and write).
- plan: `roles/viewer` and `roles/iam.securityReviewer` (reads configuration and IAM), the LiteLLM viewer key's
  payload (read-only LiteLLM access for the quotas stacks' plans), and what a refresh reads beyond those roles
  (tests/test_gcp_plan_refresh.py checks every resource type of the stage's stacks against
  tests/fixtures/gcp_refresh_permissions.tsv): here `redis.instances.getAuthString` in a custom role, since a
  Memorystore instance has no IAM policy of its own (the project is the narrowest scope); the gateway stack grants
  the rest on its own resources (constructs_lib/gcp/ci_grants.py: secret payloads, the bucket's metadata).
- apply: the admin roles of exactly the services the gateway stacks use, and the LiteLLM master key. The stacks grant
  IAM on their own resources (secrets, buckets), except two roles that exist only at project level:
  `roles/cloudsql.client` (Cloud SQL has no instance-level IAM; the binding carries a condition naming the
  instances) and `roles/monitoring.metricWriter` (metrics sidecars). `resourcemanager.projectIamAdmin` is held only
  under an `iam.googleapis.com/modifiedGrantsByRole` condition that admits changes to those two roles and nothing
  else (https://cloud.google.com/iam/docs/setting-limits-on-granting-roles), so the apply identity cannot grant
  itself, or anyone, any other project role. No project-wide `iam.serviceAccountUser` either: the gateway stack
  lets it act as each runtime service account it attaches, on that account only
  (constructs_lib/gcp/service_accounts.py).
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
from cdktf_cdktf_provider_google.project_iam_custom_role import ProjectIamCustomRole
from cdktf_cdktf_provider_google.project_iam_member import ProjectIamMember, ProjectIamMemberCondition
from cdktf_cdktf_provider_google.service_account import ServiceAccount
from cdktf_cdktf_provider_google.service_account_iam_member import ServiceAccountIamMember
from cdktf_cdktf_provider_google.storage_bucket_iam_member import (
    StorageBucketIamMember,
    StorageBucketIamMemberCondition,
)
from constructs import Construct

from constructs_lib._common.ci_identity import (
    GITHUB_OIDC_ISSUER,
    ROLES,
    ci_account_id,
    master_key_secret_name,
    oidc_subject,
    stage_state_names,
    viewer_key_secret_name,
)
from constructs_lib._common.errors import PropsError

PLAN_PROJECT_ROLES = ("roles/viewer", "roles/iam.securityReviewer")
# A refresh of an `auth_enabled` google_redis_instance reads its AUTH string (resource_redis_instance.go:832 calls the
# decoder, which GETs `.../instances/{name}/authString` at :2060-2092, google provider v6.50.0); no predefined read
# role holds the permission, and Memorystore instances have no IAM policy to grant it on (the Redis v1 API has no
# instances.setIamPolicy), so it is a custom role of the stage's project holding only this.
PLAN_REFRESH_PERMISSIONS = ("redis.instances.getAuthString",)
APPLY_PROJECT_ROLES = (
    "roles/artifactregistry.reader",
    "roles/cloudkms.admin",
    "roles/cloudsql.admin",
    "roles/compute.loadBalancerAdmin",
    "roles/compute.networkAdmin",
    "roles/compute.securityAdmin",
    "roles/iam.serviceAccountAdmin",
    "roles/logging.configWriter",
    "roles/redis.admin",
    "roles/run.admin",
    "roles/secretmanager.admin",
    "roles/servicenetworking.networksAdmin",
    "roles/serviceusage.serviceUsageAdmin",
    "roles/storage.admin",
    "roles/vpcaccess.admin",
)
# The project roles the gateway stacks bind themselves (cloud_sql_connection.CLIENT_ROLE, metrics.METRIC_WRITER_ROLE;
# literals: the bootstrap stack imports no runtime construct); the apply identity may grant or revoke these only.
STACK_PROJECT_ROLES = ("roles/cloudsql.client", "roles/monitoring.metricWriter")
GRANTABLE_ONLY = "api.getAttribute('iam.googleapis.com/modifiedGrantsByRole', []).hasOnly([{roles}])".format(
    roles=", ".join(f"'{role}'" for role in STACK_PROJECT_ROLES)
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
        for role in ROLES:
            account = ServiceAccount(
                self,
                role,
                account_id=ci_account_id(props.name_prefix, role),
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
            if role == "plan":
                self._grant_refresh_reads(member, props)
            if role == "apply":
                ProjectIamMember(
                    self,
                    "apply-grants-stack-roles-only",
                    project=props.project,
                    role="roles/resourcemanager.projectIamAdmin",
                    member=member,
                    condition=ProjectIamMemberCondition(
                        title="stack-project-roles-only",
                        description="Grant or revoke only the project roles the gateway stacks bind",
                        expression=GRANTABLE_ONLY,
                    ),
                )
            self._grant_state(role, member, props.state_bucket, props.stage)
            # The quotas stacks' jobs read a LiteLLM key: the viewer key to plan, the master key to apply. The secret
            # may not exist yet, so the grant is a project binding conditioned on that one secret's name.
            if role == "apply":
                secret = master_key_secret_name(props.name_prefix)
            else:
                secret = viewer_key_secret_name(props.name_prefix)
            ProjectIamMember(
                self,
                f"{role}-litellm-key",
                project=props.project,
                role="roles/secretmanager.secretAccessor",
                member=member,
                condition=ProjectIamMemberCondition(
                    title="litellm-key-only",
                    description="The LiteLLM key this stage's CI role reads",
                    expression=f'resource.name.extract("/secrets/{{secret}}/") == "{secret}"',
                ),
            )
            self.accounts[role] = account

    def _grant_refresh_reads(self, member: str, props: GcpCiAccountsProps) -> None:
        refresh = ProjectIamCustomRole(
            self,
            "plan-refresh-role",
            project=props.project,
            # [a-zA-Z0-9_.]{3,64}, unique in the project (a deleted role's id stays reserved for 37 days).
            role_id=f"{props.name_prefix.replace('-', '_')}_ci_plan_refresh",
            title=f"CI plan refresh of stage {props.stage}",
            description="What a Terraform refresh of the gateway stack reads beyond roles/viewer",
            permissions=list(PLAN_REFRESH_PERMISSIONS),
        )
        ProjectIamMember(self, "plan-refresh", project=props.project, role=refresh.name, member=member)

    def _grant_state(self, role: str, member: str, bucket: str, stage: str) -> None:
        # Object names in IAM conditions are projects/_/buckets/<bucket>/objects/<object>
        # (https://cloud.google.com/iam/docs/conditions-resource-attributes#resource-name); the GCS backend keeps a
        # stack's state and lock under `<prefix>/`, the prefix being the stack's name (stacks/backends.py).
        own = " || ".join(
            f'resource.name.startsWith("projects/_/buckets/{bucket}/objects/{name}/")'
            for name in stage_state_names("gcp", stage)
        )
        own_state = StorageBucketIamMemberCondition(
            title="own-stage-state", description=f"State of stage {stage} only", expression=own
        )
        if role == "apply":
            StorageBucketIamMember(
                self, "apply-state", bucket=bucket, role="roles/storage.objectUser", member=member, condition=own_state
            )
            return
        StorageBucketIamMember(
            self, "plan-state", bucket=bucket, role="roles/storage.objectViewer", member=member, condition=own_state
        )
        # Deploy-time plans take the state lock (pull-request plans run -lock=false).
        StorageBucketIamMember(
            self,
            "plan-state-locks",
            bucket=bucket,
            role="roles/storage.objectUser",
            member=member,
            condition=StorageBucketIamMemberCondition(
                title="own-stage-lock-files",
                description=f"Terraform lock files of stage {stage} only",
                expression=f'({own}) && resource.name.endsWith(".tflock")',
            ),
        )
