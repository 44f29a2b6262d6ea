"""The `quotas:` section: how the per-agent key stacks (`<cloud>-<env>-quotas`) run and store keys."""

from __future__ import annotations

from pydantic import Field

from constructs_lib.config.base import StrictModel


class QuotasConfig(StrictModel):
    enabled: bool = Field(default=True, description="Synthesize a `<cloud>-<env>-quotas` stack per enabled cloud.")
    runner_labels: list[str] | None = Field(
        default=None,
        min_length=1,
        description=(
            "GitHub runner labels for the quotas stacks, which call the gateway's management API and so must run "
            "inside its network (self-hosted runner or Atlantis in the VPC). "
            "Default: [self-hosted, llmgw-<cloud>-<env>]; CI adds the role (llmgw-plan or llmgw-apply) and "
            "`ephemeral` labels (docs/CI.md)."
        ),
    )
    key_rotation_overlap: str = Field(
        default="1h",
        pattern=r"^[1-9][0-9]*[smhd]$",
        description=(
            "How long an agent's old key keeps working after a rotation (key_version bump), as a LiteLLM duration "
            "(30s, 10m, 1h, 1d): agents must re-read their secret within it. Then LiteLLM refuses the old key."
        ),
    )
    litellm_enterprise_license: bool = Field(
        default=False,
        description=(
            "True only when the gateways run LiteLLM with an enterprise licence (LITELLM_LICENSE, put in their "
            "environment out of band). Per-model daily budgets (agents[].model_limits.<model>.daily_budget) need "
            "it: LiteLLM 1.106.12 refuses model_max_budget on keys without one (validate_model_max_budget)."
        ),
    )
    secret_recovery_window_days: int = Field(
        default=7,
        ge=7,
        le=30,
        description="Days a deleted agent-key secret stays recoverable (AWS Secrets Manager, Alibaba KMS).",
    )
