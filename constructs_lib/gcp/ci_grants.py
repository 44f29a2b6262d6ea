"""What the stage's CI plan identity may read on the gateway stack's own resources, so that a plan's refresh works.

    CiPlanRefreshReads(self, "ci-plan-refresh", gcp_ci_member(naming.prefix, "plan", gcp.state.project))

Created last in the stack: it looks at every resource the stack holds and grants, on that resource only, what its
refresh (the provider's Read, google v6.50.0) calls beyond `roles/viewer` + `roles/iam.securityReviewer` (the plan
identity's project roles, constructs_lib/gcp/ci_trust.py). tests/test_gcp_plan_refresh.py checks every resource
type against tests/fixtures/gcp_refresh_permissions.tsv, where each line cites its source.

- a `google_secret_manager_secret_version` stored with `secret_data` (a value from state or a config document):
  its Read accesses the payload (`{name}:access`, resource_secret_manager_secret_version.go:488-509) unless
  `secret_data_wo_version` is set (:478-480) or the version is disabled (:483-486): `secretAccessor` on that secret.
  Every such value is already in the state the plan identity reads (the Memorystore AUTH string and CA, the LiteLLM
  config and hook files); write-only versions (master key, database password, agent keys) are never read.
- a `google_storage_bucket`: its Read is `buckets.get` (resource_storage_bucket.go:1179), whose permission
  `storage.buckets.get` roles/viewer does not hold: `roles/storage.bucketViewer` (buckets.get, buckets.list) on it.
"""

from __future__ import annotations

from cdktf_cdktf_provider_google.secret_manager_secret_iam_member import SecretManagerSecretIamMember
from cdktf_cdktf_provider_google.secret_manager_secret_version import SecretManagerSecretVersion
from cdktf_cdktf_provider_google.storage_bucket import StorageBucket
from cdktf_cdktf_provider_google.storage_bucket_iam_member import StorageBucketIamMember
from constructs import Construct, IConstruct

SECRET_READ_ROLE = "roles/secretmanager.secretAccessor"  # noqa: S105  # pragma: allowlist secret (a role name)
BUCKET_READ_ROLE = "roles/storage.bucketViewer"


def _grant_id(scope: Construct, resource: IConstruct) -> str:
    """The resource's path under the stack, so the grant's id stays put while other resources come and go."""
    return resource.node.path.removeprefix(f"{scope.node.path}/").replace("/", "-")


def reads_payload_on_refresh(version: SecretManagerSecretVersion) -> bool:
    return version.secret_data_input is not None and version.secret_data_wo_version_input is None


class CiPlanRefreshReads(Construct):
    def __init__(self, scope: Construct, construct_id: str, plan_member: str) -> None:
        super().__init__(scope, construct_id)
        existing = [node for node in scope.node.find_all() if not node.node.path.startswith(self.node.path)]
        for resource in existing:
            if isinstance(resource, SecretManagerSecretVersion) and reads_payload_on_refresh(resource):
                SecretManagerSecretIamMember(
                    self,
                    _grant_id(scope, resource),
                    secret_id=resource.secret_input,
                    role=SECRET_READ_ROLE,
                    member=plan_member,
                )
            elif isinstance(resource, StorageBucket):
                StorageBucketIamMember(
                    self, _grant_id(scope, resource), bucket=resource.name, role=BUCKET_READ_ROLE, member=plan_member
                )
