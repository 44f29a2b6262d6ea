#!/usr/bin/env python3
"""Synth benchmark: the naive provider imports vs the project's path, in one run (`make bench`).

Each repetition is a fresh `python main.py` process (what a user or CI job pays), all stacks or `--stacks`.
Paths:
  naive  LLMGW_NAIVE_PROVIDER_IMPORTS=1, one process: every prebuilt package's __init__ runs (all ~2,200
         submodules), as in every cdktf Python tutorial;
  lean   the project's default (submodules on demand, only the clouds being synthesized), with a warm jsii
         package cache (on by default: the runtime keeps extracted assemblies under ~/.cache);
  cold   the lean path with an empty jsii package cache every repetition (a fresh CI runner).
Prints min/median wall time and peak RSS (python + node, summed over the process tree) per path, the ratio
naive/lean, and checks that both paths wrote byte-identical stacks.
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
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PATHS = {"naive": {"LLMGW_NAIVE_PROVIDER_IMPORTS": "1", "LLMGW_SYNTH_JOBS": "1"}, "lean": {}, "cold": {}}


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
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("LLMGW_NAIVE_PROVIDER_IMPORTS", "LLMGW_SYNTH_JOBS")
    }
    env.update(STACKS=stacks, **PATHS[path])
    cold_cache = tempfile.TemporaryDirectory() if path == "cold" else None
    if cold_cache:
        env["JSII_RUNTIME_PACKAGE_CACHE_ROOT"] = cold_cache.name
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--stacks", default="", help="comma-separated stacks (default: all)")
    parser.add_argument("--paths", default="naive,lean,cold")
    args = parser.parse_args()
    chosen = args.paths.split(",")
    results: dict[str, list[tuple[float, int]]] = {path: [] for path in chosen}
    with tempfile.TemporaryDirectory() as scratch:
        outdirs = {path: Path(scratch) / path for path in chosen}
        for repetition in range(args.repetitions):
            for path in chosen:  # interleaved, so drift in machine load hits both paths alike
                results[path].append(run_once(path, args.stacks, outdirs[path]))
                print(f"  rep {repetition + 1} {path:5} {results[path][-1][0]:6.2f} s", file=sys.stderr)
        first, *others = outdirs.values()
        identical = all(same_output(first, other) for other in others)
    scope = args.stacks or "all stacks"
    print(f"\nsynth of {scope}, {args.repetitions} repetitions, {os.cpu_count()} CPUs\n")
    print("| path  | min (s) | median (s) | peak RSS (MiB) |\n| ----- | ------- | ---------- | -------------- |")
    for path, rows in results.items():
        times = [elapsed for elapsed, _ in rows]
        peak_mib = max(peak for _, peak in rows) / 1024
        print(f"| {path:5} | {min(times):7.2f} | {statistics.median(times):10.2f} | {peak_mib:14.0f} |")
    if {"naive", "lean"} <= set(results):
        ratio = statistics.median(t for t, _ in results["naive"]) / statistics.median(t for t, _ in results["lean"])
        print(f"\nnaive / lean (median): {ratio:.1f}x")
    print(f"outputs byte-identical across paths: {'yes' if identical else 'NO'}")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
