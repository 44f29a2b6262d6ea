"""Python talks to the jsii kernel over its own socket, with no relay process; jsii's protocol is unchanged."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import jsii
import pytest

from synth_speed import kernel_channel
from tests.conftest import REPO

# Starts a kernel, reports its process tree, makes the kernel raise, calls back into Python, then stops it.
PROBE = textwrap.dedent(
    """
    import json, os, sys
    from pathlib import Path
    import synth_speed
    synth_speed.enable()
    import cdktf, jsii
    from jsii._runtime import kernel

    def children(pid):
        found = []
        for entry in Path("/proc").iterdir():
            try:
                status = (entry / "status").read_text()
            except OSError:
                continue
            if f"\\nPPid:\\t{pid}\\n" in status:
                found.append(int(entry.name))
        return found

    app = cdktf.App(outdir=sys.argv[1])
    stack = cdktf.TerraformStack(app, "probe")
    process = kernel.provider._process._process
    kernel_children = children(os.getpid())
    report = {
        "process": type(process).__name__,
        "children": [(Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\\0")[-2].decode()) for pid in kernel_children],
        "grandchildren": sum(len(children(pid)) for pid in kernel_children),
    }
    try:
        cdktf.TerraformStack(app, "probe")
    except RuntimeError as error:
        report["error"] = str(error).splitlines()[0]

    @jsii.implements(cdktf.IAspect)
    class Visitor:
        visited = 0
        def visit(self, node):
            Visitor.visited += 1

    cdktf.TerraformOutput(stack, "out", value="x")
    cdktf.Aspects.of(stack).add(Visitor())
    app.synth()
    report["callbacks"] = Visitor.visited
    kernel.provider._process.stop()
    report["exit"] = process.poll()
    print(json.dumps(report))
    """
)


def _probe(tmp_path, **env: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path / "out")],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.splitlines()[-1])


def test_the_pinned_jsii_is_the_verified_one():
    """Bumping jsii fails here until `_NodeProcess.start/stop` of the new version is re-read."""
    pinned = re.search(r"^jsii==(\S+)", (REPO / "requirements.txt").read_text(), re.MULTILINE)
    assert pinned and pinned.group(1) == jsii.__version__ == kernel_channel.VERIFIED_JSII
    assert kernel_channel.install() is True


def test_kernel_runs_as_one_direct_child_and_keeps_the_protocol(tmp_path):
    report = _probe(tmp_path)
    assert report["process"] == "_KernelProcess"
    assert len(report["children"]) == 1 and report["children"][0].endswith(os.path.join("lib", "program.js"))
    assert report["grandchildren"] == 0
    assert "There is already a Construct with name 'probe'" in report["error"]  # a kernel error reaches Python
    assert report["callbacks"] >= 3  # the kernel called back into Python during synth (app, stack, output)
    assert report["exit"] == 0
    assert json.loads((tmp_path / "out" / "stacks" / "probe" / "cdk.tf.json").read_text())["output"]["out"]


@pytest.mark.parametrize("env", [{"LLMGW_DIRECT_KERNEL": "0"}, {"LLMGW_NAIVE_PROVIDER_IMPORTS": "1"}])
def test_switched_off_jsii_starts_its_relay_as_usual(tmp_path, env):
    report = _probe(tmp_path, **env)
    assert report["process"] == "Popen"
    assert report["children"][0].endswith(os.path.join("bin", "jsii-runtime.js")) and report["grandchildren"] == 1
    assert "There is already a Construct with name 'probe'" in report["error"]
    assert report["exit"] == 0


def test_a_jsii_runtime_override_is_left_to_jsii(monkeypatch):
    monkeypatch.setenv("JSII_RUNTIME", str(Path("/nonexistent/jsii-runtime.js")))
    assert kernel_channel.install() is False
