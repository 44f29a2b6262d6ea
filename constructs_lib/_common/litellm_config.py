"""LiteLLM's own proxy config (`config.yaml`), generated from the typed environment config.

One cloud-neutral module: every cloud's gateway stores the same document (an S3/GCS object, or a file on the
Alibaba Cloud instances) and rolls its services when the digest changes. The document holds no secret: every
credential is an `os.environ/<VAR>` reference that LiteLLM resolves at start, and each cloud puts those
variables in the container from its secret store. tests/test_litellm_config.py loads the rendered document
with the real `litellm` library and builds its Router, so a config LiteLLM would reject fails in the tests.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from constructs_lib.config.environment import EnvironmentConfig

MASTER_KEY_ENV = "LITELLM_MASTER_KEY"
DATABASE_URL_ENV = "DATABASE_URL"
# Names of environment variables, not values.
REDIS_ENV = {
    "host": "REDIS_HOST",
    "port": "REDIS_PORT",
    "password": "REDIS_PASSWORD",  # pragma: allowlist secret
    "ssl": "REDIS_SSL",
    # A complete `redis://` / `rediss://` URL (a brought Redis): TLS is the URL's scheme.
    "url": "REDIS_URL",
}
# Put in every gateway container's plain environment: a new digest is a new task definition / revision.
CONFIG_SHA_ENV = "LITELLM_PROXY_CONFIG_SHA256"
# Where LiteLLM's `webhook` alerting posts: read from this variable at send time, never from the config
# (litellm/integrations/SlackAlerting/slack_alerting.py:1209 `os.getenv("WEBHOOK_URL")`, 1.106.12).
WEBHOOK_URL_ENV = "WEBHOOK_URL"

ENV_REFERENCE_PREFIX = "os.environ/"
# LiteLLM's Prometheus callback: /metrics on the gateway, scraped by a sidecar (never through the load balancer).
PROMETHEUS_CALLBACK = "prometheus"


@dataclass(frozen=True)
class HookFile:
    """A Python file LiteLLM loads from the config file's directory (`<module>.<instance>` in `callbacks`,
    resolved to `<config dir>/<module>.py`: litellm/proxy/types_utils/utils.py:38-50). Every gateway puts it
    beside its config.yaml and checks its digest, as it does the config's."""

    name: str
    text: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    @property
    def object_key(self) -> str:
        """One key for every revision, as the config's (ProxyConfig.object_key): tasks fetch it by version."""
        return f"litellm/{self.name}"


# The agents' daily token cap (tokens_per_day): LiteLLM has no tokens-per-day limit for chat calls.
DAILY_CAP_HOOK = HookFile(
    name="llmgw_daily_tokens.py",
    text=(Path(__file__).resolve().parent / "assets" / "llmgw_daily_tokens.py").read_text(encoding="utf-8"),
)
DAILY_CAP_CALLBACK = "llmgw_daily_tokens.daily_token_cap"
# Names of environment variables, not values: the digest of the hook file, checked before LiteLLM starts.
DAILY_CAP_SHA_ENV = "LLMGW_DAILY_TOKENS_SHA256"


@dataclass(frozen=True)
class ProxyRuntime:
    """What the gateway of one cloud runs with: its stack decides, the document follows.

    `redis`: `tls` (the default everywhere), `plaintext` (an explicit opt-in of the stack's config), `url` (a
    brought Redis whose complete URL is in REDIS_URL, TLS by its `rediss://` scheme), or `none` (no shared cache:
    rate limits and budgets are then per process, which the stacks refuse for more than one).
    `database`: whether LiteLLM has a database (keys, teams, spend); without one there is no `database_url`.
    `metrics`: the Prometheus callback, for a metrics sidecar.
    `callbacks`: further LiteLLM callbacks of that cloud (e.g. Alibaba Cloud's request log for SLS).
    `budget_webhook`: LiteLLM's budget alerts (a key, user or team nearing or over its max_budget) POSTed as JSON to
    WEBHOOK_URL_ENV, which the gateway's environment holds.
    """

    redis: Literal["tls", "plaintext", "url", "none"] = "tls"
    database: bool = True
    metrics: bool = False
    callbacks: tuple[str, ...] = ()
    budget_webhook: bool = False


def env_reference(variable: str) -> str:
    """LiteLLM's syntax for "read this value from the environment at start"."""
    return f"{ENV_REFERENCE_PREFIX}{variable}"


@dataclass(frozen=True)
class ProxyConfig:
    """The rendered document and its identity."""

    text: str
    sha256: str
    # Files LiteLLM loads from the config's directory: every gateway ships them beside config.yaml.
    hooks: tuple[HookFile, ...] = field(default=(DAILY_CAP_HOOK,))

    @property
    def object_key(self) -> str:
        """One key for every revision: a changed config is a new version of the same object (updated in place), so
        the versions older task definitions pin stay readable for a rollback. A content-addressed key would be a
        new object, and replacing it deletes the old one with every version (see
        constructs_lib/aws/gateway/proxy_files.py)."""
        return "litellm/proxy_config.yaml"


def proxy_config_document(config: EnvironmentConfig, runtime: ProxyRuntime | None = None) -> dict[str, Any]:
    """The config as a mapping, in LiteLLM's schema (`model_list`, `litellm_settings`, `router_settings`,
    `general_settings`)."""
    runtime = runtime or ProxyRuntime()
    env_var_of_key = {key.name: key.env_var for key in config.provider_keys if key.ready}
    model_list = []
    # A model whose key is still being added (version 0) is not routed: its secret holds no value yet, and the
    # gateway must not reference a version that does not exist. Agents asking for it get LiteLLM's "no such model".
    for model in (model for model in config.models if model.provider_key in env_var_of_key):
        params: dict[str, Any] = {
            "model": model.litellm_model,
            "api_key": env_reference(env_var_of_key[model.provider_key]),
        }
        if model.api_base is not None:
            params["api_base"] = model.api_base
        model_list.append({"model_name": model.name, "litellm_params": params})
    litellm_settings: dict[str, Any] = {
        # Unknown OpenAI parameters are dropped instead of failing a request to a provider without them.
        "drop_params": True,
        "request_timeout": 600,
    }
    if runtime.redis != "none":
        # Redis backs the per-key rate limits and budgets across replicas. Response caching stays opt-in per
        # request (`default_off`): agents must not get another agent's cached answer by accident.
        litellm_settings["cache"] = True
        cache_params: dict[str, Any] = {"type": "redis", "mode": "default_off"}
        if runtime.redis == "url":
            # LiteLLM hands `url` to redis-py's from_url, which takes host, port, password and TLS from the URL.
            cache_params["url"] = env_reference(REDIS_ENV["url"])
        else:
            cache_params |= {
                "host": env_reference(REDIS_ENV["host"]),
                "port": env_reference(REDIS_ENV["port"]),
                "password": env_reference(REDIS_ENV["password"]),
                "ssl": runtime.redis == "tls",
            }
        litellm_settings["cache_params"] = cache_params
    # The daily token cap on every gateway (its hook file ships beside this document); Prometheus when asked; then
    # the cloud's own callbacks (e.g. Alibaba Cloud's request log for SLS).
    litellm_settings["callbacks"] = [
        DAILY_CAP_CALLBACK,
        *([PROMETHEUS_CALLBACK] if runtime.metrics else []),
        *runtime.callbacks,
    ]
    general_settings: dict[str, Any] = {"master_key": env_reference(MASTER_KEY_ENV)}
    if runtime.database:
        general_settings["database_url"] = env_reference(DATABASE_URL_ENV)
    # The reviewed model list above is always loaded; with a database, models added through the management API
    # (the LiteLLM modules' STORE_MODEL_IN_DB) are kept there too. Without one there is nowhere to keep them.
    general_settings["store_model_in_db"] = runtime.database
    # The UI's key listing (`/user/info`) never shows the master key's entry.
    general_settings["disable_master_key_return"] = True
    if runtime.budget_webhook:
        # `webhook` sends budget alerts only (slack_alerting.py:1468, send_alert); alert_types keeps every other
        # alerting path (Slack digests, outage alerts) off (proxy_server.py:7412-7419 `_load_alerting_settings`).
        general_settings["alerting"] = ["webhook"]
        general_settings["alert_types"] = ["budget_alerts"]
    return {
        "model_list": model_list,
        "litellm_settings": litellm_settings,
        "router_settings": {
            "routing_strategy": "simple-shuffle",
            "num_retries": 2,
            "timeout": 600,
        },
        "general_settings": general_settings,
    }


def render_proxy_config(config: EnvironmentConfig, runtime: ProxyRuntime | None = None) -> ProxyConfig:
    """Deterministic YAML (stable key order, no anchors) and its SHA-256."""
    header = f"# Generated by llm-gateway-cdktf from config/{config.env}.yaml. Do not edit: change the config.\n"
    document = proxy_config_document(config, runtime)
    body = yaml.safe_dump(document, sort_keys=False, default_flow_style=False, width=120)
    text = header + body
    return ProxyConfig(text=text, sha256=hashlib.sha256(text.encode("utf-8")).hexdigest())
