"""Python code run by the pinned LiteLLM (.venv-litellm) as a `python -c SOURCE ARG...` process would run it.

    run_litellm(source, argv, env, imports=(...))                    # `python -c source *argv` with env and PATH
    run_litellm(source, argv, env, imports=(...), shell_steps=[..])  # `sh -c 'STEP && ... && exec python -c ...'`

Importing LiteLLM costs seconds of CPU per process, so each test process keeps one server
(tests/litellm_probe_server.py) that imports it once and runs every probe in a fork of itself with the probe's
environment, argv, working directory and fresh stdout/stderr: milliseconds a probe. A fork starts from imports made
under the server's environment (PATH only), so a probe whose environment differs in a name Python's start-up or those
imports read runs as a fresh process instead: its answer is a fresh process's in both cases. The probe's environment
is the one its own command line starts Python with: the shell steps run in a real `sh`, which then execs a Python
that only prints os.environ (tens of milliseconds).
"""

from __future__ import annotations

import atexit
import json
import os
import select
import shlex
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.litellm_check import LITELLM_PYTHON

SERVER = Path(__file__).with_name("litellm_probe_server.py")
TIMEOUT_SECONDS = 120


def _base_env() -> dict[str, str]:
    return {"PATH": os.environ["PATH"]}


class _Server:
    def __init__(self, modules: Sequence[str], env: Mapping[str, str]) -> None:
        assert LITELLM_PYTHON.exists(), "the LiteLLM venv is missing: run `make litellm-venv` (make test does)"
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (the server's log, for as long as it runs)
        self._process = subprocess.Popen(
            [str(LITELLM_PYTHON), "-c", SERVER.read_text(), *modules],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=dict(env),
            start_new_session=True,  # a timeout ends the server and a probe it forked together
        )
        self._pending = b""
        self.imports = json.loads(self._readline())

    def sees_what_a_fresh_process_sees(self, startup: Mapping[str, str]) -> bool:
        """Whether a process starting with os.environ `startup` would start and import as the server did: no name
        Python's start-up or the imports read differs from the server's own start."""
        started = self.imports["environ"]
        changed = {name for name in set(startup) | set(started) if startup.get(name) != started.get(name)}
        if self.imports["every_name"] or any(name.startswith(_STARTUP_NAMES) for name in changed):
            return False
        if self.imports["proxy_names"] and any(name.lower().endswith("_proxy") for name in changed):
            return False
        return not changed & set(self.imports["read"])

    def run(self, source: str, argv: Sequence[str], env: Mapping[str, str]) -> dict:
        assert self._process.stdin is not None
        request = {"source": source, "argv": list(argv), "env": dict(env), "cwd": os.getcwd()}
        self._process.stdin.write((json.dumps(request) + "\n").encode())
        self._process.stdin.flush()
        return json.loads(self._readline())

    def _readline(self) -> str:
        assert self._process.stdout is not None
        fd = self._process.stdout.fileno()
        deadline = time.monotonic() + TIMEOUT_SECONDS
        while b"\n" not in self._pending:
            remaining = deadline - time.monotonic()
            chunk = os.read(fd, 1 << 16) if remaining > 0 and select.select([fd], [], [], remaining)[0] else b""
            if not chunk:
                self.close(kill=True)
                self._stderr.seek(0)
                raise AssertionError(f"the LiteLLM probe server stopped or timed out:\n{self._stderr.read()[-3000:]!r}")
            self._pending += chunk
        line, self._pending = self._pending.split(b"\n", 1)
        return line.decode()

    def close(self, kill: bool = False) -> None:
        if self._process.poll() is None:
            if kill:
                os.killpg(self._process.pid, signal.SIGKILL)
            elif self._process.stdin is not None:
                self._process.stdin.close()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait()


_servers: dict[tuple, _Server] = {}


def _server(modules: tuple[str, ...], env: Mapping[str, str]) -> _Server:
    """The server for these imports whose start-up sees what `env` gives Python's own start-up (PATH, and PYTHONPATH
    or a locale when a probe sets them)."""
    start_env = {name: value for name, value in env.items() if name == "PATH" or name.startswith(_STARTUP_NAMES)}
    key = (modules, tuple(sorted(start_env.items())))
    if key not in _servers:
        _servers[key] = _Server(modules, start_env)
    return _servers[key]


@atexit.register
def _close_servers() -> None:
    for server in _servers.values():
        server.close()


# What Python's own start-up reads from the environment before any import: the locale (PEP 538 coerces a C locale
# and sets LC_CTYPE), PYTHON* settings (path, hash seed, I/O encoding, UTF-8 mode).
_STARTUP_NAMES = ("LANG", "LC_", "PYTHON")
_DUMP_ENVIRON = "import json, os, sys; sys.stdout.write(json.dumps(dict(os.environ)))"


def _startup_environ(env: Mapping[str, str], shell_steps: Sequence[str] | None) -> dict[str, str]:
    """os.environ as `python -c ...` (after `shell_steps` in `sh`, then exec'd by it) starts with: the same command
    line, with a probe that prints os.environ."""
    python = f"{shlex.quote(str(LITELLM_PYTHON))} -c {shlex.quote(_DUMP_ENVIRON)}"
    command = ["sh", "-c", " && ".join([*shell_steps, f"exec {python}"])] if shell_steps is not None else None
    dumped = subprocess.run(
        command or [str(LITELLM_PYTHON), "-c", _DUMP_ENVIRON],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=True,
    )
    return json.loads(dumped.stdout)


def run_litellm(
    source: str,
    argv: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    *,
    imports: tuple[str, ...],
    shell_steps: Sequence[str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """What `python -c source *argv` in .venv-litellm does with the environment {PATH, **env} (after `shell_steps` in a
    shell when given): its exit status, stdout and stderr. `imports`: the modules `source` imports first, which the
    server imports before it forks (no others, so a fork has imported only what the probe would). A fork of the server
    runs it with the os.environ that command's Python starts with (`_startup_environ`), unless that differs from the
    server's in a name read before the fork; then the command itself runs."""
    env = {**_base_env(), **(env or {})}
    command = [str(LITELLM_PYTHON), "-c", source, *argv]
    if shell_steps is not None:
        command = ["sh", "-c", " && ".join([*shell_steps, "exec " + shlex.join(command)])]
    server = _server(imports, env)
    startup = _startup_environ(env, shell_steps)
    if not server.sees_what_a_fresh_process_sees(startup):
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False)
    answer = server.run(source, argv, startup)
    return subprocess.CompletedProcess(command, answer["returncode"], answer["stdout"], answer["stderr"])
