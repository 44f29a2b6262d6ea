"""Configuration loading: the shipped examples are valid, and every malformed file fails with one clear line."""

from __future__ import annotations

import copy
import re
import shutil
from pathlib import Path

import pytest
import yaml

from constructs_lib.config import ConfigError, load_all, load_environment
from tests.conftest import CONFIG_DIR

CASES = yaml.safe_load((Path(__file__).parent / "fixtures" / "malformed_configs.yaml").read_text())
_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _path_parts(path: str) -> list[str | int]:
    return [int(index) if index else name for name, index in _PART.findall(path)]


def _edit(data: dict, path: str, value: object = None, *, delete: bool = False) -> None:
    *parents, last = _path_parts(path)
    node = data
    for part in parents:
        node = node[part]
    if delete:
        del node[last]
    else:
        node[last] = value


def _write_case(case: dict, directory: Path) -> Path:
    dev = yaml.safe_load((CONFIG_DIR / "dev.yaml").read_text())
    if "text" in case:
        path = directory / "dev.yaml"
        path.write_text(case["text"])
        return path
    if "text_from_env" in case:
        env = case["text_from_env"]
        path = directory / f"{env}.yaml"
        path.write_text(yaml.safe_dump({**dev, "env": env}, sort_keys=False))
        return path
    data = copy.deepcopy(dev)
    for dotted, value in case.get("set", {}).items():
        _edit(data, dotted, value)
    if "delete" in case:
        _edit(data, case["delete"], delete=True)
    path = directory / "dev.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_shipped_examples_are_valid():
    environments = load_all(CONFIG_DIR)
    assert [loaded.config.env for loaded in environments] == ["dev", "prod", "staging"]
    assert all(loaded.config.enabled_clouds == ("aws", "gcp", "alicloud") for loaded in environments)
    assert [loaded.config.production for loaded in environments] == [False, True, False]


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_malformed_config_fails_with_one_clear_line(case, tmp_path):
    path = _write_case(case, tmp_path)
    with pytest.raises(ConfigError) as raised:
        load_environment(path)
    message = str(raised.value)
    assert message.startswith(str(path)), message
    assert "\n" not in message
    for expected in case["error"]:
        assert expected in message, f"{expected!r} not in {message!r}"


def test_error_points_at_the_line_of_the_field(tmp_path):
    text = (CONFIG_DIR / "dev.yaml").read_text().replace("requests_per_minute: 60", "requests_per_minute: -60")
    path = tmp_path / "dev.yaml"
    path.write_text(text)
    line = next(number for number, row in enumerate(text.splitlines(), 1) if "requests_per_minute: -60" in row)
    with pytest.raises(ConfigError, match=rf"dev\.yaml:{line}: agents\[1\]\.requests_per_minute"):
        load_environment(path)


def _with_model_budget(extra: str = "") -> str:
    return (CONFIG_DIR / "dev.yaml").read_text().replace(
        "        requests_per_minute: 30\n", "        requests_per_minute: 30\n        daily_budget: 300\n", 1
    ) + extra


def test_a_per_model_budget_without_an_enterprise_licence_is_a_config_error(tmp_path):
    """Issue 25, defect 2: LiteLLM 1.106.12 refuses model_max_budget on keys without an enterprise licence
    (key_management_endpoints.py:7876-7893; shown against the real proxy in test_quotas.py), so the config must
    refuse it at synth, naming the field and its line."""
    text = _with_model_budget()
    path = tmp_path / "dev.yaml"
    path.write_text(text)
    line = next(number for number, row in enumerate(text.splitlines(), 1) if "daily_budget: 300" in row)
    with pytest.raises(
        ConfigError, match=rf"dev\.yaml:{line}: agents\[0\]\.model_limits\.claude-sonnet\.daily_budget: .*licence"
    ):
        load_environment(path)


def test_a_per_model_budget_is_accepted_with_an_enterprise_licence(tmp_path):
    path = tmp_path / "dev.yaml"
    path.write_text(_with_model_budget("quotas:\n  litellm_enterprise_license: true\n"))
    config = load_environment(path)
    assert config.agents[0].model_limits["claude-sonnet"].daily_budget == 300


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_environment(tmp_path / "dev.yaml")
    with pytest.raises(ConfigError, match="configuration directory not found"):
        load_all(tmp_path / "nope")
    with pytest.raises(ConfigError, match=r"no environment files \(\*\.yaml\) found"):
        load_all(tmp_path)


def test_environments_must_share_state_store_and_tenant(tmp_path):
    for name in ("dev.yaml", "prod.yaml"):
        shutil.copy(CONFIG_DIR / name, tmp_path / name)
    prod = tmp_path / "prod.yaml"
    prod.write_text(prod.read_text().replace("bucket: acme-llmgw-tfstate-gcp", "bucket: acme-other-state"))
    with pytest.raises(ConfigError, match=r"prod\.yaml: clouds\.gcp\.state: differs from .*dev\.yaml"):
        load_all(tmp_path)
    prod.write_text((CONFIG_DIR / "prod.yaml").read_text().replace("tenant: acme", "tenant: globex"))
    with pytest.raises(ConfigError, match=r"prod\.yaml: tenant: 'globex' differs from 'acme'"):
        load_all(tmp_path)


def test_disabled_cloud_is_not_required_to_agree(tmp_path):
    for name in ("dev.yaml", "prod.yaml"):
        shutil.copy(CONFIG_DIR / name, tmp_path / name)
    prod = yaml.safe_load((tmp_path / "prod.yaml").read_text())
    prod["clouds"]["gcp"]["enabled"] = False
    prod["clouds"]["gcp"]["state"]["bucket"] = "acme-elsewhere"
    (tmp_path / "prod.yaml").write_text(yaml.safe_dump(prod))
    environments = load_all(tmp_path)
    assert environments[1].config.enabled_clouds == ("aws", "alicloud")


def test_published_json_schema_is_current():
    import json

    from constructs_lib.config.schema import environment_json_schema

    checked_in = json.loads((CONFIG_DIR / "schema.json").read_text())
    assert checked_in == environment_json_schema(), "config/schema.json is stale: run `make config-schema`"
