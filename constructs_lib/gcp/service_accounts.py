"""One service account per component, so each gets exactly the grants it needs and nothing another needs.

    accounts = GatewayServiceAccounts(self, "identities", naming, deployer=apply_member, attached=("gateway", ...))
    accounts.member("gateway")  # "serviceAccount:<email>", for per-resource IAM members
    accounts.deployer_grants("gateway")  # what a Cloud Run service running as it must wait for

No project-level role is granted here or anywhere else: secrets and the bucket grant on the resource itself
(secrets.py, bucket.py). Cloud Run writes stdout logs and pulls images with its own service agent, so the
runtime identities need no logging or Artifact Registry role. The UI's account has no grant at all, so a
compromised UI container cannot reach Secret Manager, the database or the bucket through the metadata server.

Creating or updating a Cloud Run service or job that runs as an account needs `roles/iam.serviceAccountUser` on that
account (https://docs.cloud.google.com/run/docs/configuring/services/service-identity and
https://cloud.google.com/run/docs/configuring/jobs/service-identity, "Required roles" of the deployer account). So
the stage's CI apply identity (`deployer`) gets it on exactly the accounts a service or job runs as (`attached`), on
each account only, and holds no project-wide serviceAccountUser (ci_trust.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from cdktf import ITerraformDependable
from cdktf_cdktf_provider_google.service_account import ServiceAccount
from cdktf_cdktf_provider_google.service_account_iam_member import ServiceAccountIamMember
from constructs import Construct

from constructs_lib._common.naming import Naming

ACT_AS_ROLE = "roles/iam.serviceAccountUser"
# component -> (account id suffix, kept short for the 30-character limit; display name)
COMPONENT_ACCOUNTS: dict[str, tuple[str, str]] = {
    "gateway": ("gateway", "LiteLLM gateway (LLM data plane)"),
    "backend": ("backend", "LiteLLM backend (management API)"),
    "ui": ("ui", "LiteLLM UI (static dashboard; no grants)"),
    "migrations": ("migrate", "LiteLLM Prisma migrations job"),
}


class GatewayServiceAccounts(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        naming: Naming,
        depends_on: Sequence[ITerraformDependable] = (),
        components: Sequence[str] = tuple(COMPONENT_ACCOUNTS),
        deployer: str | None = None,
        attached: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self.accounts = {
            component: ServiceAccount(
                self,
                component,
                account_id=naming.name(suffix, "google_service_account"),
                display_name=description,
                depends_on=list(depends_on),
            )
            for component, (suffix, description) in COMPONENT_ACCOUNTS.items()
            if component in components
        }
        self._deployer_grants = {
            component: ServiceAccountIamMember(
                self,
                f"{component}-deployer",
                service_account_id=self.accounts[component].name,
                role=ACT_AS_ROLE,
                member=deployer,
            )
            for component in attached
            if deployer is not None
        }

    def deployer_grants(self, component: str) -> list[ITerraformDependable]:
        """The deployer's actAs on this component's account: what its Cloud Run service or job depends on."""
        grant = self._deployer_grants.get(component)
        return [grant] if grant is not None else []

    def email(self, component: str) -> str:
        return self.accounts[component].email

    def member(self, component: str) -> str:
        return f"serviceAccount:{self.accounts[component].email}"
