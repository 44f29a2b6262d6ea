"""The Google provider every GCP stack shares: one project, one region, identity labels by default_labels."""

from __future__ import annotations

from cdktf import TerraformStack
from cdktf_cdktf_provider_google.provider import GoogleProvider
from constructs import Construct

from stacks.backends import bootstrap_local_backend, gcp_gcs_backend, require_terraform_version
from stacks.context import StackContext


class GcpStack(TerraformStack):
    """Provider pinned to the configured project; remote state in the bootstrap's GCS bucket."""

    def __init__(self, scope: Construct, context: StackContext, *, remote_state: bool = True) -> None:
        super().__init__(scope, context.name)
        self.context = context
        gcp = context.config.cloud("gcp")
        bootstrap = context.kind == "bootstrap"
        self.project = gcp.state.project if bootstrap else gcp.project
        self.region = gcp.region
        self.provider = GoogleProvider(
            self,
            "google",
            project=self.project,
            region=self.region,
            add_terraform_attribution_label=True,
        )
        # Not the `default_labels` argument: cdktf 0.21 snake-cases the keys of provider map arguments
        # (`litellm-stack` would become `litellm_stack`); an override is written verbatim.
        self.provider.add_override("default_labels", context.tags)
        require_terraform_version(self)
        if remote_state:
            gcp_gcs_backend(self, gcp.state, context.name)
        else:
            bootstrap_local_backend(self, context.name)
