"""The lean provider-import path changes how fast bindings load, never what they synthesize."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from tests.conftest import REPO

# Builds the same small stack through prebuilt-package submodules; run once per import path.
SCRIPT = textwrap.dedent(
    """
    import sys
    import constructs_lib
    import cdktf
    from cdktf_cdktf_provider_random.provider import RandomProvider
    from cdktf_cdktf_provider_random.password import Password
    from cdktf_cdktf_provider_random.id import Id
    print("lean" if "cdktf_cdktf_provider_random.uuid" not in sys.modules else "naive", file=sys.stderr)
    app = cdktf.App(outdir=sys.argv[1])
    stack = cdktf.TerraformStack(app, "probe")
    RandomProvider(stack, "random")
    password = Password(stack, "pw", length=32, special=False, keepers={"v": "1"})
    Id(stack, "id", byte_length=8, keepers={"pw": password.id})
    cdktf.TerraformOutput(stack, "password-id", value=password.id)
    app.synth()
    """
)


def _synth(tmp_path, name: str, naive: bool) -> tuple[bytes, str]:
    env = {key: value for key, value in os.environ.items() if key != "LLMGW_NAIVE_PROVIDER_IMPORTS"}
    if naive:
        env["LLMGW_NAIVE_PROVIDER_IMPORTS"] = "1"
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / name)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return (tmp_path / name / "stacks" / "probe" / "cdk.tf.json").read_bytes(), result.stderr.strip()


def test_lean_and_naive_imports_synthesize_identical_bytes(tmp_path):
    """`make bench` checks the same on every stack with the AWS and Google packages (too slow for a test)."""
    lean, lean_path = _synth(tmp_path, "lean", naive=False)
    naive, naive_path = _synth(tmp_path, "naive", naive=True)
    assert (lean_path, naive_path) == ("lean", "naive"), "the two runs did not take the two import paths"
    assert lean == naive


def test_lean_loader_registers_packages_without_running_their_init():
    code = (
        "import sys, constructs_lib\n"
        "import cdktf_cdktf_provider_aws as aws\n"
        "assert not hasattr(aws, '__jsii_assembly__') and 'cdktf_cdktf_provider_aws.vpc' not in sys.modules\n"
        "from cdktf_cdktf_provider_aws.vpc import Vpc\n"
        "assert 'cdktf_cdktf_provider_aws.vpc' in sys.modules\n"
        "assert 'cdktf_cdktf_provider_aws.s3_bucket' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)
