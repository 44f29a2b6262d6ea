"""Cloud-neutral configuration: LLM provider keys, the model list and the agents with their quotas."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Annotated

from pydantic import BeforeValidator, Field, model_validator

from constructs_lib.config.base import Slug, StrictModel
from constructs_lib.config.messages import raise_problems, shown

PositiveInt = Annotated[int, Field(gt=0)]
MINUTES_PER_DAY = 24 * 60


def tokens_per_minute(tokens_per_day: int) -> int:
    """LiteLLM limits tokens per minute: an agent's daily allowance becomes a per-minute share, rounded up."""
    return math.ceil(tokens_per_day / MINUTES_PER_DAY)


def _number_not_text(value: object) -> object:
    if isinstance(value, (str, bool)):
        kind = "text" if isinstance(value, str) else "a true/false value"
        raise ValueError(f"must be a number, got {kind} {shown(value)}")
    return value


# YAML numbers (int or float) become exact decimals; quoted strings and booleans are refused.
Money = Annotated[
    Decimal,
    BeforeValidator(_number_not_text),
    Field(gt=0, max_digits=12, decimal_places=2, strict=False),
]


class ProviderKey(StrictModel):
    """An LLM provider API key. Terraform knows its secret *name*; the value is put in out of band."""

    name: Slug = Field(description="Short key name, e.g. `openai`; the secret is `<tenant>-<env>-provider-<name>`.")
    description: str = Field(default="", max_length=200)
    env_var: str = Field(
        pattern=r"^[A-Z][A-Z0-9_]*$",
        description="Environment variable the gateway reads the key from, e.g. `OPENAI_API_KEY`.",
    )
    version: int = Field(
        default=1,
        ge=0,
        description="Secret version the gateway runs on. Bump it after putting a new value in the store. 0: the key "
        "is being added; its secret is created, nothing references it and its models are not routed until the first "
        "value is in and this says 1 (README: adding a provider key).",
    )

    @property
    def ready(self) -> bool:
        """Whether a value has been put in: the gateway reads the secret and routes its models only then."""
        return self.version > 0


class LlmModel(StrictModel):
    """One entry of LiteLLM's `model_list`: the public name agents ask for and where it is served."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}$", description="Public model name.")
    litellm_model: str = Field(
        pattern=r"^[a-z0-9_-]+/\S+$",
        description="LiteLLM `provider/model-id`, e.g. `openai/gpt-4o-2024-08-06`.",
    )
    provider_key: Slug = Field(description="Name of the `provider_keys` entry holding this model's API key.")
    api_base: str | None = Field(default=None, pattern=r"^https://\S+$")


class ModelLimit(StrictModel):
    """Optional per-model cap inside an agent's overall limits."""

    requests_per_minute: PositiveInt | None = None
    tokens_per_minute: PositiveInt | None = None
    daily_budget: Money | None = None

    @model_validator(mode="after")
    def _at_least_one_limit(self) -> ModelLimit:
        if self.requests_per_minute is None and self.tokens_per_minute is None and self.daily_budget is None:
            raise ValueError("a per-model limit needs requests_per_minute, tokens_per_minute or daily_budget")
        return self


class Agent(StrictModel):
    """An AI agent: gets one LiteLLM virtual key with these limits and nothing else."""

    name: Slug
    owner: str = Field(pattern=r"^[^@\s]+@[^@\s]+$", description="Owner's e-mail, recorded in key metadata.")
    team: Slug
    requests_per_minute: PositiveInt
    tokens_per_day: PositiveInt
    daily_budget: Money = Field(
        description="Spend cap per day in the gateway's currency (USD in LiteLLM's cost map); resets daily."
    )
    models: Annotated[list[str], Field(min_length=1)]
    model_limits: dict[str, ModelLimit] = Field(default_factory=dict)
    key_version: PositiveInt = Field(
        default=1,
        description="Version of the agent's virtual key. Bumping it issues a new key into the agent's secret.",
    )

    @model_validator(mode="after")
    def _model_limits_name_allowed_models(self) -> Agent:
        problems: list[tuple[tuple[str | int, ...], str]] = []
        seen: set[str] = set()
        for position, model in enumerate(self.models):
            if model in seen:
                problems.append((("models", position), f"agent {shown(self.name)} lists model {shown(model)} twice"))
            seen.add(model)
        for model in sorted(set(self.model_limits) - set(self.models)):
            problems.append(
                (("model_limits", model), f"agent {shown(self.name)}: {shown(model)} is not in its models list")
            )
        # A per-model cap above the agent's own cap would never bind: almost certainly a typo.
        overall_tpm = tokens_per_minute(self.tokens_per_day)
        for model, limit in sorted(self.model_limits.items()):
            for field, value, ceiling in (
                ("requests_per_minute", limit.requests_per_minute, self.requests_per_minute),
                ("tokens_per_minute", limit.tokens_per_minute, overall_tpm),
                ("daily_budget", limit.daily_budget, self.daily_budget),
            ):
                if value is not None and value > ceiling:
                    problems.append(
                        (
                            ("model_limits", model, field),
                            f"agent {shown(self.name)}: {value} is above the agent's own limit of {ceiling}",
                        )
                    )
        raise_problems(problems)
        return self
