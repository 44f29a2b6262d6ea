"""`TerraformData` writes what cdktf's `DataResource` writes, without running `terraform version` per instance."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import cdktf
from cdktf import App, DataResource, LocalExecProvisioner, TerraformStack

from constructs_lib._common.terraform_data import TerraformData
from stacks.backends import REQUIRED_TERRAFORM_VERSION
from tests.conftest import REPO


def _stack_with(resource_class) -> dict:
    stack = TerraformStack(App(), "probe")
    first = resource_class(stack, "first", input={"alias": "a"}, triggers_replace={"version": "1"})
    resource_class(
        stack,
        "second",
        triggers_replace={"first": first.id},
        depends_on=[first],
        provisioners=[LocalExecProvisioner(type="local-exec", command="true", environment={"A": "b"})],
    )
    resource_class(stack, "bare")
    return json.loads(cdktf.Testing.synth(stack))


def test_terraform_data_synthesizes_exactly_like_cdktf_data_resource():
    ours, cdktf = _stack_with(TerraformData), _stack_with(DataResource)
    assert ours == cdktf
    assert set(ours["resource"]["terraform_data"]) == {"first", "second", "bare"}
    assert ours["resource"]["terraform_data"]["second"]["triggers_replace"] == {"first": "${terraform_data.first.id}"}


def test_synth_needs_no_terraform_binary_and_stacks_declare_the_version_instead(tmp_path):
    """cdktf's DataResource validation ran `terraform version` at synth; Terraform now checks required_version."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "node").symlink_to(shutil.which("node"))
    env = {**os.environ, "PATH": str(bin_dir), "STACKS": ""}
    outdir = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "main.py", "--stacks", "alicloud-dev-quotas", "--outdir", str(outdir)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    stack = json.loads((outdir / "stacks" / "alicloud-dev-quotas" / "cdk.tf.json").read_text())
    assert stack["resource"]["terraform_data"], "the stack has registrations to prove the point with"
    assert stack["terraform"]["required_version"] == REQUIRED_TERRAFORM_VERSION == ">= 1.11.0"
