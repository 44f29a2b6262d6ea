"""The loadfile units of tests/conftest.py: the files that use each process-starting session fixture go together,
and the longest unit of the last run is handed out first."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import EARLY_STARTS, SHARED_START_FILES, loadfile_scope, longest_unit


def test_each_group_is_the_files_whose_tests_use_its_fixture(request):
    """From what this session collected (the whole suite under `make test`; a subset run checks its own files)."""
    assert set(SHARED_START_FILES) == set(EARLY_STARTS)
    collected = {item.nodeid.split("::", 1)[0] for item in request.session.items}
    using = {
        name: sorted({item.nodeid.split("::", 1)[0] for item in request.session.items if name in item.fixturenames})
        for name in EARLY_STARTS
    }
    assert using == {name: sorted(set(files) & collected) for name, files in SHARED_START_FILES.items()}


def test_a_groups_files_are_one_unit_and_other_files_their_own():
    assert {loadfile_scope(f"{path}::test_x") for path in SHARED_START_FILES["litellm_live"]} == {"litellm_live"}
    assert loadfile_scope("tests/test_quotas.py::test_y[a-b]") == "litellm_live"
    assert loadfile_scope("tests/test_config.py::test_z") == "tests/test_config.py"


def test_the_longest_unit_goes_first_and_an_untimed_one_before_it():
    queue = ["tests/test_a.py", "tests/test_b.py", "litellm_live"]
    timed = {"tests/test_a.py": 1.0, "tests/test_b.py": 9.5}
    assert longest_unit(queue, {**timed, "litellm_live": 3.0}) == "tests/test_b.py"
    assert longest_unit(queue, timed) == "litellm_live"
    assert longest_unit(queue, {}) == "tests/test_a.py", "without timings the queue's own order"


def test_the_scheduler_hook_is_registered_with_xdist_and_a_run_without_it_still_starts(request):
    """`-p no:xdist` (the README's snapshot update) must not meet an unknown `pytest_xdist_make_scheduler` hook."""
    registered = request.config.pluginmanager.get_plugin("shared-start-scheduler") is not None
    assert registered == request.config.pluginmanager.hasplugin("xdist")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:xdist", "--collect-only", "-q", "tests/test_shared_starts.py"],
        cwd=Path(__file__).parent.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
