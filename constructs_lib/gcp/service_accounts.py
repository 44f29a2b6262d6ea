"""One service account per component, so each gets exactly the grants it needs and nothing another needs.

    accounts = GatewayServiceAccounts(self, "identities", naming)
    accounts.member("gateway")  # "serviceAccount:<email>", for per-resource IAM members

No project-level role is granted here or anywhere else: secrets and the bucket grant on the resource itself
(secrets.py, bucket.py). Cloud Run writes stdout logs and pulls images with its own service agent, so the
runtime identities need no logging or Artifact Registry role. The UI's account has no grant at all, so a
compromised UI container cannot reach Secret Manager, the database or the bucket through the metadata server.
"""

from __future__ import annotations

from collections.abc import Sequence

from cdktf import ITerraformDependable
from cdktf_cdktf_provider_google.service_account import ServiceAccount
from constructs import Construct

from constructs_lib._common.naming import Naming

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

    def email(self, component: str) -> str:
        return self.accounts[component].email

    def member(self, component: str) -> str:
        return f"serviceAccount:{self.accounts[component].email}"
