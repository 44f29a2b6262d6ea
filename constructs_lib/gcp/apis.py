"""The Google APIs the gateway stack needs, enabled by the stack itself.

    apis = GatewayApis(self, "apis")
    SomeResource(..., depends_on=apis.of("run.googleapis.com"))

`disable_on_destroy` is off: other stacks and people share the project, and disabling an API on destroy
would break whatever else uses it.
"""

from __future__ import annotations

from cdktf import ITerraformDependable
from cdktf_cdktf_provider_google.project_service import ProjectService
from constructs import Construct

# Always needed; the stack adds `vpcaccess` (connector egress) and `cloudkms` (CMEK) only when used.
GATEWAY_APIS: tuple[str, ...] = (
    "compute.googleapis.com",
    "run.googleapis.com",
    "sqladmin.googleapis.com",
    "redis.googleapis.com",
    "secretmanager.googleapis.com",
    "servicenetworking.googleapis.com",
    "storage.googleapis.com",
    "artifactregistry.googleapis.com",
    "iam.googleapis.com",
)


class GatewayApis(Construct):
    """One `google_project_service` per API; a resource depends on the APIs it calls (`of`)."""

    def __init__(self, scope: Construct, construct_id: str, extra_apis: tuple[str, ...] = ()) -> None:
        super().__init__(scope, construct_id)
        self.services = {
            api: ProjectService(self, api.split(".", 1)[0], service=api, disable_on_destroy=False)
            for api in dict.fromkeys((*GATEWAY_APIS, *extra_apis))
        }

    def of(self, *apis: str) -> list[ITerraformDependable]:
        return [self.services[api] for api in apis]
