"""`litellm_*` resources of the stand-in provider that really call LiteLLM (the loopback proxy of the harness).

`litellm_team` is provider 0.4.0's resource_team.go, mirrored in tools/litellm_live/team_api.py against the
provider block's `api_base` / `api_key` (contract: HARNESS_CONTRACT.md). The quotas stacks use no other `litellm_*`
resource (the keys are registered by the registration script, constructs_lib/_common/agent_key.py).
"""

from __future__ import annotations

from tools.litellm_live.team_api import TeamApi, TeamApiError
from tools.standin_provider import computed
from tools.standin_provider.behaviours import Behaviour, BehaviourError, behaviour


def _api(ctx) -> TeamApi:
    config = ctx.provider_config
    if not config.get("api_base") or not config.get("api_key"):
        raise BehaviourError("litellm provider not configured", "api_base and api_key are required (provider.go)")
    return TeamApi(config["api_base"], config["api_key"])


def _known(planned: dict) -> dict:
    """The planned values without the unknown placeholders (only `id` is computed: the create sets it)."""
    return {key: (None if value is computed.UNKNOWN else value) for key, value in planned.items()}


@behaviour("litellm_team")
class LiteLLMTeam(Behaviour):
    def create(self, ctx, planned: dict, config: dict) -> dict:
        try:
            return ctx.fill(_api(ctx).create(_known(planned)))
        except TeamApiError as error:
            raise BehaviourError(error.summary, error.detail) from None

    def read(self, ctx, state: dict) -> dict | None:
        try:
            return _api(ctx).read(state)
        except TeamApiError as error:
            raise BehaviourError(error.summary, error.detail) from None

    def update(self, ctx, prior: dict, planned: dict, config: dict) -> dict:
        try:
            return ctx.fill(_api(ctx).update(prior, _known(planned)))
        except TeamApiError as error:
            raise BehaviourError(error.summary, error.detail) from None

    def delete(self, ctx, state: dict) -> None:
        try:
            _api(ctx).delete(state)
        except TeamApiError as error:
            raise BehaviourError(error.summary, error.detail) from None
