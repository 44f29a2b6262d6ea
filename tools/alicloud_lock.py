"""Regenerate constructs_lib/alicloud/assets/litellm-proxy.lock.txt: one pin per package, every wheel hash needed.

The gateway instances run the lock under Ubuntu 24.04's CPython 3.12; the boot drill (tests/test_alicloud_boot_drill.py)
runs it under this repository's CPython 3.11. pip resolves the same requirements once per interpreter against PyPI
(`--isolated`: no local mirrors or constraints), the versions must agree, and each line carries the hash of every
wheel either interpreter installs (pip `--require-hashes` accepts any listed hash).

    .venv/bin/python -m tools.alicloud_lock           # rewrite the lock (keeps the current pins as constraints)
    .venv/bin/python -m tools.alicloud_lock --fresh   # re-resolve every version
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from constructs_lib.alicloud.gateway import REQUIREMENTS_LOCK

REQUIREMENTS = ("litellm[proxy]==1.106.12", "prisma==0.11.0")
PYTHONS = ("3.11", "3.12")
PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_17_x86_64", "manylinux_2_28_x86_64")
HEADER = """\
# LiteLLM proxy runtime of the Alibaba Cloud gateway instances (Ubuntu 24.04, CPython 3.12, x86_64) and of the
# boot drill (CPython 3.11): one pin per package, with the hash of each wheel those interpreters install. Installed with
# `pip install --require-hashes --no-deps --only-binary=:all:`. Same litellm pin as tools/litellm_check/requirements.in
# (never 1.82.7 / 1.82.8); prisma is LiteLLM's database client (in its `extra-proxy` extra, not in `proxy`).
# Regenerated with: .venv/bin/python -m tools.alicloud_lock  (requirements: {requirements})
"""


def current_pins(lock: Path) -> list[str]:
    return [line.split()[0] for line in lock.read_text().splitlines() if line and not line.startswith("#")]


def resolve(python: str, requirements: tuple[str, ...], constraints: Path | None, workdir: Path) -> dict:
    """name -> (version, {sha256 of the wheel pip picked}) for one interpreter."""
    report = workdir / f"report-{python}.json"
    command = [sys.executable, "-m", "pip", "--isolated", "install", "--dry-run", "--ignore-installed", "--quiet"]
    command += ["--report", str(report), "--python-version", python, "--implementation", "cp", "--only-binary=:all:"]
    command += [argument for platform in PLATFORMS for argument in ("--platform", platform)]
    command += ["--target", str(workdir / "target"), *requirements]
    if constraints is not None:
        command += ["-c", str(constraints)]
    subprocess.run(command, check=True)
    resolved = {}
    for item in json.loads(report.read_text())["install"]:
        name = item["metadata"]["name"].lower().replace("_", "-")
        resolved[name] = (item["metadata"]["version"], item["download_info"]["archive_info"]["hashes"]["sha256"])
    return resolved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fresh", action="store_true", help="ignore the current pins")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        constraints = None
        if not args.fresh:
            constraints = workdir / "constraints.txt"
            constraints.write_text("\n".join(current_pins(REQUIREMENTS_LOCK)) + "\n")
        by_python = {python: resolve(python, REQUIREMENTS, constraints, workdir) for python in PYTHONS}
    first, *others = by_python.values()
    for other in others:
        if {name: version for name, (version, _) in first.items()} != {
            name: version for name, (version, _) in other.items()
        }:
            raise SystemExit(f"the interpreters {PYTHONS} resolve different versions: pin them in REQUIREMENTS")
    lines = []
    for name in sorted(first):
        version = first[name][0]
        hashes = sorted({resolved[name][1] for resolved in by_python.values()})
        lines.append(f"{name}=={version} " + " ".join(f"--hash=sha256:{digest}" for digest in hashes))
    REQUIREMENTS_LOCK.write_text(HEADER.format(requirements=" ".join(REQUIREMENTS)) + "\n".join(lines) + "\n")
    print(f"{REQUIREMENTS_LOCK}: {len(lines)} packages for CPython {', '.join(PYTHONS)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
