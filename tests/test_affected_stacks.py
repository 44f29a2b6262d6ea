"""Rules of tools/ci/affected_stacks.py: which stacks a change reaches, and how stack lists are validated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools.ci.affected_stacks import LANE_KEYS, Stack, affected, main, only, outputs, parse_stacks


def _stack(name: str, cloud: str, env: str | None, kind: str = "gateway") -> dict[str, object]:
    def labels(role: str) -> list[str]:
        if kind != "quotas":
            return ["ubuntu-24.04"]
        return ["self-hosted", f"llmgw-{cloud}-{env}", f"llmgw-{role}", "ephemeral"]

    return {
        "name": name,
        "cloud": cloud,
        "env": env,
        "kind": kind,
        "github_environment": env,
        "plan_runs_on": labels("plan"),
        "apply_runs_on": labels("apply"),
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
    assert _names(affected(stacks, ["stacks/gcp/gateway.py"])) == ["gcp-dev"]
    assert _names(affected(stacks, ["constructs_lib/aws/secure_bucket.py"])) == [
        "aws-dev",
        "aws-dev-quotas",
        "aws-prod",
    ]


def test_a_cloud_named_config_module_selects_that_cloud(stacks):
    assert _names(affected(stacks, ["constructs_lib/config/alicloud.py"])) == ["alicloud-staging"]


def test_an_environment_config_selects_that_environments_stacks_and_never_a_bootstrap_stack(stacks):
    assert _names(affected(stacks, ["config/dev.yaml"])) == [
        "aws-dev",
        "aws-dev-quotas",
        "gcp-dev",
    ]


DEPLOYED = [stack["name"] for stack in CATALOG if stack["kind"] != "bootstrap"]


def test_shared_code_selects_every_deployed_stack(stacks):
    for path in ("main.py", "constructs_lib/_common/naming.py", "stacks/catalog.py", "requirements.txt"):
        assert _names(affected(stacks, [path])) == DEPLOYED, path


def test_an_unknown_path_selects_every_deployed_stack(stacks):
    assert _names(affected(stacks, ["something/new.txt"])) == DEPLOYED


def test_the_plan_and_apply_workflows_select_every_deployed_stack(stacks):
    for path in (".github/workflows/plan.yml", ".github/workflows/deploy-stack.yml", "tools/ci/litellm_key.py"):
        assert _names(affected(stacks, [path])) == DEPLOYED, path


def test_docs_tests_and_linters_select_nothing(stacks):
    paths = ["docs/CI.md", "README.md", "tests/test_synth.py", "tools/lint/run.py", ".secrets.baseline", ""]
    assert affected(stacks, paths) == []


def test_a_word_inside_a_file_name_does_not_narrow_the_selection(stacks):
    # Only whole directory names or file stems count: "prod_guard" is not the prod environment.
    assert _names(affected(stacks, ["constructs_lib/_common/prod_guard.py"])) == DEPLOYED


def test_several_paths_select_the_union_in_list_order(stacks):
    assert _names(affected(stacks, ["stacks/gcp/base.py", "config/prod.yaml"])) == [
        "gcp-dev",
        "aws-prod",
    ]


def test_only_returns_the_named_stack(stacks):
    assert _names(only(stacks, "aws-dev-quotas")) == ["aws-dev-quotas"]


def test_fails_when_the_dispatched_stack_is_unknown(stacks):
    with pytest.raises(ValueError, match=r"unknown stack 'aws-qa'; known stacks: aws-dev, aws-dev-quotas"):
        only(stacks, "aws-qa")


def test_a_bootstrap_stack_cannot_be_dispatched(stacks):
    with pytest.raises(ValueError, match=r"aws-bootstrap is applied by an administrator, not by CI"):
        only(stacks, "aws-bootstrap")


def test_outputs_give_each_cloud_environment_and_kind_its_own_apply_job(stacks):
    selected = affected(stacks, ["main.py"])
    result = outputs(selected)
    assert list(result) == ["stacks", *LANE_KEYS]
    assert [entry["name"] for entry in result["aws_dev_gateway"]] == ["aws-dev"]
    assert [entry["name"] for entry in result["aws_dev_quotas"]] == ["aws-dev-quotas"]
    assert result["gcp_dev_quotas"] == []
    assert sum(len(result[lane]) for lane in LANE_KEYS) == len(result["stacks"]) == len(selected)


def test_two_stacks_for_one_apply_job_are_an_error(stacks):
    twin = parse_stacks(json.dumps([CATALOG[2], {**CATALOG[2], "name": "aws-dev-twin"}]))
    with pytest.raises(ValueError, match="aws_dev_gateway: more than one stack"):
        outputs(twin)


def test_matrix_entries_carry_the_plan_environment_and_runner_labels_per_role(stacks):
    entry = outputs(only(stacks, "aws-dev-quotas"))["stacks"][0]
    assert entry["plan_environment"] == "dev-plan"
    assert entry["github_environment"] == "dev"
    assert entry["plan_runs_on"] == ["self-hosted", "llmgw-aws-dev", "llmgw-plan", "ephemeral"]
    assert entry["apply_runs_on"] == ["self-hosted", "llmgw-aws-dev", "llmgw-apply", "ephemeral"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": "AWS dev"}, r"stack name 'AWS dev' must match"),
        ({"name": "../etc"}, r"stack name '../etc' must match"),
        ({"cloud": "azure"}, r"cloud 'azure' is not one of aws, gcp, alicloud"),
        ({"env": "qa"}, r"env 'qa' is not one of dev, staging, prod or null"),
        ({"kind": "vpc"}, r"kind 'vpc' is not one of gateway, quotas, bootstrap"),
        ({"github_environment": "qa"}, r"github_environment 'qa' must be its env \('dev'\)"),
        ({"plan_runs_on": []}, r"plan_runs_on \[\] must be a non-empty list of runner labels"),
        ({"apply_runs_on": ["ubuntu; rm -rf /"]}, r"must be a non-empty list of runner labels"),
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
    assert set(lines) == {"stacks", *LANE_KEYS}
    assert [s["name"] for s in json.loads(lines["stacks"])] == ["aws-dev", "aws-dev-quotas", "aws-prod"]
    assert json.loads(lines["aws_staging_gateway"]) == []
    assert "selected 3 of 7 stacks" in capsys.readouterr().err


def test_cli_skips_an_environment_for_pull_requests_into_other_branches(tmp_path: Path):
    stacks_file = tmp_path / "stacks.json"
    stacks_file.write_text(json.dumps(CATALOG))
    changed = tmp_path / "changed.txt"
    changed.write_text("main.py\n")
    github_output = tmp_path / "github_output"
    arguments = ["--stacks", str(stacks_file), "--changed-files", str(changed), "--skip-env", "prod"]
    code = main([*arguments, "--github-output", str(github_output)])
    assert code == 0
    lines = dict(line.split("=", 1) for line in github_output.read_text().splitlines())
    assert "aws-prod" not in [s["name"] for s in json.loads(lines["stacks"])]
    assert "aws-dev" in [s["name"] for s in json.loads(lines["stacks"])]


def test_cli_rejects_an_unknown_dispatched_stack(tmp_path: Path, capsys):
    stacks_file = tmp_path / "stacks.json"
    stacks_file.write_text(json.dumps(CATALOG))

    assert main(["--stacks", str(stacks_file), "--only", "nope"]) == 2
    assert "unknown stack 'nope'" in capsys.readouterr().err
