"""The README's runbooks run as written: every shell snippet's commands exist here, the offline ones run, and the
samples it prints (an error line, a config block) are what the code really prints and accepts.

Commands that need a cloud account (terraform init/plan/apply against real backends, the cloud CLIs) cannot run
offline: for those the test checks that the command, its subcommand and the stack directory it names exist, and
that the order is one that works (init before plan/apply; CHECKPOINT_DISABLE=1 before every npx cdktf command).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
import yaml

from tests.conftest import CONFIG_DIR, REPO

README = (REPO / "README.md").read_text()
# Cloud CLIs the runbooks name: they need the cloud's credentials and are not installed on a build machine.
CLOUD_CLIS = {"aws", "gcloud", "aliyun"}
SHELL_BUILTINS = {"export", "read", "unset", "printf"}


def _blocks(language: str) -> list[tuple[int, str]]:
    """(line, body) of every fenced block of `language` ("" for a plain block), indentation removed."""
    found, opened = [], None
    for number, row in enumerate(README.splitlines(), 1):
        fence = re.fullmatch(r"( *)```(\w*)", row)
        if fence and opened is None:
            opened = (number, len(fence[1]), fence[2], [])
        elif fence and opened is not None:
            if opened[2] == language:
                found.append((opened[0], "\n".join(text[opened[1] :] for text in opened[3])))
            opened = None
        elif opened is not None:
            opened[3].append(row)
    return found


SH_BLOCKS = _blocks("sh")


def _commands(body: str) -> list[list[str]]:
    """The commands of a snippet as argument lists, comments dropped."""
    commands = []
    for row in body.splitlines():
        words = shlex.split(row, comments=True)
        if words:
            commands.append(words)
    return commands


def _split_env(words: list[str]) -> tuple[dict[str, str], list[str]]:
    env = {}
    while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
        name, _, value = words[0].partition("=")
        env[name] = value
        words = words[1:]
    return env, words


@cache
def _make_targets() -> set[str]:
    return set(re.findall(r"^([a-z][a-z-]*):", (REPO / "Makefile").read_text(), flags=re.MULTILINE))


@cache
def _stack_names() -> set[str]:
    listed = subprocess.run(
        [sys.executable, "main.py", "--list-stacks"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "STACKS": ""},
        check=True,
    )
    return {stack["name"] for stack in json.loads(listed.stdout)}


@cache
def _cdktf_commands() -> set[str]:
    """Subcommands of the cdktf CLI in node_modules, as its own --help lists them (npx runs it offline)."""
    result = subprocess.run(
        ["npx", "--offline", "cdktf-cli@0.21.0", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "CHECKPOINT_DISABLE": "1"},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return set(re.findall(r"^  cdktf (\w+)", result.stdout, flags=re.MULTILINE))


@cache
def _terraform_commands() -> set[str]:
    result = subprocess.run(["terraform", "-help"], capture_output=True, text=True, check=True)
    return set(re.findall(r"^  (\w+) ", result.stdout, flags=re.MULTILINE))


def test_readme_has_the_runbook_snippets():
    assert len(SH_BLOCKS) >= 6


@pytest.mark.parametrize(("line", "body"), SH_BLOCKS, ids=[f"README.md:{line}" for line, _ in SH_BLOCKS])
def test_every_command_of_a_snippet_exists_and_runs_in_a_working_order(line, body):
    checkpoint_off = False
    initialised: set[str] = set()
    for words in _commands(body):
        env, words = _split_env(words)
        program, arguments = words[0], words[1:]
        if program == "export" and arguments and arguments[0].startswith("CHECKPOINT_DISABLE=1"):
            checkpoint_off = True
        if program in SHELL_BUILTINS or program in CLOUD_CLIS:
            continue
        if program == "make":
            assert set(arguments) <= _make_targets(), f"README.md:{line}: no make target {arguments}"
        elif program == "npx":
            package = json.loads((REPO / "package.json").read_text())["devDependencies"]["cdktf-cli"]
            assert arguments[0] == f"cdktf-cli@{package}", f"README.md:{line}: npx runs another cdktf-cli version"
            assert arguments[1] in _cdktf_commands(), f"README.md:{line}: cdktf has no command {arguments[1]!r}"
            assert checkpoint_off or env.get("CHECKPOINT_DISABLE") == "1", (
                f"README.md:{line}: `npx cdktf-cli` without CHECKPOINT_DISABLE=1 prints a getaddrinfo error offline"
            )
        elif program == "terraform":
            chdir = next(argument for argument in arguments if argument.startswith("-chdir="))
            subcommand = arguments[arguments.index(chdir) + 1]
            directory = chdir.removeprefix("-chdir=")
            assert subcommand in _terraform_commands(), f"README.md:{line}: terraform has no {subcommand!r}"
            assert directory.startswith("cdktf.out/stacks/"), directory
            assert directory.removeprefix("cdktf.out/stacks/") in _stack_names(), f"README.md:{line}: {directory}"
            if subcommand == "init":
                initialised.add(directory)
            else:
                assert directory in initialised, f"README.md:{line}: terraform {subcommand} before init in {directory}"
        else:
            pytest.fail(f"README.md:{line}: {program!r} is not a command this test knows how to check")


def test_every_make_target_the_readme_names_exists():
    named = set(re.findall(r"`(?:[A-Z_]+=\S+ )*make ([a-z-]+)", README))
    assert {"synth", "test", "stacks", "synth-hcl", "distclean"} <= named
    assert named <= _make_targets(), named - _make_targets()


def _run_make(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=900,
    )


def test_quick_start_commands_resolve():
    """`make synth` and `make test` as the Quick start writes them (dry run: their recipes resolve here)."""
    for target in ("synth", "test"):
        result = _run_make("-n", target, env={})
        assert result.returncode == 0, result.stderr


def test_make_stacks_and_the_subset_synth_run_as_written(tmp_path):
    stacks = _run_make("stacks", env={"STACKS": ""})
    assert stacks.returncode == 0, stacks.stderr
    assert {stack["name"] for stack in json.loads(stacks.stdout)} == _stack_names()
    outdir = tmp_path / "cdktf.out"
    subset = _run_make("synth", env={"STACKS": "aws-dev,gcp-dev", "CDKTF_OUTDIR": str(outdir)})
    assert subset.returncode == 0, subset.stderr
    assert sorted(path.name for path in (outdir / "stacks").iterdir()) == ["aws-dev", "gcp-dev"]
    printed = [row.split()[0] for row in subset.stdout.splitlines() if row.endswith("cdk.tf.json")]
    assert printed == ["aws-dev", "gcp-dev"]


def test_make_synth_hcl_writes_hcl_for_every_stack(tmp_path):
    outdir = tmp_path / "hcl"
    result = _run_make("synth-hcl", f"HCL_OUTDIR={outdir}", env={"STACKS": ""})
    assert result.returncode == 0, result.stderr
    written = {path.parent.name for path in (outdir / "stacks").glob("*/cdk.tf")}
    assert written == _stack_names()
    assert not list((outdir / "stacks").glob("*/cdk.tf.json"))
    for stack in written:
        text = (outdir / "stacks" / stack / "cdk.tf").read_text()
        assert re.search(r'^(resource|terraform) "?', text, flags=re.MULTILINE), stack
    printed = [row.split() for row in result.stdout.splitlines() if row.endswith("/cdk.tf")]
    assert {row[0] for row in printed} == written
    assert all(row[-1] == str(outdir / "stacks" / row[0] / "cdk.tf") for row in printed)


def test_the_sample_error_is_what_main_prints(tmp_path):
    """The Configuration section's sample: one AZ and a misspelled key in config/dev.yaml, exactly as printed."""
    sample = next(body for _, body in _blocks("") if body.startswith("error: config/dev.yaml:"))
    shutil.copytree(CONFIG_DIR, tmp_path / "config")
    dev = tmp_path / "config" / "dev.yaml"
    text = dev.read_text().replace("availability_zones: [us-east-1a, us-east-1b]", "availability_zones: [us-east-1a]")
    dev.write_text(text.replace("    requests_per_minute: 60\n", "    requests_per_minut: 60\n", 1))
    result = subprocess.run(
        [sys.executable, str(REPO / "main.py"), "--config-dir", "config", "--outdir", "cdktf.out"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "STACKS": ""},
    )
    assert result.returncode == 2
    assert result.stderr == sample + "\n"


def test_the_model_limits_example_is_valid_and_names_every_key():
    from constructs_lib.config.llm import Agent, ModelLimit

    block = next(body for _, body in _blocks("yaml") if "model_limits:" in body)
    agents = yaml.safe_load(block)["agents"]
    documented = set()
    for agent in agents:
        Agent.model_validate({"owner": "someone@example.com", "team": "docs", **agent})
        for limit in agent["model_limits"].values():
            documented |= set(limit)
    assert documented == set(ModelLimit.model_fields)


def test_the_distclean_line_names_the_cache_directory_the_code_uses(monkeypatch):
    from synth_speed.user_cache import project_cache_dir

    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    home_relative = project_cache_dir("any").parent.relative_to(Path.home())
    assert f"`~/{home_relative}`" in README
    assert f"`$XDG_CACHE_HOME/{home_relative.name}`" in README


def test_no_runbook_calls_a_bare_cdktf():
    """`cdktf` is not on PATH after `make`: every cdktf command in the docs goes through the pinned npx package."""
    bare = []
    for path in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        for number, row in enumerate(path.read_text().splitlines(), 1):
            named = re.search(r"(?<![\w@/.-])cdktf (deploy|synth|diff|destroy|list|output)\b", row)
            if named and not re.search(r"npx (--\S+ )*cdktf-cli@\S+ (deploy|synth|diff|destroy|list|get|output)", row):
                bare.append(f"{path.relative_to(REPO)}:{number}: {row.strip()}")
    assert bare == []
