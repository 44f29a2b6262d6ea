"""The alicloud provider every Alibaba Cloud stack shares: one region, identity tags by aspect."""

from __future__ import annotations

from cdktf import Aspects, TerraformStack
from constructs import Construct

from constructs_lib.alicloud.tagging import AlicloudTags
from imports.alicloud.provider import AlicloudProvider
from stacks.backends import alicloud_oss_backend, bootstrap_local_backend, require_terraform_version
from stacks.context import StackContext


class AlicloudStack(TerraformStack):
    """Credentials come from the environment (OIDC role in CI, a profile locally): never from code."""

    def __init__(self, scope: Construct, context: StackContext, *, remote_state: bool = True) -> None:
        super().__init__(scope, context.name)
        self.context = context
        alicloud = context.config.cloud("alicloud")
        self.provider = AlicloudProvider(
            self, "alicloud", region=alicloud.state.region if context.kind == "bootstrap" else alicloud.region
        )
        Aspects.of(self).add(AlicloudTags(context.tags))
        require_terraform_version(self)
        if remote_state:
            alicloud_oss_backend(self, alicloud.state, context.name, context.env)
        else:
            bootstrap_local_backend(self, context.name)
