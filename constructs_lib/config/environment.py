"""The root of one environment file (`config/<env>.yaml`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field, model_validator

from constructs_lib._common.ci_runners import network_label
from constructs_lib._common.tags import IDENTITY_TAG_KEYS
from constructs_lib.config.alicloud import AlicloudConfig
from constructs_lib.config.aws import AwsConfig
from constructs_lib.config.base import Labels, StrictModel
from constructs_lib.config.ci import CiConfig
from constructs_lib.config.gcp import GcpConfig
from constructs_lib.config.llm import Agent, LlmModel, ProviderKey
from constructs_lib.config.messages import raise_problems, shown
from constructs_lib.config.quotas import QuotasConfig

CLOUDS: tuple[str, ...] = ("aws", "gcp", "alicloud")
# `<cloud>-bootstrap` is a stack of its own, and bootstrap stacks are tagged environment `shared`.
RESERVED_ENVIRONMENTS: frozenset[str] = frozenset({"bootstrap", "shared"})


class Clouds(StrictModel):
    aws: AwsConfig | None = None
    gcp: GcpConfig | None = None
    alicloud: AlicloudConfig | None = None


Problems = list[tuple[tuple[str | int, ...], str]]


def _entries(data: Mapping[str, Any], field: str) -> list[tuple[int, Mapping[str, Any]]]:
    """(index, entry) of a list of mappings; anything else in it is the field validation's to report."""
    items = data.get(field)
    return (
        [(index, item) for index, item in enumerate(items) if isinstance(item, Mapping)]
        if isinstance(items, list)
        else []
    )


def _duplicate_problems(data: Mapping[str, Any], field: str, attribute: str) -> Problems:
    """Each repeat of a value, at the repeat's own line, naming where the value first appeared."""
    first_index: dict[str, int] = {}
    problems: Problems = []
    for index, entry in _entries(data, field):
        value = entry.get(attribute)
        if not isinstance(value, str):
            continue
        if value in first_index:
            problems.append(
                (
                    (field, index, attribute),
                    f"duplicate {attribute} {shown(value)} (also {field}[{first_index[value]}])",
                )
            )
        first_index.setdefault(value, index)
    return problems


def reference_problems(data: Mapping[str, Any]) -> Problems:
    """Duplicate names and references to unknown keys or models, on plain data.

    The model validator runs it on the validated config; the loader runs it on the parsed YAML when other fields
    failed (pydantic then skips model validators), so one run reports these mistakes too.
    """
    problems: Problems = []
    for field, attribute in (
        ("provider_keys", "name"),
        ("provider_keys", "env_var"),
        ("models", "name"),
        ("agents", "name"),
    ):
        problems += _duplicate_problems(data, field, attribute)
    key_names = {entry.get("name") for _, entry in _entries(data, "provider_keys")}
    for index, model in _entries(data, "models"):
        if isinstance(model.get("provider_key"), str) and model["provider_key"] not in key_names:
            problems.append(
                (
                    ("models", index, "provider_key"),
                    f"{shown(model['provider_key'])} (of model {shown(model.get('name'))}) is not in provider_keys",
                )
            )
    model_names = {model.get("name") for _, model in _entries(data, "models")}
    for index, agent in _entries(data, "agents"):
        allowed = agent.get("models")
        for position, model_name in enumerate(allowed if isinstance(allowed, list) else []):
            if isinstance(model_name, str) and model_name not in model_names:
                problems.append(
                    (
                        ("agents", index, "models", position),
                        f"agent {shown(agent.get('name'))} allows the unknown model {shown(model_name)} "
                        "(not in models)",
                    )
                )
    return problems


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
        """Every problem at the line of the value that causes it: the duplicate, the unknown name in a list."""
        problems: Problems = []
        if self.env in RESERVED_ENVIRONMENTS:
            problems.append((("env",), f"{shown(self.env)} is reserved (one of {sorted(RESERVED_ENVIRONMENTS)})"))
        for key in sorted(set(self.tags) & set(IDENTITY_TAG_KEYS)):
            problems.append((("tags", key), "the stacks set this tag themselves; it cannot be overridden"))
        problems += reference_problems(self.model_dump(include={"provider_keys", "models", "agents"}))
        if not self.enabled_clouds:
            problems.append((("clouds",), "no cloud is enabled; enable at least one of aws, gcp, alicloud"))
        problems += self._connection_budget_problems()
        raise_problems(problems)
        return self

    def _connection_budget_problems(self) -> Problems:
        """The Prisma pools (GCP) and the gateway tasks' PgBouncers (AWS) must fit under max_connections
        (constructs_lib/config/db_connections.py); the default depends on `production`, so the check lives here, at
        the line of the value that sizes them."""
        sized = []
        gcp, aws = self.clouds.gcp, self.clouds.aws
        if gcp is not None and gcp.enabled:
            field = ("clouds", "gcp", "database", "connection_limit")
            sized.append((gcp.connection_budget(self.production), gcp.database.connection_limit, field))
        if aws is not None and aws.enabled:
            field = ("clouds", "aws", "database", "connection_pool", "max_db_connections")
            configured = aws.database.connection_pool.max_db_connections
            sized.append((aws.connection_budget(self.production), configured, field))
        problems: Problems = []
        for budget, configured, field in sized:
            problem = budget.problem(budget.pool_size(configured)) if budget is not None else None
            if problem:
                problems.append((field, problem))
        return problems

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
