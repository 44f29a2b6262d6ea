"""Rules of tools/ci/affected_stacks.py: which stacks a change reaches, and how stack lists are validated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools.ci.affected_stacks import LANES, Stack, affected, main, only, outputs, parse_stacks


def _stack(name: str, cloud: str, env: str | None, kind: str = "gateway") -> dict[str, object]:
    labels = ["self-hosted", f"llmgw-{env}"] if kind == "quotas" else ["ubuntu-24.04"]
    return {
        "name": name,
        "cloud": cloud,
        "env": env,
        "kind": kind,
        "github_environment": env or "bootstrap",
        "runs_on": labels,
    }


CATALOG = [
    _stack("aws-bootstrap", "aws", None, "bootstrap"),
    _stack("gcp-bootstrap", "gcp", None, "bootstrap"),
    _stack("aws-dev", "aws", "dev"),
    _stack("aws-dev-quotas", "aws", "dev", "quotas"),
    _stack("gcp-dev", "gcp", "dev"),
    _stack("alicloud-staging", "alicloud", "staging"),
    _stack("aws-prod", "aws", "prod"),
]


@pytest.fixture
def stacks() -> list[Stack]:
    return parse_stacks(json.dumps(CATALOG))


def _names(selected: list[Stack]) -> list[str]:
    return [stack.name for stack in selected]


def test_a_cloud_directory_selects_only_that_clouds_stacks(stacks):
    assert _names(affected(stacks, ["stacks/gcp/gateway.py"])) == ["gcp-bootstrap", "gcp-dev"]
    assert _names(affected(stacks, ["constructs_lib/aws/secure_bucket.py"])) == [
        "aws-bootstrap",
        "aws-dev",
        "aws-dev-quotas",
        "aws-prod",
    ]


def test_a_cloud_named_config_module_selects_that_cloud(stacks):
    assert _names(affected(stacks, ["constructs_lib/config/alicloud.py"])) == ["alicloud-staging"]


def test_an_environment_config_selects_that_environment_and_the_bootstrap_stacks(stacks):
    assert _names(affected(stacks, ["config/dev.yaml"])) == [
        "aws-bootstrap",
        "gcp-bootstrap",
        "aws-dev",
        "aws-dev-quotas",
        "gcp-dev",
    ]


def test_shared_code_selects_every_stack(stacks):
    for path in ("main.py", "constructs_lib/_common/naming.py", "stacks/catalog.py", "requirements.txt"):
        assert _names(affected(stacks, [path])) == _names(stacks), path


def test_an_unknown_path_selects_every_stack(stacks):
    assert _names(affected(stacks, ["something/new.txt"])) == _names(stacks)


def test_the_plan_and_apply_workflows_select_every_stack(stacks):
    for path in (".github/workflows/plan.yml", ".github/workflows/deploy-stacks.yml", "tools/ci/litellm_key.py"):
        assert _names(affected(stacks, [path])) == _names(stacks), path


def test_docs_tests_and_linters_select_nothing(stacks):
    paths = ["docs/CI.md", "README.md", "tests/test_synth.py", "tools/lint/run.py", ".secrets.baseline", ""]
    assert affected(stacks, paths) == []


def test_a_word_inside_a_file_name_does_not_narrow_the_selection(stacks):
    # Only whole directory names or file stems count: "prod_guard" is not the prod environment.
    assert _names(affected(stacks, ["constructs_lib/_common/prod_guard.py"])) == _names(stacks)


def test_several_paths_select_the_union_in_list_order(stacks):
    assert _names(affected(stacks, ["stacks/gcp/base.py", "config/prod.yaml"])) == [
        "aws-bootstrap",
        "gcp-bootstrap",
        "gcp-dev",
        "aws-prod",
    ]


def test_only_returns_the_named_stack(stacks):
    assert _names(only(stacks, "aws-dev-quotas")) == ["aws-dev-quotas"]


def test_fails_when_the_dispatched_stack_is_unknown(stacks):
    with pytest.raises(ValueError, match=r"unknown stack 'aws-qa'; known stacks: aws-bootstrap"):
        only(stacks, "aws-qa")


def test_outputs_split_the_selection_into_promotion_lanes(stacks):
    result = outputs(stacks)
    assert list(result) == ["stacks", *LANES]
    assert [entry["name"] for entry in result["dev"]] == ["aws-dev", "aws-dev-quotas", "gcp-dev"]
    assert [entry["name"] for entry in result["bootstrap"]] == ["aws-bootstrap", "gcp-bootstrap"]
    assert sum(len(result[lane]) for lane in LANES) == len(result["stacks"]) == len(stacks)


def test_matrix_entries_carry_the_plan_environment_and_runner_labels(stacks):
    entry = outputs(only(stacks, "aws-dev-quotas"))["stacks"][0]
    assert entry["plan_environment"] == "dev-plan"
    assert entry["github_environment"] == "dev"
    assert entry["runs_on"] == ["self-hosted", "llmgw-dev"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": "AWS dev"}, r"stack name 'AWS dev' must match"),
        ({"name": "../etc"}, r"stack name '../etc' must match"),
        ({"cloud": "azure"}, r"cloud 'azure' is not one of aws, gcp, alicloud"),
        ({"env": "qa"}, r"env 'qa' is not one of dev, staging, prod or null"),
        ({"kind": "vpc"}, r"kind 'vpc' is not one of gateway, quotas, bootstrap"),
        ({"github_environment": "qa"}, r"github_environment 'qa' has no apply lane"),
        ({"runs_on": []}, r"runs_on \[\] must be a non-empty list of runner labels"),
        ({"runs_on": ["ubuntu; rm -rf /"]}, r"must be a non-empty list of runner labels"),
    ],
)
def test_fails_on_an_invalid_stack_entry(change, message):
    with pytest.raises(ValueError, match=message):
        parse_stacks(json.dumps([{**CATALOG[2], **change}]))


def test_fails_on_duplicate_stack_names():
    with pytest.raises(ValueError, match="duplicate stack names: aws-dev"):
        parse_stacks(json.dumps([CATALOG[2], CATALOG[2]]))


def test_fails_on_an_empty_stack_list():
    with pytest.raises(ValueError, match="non-empty JSON array"):
        parse_stacks("[]")


def test_cli_writes_github_outputs(tmp_path: Path, capsys):
    stacks_file = tmp_path / "stacks.json"
    stacks_file.write_text(json.dumps(CATALOG))
    changed = tmp_path / "changed.txt"
    changed.write_text("stacks/aws/gateway.py\ndocs/CI.md\n")
    github_output = tmp_path / "github_output"

    code = main(["--stacks", str(stacks_file), "--changed-files", str(changed), "--github-output", str(github_output)])

    assert code == 0
    lines = dict(line.split("=", 1) for line in github_output.read_text().splitlines())
    assert set(lines) == {"stacks", *LANES}
    assert [s["name"] for s in json.loads(lines["stacks"])] == [
        "aws-bootstrap",
        "aws-dev",
        "aws-dev-quotas",
        "aws-prod",
    ]
    assert json.loads(lines["staging"]) == []
    assert "selected 4 of 7 stacks" in capsys.readouterr().err


def test_cli_rejects_an_unknown_dispatched_stack(tmp_path: Path, capsys):
    stacks_file = tmp_path / "stacks.json"
    stacks_file.write_text(json.dumps(CATALOG))

    assert main(["--stacks", str(stacks_file), "--only", "nope"]) == 2
    assert "unknown stack 'nope'" in capsys.readouterr().err
