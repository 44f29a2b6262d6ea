"""Who holds which Google Cloud permission on which resource, from the synthesized stacks: the grants of gcp-bootstrap
(the CI accounts' project roles, custom roles, conditions) and of the stage stacks (IAM members on their own
resources), with the predefined roles' permissions of tests/fixtures/gcp_predefined_roles.json.

Evaluation, failing closed: a member holds a permission on a resource when a binding to it (project-level in the
resource's project, or on that resource itself) names a role that contains the permission and whose condition, if
any, holds for the resource's name (tests/cloud_conditions.cel). A binding on a secret covers its versions (the
versions have no IAM policy of their own). A role this model does not know raises.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from tests.cloud_conditions import UnknownForm, cel

ROLES_FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "gcp_predefined_roles.json").read_text())
# The attribute that names the resource an IAM member resource binds on.
IAM_MEMBER_TARGETS = {
    "google_secret_manager_secret_iam_member": "secret_id",  # pragma: allowlist secret (an attribute name)
    "google_storage_bucket_iam_member": "bucket",
    "google_service_account_iam_member": "service_account_id",
    "google_artifact_registry_repository_iam_member": "repository",
    "google_kms_crypto_key_iam_member": "crypto_key_id",
    "google_project_iam_member": "project",
}
_REFERENCE = re.compile(r"^\$\{([a-z0-9_]+\.[\w-]+)\.[a-z_]+\}$")
# A stage's CI identity as the gateway stack names it (constructs_lib/_common/ci_identity.gcp_ci_member).
CI_MEMBER = re.compile(r"serviceAccount:[a-z0-9-]+-ci-(plan|apply)@[a-z0-9-]+\.iam\.gserviceaccount\.com")


def is_ci_member(member: str | None) -> bool:
    return member is not None and CI_MEMBER.fullmatch(member) is not None


@dataclass(frozen=True)
class Target:
    """A resource a permission is checked on: (stack, `type.address`), its project, its IAM resource name."""

    stack: str
    reference: str
    project: str
    name: str


def reference_of(value: str) -> str:
    """`type.address` of a `${type.address.attribute}` reference."""
    match = _REFERENCE.match(value)
    if not match:
        raise UnknownForm(f"not a resource reference: {value!r}")
    return match.group(1)


def project_of(stack: dict) -> str:
    (provider,) = stack["provider"]["google"]
    return provider["project"]


def predefined_permissions(role: str) -> set[str]:
    if role not in ROLES_FIXTURE["roles"]:
        raise UnknownForm(f"role {role} is not in tests/fixtures/gcp_predefined_roles.json")
    return set(ROLES_FIXTURE["roles"][role]["permissions"])


def check_service_is_recorded(permission: str) -> None:
    """The fixture keeps only some services' permissions: a permission of another service cannot be evaluated."""
    if permission.split(".")[0] not in ROLES_FIXTURE["services"]:
        raise UnknownForm(f"{permission}: its service's permissions are not in gcp_predefined_roles.json")


class GcpIam:
    def __init__(self, bootstrap: dict, stage_stacks: dict[str, dict]) -> None:
        state_project = project_of(bootstrap)
        resources = bootstrap["resource"]
        account_email = {
            address: f"{body['account_id']}@{state_project}.iam.gserviceaccount.com"
            for address, body in resources["google_service_account"].items()
        }
        self.ci_accounts = {
            tuple(re.fullmatch(r"[a-z0-9]+-(\w+)-ci-(plan|apply)", body["account_id"]).groups()): account_email[address]
            for address, body in resources["google_service_account"].items()
        }
        self._custom = {
            f"${{google_project_iam_custom_role.{address}.name}}": set(body["permissions"])
            for address, body in resources.get("google_project_iam_custom_role", {}).items()
        }
        self.project_bindings: list[tuple[str, str, str, str | None]] = []  # (email, project, role, condition)
        for body in resources.get("google_project_iam_member", {}).values():
            email = account_email[reference_of(body["member"].removeprefix("serviceAccount:")).split(".", 1)[1]]
            self.project_bindings.append(
                (email, body["project"], body["role"], body.get("condition", {}).get("expression"))
            )
        # (email, Target.stack, Target.reference, role)
        self.resource_bindings: list[tuple[str, str, str, str]] = []
        for name, stack in stage_stacks.items():
            for kind, attribute in IAM_MEMBER_TARGETS.items():
                for body in stack.get("resource", {}).get(kind, {}).values():
                    member = body["member"]
                    if not member.startswith("serviceAccount:") or "${" in member:
                        continue  # the runtime accounts (references), agents' accounts: not the CI identities
                    self.resource_bindings.append(
                        (member.removeprefix("serviceAccount:"), name, reference_of(body[attribute]), body["role"])
                    )

    def permissions(self, role: str) -> set[str]:
        return self._custom[role] if role in self._custom else predefined_permissions(role)

    def holds(self, email: str, permission: str, target: Target) -> bool:
        check_service_is_recorded(permission)
        for member, project, role, condition in self.project_bindings:
            if member != email or project != target.project or permission not in self.permissions(role):
                continue
            if condition is None or cel(condition, target.name):
                return True
        return any(
            member == email and stack == target.stack and reference == target.reference
            and permission in self.permissions(role)
            for member, stack, reference, role in self.resource_bindings
        )  # fmt: skip
