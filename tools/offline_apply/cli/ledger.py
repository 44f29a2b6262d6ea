"""The harness files every stand-in CLI shares: the call log, the failure plan, and the CLIs' own state.

All three live in `$LLMGW_OFFLINE_DIR` and are read and written under one file lock, because Terraform runs
provisioners of independent resources in parallel.

    cli-calls.jsonl     one line per call: {"cli": "aws", "argv": [...], "exit": 0}
    cli-failures.json   {"<cli> <service> <operation>": count | {"times": count, "exit_code": n, "reason": "..."}}
    cli-state/<name>.json   what a stand-in remembers between calls (ECS tasks, Cloud Run executions)
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

OFFLINE_DIR_ENV = "LLMGW_OFFLINE_DIR"
CALLS_FILE = "cli-calls.jsonl"
FAILURES_FILE = "cli-failures.json"
STATE_DIR = "cli-state"
_LOCK_FILE = ".cli.lock"
# What a stand-in prints and exits with when it runs outside a harness session (like a missing binary).
NOT_IN_HARNESS_EXIT = 127


class NotInHarness(RuntimeError):
    pass


class PlanError(ValueError):
    """cli-failures.json cannot be read: the message names the file and the key."""


@dataclass(frozen=True)
class Failure:
    """One injected failure, consumed from cli-failures.json. `exit_code` is the failing workload's exit code
    (the container's or the Cloud Run task's); `reason` a workload that failed to start, with that reason; both
    None: the stand-in's default failure for that command."""

    key: str
    exit_code: int | None
    reason: str | None = None

    @property
    def message(self) -> str:
        """What a stand-in reports for a call it fails on request."""
        return f"the offline harness was told to fail this call (cli-failures.json: {self.key})"


def offline_dir() -> Path:
    value = os.environ.get(OFFLINE_DIR_ENV)
    if not value:
        raise NotInHarness(f"{OFFLINE_DIR_ENV} is not set: the stand-in CLIs run only inside an offline-apply session")
    path = Path(value)
    if not path.is_dir():
        raise NotInHarness(f"{OFFLINE_DIR_ENV}={value} is not a directory")
    return path


@contextmanager
def locked() -> Iterator[Path]:
    directory = offline_dir()
    with open(directory / _LOCK_FILE, "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield directory
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    temporary.replace(path)


def record_call(cli: str, argv: list[str], exit_code: int) -> None:
    line = json.dumps({"cli": cli, "argv": argv, "exit": exit_code})
    with locked() as directory, open(directory / CALLS_FILE, "a") as calls:
        calls.write(line + "\n")


def _parse_failure(path: Path, key: str, value: Any) -> tuple[int, int | None, str | None]:
    expected = "a count or {'times': n, 'exit_code': k} or {'times': n, 'reason': '...'}"
    if isinstance(value, bool) or not isinstance(value, int | dict):
        raise PlanError(f"{path}: {key!r}: expected {expected}, got {value!r}")
    if isinstance(value, int):
        return value, None, None
    times, exit_code, reason = value.get("times", 1), value.get("exit_code"), value.get("reason")
    valid = (
        not set(value) - {"times", "exit_code", "reason"}
        and isinstance(times, int)
        and (exit_code is None or isinstance(exit_code, int))
        and (reason is None or isinstance(reason, str))
        and (exit_code is None or reason is None)
    )
    if not valid:
        raise PlanError(f"{path}: {key!r}: expected {expected}, got {value!r}")
    return times, exit_code, reason


def take_failure(key: str) -> Failure | None:
    """Consume one count of `key` from cli-failures.json; None when no failure is planned for it."""
    with locked() as directory:
        path = directory / FAILURES_FILE
        if not path.exists():
            return None
        try:
            plan = json.loads(path.read_text() or "{}")
        except json.JSONDecodeError as error:
            raise PlanError(f"{path}: line {error.lineno}: not JSON ({error.msg})") from None
        if not isinstance(plan, dict):
            raise PlanError(f"{path}: expected an object of <cli> <service> <operation> keys")
        if key not in plan:
            return None
        times, exit_code, reason = _parse_failure(path, key, plan[key])
        if times <= 0:
            return None
        if isinstance(plan[key], dict):
            plan[key] = {**plan[key], "times": times - 1}
        else:
            plan[key] = times - 1
        _write_json(path, plan)
        return Failure(key, exit_code, reason)


@contextmanager
def state(name: str) -> Iterator[dict[str, Any]]:
    """A stand-in's state document, read and written back under the lock."""
    with locked() as directory:
        path = directory / STATE_DIR / f"{name}.json"
        data = json.loads(path.read_text()) if path.exists() else {}
        yield data
        _write_json(path, data)


def redacted(argv: list[str], sensitive_flags: set[str]) -> list[str]:
    """argv with the values of `sensitive_flags` (`--Name value` or `--Name=value`) replaced by <redacted>."""
    out: list[str] = []
    hide_next = False
    for word in argv:
        flag, equals, _ = word.partition("=")
        if hide_next:
            out.append("<redacted>")
            hide_next = False
        elif flag in sensitive_flags:
            out.append(f"{flag}=<redacted>" if equals else word)
            hide_next = not equals
        else:
            out.append(word)
    return out


def run_recorded(cli: str, argv: list[str], run: Callable[[list[str]], tuple[int, set[str]]]) -> int:
    """A stand-in CLI's entry point: refuse outside a harness session, run, record the call (sensitive values
    redacted) and return the exit code. `run` returns the exit code and the flags whose values are secret."""
    try:
        offline_dir()
    except NotInHarness as error:
        print(f"{cli} (offline stand-in): {error}", file=sys.stderr)
        return NOT_IN_HARNESS_EXIT
    try:
        exit_code, sensitive_flags = run(argv)
    except PlanError as error:
        print(f"{cli} (offline stand-in): {error}", file=sys.stderr)
        exit_code, sensitive_flags = 1, set()
    sys.stdout.flush()
    record_call(cli, redacted(argv, sensitive_flags), exit_code)
    return exit_code


def secret_store(cloud: str):
    """The session's stand-in secret store of `cloud` (tools/offline_apply/secret_store.py, standard library only),
    the one the stand-in provider writes: a CLI read returns what an apply or an operator put there."""
    try:  # as the shims run this package: PYTHONPATH=tools/offline_apply, `cli` and `secret_store` top level
        from secret_store import SecretStore
    except ImportError:  # imported from the repository (tests)
        from tools.offline_apply.secret_store import SecretStore
    return SecretStore(offline_dir(), cloud)
