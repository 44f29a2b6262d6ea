"""Run in .venv-litellm: connect to Redis exactly as the GCP gateway's LiteLLM and its daily token cap hook do.

Usage: redis_tls_driver.py < {"hook": "<llmgw_daily_tokens.py>", "cases": {"<case>": {"env": {...},
"cache_params": {...}}}}. Each case's environment is the gateway container's REDIS_* variables (the previous case's
are removed first); `cache_params` the rendered config.yaml's `litellm_settings.cache_params`, whose `os.environ/`
references the proxy resolves with get_secret (litellm/proxy/proxy_server.py:6606-6608) before `Cache(**cache_params)`
(:6211). Prints one JSON object: for each case and each client ("sync" and "async" of LiteLLM's RedisCache, "hook"),
"ok" or the error it raised. Cases must name distinct servers (ports): RedisCache keeps one async client per
host/port/password (litellm/caching/redis_cache.py:801-810), not per TLS setting.
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


def _case(case: dict, hook) -> dict:
    for name in [name for name in os.environ if name.startswith("REDIS_")]:
        del os.environ[name]
    os.environ.update(case["env"])

    import litellm
    from litellm.secret_managers.main import get_secret

    params = {
        key: get_secret(value) if isinstance(value, str) and value.startswith("os.environ/") else value
        for key, value in case["cache_params"].items()
    }
    cache = litellm.Cache(**params).cache

    def sync_round_trip() -> None:
        cache.redis_client.set("llmgw:tls-check:sync", "1")
        assert cache.redis_client.get("llmgw:tls-check:sync") == b"1"

    # RedisCache.async_* log and swallow connection errors, so the async client is driven directly: the one RedisCache
    # builds on its connection pool (litellm/caching/redis_cache.py:812-835).
    async def async_round_trip() -> None:
        client = cache.init_async_client()
        await client.set("llmgw:tls-check:async", "1")
        assert await client.get("llmgw:tls-check:async") == b"1"

    async def hook_round_trip() -> None:
        client = hook._redis_client()
        await client.set("llmgw:tls-check:hook", "1")
        assert await client.get("llmgw:tls-check:hook") == b"1"

    return {
        "sync": _attempt(sync_round_trip),
        "async": _attempt(lambda: asyncio.run(async_round_trip())),
        "hook": _attempt(lambda: asyncio.run(hook_round_trip())),
    }


def main() -> None:
    request = json.load(sys.stdin)
    spec = importlib.util.spec_from_file_location("llmgw_daily_tokens", request["hook"])
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    print(json.dumps({name: _case(case, hook) for name, case in request["cases"].items()}))


if __name__ == "__main__":
    main()
