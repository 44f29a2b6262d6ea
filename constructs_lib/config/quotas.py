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
    secret_recovery_window_days: int = Field(
        default=7,
        ge=7,
        le=30,
        description="Days a deleted agent-key secret stays recoverable (AWS Secrets Manager, Alibaba KMS).",
    )
