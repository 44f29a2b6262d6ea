"""Run in .venv-litellm: connect to Redis exactly as the GCP gateway's LiteLLM and its daily token cap hook do.

Usage: redis_tls_driver.py < {"env": {...}, "cache_params": {...}, "hook": "<llmgw_daily_tokens.py>"}. The
environment is the gateway container's; `cache_params` the rendered config.yaml's `litellm_settings.cache_params`,
whose `os.environ/` references the proxy resolves with get_secret (litellm/proxy/proxy_server.py:6606-6608) before
`Cache(**cache_params)` (:6211). Prints one JSON object: for each client ("sync" and "async" of LiteLLM's
RedisCache, "hook"), "ok" or the error it raised.
"""

import asyncio
import importlib.util
import json
import os
import sys


def _attempt(action) -> str:
    try:
        action()
    except Exception as error:  # the error is the answer
        return f"{type(error).__name__}: {error}"
    return "ok"


def main() -> None:
    request = json.load(sys.stdin)
    os.environ.update(request["env"])

    import litellm
    from litellm.secret_managers.main import get_secret

    params = {
        key: get_secret(value) if isinstance(value, str) and value.startswith("os.environ/") else value
        for key, value in request["cache_params"].items()
    }
    cache = litellm.Cache(**params).cache
    answers = {}

    def sync_round_trip() -> None:
        cache.redis_client.set("llmgw:tls-check:sync", "1")
        assert cache.redis_client.get("llmgw:tls-check:sync") == b"1"

    # RedisCache.async_* log and swallow connection errors, so the async client is driven directly: the one RedisCache
    # builds on its connection pool (litellm/caching/redis_cache.py:812-835).
    async def async_round_trip() -> None:
        client = cache.init_async_client()
        await client.set("llmgw:tls-check:async", "1")
        assert await client.get("llmgw:tls-check:async") == b"1"

    spec = importlib.util.spec_from_file_location("llmgw_daily_tokens", request["hook"])
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)

    async def hook_round_trip() -> None:
        client = hook._redis_client()
        await client.set("llmgw:tls-check:hook", "1")
        assert await client.get("llmgw:tls-check:hook") == b"1"

    answers["sync"] = _attempt(sync_round_trip)
    answers["async"] = _attempt(lambda: asyncio.run(async_round_trip()))
    answers["hook"] = _attempt(lambda: asyncio.run(hook_round_trip()))
    print(json.dumps(answers))


if __name__ == "__main__":
    main()
