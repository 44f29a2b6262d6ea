"""The one list of stacks: what `main.py` synthesizes, `make stacks` prints and CI plans.

Stack classes are imported only when a stack of that cloud is built, so `STACKS=aws-dev` never loads the
Google or Alibaba Cloud bindings.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from constructs_lib._common.ci_runners import GITHUB_HOSTED, self_hosted_labels
from constructs_lib.config import CLOUDS, LoadedEnvironment
from stacks.context import StackContext

if TYPE_CHECKING:  # `constructs` starts the jsii kernel: not for `--list-stacks` or the per-cloud parent
    from constructs import Construct

# (cloud, kind) -> "module:Class"
_STACK_CLASSES: dict[tuple[str, str], str] = {
    ("aws", "gateway"): "stacks.aws.gateway:AwsGatewayStack",
    ("aws", "bootstrap"): "stacks.aws.bootstrap:AwsBootstrapStack",
    ("gcp", "gateway"): "stacks.gcp.gateway:GcpGatewayStack",
    ("gcp", "bootstrap"): "stacks.gcp.bootstrap:GcpBootstrapStack",
    ("alicloud", "gateway"): "stacks.alicloud.gateway:AlicloudGatewayStack",
    ("alicloud", "bootstrap"): "stacks.alicloud.bootstrap:AlicloudBootstrapStack",
    ("aws", "quotas"): "stacks.aws.quotas:AwsQuotasStack",
    ("gcp", "quotas"): "stacks.gcp.quotas:GcpQuotasStack",
    ("alicloud", "quotas"): "stacks.alicloud.quotas:AlicloudQuotasStack",
}
BOOTSTRAP_ENVIRONMENT = "shared"
# The large prebuilt provider packages each cloud's stacks load (tests/test_packed_packages.py checks it).
PREBUILT_PROVIDERS: dict[str, tuple[str, ...]] = {
    "aws": ("cdktf_cdktf_provider_aws",),
    "gcp": ("cdktf_cdktf_provider_google",),
    "alicloud": (),
}


@dataclass(frozen=True)
class StackSpec:
    context: StackContext
    # The gateway stack a quotas stack reads its URL from (a cdktf cross-stack reference).
    gateway: str | None = None

    @property
    def name(self) -> str:
        return self.context.name

    def describe(self) -> dict[str, object]:
        """The stack as CI sees it (`make stacks`). Bootstrap stacks have no GitHub environment: an administrator
        applies them (docs/CI.md), CI never deploys them."""
        kind = self.context.kind
        return {
            "name": self.name,
            "cloud": self.context.cloud,
            "env": None if kind == "bootstrap" else self.context.env,
            "kind": kind,
            "github_environment": None if kind == "bootstrap" else self.context.env,
            "plan_runs_on": self._runner("plan"),
            "apply_runs_on": self._runner("apply"),
        }

    def _runner(self, role: str) -> list[str]:
        if self.context.kind != "quotas":
            return list(GITHUB_HOSTED)
        return self_hosted_labels(self.context.config.quotas_runner_labels(self.context.cloud), role)

    def build(self, scope: Construct, built: dict[str, Construct]) -> Construct:
        """Build the stack; `built` holds the stacks built so far (gateways come before their quotas)."""
        cls = stack_class(self.context.cloud, self.context.kind)
        if self.gateway:
            return cls(scope, self.context, gateway_url=built[self.gateway].gateway_url)
        return cls(scope, self.context)


def stack_class(cloud: str, kind: str) -> type:
    """The stack class of a cloud and kind, imported on first use (importing it loads that cloud's bindings)."""
    module_name, class_name = _STACK_CLASSES[(cloud, kind)].split(":")
    return getattr(importlib.import_module(module_name), class_name)


def stack_name(cloud: str, kind: str, env: str) -> str:
    """`<cloud>-bootstrap`, `<cloud>-<env>` (gateway) or `<cloud>-<env>-quotas`: the names every tool keys on."""
    return {"bootstrap": f"{cloud}-bootstrap", "gateway": f"{cloud}-{env}", "quotas": f"{cloud}-{env}-quotas"}[kind]


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
                        name=stack_name(cloud, "bootstrap", BOOTSTRAP_ENVIRONMENT),
                        cloud=cloud,
                        kind="bootstrap",
                        config_path=owner.path,
                        config=owner.config,
                        environment=BOOTSTRAP_ENVIRONMENT,
                        environments=tuple(
                            loaded.config for loaded in environments if cloud in loaded.config.enabled_clouds
                        ),
                    )
                )
            )
    for loaded in environments:
        config = loaded.config
        for cloud in config.enabled_clouds:
            gateway = stack_name(cloud, "gateway", config.env)
            specs.append(StackSpec(StackContext(gateway, cloud, "gateway", config_path=loaded.path, config=config)))
            if config.quotas.enabled and config.agents:
                quotas = StackContext(
                    stack_name(cloud, "quotas", config.env), cloud, "quotas", config_path=loaded.path, config=config
                )
                specs.append(StackSpec(quotas, gateway=gateway))
    return specs


def with_dependencies(specs: list[StackSpec], selected: list[StackSpec]) -> list[StackSpec]:
    """The selected stacks plus the gateway stacks their cross-stack references need, in catalog order."""
    names = {spec.name for spec in selected} | {spec.gateway for spec in selected if spec.gateway}
    return [spec for spec in specs if spec.name in names]
