#!/usr/bin/env python3
"""Synthesize every LLM-gateway stack from the environment files in `config/`.

    python main.py                      # all stacks -> cdktf.out/stacks/<stack>/cdk.tf.json
    STACKS=aws-dev,gcp-dev python main.py
    python main.py --list-stacks        # the stack list as JSON (CI's plan matrix)

Configuration is validated before any construct is built. Any error is printed as
`<file>[:line]: <field>: <problem>` with exit status 2, and an existing output directory is left as it was
(stacks are synthesized into a temporary directory that replaces it only on success).
"""

from __future__ import annotations

import os

# Before anything imports jsii: no Node end-of-life banner on every run.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import constructs_lib  # noqa: F401  (installs the lean provider imports first)
from constructs_lib._common.errors import PropsError
from constructs_lib.config import ConfigError, load_all
from stacks.catalog import StackSpec, stack_specs, with_dependencies

EXIT_USAGE = 2


class UsageError(Exception):
    """A bad command-line argument or STACKS value."""


def _parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config-dir", type=Path, default=Path(os.environ.get("LLMGW_CONFIG_DIR", "config")))
    parser.add_argument("--outdir", type=Path, default=Path(os.environ.get("CDKTF_OUTDIR", "cdktf.out")))
    parser.add_argument(
        "--stacks", default=os.environ.get("STACKS", ""), help="Comma-separated stack names (default: all)."
    )
    parser.add_argument("--list-stacks", action="store_true", help="Print the stack list as JSON and exit.")
    return parser.parse_args(argv)


def select(specs: list[StackSpec], wanted: str) -> list[StackSpec]:
    names = [name.strip() for name in wanted.split(",") if name.strip()]
    if not names:
        return specs
    known = {spec.name for spec in specs}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise UsageError(f"STACKS: unknown stack(s) {unknown}; known stacks: {sorted(known)}")
    return with_dependencies(specs, [spec for spec in specs if spec.name in names])


def synthesize(specs: list[StackSpec], outdir: Path) -> None:
    """Build and synthesize into a temporary sibling directory, then swap it in: all or nothing."""
    from cdktf import App

    outdir = outdir.resolve()
    outdir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.", dir=outdir.parent))
    try:
        app = App(outdir=str(staging))
        built: dict = {}
        for spec in specs:
            try:
                built[spec.name] = spec.build(app, built)
            except PropsError as error:
                raise ConfigError(spec.context.config_path, error.field, error.problem) from None
        app.synth()
        retired = outdir.with_name(f".{outdir.name}.retired")
        shutil.rmtree(retired, ignore_errors=True)
        if outdir.exists():
            outdir.rename(retired)
        staging.rename(outdir)
        shutil.rmtree(retired, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(sys.argv[1:] if argv is None else argv)
    try:
        specs = stack_specs(load_all(args.config_dir))
        if args.list_stacks:
            print(json.dumps([spec.describe() for spec in select(specs, args.stacks)], indent=2))
            return 0
        synthesize(select(specs, args.stacks), args.outdir)
    except (ConfigError, UsageError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    return 0


if __name__ == "__main__":
    sys.exit(main())
