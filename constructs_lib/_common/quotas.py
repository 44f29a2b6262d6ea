"""Per-agent limits as LiteLLM enforces them, derived from the config in one place for every cloud.

LiteLLM limits are per minute (rpm/tpm) plus a budget with a reset period; it has no tokens-per-day limit.
`tokens_per_day` therefore becomes a tokens-per-minute cap of tokens_per_day / 1440, rounded up. Consequence:
an agent can never exceed its daily token allowance, but it cannot spend the allowance in a burst either: a
minute's share is the most it gets in any minute. Size `tokens_per_day` for the agent's peak minute x 1440 if
it is bursty; the `daily_budget` (spend in the gateway's currency, reset daily) is the hard daily ceiling.
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs_lib._common.tags import MANAGED_BY
from constructs_lib.config.environment import EnvironmentConfig
from constructs_lib.config.llm import Agent, tokens_per_minute

BUDGET_DURATION = "1d"


@dataclass(frozen=True)
class AgentQuota:
    agent: str
    alias: str
    rpm_limit: int
    tpm_limit: int
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
        tpm_limit=tokens_per_minute(agent.tokens_per_day),
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
        },
        key_version=agent.key_version,
    )


def agent_quotas(config: EnvironmentConfig) -> list[AgentQuota]:
    return [agent_quota(config, agent) for agent in config.agents]
