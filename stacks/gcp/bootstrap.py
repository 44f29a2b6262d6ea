"""`gcp-bootstrap`: the GCS bucket every other GCP stack keeps its state in. Applied once, on local state."""

from __future__ import annotations

from cdktf import TerraformOutput
from cdktf_cdktf_provider_google.project_service import ProjectService
from constructs import Construct

from constructs_lib.gcp.secure_bucket import SecureGcsBucket, SecureGcsBucketProps
from stacks.context import StackContext
from stacks.gcp.base import GcpStack


class GcpBootstrapStack(GcpStack):
    def __init__(self, scope: Construct, context: StackContext) -> None:
        super().__init__(scope, context, remote_state=False)
        state = context.config.cloud("gcp").state
        storage_api = ProjectService(self, "storage-api", service="storage.googleapis.com", disable_on_destroy=False)
        bucket = SecureGcsBucket(self, "state", SecureGcsBucketProps(name=state.bucket, location=state.location))
        bucket.node.add_dependency(storage_api)
        TerraformOutput(self, "state_bucket", value=bucket.name)
