"""The synth-speed machinery lives apart from the construct code, and each program that synthesizes switches it on.

Issue 30: ``constructs_lib`` (and ``stacks``) import nothing from ``synth_speed``; ``main.py`` and this suite's
``conftest.py`` call ``synth_speed.enable()`` once, before any jsii module loads. ``bench/`` measures ``main.py``
processes and no tool in ``tools/`` imports jsii, so neither calls it.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from jsii._kernel.providers import process as jsii_process

import synth_speed
from synth_speed import kernel_channel
from synth_speed.binding_bytecode import OptimizedBindingFinder
from synth_speed.lean_imports import LAZY_INDEX_NODE_OPTION
from tests.conftest import REPO

ENTRY_POINTS = ("main.py", "tests/conftest.py")
PROJECT_PACKAGES = frozenset({"constructs_lib", "stacks", "main", "tools", "tests", "bench"})


def _imported_top_level_names(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.partition(".")[0])
    return names


@pytest.mark.parametrize("package", ["constructs_lib", "stacks"])
def test_construct_and_stack_code_imports_nothing_from_synth_speed(package):
    importers = [
        str(path.relative_to(REPO))
        for path in sorted((REPO / package).rglob("*.py"))
        if "synth_speed" in _imported_top_level_names(path)
    ]
    assert importers == []


def test_synth_speed_imports_nothing_from_the_project():
    """It is a layer below the construct code: usable (and testable) without it."""
    imports = {
        str(path.relative_to(REPO)): sorted(_imported_top_level_names(path) & PROJECT_PACKAGES)
        for path in sorted((REPO / "synth_speed").glob("*.py"))
    }
    assert imports and all(found == [] for found in imports.values()), imports


def _module_level_enable_calls(path: Path) -> int:
    return sum(
        1
        for node in ast.parse(path.read_text()).body
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and ast.unparse(node.value.func) == "synth_speed.enable"
    )


@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
def test_each_entry_point_enables_synth_speed_once_explicitly(entry_point):
    assert _module_level_enable_calls(REPO / entry_point) == 1


# Any module of cdktf or constructs, or of a provider package beyond the bare package the lean imports register.
JSII_LOADED = (
    "[m for m in sys.modules if m.partition('.')[0] in ('cdktf', 'constructs')"
    " or (m.startswith('cdktf_cdktf_provider_') and '.' in m)]"
)


def test_main_switches_it_on_before_any_binding_loads():
    code = f"import json, sys, main, synth_speed; print(json.dumps([synth_speed.is_enabled(), {JSII_LOADED}]))"
    env = {key: value for key, value in os.environ.items() if not key.startswith("LLMGW_")}
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True)
    assert json.loads(result.stdout) == [True, []]


def test_this_test_session_runs_with_it_switched_on():
    """conftest.py's call: every step that the environment leaves on is installed in this process."""
    assert synth_speed.is_enabled(), "the suite runs the default path"
    assert LAZY_INDEX_NODE_OPTION in os.environ.get("NODE_OPTIONS", "")
    assert any(isinstance(finder, OptimizedBindingFinder) for finder in sys.meta_path)
    assert jsii_process._NodeProcess.start is kernel_channel._start


def test_enable_refuses_to_switch_on_half_the_steps_after_a_binding_loaded():
    code = "import cdktf, synth_speed; synth_speed.enable()"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert result.returncode != 0
    assert "RuntimeError: synth_speed.enable() must run before these are imported: cdktf" in result.stderr


def test_enable_twice_is_a_no_op():
    import cdktf  # noqa: F401  (a binding is loaded: a second enable() that did not return at once would raise)

    finders = list(sys.meta_path)
    assert synth_speed.enable() is True
    assert sys.meta_path == finders
