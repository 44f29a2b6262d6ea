"""tests/litellm_probe.py: a probe run in a fork of the LiteLLM probe server answers as its own process does.

Exit status and stdout are the same; stderr is too, but for the log lines LiteLLM writes while it is imported (its
model cost map fetch, from a thread of its own: litellm/litellm_core_utils/get_model_cost_map.py:318, :675), which the
server's log gets once instead of each probe.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess

from tests.litellm_check import LITELLM_PYTHON
from tests.litellm_db_url import DB_URL_SETTINGS
from tests.litellm_probe import run_litellm

# Everything a probe could tell its own process from a fork by, except the parent's pid; then an error exit.
_INTROSPECT = """
import json, os, sys
from litellm.proxy.db.db_url_settings import DatabaseURLSettings
DatabaseURLSettings.from_env().apply_to_env()
print(json.dumps({
    "argv": sys.argv, "name": __name__, "main": sys.modules["__main__"].__dict__.get("DatabaseURLSettings") is not None,
    "cwd": os.getcwd(), "environ": dict(os.environ), "path": sys.path,
    "litellm_modules": sorted(name for name in sys.modules if name.startswith("litellm")),
    "stdin": sys.stdin.read(), "encoding": sys.stdout.encoding,
}))
print("to stderr", file=sys.stderr)
sys.exit("stopped: " + sys.argv[1])
"""
_IMPORT_LOG_LINE = re.compile(r"^\d\d:\d\d:\d\d - LiteLLM:\w+: .*\n", re.MULTILINE)


def _answer(result: subprocess.CompletedProcess[str]) -> tuple[int, str, str]:
    return result.returncode, result.stdout, _IMPORT_LOG_LINE.sub("", result.stderr)


_STEPS = ["export DATABASE_URL='postgresql://u:p@db.example:5432/litellm?sslmode=require'", "export EXTRA=1"]


def test_a_probe_answers_as_its_own_process_does(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = {"DATABASE_PORT": "5432", "MADE_UP": "x y"}
    command = " && ".join([*_STEPS, f"exec {shlex.quote(str(LITELLM_PYTHON))} -c {shlex.quote(_INTROSPECT)} a1 'b 2'"])
    own = subprocess.run(
        ["sh", "-c", command],
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    probed = run_litellm(_INTROSPECT, ["a1", "b 2"], env, imports=DB_URL_SETTINGS, shell_steps=_STEPS)
    assert _answer(own)[0::2] == (1, "to stderr\nstopped: a1\n") and "sslmode" in own.stdout
    assert _answer(probed) == _answer(own)


def test_an_uncaught_exception_prints_the_probes_traceback_only():
    source = "import json\nraise ValueError('made up')\n"
    own = subprocess.run(
        [str(LITELLM_PYTHON), "-c", source],
        env={"PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    probed = run_litellm(source, imports=("json",))
    assert own.returncode == 1 and own.stderr.startswith("Traceback") and own.stderr.endswith("made up\n")
    assert _answer(probed) == _answer(own)


def test_an_environment_the_imports_read_runs_as_its_own_process():
    """LITELLM_LOG is read when litellm is imported (litellm/_logging.py:653): a fork of imports made without it would
    not be what a process started with it does, so that probe runs as its own process (a child of this one)."""
    parent = "import os; print(os.getppid())"
    assert run_litellm(parent, env={"LITELLM_LOG": "ERROR"}, imports=DB_URL_SETTINGS).stdout == f"{os.getpid()}\n"
    assert run_litellm(parent, env={"UNREAD": "1"}, imports=DB_URL_SETTINGS).stdout != f"{os.getpid()}\n"
