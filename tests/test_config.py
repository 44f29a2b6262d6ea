"""Configuration loading: the shipped examples are valid; every malformed file fails with exact, human lines."""

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


def write_case(case: dict, directory: Path) -> Path:
    """The fixture case's broken dev.yaml (or `<env>.yaml`) in `directory`; also used by tests/test_cli.py."""
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
    for dotted in case.get("delete", []):
        _edit(data, dotted, delete=True)
    path = directory / "dev.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_shipped_examples_are_valid():
    environments = load_all(CONFIG_DIR)
    assert [loaded.config.env for loaded in environments] == ["dev", "prod", "staging"]
    assert all(loaded.config.enabled_clouds == ("aws", "gcp", "alicloud") for loaded in environments)
    assert [loaded.config.production for loaded in environments] == [False, True, False]


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_malformed_config_fails_with_exact_lines(case, tmp_path):
    path = write_case(case, tmp_path)
    with pytest.raises(ConfigError) as raised:
        load_environment(path)
    assert str(raised.value).splitlines() == [line.replace("{file}", str(path)) for line in case["error"]]


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_messages_speak_one_voice(case, tmp_path):
    """No pydantic sentence, raw regex or Python type name reaches the user."""
    path = write_case(case, tmp_path)
    with pytest.raises(ConfigError) as raised:
        load_environment(path)
    for line in str(raised.value).splitlines():
        for raw in (
            "Input should",
            "String should",
            "should match pattern",
            "^[",
            "]$",
            "Value error",
            " str ",
            "dict",
        ):
            assert raw not in line, f"{raw!r} in {line!r}"


def test_every_field_pattern_is_described_in_words():
    from constructs_lib.config.messages import PATTERN_WORDS
    from constructs_lib.config.schema import environment_json_schema

    patterns: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("pattern"), str):
                patterns.add(node["pattern"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(environment_json_schema())
    assert len(patterns) > 40
    assert sorted(patterns - set(PATTERN_WORDS)) == []


def test_error_points_at_the_line_of_the_field(tmp_path):
    text = (CONFIG_DIR / "dev.yaml").read_text().replace("requests_per_minute: 60", "requests_per_minute: -60")
    path = tmp_path / "dev.yaml"
    path.write_text(text)
    line = next(number for number, row in enumerate(text.splitlines(), 1) if "requests_per_minute: -60" in row)
    assert (
        _error_of(load_environment, path)
        == f"{path}:{line}: agents[1].requests_per_minute: must be greater than 0, got -60"
    )


def _error_of(load, path: Path) -> str:
    """The text of the ConfigError that `load` (load_environment or load_all) raises for `path`."""
    with pytest.raises(ConfigError) as raised:
        load(path)
    return str(raised.value)


def _line_number(text: str, fragment: str, occurrence: int = 1) -> int:
    rows = [number for number, row in enumerate(text.splitlines(), 1) if fragment in row]
    return rows[occurrence - 1]


def test_shipped_file_mistakes_point_at_the_offending_value(tmp_path):
    """The issue's own examples on the real dev.yaml (comments, flow lists): each line is the value's line."""
    text = (CONFIG_DIR / "dev.yaml").read_text()
    second_agent = _line_number(text, "- name: code")
    text = text.replace("- name: code", "- name: research", 1)  # a duplicate agent name
    text = text.replace("models: [claude-sonnet, deepseek-chat]", "models: [claude-sonnet,\n      qwen-maxx]", 1)
    path = tmp_path / "dev.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as raised:
        load_environment(path)
    assert str(raised.value).splitlines() == [
        f"{path}:{second_agent}: agents[1].name: duplicate name 'research' (also agents[0])",
        f"{path}:{_line_number(text, 'qwen-maxx')}: agents[1].models[1]: agent 'research' allows the unknown model "
        "'qwen-maxx' (not in models)",
    ]


def test_unclosed_bracket_points_where_it_opened(tmp_path):
    text = (
        (CONFIG_DIR / "dev.yaml")
        .read_text()
        .replace("models: [claude-sonnet, deepseek-chat]", "models: [claude-sonnet", 1)
    )
    path = tmp_path / "dev.yaml"
    path.write_text(text)
    opened = next(n for n, row in enumerate(text.splitlines(), 1) if row.endswith("models: [claude-sonnet"))
    with pytest.raises(ConfigError) as raised:
        load_environment(path)
    message = str(raised.value)
    assert message.startswith(
        f"{path}:{opened}: YAML syntax error: the '[' opened here is never closed (still open on "
    )


def test_non_utf8_byte_is_reported_by_line_and_column(tmp_path):
    path = tmp_path / "dev.yaml"
    path.write_bytes((CONFIG_DIR / "dev.yaml").read_bytes().replace(b"tenant: acme", b"tenant: acme  # caf\xe9", 1))
    line = _line_number(path.read_bytes().decode("latin-1"), "caf\xe9")
    assert _error_of(load_environment, path) == (
        f"{path}:{line}: the file is not UTF-8 text: byte 0xe9 in column 20 (save the file as UTF-8)"
    )


def test_oversized_file_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "dev.yaml"
    with path.open("wb") as handle:
        handle.truncate(100 * 1024 * 1024)  # sparse: 100 MiB that reading would take seconds to parse
    assert _error_of(load_environment, path) == (
        f"{path}: the file is 100.0 MiB; an environment file may be at most 1 MiB (the examples are about 10 KiB): "
        "is it the right file?"
    )


def test_echoed_values_are_capped(tmp_path):
    data = yaml.safe_load((CONFIG_DIR / "dev.yaml").read_text())
    data["tags"] = {"team": "x" * 500_000}
    data["tenant"] = "T" * 300
    path = tmp_path / "dev.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(ConfigError) as raised:
        load_environment(path)
    quoted_x, quoted_t = "'" + "x" * 59, "'" + "T" * 59
    assert str(raised.value).splitlines() == [
        f"{path}:1: tenant: must be 2-10 lowercase letters or digits, starting with a lowercase letter, got "
        f"{quoted_t}... (300 characters)",
        f"{path}:6: tags.team: the value must be 0-63 lowercase letters, digits, '_' or '-' (GCP label rules), got "
        f"{quoted_x}... (500000 characters)",
    ]


def test_many_errors_are_capped_at_twenty_with_a_count(tmp_path):
    data = yaml.safe_load((CONFIG_DIR / "dev.yaml").read_text())
    for number in range(25):
        data[f"unknown_{number:02d}"] = number
    path = tmp_path / "dev.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(ConfigError) as raised:
        load_environment(path)
    lines = str(raised.value).splitlines()
    assert len(raised.value.problems) == 25
    assert len(lines) == 21 and lines[-1] == "... and 5 more"
    assert lines[0].startswith(f"{path}:{len(path.read_text().splitlines()) - 24}: unknown_00: unknown key (allowed")


def test_every_file_is_reported_in_one_run_sorted_by_file_and_line(tmp_path):
    for name in ("dev.yaml", "prod.yaml", "staging.yaml"):
        shutil.copy(CONFIG_DIR / name, tmp_path / name)
    staging = tmp_path / "staging.yaml"
    staging.write_text(staging.read_text().replace("tenant: acme", "tenant: Acme", 1))
    dev = tmp_path / "dev.yaml"
    dev_text = dev.read_text().replace("requests_per_minute: 60", "requests_per_minut: 60", 1)
    dev_text = dev_text.replace("tokens_per_day: 2000000", "tokens_per_day: lots", 1)
    dev.write_text(dev_text)
    with pytest.raises(ConfigError) as raised:
        load_all(tmp_path)
    assert str(raised.value).splitlines() == [
        f"{dev}:{_line_number(dev_text, 'tokens_per_day: lots')}: agents[0].tokens_per_day: must be a whole number, "
        "got text 'lots'",
        f"{dev}:{_line_number(dev_text, 'requests_per_minut:')}: agents[1].requests_per_minut: unknown key; did you "
        "mean 'requests_per_minute' (a required key)?",
        f"{staging}:{_line_number(staging.read_text(), 'tenant: Acme')}: tenant: must be 2-10 lowercase letters or "
        "digits, starting with a lowercase letter, got 'Acme'",
    ]


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
    line = _line_number(prod.read_text(), "bucket: acme-other-state")
    assert _error_of(load_all, tmp_path) == (
        f"{prod}:{line}: clouds.gcp.state.bucket: 'acme-other-state' differs from 'acme-llmgw-tfstate-gcp' in "
        "dev.yaml: all environments share one state store per cloud (the bootstrap stack creates it once)"
    )
    prod.write_text((CONFIG_DIR / "prod.yaml").read_text().replace("tenant: acme", "tenant: globex"))
    assert _error_of(load_all, tmp_path) == (
        f"{prod}:{_line_number(prod.read_text(), 'tenant: globex')}: tenant: 'globex' differs from 'acme' in "
        "dev.yaml: all environments share one tenant"
    )


def test_a_mismatch_made_in_one_file_blames_that_file(tmp_path):
    """The value most files agree on is taken as meant: a state bucket changed in dev.yaml is dev.yaml's error."""
    for name in ("dev.yaml", "prod.yaml", "staging.yaml"):
        shutil.copy(CONFIG_DIR / name, tmp_path / name)
    dev = tmp_path / "dev.yaml"
    dev.write_text(
        dev.read_text().replace("region: cn-shanghai\n      tablestore", "region: cn-beijing\n      tablestore")
    )
    assert "region: cn-beijing" in dev.read_text()
    assert _error_of(load_all, tmp_path) == (
        f"{dev}:{_line_number(dev.read_text(), 'region: cn-beijing')}: clouds.alicloud.state.region: 'cn-beijing' "
        "differs from 'cn-shanghai' in prod.yaml, staging.yaml: all environments share one state store per cloud "
        "(the bootstrap stack creates it once)"
    )


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
