"""Load generated LiteLLM proxy configs with the real `litellm` library and build its Router.

Runs inside .venv-litellm (tools/litellm_check/requirements.txt, installed with --require-hashes), never in the
project's venv: LiteLLM's dependency tree is large and must not leak into synthesis. Prints one JSON line per
file: the model names the Router serves, or the error LiteLLM raised. Exit 1 if any file failed.

Every `os.environ/<VAR>` reference is given a dummy value for the check: the real values come from the cloud
secret stores at run time, and a missing variable is reported separately as `unresolved`.

    load_config.py FILE...   # check these files, then exit
    load_config.py --serve END   # import LiteLLM once, then check each batch of files named on stdin (`serve`)
"""

from __future__ import annotations

import json
import os
import sys
import traceback

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # the bundled cost map: no network at import
os.environ.setdefault("LITELLM_LOG", "ERROR")

import yaml

ENV_PREFIX = "os.environ/"


def _references(node: object) -> set[str]:
    if isinstance(node, str):
        return {node[len(ENV_PREFIX) :]} if node.startswith(ENV_PREFIX) else set()
    if isinstance(node, dict):
        return set().union(*(_references(value) for value in node.values())) if node else set()
    if isinstance(node, list):
        return set().union(*(_references(value) for value in node)) if node else set()
    return set()


def check(path: str) -> dict[str, object]:
    import litellm
    from litellm import Router

    with open(path, encoding="utf-8") as handle:
        document = yaml.safe_load(handle)
    allowed_sections = {"model_list", "litellm_settings", "router_settings", "general_settings"}
    unknown = sorted(set(document) - allowed_sections)
    if unknown:
        return {"file": path, "ok": False, "error": f"unknown top-level sections {unknown}"}
    for variable in sorted(_references(document)):
        os.environ[variable] = "placeholder-for-config-check"
    router_settings = dict(document.get("router_settings") or {})
    try:
        _check_cache(document.get("litellm_settings") or {})
        router = Router(model_list=document["model_list"], **router_settings)
        served = sorted(router.get_model_names())
        # Every deployment must resolve to a provider LiteLLM knows (raises on an unknown `provider/model`).
        providers = sorted(
            {litellm.get_llm_provider(entry["litellm_params"]["model"])[1] for entry in document["model_list"]}
        )
    except Exception as error:  # report whatever LiteLLM rejects, with its own message
        return {"file": path, "ok": False, "error": f"{type(error).__name__}: {error}"}
    return {
        "file": path,
        "ok": True,
        "litellm_version": _version(),
        "models": served,
        "providers": providers,
        "references": sorted(_references(document)),
    }


def _check_cache(litellm_settings: dict) -> None:
    """The proxy hands `cache_params` to `litellm.Cache`; check the enums it would reject at boot."""
    from litellm.caching.caching import CacheMode, LiteLLMCacheType

    if not litellm_settings.get("cache"):
        return
    params = litellm_settings.get("cache_params") or {}
    cache_type = params.get("type", "local")
    if cache_type not in {member.value for member in LiteLLMCacheType}:
        raise ValueError(f"litellm_settings.cache_params.type {cache_type!r} is not a LiteLLM cache type")
    mode = params.get("mode", "default_on")
    if mode not in {member.value for member in CacheMode}:
        raise ValueError(f"litellm_settings.cache_params.mode {mode!r} is not a LiteLLM cache mode")


def _version() -> str:
    from importlib.metadata import version

    return version("litellm")


def main(paths: list[str]) -> int:
    failed = False
    for path in paths:
        result = check(path)
        failed |= not result["ok"]
        print(json.dumps(result, sort_keys=True))
    return 1 if failed else 0


def serve(batch_end: str) -> int:
    """Import LiteLLM once (seconds), then answer batches: a JSON list of paths per stdin line.

    Each batch is checked by `main` in a fork of this process, so it starts from exactly the state a fresh
    `load_config.py FILE...` run has (no environment placeholder or LiteLLM global set by an earlier batch
    survives it). Its output is what that run prints, then a line `<batch_end><exit status>`.
    """
    import litellm  # noqa: F401
    from litellm import Router  # noqa: F401
    from litellm.caching.caching import CacheMode  # noqa: F401

    for line in sys.stdin:
        paths = json.loads(line)
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            code = 1  # what an uncaught exception exits with in a fresh run
            try:
                code = main(paths)
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        print(f"{batch_end}{os.waitstatus_to_exitcode(status)}", flush=True)
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"] and len(sys.argv) == 3:
        sys.exit(serve(sys.argv[2]))
    sys.exit(main(sys.argv[1:]))
