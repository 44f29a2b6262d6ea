"""A provider key at `version: 0` (being added): its secret exists, nothing references it, its models are not routed.

The offline-apply sequence (tests/test_add_provider_key_drill.py, `make drill`) proves the whole path; these check
the synthesized stacks of each step quickly, in `make test`.
"""

from __future__ import annotations

import copy

import pytest
import yaml

from constructs_lib._common.litellm_config import render_proxy_config
from constructs_lib.config import load_environment
from tests.conftest import CONFIG_DIR
from tests.test_aws_gateway import containers, resources


def _config(tmp_path, cloud: str, version: int):
    data = copy.deepcopy(yaml.safe_load((CONFIG_DIR / "dev.yaml").read_text()))
    data["provider_keys"].append({"name": "mistral", "env_var": "MISTRAL_API_KEY", "version": version})
    data["models"].append(
        {"name": "mistral-large", "litellm_model": "mistral/mistral-large-latest", "provider_key": "mistral"}
    )
    path = tmp_path / f"{cloud}-{version}" / "dev.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_environment(path)


def _aws(config) -> dict:
    from tests.test_aws_stack_options import _synth

    return _synth(config)


def _gcp(config) -> dict:
    from tests.test_gcp_stack_options import _synth

    return _synth(config)


@pytest.mark.parametrize("version", [0, 1])
def test_only_a_routed_key_has_its_models_in_the_proxy_config(tmp_path, version):
    config = _config(tmp_path, "any", version)
    names = [model["model_name"] for model in yaml.safe_load(render_proxy_config(config).text)["model_list"]]
    assert ("mistral-large" in names) is bool(version)
    assert {"qwen-max", "gpt-4o"} <= set(names)


@pytest.mark.parametrize("version", [0, 1])
def test_aws_creates_the_secret_and_references_it_only_once_routed(tmp_path, version):
    stack = _aws(_config(tmp_path, "aws", version))
    names = {body["name"] for body in resources(stack, "aws_secretsmanager_secret").values()}
    assert "acme-dev-provider-mistral" in names
    gateway = {item["name"]: item["valueFrom"] for item in containers(stack)["gateway"]["secrets"]}
    assert ("MISTRAL_API_KEY" in gateway) is bool(version)
    if version:
        assert gateway["MISTRAL_API_KEY"].endswith("::v1:")


@pytest.mark.parametrize("version", [0, 1])
def test_gcp_creates_the_secret_and_references_it_only_once_routed(tmp_path, version):
    stack = _gcp(_config(tmp_path, "gcp", version))
    ids = {body["secret_id"] for body in stack["resource"]["google_secret_manager_secret"].values()}
    assert "acme-dev-provider-mistral" in ids
    (gateway,) = [
        body for body in stack["resource"]["google_cloud_run_v2_service"].values() if body["name"].endswith("-gateway")
    ]
    env = {item["name"]: item for item in gateway["template"]["containers"][0]["env"]}
    assert ("MISTRAL_API_KEY" in env) is bool(version)
    if version:
        assert env["MISTRAL_API_KEY"]["value_source"]["secret_key_ref"]["version"] == "1"
