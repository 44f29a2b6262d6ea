"""The Makefile's set-up and clean-up as a new user meets them: set-up steps say what they do and how long they
took, and `make distclean` removes this project's files and its own cache directory, nothing else."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from synth_speed.user_cache import project_cache_dir
from tests.conftest import REPO


def test_a_setup_step_says_what_it_does_and_how_long_it_took():
    result = subprocess.run(
        [str(REPO / "tools" / "setup_step.sh"), "waiting a second", "sleep", "1"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0
    assert result.stdout == ""
    announced, done = result.stderr.splitlines()
    assert announced == "set-up: waiting a second ..."
    took = re.fullmatch(r"set-up: done in (\d+) s", done)
    assert took and 1 <= int(took[1]) < 30, done


def test_a_failing_setup_step_fails_the_make_run():
    result = subprocess.run([str(REPO / "tools" / "setup_step.sh"), "failing", "false"], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr == "set-up: failing ...\n"


def test_first_run_recipes_announce_each_step():
    """Dry run of the venv recipe with no venv yet: each installing command runs through the step reporter."""
    result = subprocess.run(
        ["make", "-n", "--no-print-directory", "venv", "VENV=/nonexistent/venv"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    commands = result.stdout.splitlines()
    assert any(
        command.startswith('tools/setup_step.sh "installing the pinned Python packages of requirements-dev.txt')
        for command in commands
    ), commands
    assert not any(command.startswith("/nonexistent/venv/bin/python -m pip") for command in commands), commands


def _makefile_copy(tmp_path: Path) -> Path:
    """A directory with the Makefile and the files its rules depend on, nothing else."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("Makefile", "package.json", "package-lock.json", "requirements.txt", "requirements-dev.txt"):
        shutil.copy(REPO / name, project / name)
    (project / "tools" / "litellm_check").mkdir(parents=True)
    shutil.copy(REPO / "tools" / "litellm_check" / "requirements.txt", project / "tools" / "litellm_check")
    awscli_lock = Path("tools", "offline_apply", "cli", "requirements.txt")
    (project / awscli_lock.parent).mkdir(parents=True)
    shutil.copy(REPO / awscli_lock, project / awscli_lock)
    return project


def _project_copy(tmp_path: Path) -> Path:
    """The Makefile with stand-ins for what distclean removes (empty directories, not the real venvs)."""
    project = _makefile_copy(tmp_path)
    for name in (".venv", ".venv-litellm", ".venv-checkov", "node_modules", "cdktf.out", "cdktf.out.hcl", "config"):
        (project / name).mkdir()
    return project


@pytest.mark.parametrize("xdg_cache_home", [True, False], ids=["XDG_CACHE_HOME", "HOME"])
def test_distclean_removes_only_this_projects_cache_directory(tmp_path, monkeypatch, xdg_cache_home):
    project = _project_copy(tmp_path)
    home = tmp_path / "home"
    cache_home = tmp_path / "xdg-cache" if xdg_cache_home else home / ".cache"
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(home))
    if xdg_cache_home:
        monkeypatch.setenv("XDG_CACHE_HOME", str(cache_home))
    (cache_home / "llm-gateway-cdktf" / "packages").mkdir(parents=True)
    (cache_home / "pip").mkdir()
    (cache_home / "jsii").mkdir()
    result = subprocess.run(["make", "--no-print-directory", "distclean"], cwd=project, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in project.iterdir()) == [
        "Makefile",
        "config",
        "package-lock.json",
        "package.json",
        "requirements-dev.txt",
        "requirements.txt",
        "tools",
    ]
    assert sorted(path.name for path in cache_home.iterdir()) == ["jsii", "pip"]
    # The directory removed is the one the code computes (synth_speed/user_cache.py).
    assert f"rm -rf {project_cache_dir('packages').parent}\n" in result.stdout


def test_a_linked_node_modules_is_never_reinstalled_through_the_link(tmp_path):
    """`npm ci` through a node_modules link empties the linked directory (seen on 2026-12-05 with a worktree whose
    node_modules linked to the main checkout's): the Makefile skips it and says why."""
    project = _makefile_copy(tmp_path)
    shared = tmp_path / "shared-node_modules"
    shared.mkdir()
    (shared / "cdktf-cli").mkdir()
    (project / "node_modules").symlink_to(shared)
    result = subprocess.run(
        ["make", "--no-print-directory", "node_modules/.package-lock.json"], cwd=project, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == "node_modules is a link to a shared install: npm ci skipped\n"
    assert [path.name for path in shared.iterdir()] == ["cdktf-cli"]
