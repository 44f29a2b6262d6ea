"""The generated LiteLLM proxy config: deterministic, secret-free, and accepted by the real `litellm` Router.

The Router check runs the pinned library (tools/litellm_check/requirements.txt, hash-locked) in its own venv,
.venv-litellm, which `make test` creates; LiteLLM's dependency tree never enters the synthesis venv. One checker
process serves the session (the `litellm_check` fixture, tests/litellm_check.py).
"""

from __future__ import annotations

import json

import yaml

from constructs_lib._common.litellm_config import (
    CONFIG_SHA_ENV,
    ENV_REFERENCE_PREFIX,
    MASTER_KEY_ENV,
    ProxyRuntime,
    proxy_config_document,
    render_proxy_config,
)
from tests.leakcheck import strings


def test_every_example_config_builds_a_litellm_router(example_environments, tmp_path, litellm_check):
    paths = []
    for loaded in example_environments:
        path = tmp_path / f"{loaded.config.env}.yaml"
        path.write_text(render_proxy_config(loaded.config).text)
        paths.append(path)
    returncode, results = litellm_check(paths)
    assert returncode == 0, results
    for loaded, result in zip(example_environments, results, strict=True):
        config = loaded.config
        assert result["ok"], result
        assert result["litellm_version"] == "1.106.12"
        assert result["models"] == sorted(model.name for model in config.models)
        used_keys = {model.provider_key for model in config.models}
        expected_refs = {key.env_var for key in config.provider_keys if key.name in used_keys}
        assert expected_refs <= set(result["references"])
        assert MASTER_KEY_ENV in result["references"]


def test_litellm_rejects_what_it_would_reject_at_boot(example_environments, tmp_path, litellm_check):
    """The check bites: an unknown provider and an invalid routing strategy both fail, with LiteLLM's message."""
    document = proxy_config_document(example_environments[0].config)
    unknown_provider = json.loads(json.dumps(document))
    unknown_provider["model_list"][0]["litellm_params"]["model"] = "no-such-provider/some-model"
    bad_strategy = json.loads(json.dumps(document))
    bad_strategy["router_settings"]["routing_strategy"] = "fastest-please"
    bad_cache_mode = json.loads(json.dumps(document))
    bad_cache_mode["litellm_settings"]["cache_params"]["mode"] = "sometimes"
    paths = []
    for name, broken in (("provider", unknown_provider), ("strategy", bad_strategy), ("cache", bad_cache_mode)):
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(broken))
        paths.append(path)
    returncode, results = litellm_check(paths)
    assert returncode == 1
    assert [result["ok"] for result in results] == [False, False, False]
    assert "no-such-provider" in results[0]["error"]
    assert "routing_strategy" in results[1]["error"]
    assert "sometimes" in results[2]["error"]


def test_config_holds_only_environment_references_for_credentials(example_environments):
    for loaded in example_environments:
        document = proxy_config_document(loaded.config)
        for entry in document["model_list"]:
            assert entry["litellm_params"]["api_key"].startswith(ENV_REFERENCE_PREFIX)
        general = document["general_settings"]
        assert general["master_key"] == f"{ENV_REFERENCE_PREFIX}{MASTER_KEY_ENV}"
        assert general["database_url"].startswith(ENV_REFERENCE_PREFIX)
        assert document["litellm_settings"]["cache_params"]["password"].startswith(ENV_REFERENCE_PREFIX)
        # No value that looks like a key: every string is a name, a model id, a setting or a reference.
        for text in strings(document):
            assert not text.startswith("sk-"), text


def test_rendering_is_deterministic_and_digested(example_environments):
    config = example_environments[0].config
    first, second = render_proxy_config(config), render_proxy_config(config)
    assert first == second
    changed = config.model_copy(update={"models": config.models[:1]})
    assert render_proxy_config(changed).sha256 != first.sha256
    # One object key for every revision (a new version of the same object; tests/test_aws_rollback.py).
    assert render_proxy_config(changed).object_key == first.object_key == "litellm/proxy_config.yaml"
    assert CONFIG_SHA_ENV == "LITELLM_PROXY_CONFIG_SHA256"


def test_api_base_is_passed_through_only_when_set(example_environments):
    config = example_environments[0].config
    assert "api_base" not in proxy_config_document(config)["model_list"][0]["litellm_params"]
    model = config.models[0].model_copy(update={"api_base": "https://llm.internal.example/v1"})
    document = proxy_config_document(config.model_copy(update={"models": [model]}))
    assert document["model_list"][0]["litellm_params"]["api_base"] == "https://llm.internal.example/v1"


RUNTIMES = {
    "default": ProxyRuntime(),
    "plaintext-redis": ProxyRuntime(redis="plaintext"),
    "no-redis": ProxyRuntime(redis="none"),
    "no-database": ProxyRuntime(database=False),
    "metrics": ProxyRuntime(metrics=True),
}


def test_the_document_follows_the_gateways_runtime(example_environments):
    config = example_environments[0].config
    documents = {name: proxy_config_document(config, runtime) for name, runtime in RUNTIMES.items()}
    assert documents["default"] == proxy_config_document(config)
    assert documents["default"]["litellm_settings"]["cache_params"]["ssl"] is True
    assert documents["plaintext-redis"]["litellm_settings"]["cache_params"]["ssl"] is False
    assert "cache" not in documents["no-redis"]["litellm_settings"]
    assert "cache_params" not in documents["no-redis"]["litellm_settings"]
    assert "database_url" not in documents["no-database"]["general_settings"]
    assert documents["no-database"]["general_settings"]["store_model_in_db"] is False
    assert documents["default"]["general_settings"]["store_model_in_db"] is True
    assert documents["metrics"]["litellm_settings"]["callbacks"] == ["prometheus"]
    assert all("callbacks" not in documents[name]["litellm_settings"] for name in RUNTIMES if name != "metrics")
    assert len({render_proxy_config(config, runtime).sha256 for runtime in RUNTIMES.values()}) == len(RUNTIMES)


def test_every_runtime_variant_builds_a_litellm_router(example_environments, tmp_path, litellm_check):
    config = example_environments[0].config
    paths = []
    for name, runtime in RUNTIMES.items():
        path = tmp_path / f"{name}.yaml"
        path.write_text(render_proxy_config(config, runtime).text)
        paths.append(path)
    returncode, results = litellm_check(paths)
    assert returncode == 0, results
    assert all(result["ok"] for result in results), results
