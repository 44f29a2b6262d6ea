"""Run in .venv-litellm: real LiteLLM completions (one success, one failure) through the Alibaba request logger.

Usage: request_log_driver.py LOGGER_FILE OUTPUT_DIR. The success is LiteLLM's own `mock_response` path, the
failure a connection to a closed loopback port; LiteLLM builds the StandardLoggingPayload of both itself. The
prompt, the answer and the key are marker strings the test then looks for in the log.
"""

import asyncio
import importlib.util
import sys

import litellm

PROMPT, ANSWER, KEY = "MARKER-PROMPT-TEXT", "MARKER-ANSWER-TEXT", "sk-MARKER-PROVIDER-KEY"  # pragma: allowlist secret
# What the proxy puts in the request's metadata for a virtual key (litellm/proxy/litellm_pre_call_utils.py:1711-1735);
# the key's own metadata is what constructs_lib/_common/quotas.py registers.
METADATA = {
    "user_api_key_alias": "dev-research-agent",  # pragma: allowlist secret (an alias, not a key)
    "user_api_key_team_alias": "dev-research-agent",  # pragma: allowlist secret (an alias)
    "user_api_key_auth_metadata": {"agent": "research-agent", "environment": "dev"},
}


async def main(logger_file: str, directory: str) -> None:
    spec = importlib.util.spec_from_file_location("llmgw_request_log", logger_file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    litellm.callbacks = [module.RequestLog(directory=directory, keep_days=3)]
    messages = [{"role": "user", "content": PROMPT}]
    await litellm.acompletion(
        model="openai/gpt-4o", messages=messages, mock_response=ANSWER, api_key=KEY, metadata=METADATA
    )
    try:
        await litellm.acompletion(
            model="openai/gpt-4o",
            messages=messages,
            api_base="http://127.0.0.1:9/v1",
            api_key=KEY,
            metadata=METADATA,
            num_retries=0,
            timeout=5,
        )
    except Exception as error:  # the log line, not the exception type, is under test
        print(f"failure: {type(error).__name__}")
    await asyncio.sleep(2)  # LiteLLM runs the success/failure callbacks in the background


def load(config_file: str) -> None:
    """`load CONFIG_FILE`: each of the config's `litellm_settings.callbacks` through the loader the proxy uses for a
    custom callback, `get_instance_fn(value, config_file_path)` (litellm/proxy/common_utils/callback_utils.py:384-395;
    the proxy module itself needs the proxy extras, which this venv has not)."""
    import yaml
    from litellm.proxy.types_utils.utils import get_instance_fn

    with open(config_file) as handle:
        callbacks = yaml.safe_load(handle)["litellm_settings"]["callbacks"]
    loaded = [get_instance_fn(value=value, config_file_path=config_file) for value in callbacks]
    print(" ".join(f"{type(item).__module__}.{type(item).__name__}" for item in loaded))


if __name__ == "__main__":
    if sys.argv[1] == "load":
        load(sys.argv[2])
    else:
        asyncio.run(main(sys.argv[1], sys.argv[2]))
