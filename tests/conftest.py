"""Shared fixtures: one in-process synthesis of every stack from the shipped example configuration."""

from __future__ import annotations

import collections
import json
import math
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("CHECKPOINT_DISABLE", "1")

import synth_speed
from tests.litellm_check import LiteLLMChecker
from tools.litellm_live import LiveLiteLLM

# As main.py does, once, before any test imports jsii or a provider class (tests/test_synth_speed_boundary.py).
synth_speed.enable()

REPO = Path(__file__).resolve().parent.parent
CONFIG_DIR = REPO / "config"


@pytest.fixture(scope="session")
def example_environments():
    from constructs_lib.config import load_all

    return load_all(CONFIG_DIR)


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory, example_environments) -> Path:
    """cdktf.out of every stack, synthesized once per test session through main.synthesize.

    `STACKS=aws-dev,aws-bootstrap pytest -k aws` narrows it while iterating on one cloud (tests of other
    stacks then fail loudly; the full suite runs with STACKS unset).
    """
    import main
    from stacks.catalog import stack_specs

    outdir = tmp_path_factory.mktemp("synth") / "cdktf.out"
    # In this process (jobs=1); test_synth compares it with the default per-cloud parallel path.
    main.synthesize(main.select(stack_specs(example_environments), os.environ.get("STACKS", "")), outdir, jobs=1)
    return outdir


@pytest.fixture(scope="session")
def synthesized(synth_dir) -> dict[str, dict]:
    """Stack name -> parsed cdk.tf.json."""
    return {
        path.parent.name: json.loads(path.read_text()) for path in sorted((synth_dir / "stacks").glob("*/cdk.tf.json"))
    }


# Every place a user might (mis)put a key: provider-key variables, master-key variables, cloud credentials.
CANARY = "canary-4f9c2e1b7d"
CANARY_VARIABLES = (
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "DASHSCOPE_API_KEY",
    "DEEPSEEK_API_KEY",
    "LITELLM_API_KEY",
    "LITELLM_MASTER_KEY",
    "TF_VAR_litellm_api_key",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "GOOGLE_CREDENTIALS",
    "GOOGLE_OAUTH_ACCESS_TOKEN",
    "ALICLOUD_ACCESS_KEY",
    "ALICLOUD_SECRET_KEY",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    "DATABASE_URL",
    "REDIS_PASSWORD",
)
CANARY_FILES = (".env", "secrets/openai.txt", "terraform.tfvars", "config.auto.tfvars", "secrets.auto.tfvars.json")


@dataclass(frozen=True)
class SeparateSynth:
    outdir: Path
    result: subprocess.CompletedProcess[str]


@dataclass(frozen=True)
class _RunningSynth:
    workdir: Path
    process: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path


@pytest.fixture(scope="session")
def _separate_synth_process(tmp_path_factory) -> Iterator[_RunningSynth]:
    """Starts the separate synth (see separate_process_synth) in the background and returns at once."""
    workdir = tmp_path_factory.mktemp("separate-synth") / "work"
    shutil.copytree(CONFIG_DIR, workdir / "config")
    for name in CANARY_FILES:
        path = workdir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"OPENAI_API_KEY={CANARY}-{name}\n")
    (workdir / "config" / "secrets.auto.tfvars").write_text(f'litellm_api_key = "{CANARY}"\n')
    env = {
        **os.environ,
        "STACKS": "",
        "LLMGW_SYNTH_JOBS": "2",
        **{name: f"{CANARY}-{name}" for name in CANARY_VARIABLES},
    }
    # Its output goes to files, not pipes: nobody reads a pipe while the tests before the first user run.
    logs = workdir.parent
    with (logs / "stdout").open("wb") as stdout, (logs / "stderr").open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, str(REPO / "main.py"), "--config-dir", "config", "--outdir", "cdktf.out"],
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
        )
    yield _RunningSynth(workdir, process, logs / "stdout", logs / "stderr")
    if process.poll() is None:  # the session ended before any test needed it
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def separate_process_synth(_separate_synth_process) -> SeparateSynth:
    """The one other full synth of the session: `main.py` in its own process, on the per-cloud parallel path
    (LLMGW_SYNTH_JOBS=2), from a copy of config/ in another directory, with canary values in every key-ish
    variable and file. test_leaks looks for the canaries in it; test_synth compares its bytes with the in-process
    session synth (so the same run proves determinism across processes, paths and locations)."""
    running = _separate_synth_process
    returncode = running.process.wait()
    result = subprocess.CompletedProcess(
        running.process.args,
        returncode,
        stdout=running.stdout.read_text(errors="replace"),
        stderr=running.stderr.read_text(errors="replace"),
    )
    return SeparateSynth(running.workdir / "cdktf.out", result)


@pytest.fixture(scope="session")
def litellm_check(tmp_path_factory) -> Iterator[Callable[[list[Path]], tuple[int, list[dict]]]]:
    """`litellm_check(paths)` -> (exit status, one result per path) of the real LiteLLM check of those files."""
    checker = LiteLLMChecker(tmp_path_factory.mktemp("litellm-check") / "stderr.log")
    yield checker.check
    checker.close()


@pytest.fixture(scope="session")
def litellm_live(tmp_path_factory) -> Iterator[LiveLiteLLM]:
    """The real LiteLLM proxy (the pinned app, tools/litellm_live) on the loopback with a real redis-server and
    the dev environment's shipped proxy config; `.base_url`, `.master_key`, `.call(...)`, `.chat(...)`."""
    with start_litellm_live(tmp_path_factory.mktemp("litellm-live")) as live:
        yield live


def start_litellm_live(work_dir: Path, master_key: str | None = None) -> LiveLiteLLM:
    """A real LiteLLM (as `litellm_live`) that the caller closes: one per gateway where a test stands in for several."""
    from constructs_lib._common.litellm_config import ProxyRuntime, proxy_config_document, render_proxy_config
    from constructs_lib.config import load_environment

    config, runtime = load_environment(CONFIG_DIR / "dev.yaml"), ProxyRuntime(redis="plaintext")
    hooks = {hook.name: hook.text for hook in render_proxy_config(config, runtime).hooks}
    return LiveLiteLLM(work_dir, proxy_config_document(config, runtime), hooks, master_key=master_key)


# Session fixtures whose set-up starts a process that takes seconds (a full synth, LiteLLM's import) and returns at
# once: set up before the first test when any collected test needs them, so that work overlaps the tests before.
EARLY_STARTS = ("_separate_synth_process", "litellm_check", "litellm_live")


@pytest.fixture(scope="session", autouse=True)
def _early_starts(request) -> None:
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # `make test` runs pytest-xdist workers, each of which collects every test: starting here would run these
        # once per worker. A worker starts them when its first test needs them, and the other workers overlap them.
        return
    needed = {name for item in request.session.items for name in item.fixturenames}
    for name in EARLY_STARTS:
        if name in needed:
            request.getfixturevalue(name)


# The test files that use each of EARLY_STARTS (tests/test_shared_starts.py keeps this true). Under pytest-xdist
# (`make test`: --dist loadfile) each group is one unit of work, so its files run on one worker and the process
# starts once per run instead of once on every worker that gets one of them.
SHARED_START_FILES = {
    "_separate_synth_process": ("tests/test_leaks.py", "tests/test_synth.py"),
    "litellm_check": ("tests/test_gcp_proxy_config.py", "tests/test_litellm_config.py"),
    "litellm_live": ("tests/test_litellm_team_standin.py", "tests/test_quotas.py"),
}


def loadfile_scope(nodeid: str) -> str:
    """A test's unit of work under --dist loadfile: its file, or the group of files sharing a started process."""
    path = nodeid.split("::", 1)[0]
    return next((name for name, files in SHARED_START_FILES.items() if path in files), path)


# Each unit's seconds in the last run of this checkout (setup + call + teardown of its tests), for the scheduler.
UNIT_SECONDS = REPO / ".cache" / "test-unit-seconds.json"
_unit_seconds: collections.Counter[str] = collections.Counter()


def last_unit_seconds() -> dict[str, float]:
    try:
        recorded = json.loads(UNIT_SECONDS.read_text())
    except (OSError, ValueError):
        return {}
    return recorded if isinstance(recorded, dict) else {}


def longest_unit(scopes: Iterable[str], seconds: Mapping[str, float]) -> str:
    """The unit to hand out next: the longest of the last run (one not timed yet counts as longest; ties keep the
    queue's order), so a long unit never starts last while the other workers have run out of work."""
    return max(scopes, key=lambda scope: seconds.get(scope, math.inf))


class SharedStartScheduler:
    """pytest-xdist's scheduler hook, registered only when xdist is loaded (`-p no:xdist` runs, as the snapshot update
    does, would otherwise refuse the unknown hook)."""

    @staticmethod
    def pytest_xdist_make_scheduler(config, log):
        """--dist loadfile with the files of a SHARED_START_FILES group as one unit, longest unit first (xdist's own
        scheduler otherwise)."""
        if config.getoption("dist") != "loadfile":
            return None
        from xdist.scheduler import LoadFileScheduling

        seconds = last_unit_seconds()

        class SharedStartScheduling(LoadFileScheduling):
            def _split_scope(self, nodeid: str) -> str:
                return loadfile_scope(nodeid)

            def _assign_work_unit(self, node) -> None:
                if self.workqueue:
                    self.workqueue.move_to_end(longest_unit(self.workqueue, seconds), last=False)
                super()._assign_work_unit(node)

        return SharedStartScheduling(config, log)


def pytest_configure(config) -> None:
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(SharedStartScheduler(), "shared-start-scheduler")


def pytest_runtest_logreport(report) -> None:
    _unit_seconds[loadfile_scope(report.nodeid)] += report.duration


def pytest_sessionfinish(session) -> None:
    """Record the units' seconds (in the controller under pytest-xdist, which gets every worker's reports)."""
    if os.environ.get("PYTEST_XDIST_WORKER") or not _unit_seconds:
        return
    recorded = {**last_unit_seconds(), **{scope: round(total, 2) for scope, total in _unit_seconds.items()}}
    UNIT_SECONDS.parent.mkdir(parents=True, exist_ok=True)
    partial = UNIT_SECONDS.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n")
    partial.replace(UNIT_SECONDS)
