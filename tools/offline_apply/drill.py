"""The offline-apply drill over every synthesized stack: apply from empty state, plan again, destroy.

Stacks are applied in the README's order (bootstrap stacks, then gateways, then their quotas stacks, which read
the gateways' outputs) and destroyed in the reverse order; stacks of one kind run two at a time. Per stack the
drill records whether the apply succeeded, the changes a second plan still shows (each a perpetual diff: a
finding), whether destroy left an empty state, and why a stack could not be drilled when a stand-in it needs is
missing (a stand-in cloud CLI, the real LiteLLM): those are reported as blocked, never as passed.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from tools.offline_apply.harness import OfflineApply, Result

PARALLEL_STACKS = 2
KIND_ORDER = ("bootstrap", "gateway", "quotas")
_MISSING_CLI = re.compile(r"offline apply: no stand-in for `(\w+)`")
# the registration script's own messages (constructs_lib/_common/assets/litellm_agent_key.py) when no LiteLLM is given
_NO_LITELLM = ("cannot reach the gateway at LITELLM_API_BASE", "LITELLM_API_KEY is not set")
_PREVENT_DESTROY = re.compile(r"Resource (\S+) has\s+lifecycle\.prevent_destroy")


@dataclass
class StackDrill:
    name: str
    kind: str
    applied: bool = False
    apply_seconds: float = 0.0
    replan: list[str] = field(default_factory=list)  # "<action> <address>" still planned after the apply
    protected: list[str] = field(default_factory=list)  # resources whose prevent_destroy refused the destroy
    destroyed: bool = False
    left: list[str] = field(default_factory=list)  # resources still in state after destroy
    blocked: str | None = None
    error: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.applied and not self.replan and self.destroyed and not self.left and self.blocked is None

    def row(self) -> str:
        if self.blocked:
            apply = f"blocked: {self.blocked}"
        else:
            apply = f"OK {self.apply_seconds:.0f}s" if self.applied else "FAILED"
        replan = "no changes" if self.applied and not self.replan else ("; ".join(self.replan) or "-")
        if self.destroyed and not self.left:
            destroy = "empty state"
            if self.protected:
                destroy += f" (after lifting prevent_destroy on {len(self.protected)}: refused first, by design)"
        else:
            destroy = f"FAILED, {len(self.left)} left" if self.left else "FAILED"
        return f"| {self.name} | {apply} | {replan} | {destroy} | {self.seconds:.0f} |"


TABLE_HEADER = "| stack | apply from empty state | second plan | destroy | s |\n|---|---|---|---|---|"


def table(results: Iterable[StackDrill]) -> str:
    return "\n".join([TABLE_HEADER, *(result.row() for result in results)])


def _tail(result: Result, lines: int = 25) -> str:
    return "\n".join(result.output.splitlines()[-lines:])


def _blocker(output: str, litellm_available: bool) -> str | None:
    output = " ".join(output.split())  # Terraform wraps the messages it quotes
    missing = sorted(set(_MISSING_CLI.findall(output)))
    if missing:
        return f"stand-in CLI missing ({', '.join(missing)}; tools/offline_apply/cli)"
    if not litellm_available and any(message in output for message in _NO_LITELLM):
        return "no LiteLLM to register keys with (the real LiteLLM fixture, tools/litellm_live)"
    return None


def _apply(harness: OfflineApply, drill: StackDrill, litellm_available: bool) -> None:
    started = time.monotonic()
    result = harness.apply(drill.name)
    drill.apply_seconds = result.seconds
    drill.applied = result.ok
    if not result.ok:
        drill.blocked = _blocker(result.output, litellm_available)
        drill.error = _tail(result)
    else:
        changes = harness.plan(drill.name)
        drill.replan = [f"{action} {address}" for action, items in changes.actions.items() for address in items]
        drill.replan += [f"output {name}" for name in changes.outputs]
    drill.seconds += time.monotonic() - started


def _destroy(harness: OfflineApply, drill: StackDrill) -> None:
    started = time.monotonic()
    result = harness.destroy(drill.name)
    drill.protected = sorted(set(_PREVENT_DESTROY.findall(" ".join(result.output.split()))))
    if not result.ok and drill.protected:
        result = harness.destroy(drill.name, lift_prevent_destroy=True)
    drill.destroyed = result.ok
    drill.left = harness.resources(drill.name)
    if not result.ok:
        drill.error = (drill.error + "\n" + _tail(result)).strip()
    drill.seconds += time.monotonic() - started


def run_drill(
    harness: OfflineApply, kinds: dict[str, str], litellm_available: bool, parallel: int = PARALLEL_STACKS
) -> list[StackDrill]:
    """Drill the stacks named in `kinds` (stack -> bootstrap|gateway|quotas), in catalog order within a kind.

    Without `litellm_available` (no LiteLLM given to the harness), a quotas stack whose key registration cannot
    reach one is reported as blocked; with it, that is a failure like any other."""
    drills = {name: StackDrill(name, kind) for name, kind in kinds.items()}

    def each(kind_order: Iterable[str], step: Callable[[OfflineApply, StackDrill], None]) -> None:
        for kind in kind_order:
            batch = [drill for drill in drills.values() if drill.kind == kind]
            with ThreadPoolExecutor(max_workers=parallel) as pool:
                list(pool.map(lambda drill: step(harness, drill), batch))

    each(KIND_ORDER, lambda h, drill: _apply(h, drill, litellm_available))
    each(reversed(KIND_ORDER), _destroy)
    return list(drills.values())
