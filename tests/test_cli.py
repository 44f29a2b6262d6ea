"""`main.py` as a user runs it: exact error lines, non-zero exit, an untouched output directory; one line per
synthesized stack; friendly words when it runs outside the venv or before `make synth` (cdktf.json's app)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from constructs_lib.config.loader import MAX_PROBLEM_CHARS
from tests.conftest import CONFIG_DIR, REPO
from tests.test_config import CASES as CONFIG_CASES
from tests.test_config import write_case

# One fixture case per message family that the other CLI tests do not print already.
CLI_CASE_NAMES = {
    "yaml-syntax-error",
    "duplicate-yaml-key",
    "unknown-key-with-no-close-match",
    "wrong-literal",
    "tag-key-with-colon",
    "account-id-as-number",
    "budget-as-text",
    "subnet-outside-vpc",
    "duplicate-model",
    "per-model-budget-above-the-agents-own",
}


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "main.py", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "STACKS": "", **(env or {})},
    )


@pytest.fixture
def broken_config(tmp_path) -> Path:
    directory = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, directory)
    dev = directory / "dev.yaml"
    dev.write_text(dev.read_text().replace("vpc_cidr: 10.100.0.0/16", "vpc_cidr: 10.100.0.0/99"))
    return directory


def _previous_output(tmp_path: Path) -> Path:
    """An output directory from an earlier run, which a failed run must leave exactly as it was."""
    outdir = tmp_path / "cdktf.out"
    (outdir / "stacks" / "aws-dev").mkdir(parents=True)
    (outdir / "stacks" / "aws-dev" / "cdk.tf.json").write_text('{"previous": true}')
    return outdir


def _assert_untouched(outdir: Path) -> None:
    assert [path.name for path in (outdir / "stacks").iterdir()] == ["aws-dev"]
    assert (outdir / "stacks" / "aws-dev" / "cdk.tf.json").read_text() == '{"previous": true}'
    leftovers = [path.name for path in outdir.parent.iterdir() if path.name.startswith(".cdktf.out")]
    assert leftovers == [], "temporary output left behind"


def _config_copy(tmp_path: Path) -> Path:
    config_dir = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, config_dir)
    return config_dir


def _refused(config_dir: Path, tmp_path: Path) -> str:
    """Run main.py on `config_dir` over an earlier output: exit 2, nothing on stdout, output untouched; the errors."""
    outdir = _previous_output(tmp_path)
    result = _run("--config-dir", str(config_dir), "--outdir", str(outdir))
    assert result.returncode == 2
    assert result.stdout == ""
    _assert_untouched(outdir)
    return result.stderr


def _line(path: Path, fragment: str) -> int:
    rows = path.read_bytes().decode("latin-1").splitlines()  # latin-1: also a file with a non-UTF-8 byte
    return next(number for number, row in enumerate(rows, 1) if fragment in row)


def test_bad_config_exits_non_zero_with_one_line_and_leaves_output_untouched(broken_config, tmp_path):
    stderr = _refused(broken_config, tmp_path)
    dev = broken_config / "dev.yaml"
    assert stderr == (
        f"error: {dev}:{_line(dev, 'vpc_cidr: 10.100.0.0/99')}: clouds.aws.network.vpc_cidr: '10.100.0.0/99' is not "
        "a valid CIDR block (it does not appear to be an IPv4 or IPv6 network)\n"
    )


def test_every_mistake_of_every_file_in_one_run(tmp_path):
    """Three files, four mistakes: one run lists them all, by file and line, each at its offending value."""
    config_dir = _config_copy(tmp_path)
    dev, prod, staging = (config_dir / f"{name}.yaml" for name in ("dev", "prod", "staging"))
    dev.write_text(dev.read_text().replace("requests_per_minute: 60", "requests_per_minut: 60", 1))
    dev.write_text(dev.read_text().replace("- name: code", "- name: research", 1))
    prod.write_text(prod.read_text().replace("env: prod", "env: Prod", 1))
    staging.write_bytes(staging.read_bytes().replace(b"tenant: acme", b"tenant: acme  # caf\xe9", 1))
    stderr = _refused(config_dir, tmp_path)
    second_agent = [number for number, row in enumerate(dev.read_text().splitlines(), 1) if "- name: research" in row]
    assert stderr.splitlines() == [
        f"error: {dev}:{second_agent[1]}: agents[1].name: duplicate name 'research' (also agents[0])",
        f"error: {dev}:{_line(dev, 'requests_per_minut:')}: agents[1].requests_per_minut: unknown key; did you mean "
        "'requests_per_minute' (a required key)?",
        f"error: {prod}:{_line(prod, 'env: Prod')}: env: must be 2-8 lowercase letters or digits, starting with a "
        "lowercase letter, got 'Prod'",
        f"error: {staging}:{_line(staging, 'tenant: acme')}: the file is not UTF-8 text: byte 0xe9 in column 20 (save "
        "the file as UTF-8)",
    ]


def test_more_than_twenty_mistakes_are_counted_after_twenty_lines(tmp_path):
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    dev = config_dir / "dev.yaml"
    dev.write_text(
        (CONFIG_DIR / "dev.yaml").read_text() + "".join(f"unknown_{number:02d}: {number}\n" for number in range(23))
    )
    stderr = _refused(config_dir, tmp_path)
    lines = stderr.splitlines()
    first = _line(dev, "unknown_00:")
    assert lines[:2] == [
        f"error: {dev}:{first}: unknown_00: unknown key (allowed here: tenant, env, production, repository, tags, "
        "provider_keys, models, agents, quotas, ci, clouds)",
        f"error: {dev}:{first + 1}: unknown_01: unknown key (allowed here: tenant, env, production, repository, tags, "
        "provider_keys, models, agents, quotas, ci, clouds)",
    ]
    assert len(lines) == 21 and lines[-1] == "... and 3 more"


def test_oversized_config_file_is_refused_up_front(tmp_path):
    config_dir = _config_copy(tmp_path)
    with (config_dir / "prod.yaml").open("ab") as handle:
        handle.truncate(100 * 1024 * 1024)
    stderr = _refused(config_dir, tmp_path)
    assert stderr == (
        f"error: {config_dir / 'prod.yaml'}: the file is 100.0 MiB; an environment file may be at most 1 MiB (the "
        "examples are about 10 KiB): is it the right file?\n"
    )


def test_state_store_changed_in_one_file_blames_that_file_at_its_line(tmp_path):
    config_dir = _config_copy(tmp_path)
    dev = config_dir / "dev.yaml"
    dev.write_text(dev.read_text().replace("bucket: acme-llmgw-tfstate-gcp", "bucket: acme-llmgw-tfstate-gpc", 1))
    stderr = _refused(config_dir, tmp_path)
    assert stderr == (
        f"error: {dev}:{_line(dev, 'tfstate-gpc')}: clouds.gcp.state.bucket: 'acme-llmgw-tfstate-gpc' differs from "
        "'acme-llmgw-tfstate-gcp' in prod.yaml, staging.yaml: all environments share one state store per cloud (the "
        "bootstrap stack creates it once)\n"
    )


def test_main_outside_the_venv_says_how_to_run_it(tmp_path):
    """`python3 main.py` with a Python that lacks the pinned packages (-S: no site-packages at all)."""
    result = subprocess.run(
        [sys.executable, "-S", "main.py", "--outdir", str(tmp_path / "out")],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "STACKS": ""},
    )
    assert result.returncode == 1
    missing = re.fullmatch(r".* has no module '([A-Za-z_]+)'\).*\n", result.stderr, flags=re.DOTALL)
    assert missing, result.stderr
    assert result.stderr == (
        f"error: main.py runs in the project's virtual environment ({sys.executable} has no module "
        f"'{missing[1]}'): run `make synth` (it creates .venv and synthesizes), or `.venv/bin/python main.py`\n"
    )
    assert not (tmp_path / "out").exists()


def test_cdktf_app_before_make_synth_says_run_make_synth(tmp_path):
    """cdktf.json's app, run the way cdktf-cli runs it (a shell in the project directory), without .venv."""
    app = json.loads((REPO / "cdktf.json").read_text())["app"]
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(REPO / "cdktf.json", project)
    shutil.copytree(REPO / "tools", project / "tools", ignore=shutil.ignore_patterns("__pycache__"))
    result = subprocess.run(app, shell=True, cwd=project, capture_output=True, text=True)  # noqa: S602 - cdktf's way
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        "error: .venv/bin/python is missing: run `make synth` first (it creates the virtual environment .venv and "
        "synthesizes every stack)\n"
    )


def test_error_in_one_clouds_child_process_is_one_line_and_nothing_is_written(tmp_path):
    """Config that validates but fails when the Alibaba Cloud constructs are built, in that cloud's child process
    of the default per-cloud parallel synth: the parent reports the child's one line and writes nothing. Two clouds
    are enough for one process per cloud; the Google bootstrap stack is the smallest other one."""
    config_dir = _config_copy(tmp_path)
    (config_dir / "not-a-ca.pem").write_text("not a certificate\n")
    dev = config_dir / "dev.yaml"
    dev.write_text(
        dev.read_text().replace("ca_certificate_file: apsaradb-redis-ca.pem", "ca_certificate_file: not-a-ca.pem")
    )
    outdir = tmp_path / "cdktf.out"
    env = {"LLMGW_SYNTH_JOBS": "3", "STACKS": "alicloud-dev,gcp-bootstrap"}
    result = _run("--config-dir", str(config_dir), "--outdir", str(outdir), env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [f"error: {dev}: clouds.alicloud.cache.ca_certificate_file: is not a PEM certificate chain"]
    assert not outdir.exists()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["config"], "temporary output left behind"


def test_unknown_stack_name_is_refused(tmp_path):
    result = _run("--outdir", str(tmp_path / "out"), env={"STACKS": "aws-dev,aws-qa"})
    assert result.returncode == 2
    assert "STACKS: unknown stack(s) ['aws-qa']" in result.stderr
    assert not (tmp_path / "out").exists()


def test_list_stacks_is_json_only_and_honours_the_filter():
    result = _run("--list-stacks", env={"STACKS": "gcp-prod,aws-bootstrap"})
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    listed = json.loads(result.stdout)
    assert [stack["name"] for stack in listed] == ["aws-bootstrap", "gcp-prod"]
    assert listed[1] == {
        "name": "gcp-prod",
        "cloud": "gcp",
        "env": "prod",
        "kind": "gateway",
        "github_environment": "prod",
        "plan_runs_on": ["ubuntu-24.04"],
        "apply_runs_on": ["ubuntu-24.04"],
    }


def test_synth_prints_one_line_per_stack_and_no_noise(tmp_path):
    """No jsii Node end-of-life banner or other chatter on a normal run (the env var is not pre-set here): one line
    per stack with its resource count and output file."""
    env = {key: value for key, value in os.environ.items() if key != "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"}
    result = subprocess.run(
        [sys.executable, "main.py", "--outdir", str(tmp_path / "out")],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**env, "STACKS": "gcp-bootstrap"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    output = tmp_path / "out" / "stacks" / "gcp-bootstrap" / "cdk.tf.json"
    resources = sum(len(by_name) for by_name in json.loads(output.read_text())["resource"].values())
    assert result.stdout == f"gcp-bootstrap  {resources:>3} resources  {output}\n"
    assert [path.name for path in (tmp_path / "out" / "stacks").iterdir()] == ["gcp-bootstrap"]


def test_a_subset_that_replaces_other_stacks_says_so(tmp_path):
    outdir = _previous_output(tmp_path)
    (outdir / "stacks" / "gcp-dev").mkdir()
    result = _run("--outdir", str(outdir), env={"STACKS": "gcp-bootstrap"})
    assert result.returncode == 0, result.stderr
    output = outdir / "stacks" / "gcp-bootstrap" / "cdk.tf.json"
    resources = sum(len(by_name) for by_name in json.loads(output.read_text())["resource"].values())
    assert result.stdout.splitlines() == [
        f"gcp-bootstrap  {resources:>3} resources  {output}",
        f"note: STACKS=gcp-bootstrap replaced the whole output: {outdir} now holds only these 1 stack(s); 2 other "
        "stack(s) were removed (aws-dev, gcp-dev). Run without STACKS to synthesize them all.",
    ]
    assert [path.name for path in (outdir / "stacks").iterdir()] == ["gcp-bootstrap"]


def test_a_full_synth_names_the_stale_stacks_it_removed(tmp_path):
    """An environment file deleted since the last run: its stacks leave cdktf.out, and the run says which."""
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    dev = yaml.safe_load((CONFIG_DIR / "dev.yaml").read_text())
    for cloud in ("aws", "alicloud"):
        dev["clouds"][cloud]["enabled"] = False
    dev["quotas"] = {"enabled": False}
    (config_dir / "dev.yaml").write_text(yaml.safe_dump(dev, sort_keys=False))
    outdir = _previous_output(tmp_path)
    result = _run("--config-dir", str(config_dir), "--outdir", str(outdir))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines[:-1]] == ["gcp-bootstrap", "gcp-dev"]
    assert lines[-1] == "note: removed 1 stack(s) no longer in the configuration: aws-dev"
    assert sorted(path.name for path in (outdir / "stacks").iterdir()) == ["gcp-bootstrap", "gcp-dev"]


CLI_CASES = [case for case in CONFIG_CASES if case["name"] in CLI_CASE_NAMES]


@pytest.mark.parametrize("case", CLI_CASES, ids=[case["name"] for case in CLI_CASES])
def test_each_kind_of_message_exactly_as_the_cli_prints_it(case, tmp_path):
    """One case of each message family of tests/fixtures/malformed_configs.yaml, through main.py."""
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    path = write_case(case, config_dir)
    stderr = _refused(config_dir, tmp_path)
    assert stderr.splitlines() == [f"error: {line.replace('{file}', str(path))}" for line in case["error"]]


def test_a_long_value_in_a_validators_message_is_cut(tmp_path):
    """Validators that quote a value are capped as a whole: a 100 000-character zone name stays one short line."""
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    dev = yaml.safe_load((CONFIG_DIR / "dev.yaml").read_text())
    dev["clouds"]["alicloud"]["zones"] = ["cn-shanghai-e", "cn-beijing-" + "a" * 100_000]
    (config_dir / "dev.yaml").write_text(yaml.safe_dump(dev, sort_keys=False))
    stderr = _refused(config_dir, tmp_path)
    line = _line(config_dir / "dev.yaml", "- cn-beijing-")
    kept = MAX_PROBLEM_CHARS - len("... (message cut)") - len("'cn-beijing-")
    expected = f"{config_dir / 'dev.yaml'}:{line}: clouds.alicloud.zones[1]: 'cn-beijing-{'a' * kept}... (message cut)"
    assert stderr == f"error: {expected}\n"
