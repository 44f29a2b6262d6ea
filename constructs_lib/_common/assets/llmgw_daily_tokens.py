"""A daily token cap per agent for the LiteLLM proxy: shipped beside its config.yaml on every gateway.

LiteLLM 1.106.12 limits tokens per minute (`tpm_limit`) and dollars per period (`max_budget` + `budget_duration`);
its `tpd_limit` is charged by batch submissions only (litellm/proxy/hooks/batch_rate_limiter.py:247). This hook
adds what the agents' config promises, `tokens_per_day`:

- the cap is the agent's team metadata `tokens_per_day` (the quotas stacks put it there: `litellm_team.metadata`);
- before a call (`async_pre_call_hook`), an agent whose team has used its day's tokens gets HTTP 429;
- after a call, its `usage.total_tokens` is added to the team's counter for the day: in
  `async_post_call_success_hook` (before the answer reaches the agent) for ordinary calls, and in
  `async_log_success_event` for streamed ones (their usage is known only when the stream ends);
- the counter is a Redis key `llmgw:daily-tokens:<team_id>:<YYYY-MM-DD>` (INCRBY, expires after two days) on the
  gateway's Redis (the REDIS_* / REDIS_URL variables the config already references), so every replica shares it;
  without Redis (a single process, `redis: none`) it is a counter in this process;
- the day is the UTC calendar day: the cap resets at 00:00 UTC.

Accuracy: a call is admitted while the day's count is under the cap, and counted when it ends, so calls in
flight together may overshoot the cap by at most their own tokens; a call is never cut off half-way. Calls of a
key without a team, or of a team without `tokens_per_day`, are not capped here.

Loaded by LiteLLM from `litellm_settings.callbacks: ["llmgw_daily_tokens.daily_token_cap"]`, which it resolves
to this file in the config file's directory (litellm/proxy/types_utils/utils.py:38-50).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from fastapi import HTTPException
from litellm.integrations.custom_logger import CustomLogger

METADATA_FIELD = "tokens_per_day"
KEY_PREFIX = "llmgw:daily-tokens"
KEY_TTL_SECONDS = 2 * 24 * 3600


def _today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


def _redis_client():
    """The gateway's Redis, built by LiteLLM's own factory from the variables its config.yaml references.

    REDIS_URL, or REDIS_HOST / REDIS_PORT / REDIS_PASSWORD / REDIS_SSL and every other REDIS_<redis-py argument>,
    e.g. the TLS settings REDIS_SSL_CA_CERTS and REDIS_SSL_CHECK_HOSTNAME (litellm/_redis.py:194-198 and :274-282,
    get_redis_async_client at :835, at 1.106.12): this connection verifies exactly as the proxy's cache does.
    None when the gateway has no Redis.
    """
    if not (os.environ.get("REDIS_URL") or os.environ.get("REDIS_HOST")):
        return None
    from litellm._redis import get_redis_async_client

    return get_redis_async_client()


def _cap_of(metadata: Any) -> int | None:
    if not isinstance(metadata, dict) or metadata.get(METADATA_FIELD) in (None, ""):
        return None
    return int(metadata[METADATA_FIELD])


def _total_tokens(response: Any) -> int:
    usage = getattr(response, "usage", None)
    if usage is None and isinstance(response, dict):
        usage = response.get("usage")
    if usage is None:
        return 0
    total = usage.get("total_tokens") if isinstance(usage, dict) else getattr(usage, "total_tokens", None)
    return int(total or 0)


class DailyTokenCap(CustomLogger):
    def __init__(self) -> None:
        super().__init__()
        self._redis = _redis_client()
        self._local: dict[str, int] = {}

    def _key(self, team_id: str) -> str:
        return f"{KEY_PREFIX}:{team_id}:{_today()}"

    async def used(self, team_id: str) -> int:
        key = self._key(team_id)
        if self._redis is None:
            return self._local.get(key, 0)
        value = await self._redis.get(key)
        return int(value or 0)

    async def add(self, team_id: str, tokens: int) -> None:
        if tokens <= 0:
            return
        key = self._key(team_id)
        if self._redis is None:
            self._local[key] = self._local.get(key, 0) + tokens
            return
        pipe = self._redis.pipeline()
        pipe.incrby(key, tokens)
        pipe.expire(key, KEY_TTL_SECONDS)
        await pipe.execute()

    async def async_pre_call_hook(self, user_api_key_dict, cache, data, call_type):
        cap = _cap_of(getattr(user_api_key_dict, "team_metadata", None))
        team_id = getattr(user_api_key_dict, "team_id", None)
        if cap is None or team_id is None:
            return data
        used = await self.used(team_id)
        if used >= cap:
            raise HTTPException(
                status_code=429,
                detail=(
                    f"Daily token cap reached for team {team_id}: {used} of {cap} tokens used today "
                    "(UTC); it resets at 00:00 UTC."
                ),
            )
        # Remembered for the accounting after the call (the request's own metadata travels with it).
        data.setdefault("metadata", {})["llmgw_daily_token_team"] = team_id
        return data

    async def async_post_call_success_hook(self, data, user_api_key_dict, response):
        team_id = (data.get("metadata") or {}).get("llmgw_daily_token_team")
        if team_id is not None and not data.get("stream"):
            await self.add(team_id, _total_tokens(response))
        return response

    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
        if not kwargs.get("stream"):
            return
        metadata = (kwargs.get("litellm_params") or {}).get("metadata") or {}
        team_id = metadata.get("llmgw_daily_token_team")
        if team_id is not None:
            await self.add(team_id, _total_tokens(response_obj))


daily_token_cap = DailyTokenCap()
