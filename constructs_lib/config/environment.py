"""The root of one environment file (`config/<env>.yaml`)."""

from __future__ import annotations

from collections import Counter
from typing import Annotated

from pydantic import Field, model_validator

from constructs_lib._common.ci_runners import network_label
from constructs_lib._common.tags import IDENTITY_TAG_KEYS
from constructs_lib.config.alicloud import AlicloudConfig
from constructs_lib.config.aws import AwsConfig
from constructs_lib.config.base import Labels, StrictModel
from constructs_lib.config.ci import CiConfig
from constructs_lib.config.gcp import GcpConfig
from constructs_lib.config.llm import Agent, LlmModel, ProviderKey
from constructs_lib.config.quotas import QuotasConfig

CLOUDS: tuple[str, ...] = ("aws", "gcp", "alicloud")
# `<cloud>-bootstrap` is a stack of its own, and bootstrap stacks are tagged environment `shared`.
RESERVED_ENVIRONMENTS: frozenset[str] = frozenset({"bootstrap", "shared"})


class Clouds(StrictModel):
    aws: AwsConfig | None = None
    gcp: GcpConfig | None = None
    alicloud: AlicloudConfig | None = None


def _duplicates(names: list[str]) -> list[str]:
    return sorted(name for name, count in Counter(names).items() if count > 1)


class EnvironmentConfig(StrictModel):
    """Everything one environment deploys, on every enabled cloud."""

    tenant: str = Field(
        pattern=r"^[a-z][a-z0-9]{1,9}$",
        description="2-10 lower-case letters/digits; prefixes every resource name, so it is kept short.",
    )
    env: str = Field(pattern=r"^[a-z][a-z0-9]{1,7}$", description="2-8 characters; must equal the file name.")
    production: bool = Field(
        default=False,
        description="Turns on deletion protection, multi-AZ failover, and digest-pinned images.",
    )
    repository: str = Field(
        pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$",
        description="GitHub `owner/name` that may deploy through OIDC.",
    )
    tags: Labels = Field(default_factory=dict, description="Extra tags/labels on every taggable resource.")
    provider_keys: Annotated[list[ProviderKey], Field(min_length=1)]
    models: Annotated[list[LlmModel], Field(min_length=1)]
    agents: list[Agent] = Field(default_factory=list)
    quotas: QuotasConfig = Field(default_factory=QuotasConfig)
    ci: CiConfig = Field(default_factory=CiConfig)
    clouds: Clouds

    @model_validator(mode="after")
    def _references_resolve(self) -> EnvironmentConfig:
        if self.env in RESERVED_ENVIRONMENTS:
            raise ValueError(f"env: {self.env!r} is reserved (one of {sorted(RESERVED_ENVIRONMENTS)})")
        clashing = sorted(set(self.tags) & set(IDENTITY_TAG_KEYS))
        if clashing:
            raise ValueError(f"tags: {clashing} are set by the stacks themselves and cannot be overridden")
        for field, names in (
            ("provider_keys", [key.name for key in self.provider_keys]),
            ("provider_keys (env_var)", [key.env_var for key in self.provider_keys]),
            ("models", [model.name for model in self.models]),
            ("agents", [agent.name for agent in self.agents]),
        ):
            duplicated = _duplicates(names)
            if duplicated:
                raise ValueError(f"{field}: duplicate names {duplicated}")
        key_names = {key.name for key in self.provider_keys}
        for model in self.models:
            if model.provider_key not in key_names:
                raise ValueError(
                    f"models: {model.name!r} uses provider_key {model.provider_key!r}, which is not in provider_keys"
                )
        model_names = {model.name for model in self.models}
        for agent in self.agents:
            unknown = sorted(set(agent.models) - model_names)
            if unknown:
                raise ValueError(f"agents: {agent.name!r} allows unknown models {unknown} (not in models)")
        if not self.enabled_clouds:
            raise ValueError("clouds: no cloud is enabled; enable at least one of aws, gcp, alicloud")
        return self

    def quotas_runner_labels(self, cloud: str) -> list[str]:
        """Network labels of `cloud`'s quotas runners in this environment (constructs_lib/_common/ci_runners.py)."""
        return self.quotas.runner_labels or ["self-hosted", network_label(cloud, self.env)]

    @property
    def enabled_clouds(self) -> tuple[str, ...]:
        return tuple(
            cloud for cloud in CLOUDS if (section := getattr(self.clouds, cloud)) is not None and section.enabled
        )

    def cloud(self, name: str) -> AwsConfig | GcpConfig | AlicloudConfig:
        section = getattr(self.clouds, name)
        if section is None or not section.enabled:
            raise KeyError(f"cloud {name!r} is not enabled in environment {self.env!r}")
        return section
