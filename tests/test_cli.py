"""`main.py` as a user runs it: clean errors, non-zero exit, and an untouched output directory."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CONFIG_DIR, REPO


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


def test_bad_config_exits_non_zero_with_one_line_and_leaves_output_untouched(broken_config, tmp_path):
    outdir = tmp_path / "cdktf.out"
    (outdir / "stacks" / "aws-dev").mkdir(parents=True)
    marker = outdir / "stacks" / "aws-dev" / "cdk.tf.json"
    marker.write_text('{"previous": true}')
    result = _run("--config-dir", str(broken_config), "--outdir", str(outdir))
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "dev.yaml:" in lines[0] and "clouds.aws.network.vpc_cidr" in lines[0] and "not a valid CIDR" in lines[0]
    assert marker.read_text() == '{"previous": true}'
    assert sorted(path.name for path in tmp_path.iterdir()) == ["cdktf.out", "config"], "temporary output left behind"


def test_error_in_one_clouds_child_process_is_one_line_and_nothing_is_written(tmp_path):
    """Config that validates but fails when the Alibaba Cloud constructs are built, in that cloud's child process
    of the default per-cloud parallel synth: the parent reports the child's one line and writes nothing. Two clouds
    are enough for one process per cloud; the Google bootstrap stack is the smallest other one."""
    config_dir = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, config_dir)
    (config_dir / "not-a-ca.pem").write_text("not a certificate\n")
    dev = config_dir / "dev.yaml"
    dev.write_text(
        dev.read_text().replace(
            "  alicloud:\n    enabled: true\n",
            "  alicloud:\n    enabled: true\n    cache:\n      ca_certificate_file: not-a-ca.pem\n",
        )
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


def test_synth_of_one_stack_prints_no_noise(tmp_path):
    """No jsii Node end-of-life banner or other chatter on a normal run (the env var is not pre-set here)."""
    env = {key: value for key, value in os.environ.items() if key != "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"}
    result = subprocess.run(
        [sys.executable, "main.py", "--outdir", str(tmp_path / "out")],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**env, "STACKS": "gcp-bootstrap"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""
    assert (tmp_path / "out" / "stacks" / "gcp-bootstrap" / "cdk.tf.json").is_file()
    assert [path.name for path in (tmp_path / "out" / "stacks").iterdir()] == ["gcp-bootstrap"]
