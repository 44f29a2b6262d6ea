"""The one list of stacks: what `main.py` synthesizes, `make stacks` prints and CI plans.

Stack classes are imported only when a stack of that cloud is built, so `STACKS=aws-dev` never loads the
Google or Alibaba Cloud bindings.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass

from constructs import Construct

from constructs_lib.config import CLOUDS, LoadedEnvironment
from stacks.context import StackContext

# (cloud, kind) -> "module:Class"
_STACK_CLASSES: dict[tuple[str, str], str] = {
    ("aws", "gateway"): "stacks.aws.gateway:AwsGatewayStack",
    ("aws", "bootstrap"): "stacks.aws.bootstrap:AwsBootstrapStack",
    ("gcp", "gateway"): "stacks.gcp.gateway:GcpGatewayStack",
    ("gcp", "bootstrap"): "stacks.gcp.bootstrap:GcpBootstrapStack",
    ("alicloud", "gateway"): "stacks.alicloud.gateway:AlicloudGatewayStack",
    ("alicloud", "bootstrap"): "stacks.alicloud.bootstrap:AlicloudBootstrapStack",
}
BOOTSTRAP_ENVIRONMENT = "shared"


@dataclass(frozen=True)
class StackSpec:
    context: StackContext

    @property
    def name(self) -> str:
        return self.context.name

    def describe(self) -> dict[str, object]:
        """The stack as CI sees it (`make stacks`)."""
        kind = self.context.kind
        return {
            "name": self.name,
            "cloud": self.context.cloud,
            "env": None if kind == "bootstrap" else self.context.env,
            "kind": kind,
            "github_environment": "bootstrap" if kind == "bootstrap" else self.context.env,
            "runs_on": ["ubuntu-24.04"],
        }

    def build(self, scope: Construct) -> Construct:
        module_name, class_name = _STACK_CLASSES[(self.context.cloud, self.context.kind)].split(":")
        stack_class = getattr(importlib.import_module(module_name), class_name)
        return stack_class(scope, self.context)


def stack_specs(environments: Iterable[LoadedEnvironment]) -> list[StackSpec]:
    """Bootstrap stacks first (one per cloud in use), then each environment's stacks, cloud by cloud."""
    environments = list(environments)
    specs: list[StackSpec] = []
    for cloud in CLOUDS:
        owner = next((loaded for loaded in environments if cloud in loaded.config.enabled_clouds), None)
        if owner is not None:
            specs.append(
                StackSpec(
                    StackContext(
                        name=f"{cloud}-bootstrap",
                        cloud=cloud,
                        kind="bootstrap",
                        config_path=owner.path,
                        config=owner.config,
                        environment=BOOTSTRAP_ENVIRONMENT,
                    )
                )
            )
    for loaded in environments:
        for cloud in loaded.config.enabled_clouds:
            specs.append(
                StackSpec(
                    StackContext(
                        name=f"{cloud}-{loaded.config.env}",
                        cloud=cloud,
                        kind="gateway",
                        config_path=loaded.path,
                        config=loaded.config,
                    )
                )
            )
    return specs
