#!/usr/bin/env python3
"""Synth benchmark: the naive provider imports vs the project's path, in one run (`make bench`).

Each repetition is a fresh `python main.py` process (what a user or CI job pays), for two scopes: every stack,
and one stack (`--one-stack`, default aws-dev: the largest cloud). Paths:
  naive  LLMGW_NAIVE_PROVIDER_IMPORTS=1, one process: every prebuilt package's __init__ runs in Python (all
         ~2,200 submodules) and the jsii kernel requires each package's eager index, as in every cdktf
         Python tutorial;
  lean   the project's default (submodules on demand in Python and Node, one forked process per cloud), with
         a warm package cache (the jsii runtime's, in the project's root: ~/.cache/llm-gateway-cdktf);
  cold   the lean path with an empty package cache every repetition (the issue's "cold");
  fresh  the lean path with an empty package cache and an empty bindings bytecode cache (a runner or
         machine with no cache at all: its first synth after an install).
Runs are interleaved (naive, lean, cold, naive, ...) so drift in machine load hits every path alike. Prints
min/median wall time and peak RSS (summed over the process tree: python and node) per scope and path, the
ratio naive/lean, the issue's targets, and checks that all paths wrote byte-identical stacks.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PATHS = {"naive": {"LLMGW_NAIVE_PROVIDER_IMPORTS": "1", "LLMGW_SYNTH_JOBS": "1"}, "lean": {}, "cold": {}, "fresh": {}}
# Issue #10's wall-clock targets on a 2-core machine, seconds: (scope, path) -> target.
TARGETS = {("all", "lean"): 5.0, ("all", "cold"): 10.0, ("one", "lean"): 4.0}
MEMORY_TARGET_MIB = 1024
# Each path's defaults, whatever the caller's environment says.
CHOSEN_BY_THE_BENCH = (
    "LLMGW_NAIVE_PROVIDER_IMPORTS",
    "LLMGW_SYNTH_JOBS",
    "NODE_OPTIONS",
    "LLMGW_BYTECODE_CACHE",
    "LLMGW_PACKAGE_CACHE",
    "JSII_RUNTIME_PACKAGE_CACHE_ROOT",
    "JSII_RUNTIME_PACKAGE_CACHE",
)


@dataclass
class Series:
    times: list[float] = field(default_factory=list)
    peaks_kib: list[int] = field(default_factory=list)


def _tree_rss_kib(root: int) -> int:
    """Resident memory of `root` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        pid, ppid = int(entry.name), int(fields["PPid"].strip())
        children.setdefault(ppid, []).append(pid)
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0])
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def run_once(path: str, stacks: str, outdir: Path) -> tuple[float, int]:
    env = {key: value for key, value in os.environ.items() if key not in CHOSEN_BY_THE_BENCH}
    env.update(STACKS=stacks, **PATHS[path])
    cold_cache = tempfile.TemporaryDirectory() if path in ("cold", "fresh") else None
    if cold_cache:
        env["LLMGW_PACKAGE_CACHE"] = str(Path(cold_cache.name) / "jsii")
    if path == "fresh":
        env["LLMGW_BYTECODE_CACHE"] = str(Path(cold_cache.name) / "bytecode")
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "main.py", "--outdir", str(outdir)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    peak = 0
    while process.poll() is None:
        peak = max(peak, _tree_rss_kib(process.pid))
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    if cold_cache:
        cold_cache.cleanup()
    if process.returncode != 0:
        raise SystemExit(f"{path}: main.py failed:\n{process.stderr.read().decode()}")
    return elapsed, peak


def same_output(first: Path, second: Path) -> bool:
    names = sorted(path.name for path in (first / "stacks").iterdir())
    if names != sorted(path.name for path in (second / "stacks").iterdir()):
        return False
    _, mismatch, errors = filecmp.cmpfiles(
        first / "stacks", second / "stacks", [f"{name}/cdk.tf.json" for name in names], shallow=False
    )
    return not mismatch and not errors


def _verdict(value: float, target: float | None) -> str:
    if target is None:
        return ""
    return f"<= {target:g}: {'met' if value <= target else 'NOT met'}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--stacks", default="", help="comma-separated stacks of the 'all' scope (default: all)")
    parser.add_argument("--one-stack", default="aws-dev", help="the 'one' scope ('' to skip it)")
    parser.add_argument("--paths", default=",".join(PATHS))
    args = parser.parse_args()
    chosen = args.paths.split(",")
    scopes = {"all": args.stacks, **({"one": args.one_stack} if args.one_stack else {})}
    results = {(scope, path): Series() for scope in scopes for path in chosen}
    identical: dict[str, bool] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for scope, stacks in scopes.items():
            outdirs = {path: Path(scratch) / scope / path for path in chosen}
            for repetition in range(args.repetitions):
                for path in chosen:
                    elapsed, peak = run_once(path, stacks, outdirs[path])
                    results[scope, path].times.append(elapsed)
                    results[scope, path].peaks_kib.append(peak)
                    print(f"  {scope} rep {repetition + 1} {path:5} {elapsed:6.2f} s", file=sys.stderr)
            first, *others = outdirs.values()
            identical[scope] = all(same_output(first, other) for other in others)

    print(f"\nsynth benchmark: {args.repetitions} repetitions, {os.cpu_count()} CPUs")
    print(f"scopes: all = {args.stacks or 'every stack'}; one = {args.one_stack or '(skipped)'}\n")
    print("| scope | path  | min (s) | median (s) | peak RSS (MiB) | target (median, s) |")
    print("| ----- | ----- | ------- | ---------- | -------------- | ------------------ |")
    for (scope, path), series in results.items():
        median = statistics.median(series.times)
        peak_mib = max(series.peaks_kib) / 1024
        target = _verdict(median, TARGETS.get((scope, path)))
        print(f"| {scope:5} | {path:5} | {min(series.times):7.2f} | {median:10.2f} | {peak_mib:14.0f} | {target:18} |")
    print()
    for scope in scopes:
        if {"naive", "lean"} <= set(chosen):
            naive = statistics.median(results[scope, "naive"].times)
            lean = statistics.median(results[scope, "lean"].times)
            print(f"{scope}: naive / lean (median): {naive / lean:.1f}x")
        if "lean" in chosen:
            peak = max(results[scope, "lean"].peaks_kib) / 1024
            print(f"{scope}: lean peak memory {peak:.0f} MiB (target {_verdict(peak, MEMORY_TARGET_MIB)})")
        print(f"{scope}: outputs byte-identical across paths: {'yes' if identical[scope] else 'NO'}")
    return 0 if all(identical.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
