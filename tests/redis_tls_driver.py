"""Run in .venv-litellm: connect to Redis exactly as the GCP gateway's LiteLLM and its daily token cap hook do.

Usage: redis_tls_driver.py < {"hook": "<llmgw_daily_tokens.py>", "cases": {"<case>": {"env": {...},
"cache_params": {...}}}}. Each case's environment is the gateway container's REDIS_* variables (the previous case's
are removed first); `cache_params` the rendered config.yaml's `litellm_settings.cache_params`, whose `os.environ/`
references the proxy resolves with get_secret (litellm/proxy/proxy_server.py:6606-6608) before `Cache(**cache_params)`
(:6211). Prints one JSON object: for each case and each client ("sync" and "async" of LiteLLM's RedisCache, "hook"),
"ok" or the error it raised. Cases must name distinct servers (ports): RedisCache keeps one async client per
host/port/password (litellm/caching/redis_cache.py:801-810), not per TLS setting.

A refused handshake is retried with redis-py's default backoff (10 retries, redis/_defaults.py:37-39, for the
proxy's start-up ping, redis_cache.py:759-761, and again for each command: seconds per client), so the cases run at
the same time, each in a fork made after LiteLLM is imported, and a case's hook client alongside its cache clients
(it builds its own client from the same environment, litellm/_redis.py:835). Each client still makes every attempt
its settings make; what each answers does not depend on what runs beside it.
"""

import asyncio
import importlib.util
import json
import os
import sys
import threading


def _attempt(action) -> str:
    try:
        action()
    except Exception as error:  # the error is the answer
        return f"{type(error).__name__}: {error}"
    return "ok"


def _use_environment(case: dict) -> None:
    for name in [name for name in os.environ if name.startswith("REDIS_")]:
        del os.environ[name]
    os.environ.update(case["env"])


def _case(case: dict, hook) -> dict:
    _use_environment(case)

    import litellm
    from litellm.secret_managers.main import get_secret

    async def hook_round_trip() -> None:
        client = hook._redis_client()
        await client.set("llmgw:tls-check:hook", "1")
        assert await client.get("llmgw:tls-check:hook") == b"1"

    answers = {}
    hook_thread = threading.Thread(target=lambda: answers.update(hook=_attempt(lambda: asyncio.run(hook_round_trip()))))
    hook_thread.start()
    try:
        params = {
            key: get_secret(value) if isinstance(value, str) and value.startswith("os.environ/") else value
            for key, value in case["cache_params"].items()
        }
        cache = litellm.Cache(**params).cache

        def sync_round_trip() -> None:
            cache.redis_client.set("llmgw:tls-check:sync", "1")
            assert cache.redis_client.get("llmgw:tls-check:sync") == b"1"

        # RedisCache.async_* log and swallow connection errors, so the async client is driven directly: the one
        # RedisCache builds on its connection pool (litellm/caching/redis_cache.py:812-835).
        async def async_round_trip() -> None:
            client = cache.init_async_client()
            await client.set("llmgw:tls-check:async", "1")
            assert await client.get("llmgw:tls-check:async") == b"1"

        answers["sync"] = _attempt(sync_round_trip)
        answers["async"] = _attempt(lambda: asyncio.run(async_round_trip()))
    finally:
        hook_thread.join()
    return {name: answers[name] for name in ("sync", "async", "hook")}


def _forked_case(case: dict, hook) -> tuple[int, int]:
    """(pid, read end of the pipe its answer comes on) of a fork running `case`."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        try:
            answer = _case(case, hook)
        except BaseException as error:
            answer = {"driver": f"{type(error).__name__}: {error}"}
        with os.fdopen(write_end, "w") as pipe:
            pipe.write(json.dumps(answer))
        os._exit(0)
    os.close(write_end)
    return pid, read_end


def main() -> None:
    request = json.load(sys.stdin)
    spec = importlib.util.spec_from_file_location("llmgw_daily_tokens", request["hook"])
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    # Imported once, under the first case's environment, as one process running the cases in turn would.
    _use_environment(next(iter(request["cases"].values())))
    import litellm  # noqa: F401
    from litellm.secret_managers.main import get_secret  # noqa: F401

    running = {name: _forked_case(case, hook) for name, case in request["cases"].items()}
    answers = {}
    for name, (pid, read_end) in running.items():
        with os.fdopen(read_end) as pipe:
            answer = pipe.read()
        _, status = os.waitpid(pid, 0)
        answers[name] = json.loads(answer) if answer else {"driver": f"the case's process ended with {status}"}
    print(json.dumps(answers))


if __name__ == "__main__":
    main()
