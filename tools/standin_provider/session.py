"""What the stand-in provider learns from the offline-apply session it serves (`LLMGW_OFFLINE_DIR`).

Terraform never tells a provider which resource address a request is for, so the harness leaves the plan it is
about to apply in `<dir>/plans/<stack>.json`: each resource's address, type and the values known at plan time.
A create or update request is matched to the one planned resource of its type whose known values it carries;
that gives the provider the address to seed deterministic computed values with and to look up injected
failures (`<dir>/failures.json`, `{"<address>": remaining_count}`) under.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

OFFLINE_DIR_ENV = "LLMGW_OFFLINE_DIR"
# which set of servers ("lane") this process belongs to: the harness writes <dir>/lanes/<lane>.json = the stack
# whose Terraform runs the lane serves right now, so requests are matched against that stack's plan only
LANE_ENV = "LLMGW_OFFLINE_LANE"


@dataclass(frozen=True)
class Located:
    stack: str
    address: str


def session_from_env() -> Session:
    value = os.environ.get(OFFLINE_DIR_ENV)
    return Session(Path(value) if value else None, os.environ.get(LANE_ENV))


def _same(planned: Any, known: Any) -> bool:
    if isinstance(known, bool) or isinstance(planned, bool):
        return planned is known
    if isinstance(known, int | float) and isinstance(planned, int | float):
        return float(planned) == float(known)
    return planned == known


def _comparable(value: Any) -> bool:
    """Plan-time values worth matching on: scalars and maps of scalars (list/set order may differ)."""
    if isinstance(value, str | int | float | bool):
        return True
    return isinstance(value, dict) and all(isinstance(item, str | int | float | bool) for item in value.values())


def plan_index_entries(show_json: dict[str, Any]) -> list[dict[str, Any]]:
    """The index entries of a `terraform show -json <planfile>` document: managed resources being created or
    updated, with the known plan-time values a request can be matched on."""
    entries = []
    for change in show_json.get("resource_changes", []):
        if change.get("mode") != "managed" or not ({"create", "update"} & set(change["change"]["actions"])):
            continue
        after = change["change"].get("after") or {}
        unknown = change["change"].get("after_unknown") or {}
        known = {
            key: value
            for key, value in after.items()
            if value is not None and unknown.get(key) is not True and _comparable(value)
        }
        entries.append({"address": change["address"], "type": change["type"], "known": known})
    return entries


@contextlib.contextmanager
def _failures(offline_dir: Path) -> Iterator[dict[str, int]]:
    """failures.json under an exclusive lock, written back (atomically) when changed."""
    path = offline_dir / "failures.json"
    with open(offline_dir / "failures.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        failures = json.loads(path.read_text()) if path.exists() else {}
        before = dict(failures)
        yield failures
        if failures != before:
            fd, tmp = tempfile.mkstemp(dir=offline_dir, prefix=".failures-")
            with os.fdopen(fd, "w") as out:
                json.dump(failures, out, indent=2, sort_keys=True)
            os.replace(tmp, path)


def inject_failure(offline_dir: Path, key: str, times: int = 1) -> None:
    """Make the next `times` creates/updates of a resource fail (key `<address>` or `<stack>:<address>`)."""
    if times < 1:
        raise ValueError(f"times must be at least 1, not {times}")
    with _failures(offline_dir) as failures:
        failures[key] = failures.get(key, 0) + times


class Session:
    """The session directory of the harness, or none (plain `make plan-offline` never applies)."""

    def __init__(self, offline_dir: Path | None, lane: str | None = None) -> None:
        self.offline_dir = offline_dir
        self.lane = lane

    def _plan_files(self) -> list[Path]:
        assert self.offline_dir is not None
        if self.lane is not None:
            try:
                stack = json.loads((self.offline_dir / "lanes" / f"{self.lane}.json").read_text())["stack"]
            except (OSError, ValueError, KeyError):
                return []
            return [self.offline_dir / "plans" / f"{stack}.json"]
        return sorted((self.offline_dir / "plans").glob("*.json"))

    def locate(self, type_name: str, planned: dict[str, Any]) -> Located | None:
        """The stack and address of the planned resource this request creates or updates, if exactly one fits."""
        if self.offline_dir is None:
            return None
        found = []
        for path in self._plan_files():
            try:
                index = json.loads(path.read_text())
            except (OSError, ValueError):
                continue  # no plan being applied (a plan-only run), or one being replaced
            for entry in index.get("resources", []):
                if entry["type"] != type_name:
                    continue
                if all(_same(planned.get(key), value) for key, value in entry["known"].items()):
                    found.append(Located(index["stack"], entry["address"]))
        return found[0] if len(found) == 1 else None

    def take_failure(self, stack: str | None, address: str | None) -> bool:
        """True (and one count consumed) when a failure is injected for this resource's next create/update.

        Keys are `<address>` (any stack) or `<stack>:<address>`."""
        if self.offline_dir is None or address is None:
            return False
        with _failures(self.offline_dir) as failures:
            for key in (f"{stack}:{address}", address):
                if failures.get(key, 0) > 0:
                    failures[key] -= 1
                    if failures[key] == 0:
                        del failures[key]
                    return True
        return False
