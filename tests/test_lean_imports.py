"""The lean provider-import path changes how fast bindings load, never what they synthesize."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

import pytest

from synth_speed.lean_imports import LAZY_INDEX_HOOK, LAZY_INDEX_NODE_OPTION, PREBUILT_PROVIDER_PACKAGES
from tests.conftest import REPO

# Builds the same small stack through prebuilt-package submodules; run once per import path.
SCRIPT = textwrap.dedent(
    """
    import sys
    import synth_speed
    synth_speed.enable()
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
    env["LLMGW_LAZY_INDEX_TRACE"] = "1"
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
    lean, lean_log = _synth(tmp_path, "lean", naive=False)
    naive, naive_log = _synth(tmp_path, "naive", naive=True)
    # Python side: bare packages or the full __init__; Node side: the lazy index or the eager one.
    assert lean_log.splitlines() == ["lazy provider index: @cdktf/provider-random", "lean"]
    assert naive_log.splitlines() == ["naive"]
    assert lean == naive


def test_lean_loader_registers_packages_without_running_their_init():
    code = (
        "import sys, synth_speed\n"
        "synth_speed.enable()\n"
        "import cdktf_cdktf_provider_aws as aws\n"
        "assert not hasattr(aws, '__jsii_assembly__') and 'cdktf_cdktf_provider_aws.vpc' not in sys.modules\n"
        "from cdktf_cdktf_provider_aws.vpc import Vpc\n"
        "assert 'cdktf_cdktf_provider_aws.vpc' in sys.modules\n"
        "assert 'cdktf_cdktf_provider_aws.s3_bucket' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


def _tarball(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.submodule_search_locations, package
    (tarball,) = Path(next(iter(spec.submodule_search_locations)), "_jsii").glob("*.jsii.tgz")
    return tarball


def _submodules(index_js: str, pattern: str) -> dict[str, str]:
    return dict(re.findall(pattern, index_js, flags=re.MULTILINE))


EAGER_EXPORT = r'^exports\.(\w+) = require\("\./([\w-]+)"\);$'
LAZY_EXPORT = (
    r"^Object\.defineProperty\(exports, '(\w+)', "
    r"\{ get: function \(\) \{ return require\('\./([\w-]+)'\); \} \}\);$"
)


@pytest.mark.parametrize("package", PREBUILT_PROVIDER_PACKAGES)
def test_lazy_index_exports_exactly_what_the_eager_index_does(package):
    """The hook's premise, for the pinned packages: same names, same submodules, only loaded on first use."""
    sources: dict[str, str] = {}
    with tarfile.open(_tarball(package), "r|gz") as archive:
        for member in archive:
            if member.name in ("package/lib/index.js", "package/lib/lazy-index.js"):
                sources[member.name] = archive.extractfile(member).read().decode()
                if len(sources) == 2:
                    break
    eager = _submodules(sources["package/lib/index.js"], EAGER_EXPORT)
    lazy = _submodules(sources["package/lib/lazy-index.js"], LAZY_EXPORT)
    assert len(eager) > 5 and "provider" in eager
    assert lazy == eager


# Loads a package the way the jsii kernel does (require of its resolved main) and reports what Node loaded.
PROBE = textwrap.dedent(
    """
    const closure = require(require.resolve(process.argv[1]));
    const loaded = Object.keys(require.cache).filter((file) => file.startsWith(process.argv[1]));
    console.log(JSON.stringify({ loaded, names: Object.getOwnPropertyNames(closure) }));
    """
)


def _node_require(package_dir: Path, *, hook: bool) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "NODE_OPTIONS"}
    if hook:
        env["NODE_OPTIONS"] = LAZY_INDEX_NODE_OPTION
    return subprocess.run(["node", "-e", PROBE, str(package_dir)], env=env, capture_output=True, text=True)


def _probe(package_dir: Path) -> dict:
    result = _node_require(package_dir, hook=True)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_node_hook_loads_the_lazy_index_of_a_prebuilt_provider_and_no_submodule(tmp_path):
    with tarfile.open(_tarball("cdktf_cdktf_provider_random"), "r:gz") as archive:
        archive.extractall(tmp_path, filter="data")
    package_dir = tmp_path / "package"
    lib = package_dir / "lib"

    lean = _probe(package_dir)
    assert lean["loaded"] == [str(lib / "lazy-index.js")], "nothing but the lazy index may load up front"
    assert "uuid" in lean["names"] and "provider" in lean["names"]

    # Without the hook the same require runs the eager index, which loads the first submodule at once (and
    # fails here, where no `cdktf` package is installed next to it for that submodule to extend).
    naive = _node_require(package_dir, hook=False)
    assert naive.returncode != 0
    assert f"- {lib / 'bytes' / 'index.js'}\n- {lib / 'index.js'}\n" in naive.stderr


def test_node_hook_leaves_other_packages_alone(tmp_path):
    """Only `@cdktf/provider-*` packages are redirected, even when another package ships a lazy-index.js."""
    package_dir = tmp_path / "other"
    (package_dir / "lib").mkdir(parents=True)
    (package_dir / "package.json").write_text(json.dumps({"name": "@someone/provider-x", "main": "lib/index.js"}))
    (package_dir / "lib" / "index.js").write_text("exports.eager = true;\n")
    (package_dir / "lib" / "lazy-index.js").write_text("exports.lazy = true;\n")
    assert _probe(package_dir)["loaded"] == [str(package_dir / "lib" / "index.js")]


@pytest.mark.parametrize(
    ("naive", "inherited", "expected"),
    [
        ("", "--max-old-space-size=512", f"--max-old-space-size=512 {LAZY_INDEX_NODE_OPTION}"),
        ("", LAZY_INDEX_NODE_OPTION, LAZY_INDEX_NODE_OPTION),  # a child process does not add it twice
        ("1", f"--max-old-space-size=512 {LAZY_INDEX_NODE_OPTION}", "--max-old-space-size=512"),
        ("1", LAZY_INDEX_NODE_OPTION, None),  # the naive path drops a hook inherited from a lean parent
    ],
)
def test_install_sets_node_options_for_the_kernel(naive, inherited, expected):
    env = {**os.environ, "NODE_OPTIONS": inherited, "LLMGW_NAIVE_PROVIDER_IMPORTS": naive}
    code = "import os, synth_speed; synth_speed.enable(); print(repr(os.environ.get('NODE_OPTIONS')))"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == repr(expected)
    assert LAZY_INDEX_HOOK.is_file()
