"""Per-agent limits as the gateway enforces them, derived from the config in one place for every cloud.

LiteLLM limits requests per minute (`rpm_limit`) and spend per period (`max_budget` + `budget_duration`); it has no
tokens-per-day limit for chat calls. `tokens_per_day` is enforced by the gateway's daily token cap hook
(constructs_lib/_common/assets/llmgw_daily_tokens.py, shipped beside every gateway's config.yaml), which reads it
from the team's metadata: an agent bursts as fast as its requests per minute allow and is refused (HTTP 429) once
the UTC day's tokens are spent. No per-minute token limit is derived from it (a minute's share of the day would
refuse an ordinary request: issue 25, defect 9).
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs_lib._common.errors import PropsError
from constructs_lib._common.tags import MANAGED_BY
from constructs_lib.config.environment import EnvironmentConfig
from constructs_lib.config.llm import Agent

BUDGET_DURATION = "1d"


def require_what_the_quotas_stack_needs(config: EnvironmentConfig, cloud: str) -> None:
    """The quotas stack registers every agent's key in LiteLLM's database, through the gateway's URL: refuse a
    gateway stack without either while that stack is on (and has agents)."""
    if not (config.quotas.enabled and config.agents):
        return
    section = config.cloud(cloud)
    if section.database.source == "none":
        raise PropsError(
            f"clouds.{cloud}.database.source",
            "`none`, but the quotas stack registers every agent's key in LiteLLM's database; keep a database, "
            "or set quotas.enabled: false",
        )
    if not section.create_runtime and section.external_gateway_url is None:
        raise PropsError(
            f"clouds.{cloud}.external_gateway_url",
            "dependencies-only mode has no load balancer whose URL the quotas stack could read; set the URL of the "
            "gateway you run, or set quotas.enabled: false",
        )


@dataclass(frozen=True)
class AgentQuota:
    agent: str
    alias: str
    rpm_limit: int
    tokens_per_day: int
    max_budget: float
    budget_duration: str
    models: tuple[str, ...]
    model_rpm_limit: dict[str, int]
    model_tpm_limit: dict[str, int]
    model_max_budget: dict[str, float]
    metadata: dict[str, str]
    key_version: int

    def model_limits(self) -> dict[str, dict]:
        """Per-model limits as LiteLLM's key API takes them; empty maps clear limits removed from the config."""
        return {
            "model_rpm_limit": self.model_rpm_limit,
            "model_tpm_limit": self.model_tpm_limit,
            "model_max_budget": {
                model: {"budget_limit": budget, "time_period": self.budget_duration}
                for model, budget in self.model_max_budget.items()
            },
        }


def agent_quota(config: EnvironmentConfig, agent: Agent) -> AgentQuota:
    limits = agent.model_limits
    return AgentQuota(
        agent=agent.name,
        alias=f"{config.env}-{agent.name}",
        rpm_limit=agent.requests_per_minute,
        tokens_per_day=agent.tokens_per_day,
        max_budget=float(agent.daily_budget),
        budget_duration=BUDGET_DURATION,
        models=tuple(agent.models),
        model_rpm_limit={m: v.requests_per_minute for m, v in sorted(limits.items()) if v.requests_per_minute},
        model_tpm_limit={m: v.tokens_per_minute for m, v in sorted(limits.items()) if v.tokens_per_minute},
        model_max_budget={m: float(v.daily_budget) for m, v in sorted(limits.items()) if v.daily_budget},
        metadata={
            "agent": agent.name,
            "environment": config.env,
            "owner": agent.owner,
            "team": agent.team,
            "tenant": config.tenant,
            "managed-by": MANAGED_BY,
            # Read by the daily token cap hook (llmgw_daily_tokens.METADATA_FIELD).
            "tokens_per_day": str(agent.tokens_per_day),
        },
        key_version=agent.key_version,
    )


def agent_quotas(config: EnvironmentConfig) -> list[AgentQuota]:
    return [agent_quota(config, agent) for agent in config.agents]
