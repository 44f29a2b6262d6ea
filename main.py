#!/usr/bin/env python3
"""Synthesize every LLM-gateway stack from the environment files in `config/`.

    python main.py                      # all stacks -> cdktf.out/stacks/<stack>/cdk.tf.json
    STACKS=aws-dev,gcp-dev python main.py
    python main.py --list-stacks        # the stack list as JSON (CI's plan matrix)

Configuration is validated before any construct is built. Every problem of every file is printed, one line
each, as `error: <file>[:line]: <field>: <problem>` (at most 20, then `... and N more`) with exit status 2, and an
existing output directory is left as it was (stacks are synthesized into a temporary directory that replaces it
only on success). On success one line per stack names it, its resource count and its output path.
"""

from __future__ import annotations

import os
import sys

# Before anything imports jsii: no Node end-of-life banner on every run.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


def _outside_the_venv_hook(kind, error, traceback) -> None:
    """`python3 main.py` with the system Python: say how to run it instead of a ModuleNotFoundError traceback."""
    if not isinstance(error, ModuleNotFoundError):
        sys.__excepthook__(kind, error, traceback)
        return
    print(
        f"error: main.py runs in the project's virtual environment ({sys.executable} has no module "
        f"{error.name!r}): run `make synth` (it creates .venv and synthesizes), or `.venv/bin/python main.py`",
        file=sys.stderr,
    )


sys.excepthook = _outside_the_venv_hook

import argparse
import json
import multiprocessing
import re
import shutil
import sys
import tempfile
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path

import synth_speed
from constructs_lib._common.errors import PropsError
from constructs_lib.config import CLOUDS, ConfigError, load_all
from stacks.catalog import PREBUILT_PROVIDERS, StackSpec, stack_specs, with_dependencies

# Once, before anything imports jsii (none of the imports above does; the stacks import it when built).
synth_speed.enable()

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
    parser.add_argument(
        "--jobs",
        type=int,
        default=int(os.environ.get("LLMGW_SYNTH_JOBS", len(CLOUDS))),
        help="Processes to synthesize clouds in parallel (default: one per cloud; 1 = everything in this process).",
    )
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


def synthesize(specs: list[StackSpec], outdir: Path, *, jobs: int = 1) -> list[str]:
    """Synthesize into a temporary sibling directory, then swap it in: all or nothing.

    Returns the names of the stacks the swap removed (a subset run replaces a full output directory).

    With `jobs > 1` and stacks of several clouds, each cloud is synthesized by its own process (clouds share
    nothing, and each prebuilt provider's assembly is loaded only by the process that needs it); the parts are
    merged into one output identical to a single-process run (tests compare them). A process that already runs
    a jsii kernel (it imported `constructs` or `cdktf`) synthesizes in-process: a fork would share the kernel.
    """
    outdir = outdir.resolve()
    outdir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.", dir=outdir.parent))
    try:
        clouds = list(dict.fromkeys(spec.context.cloud for spec in specs))
        kernel_running = "constructs" in sys.modules or "cdktf" in sys.modules
        if jobs > 1 and len(clouds) > 1 and not kernel_running:
            _synthesize_per_cloud(specs, clouds, staging, jobs)
        else:
            _synthesize_here(specs, staging)
        retired = outdir.with_name(f".{outdir.name}.retired")
        shutil.rmtree(retired, ignore_errors=True)
        previous = {path.name for path in (outdir / "stacks").glob("*") if path.is_dir()}
        removed = sorted(previous - {spec.name for spec in specs})
        if outdir.exists():
            outdir.rename(retired)
        staging.rename(outdir)
        shutil.rmtree(retired, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return removed


def _resource_count(stack_dir: Path) -> int:
    """Resources in a synthesized stack: its Terraform JSON, or its HCL when SYNTH_HCL_OUTPUT=true."""
    json_file = stack_dir / "cdk.tf.json"
    if json_file.is_file():
        resources = json.loads(json_file.read_text()).get("resource", {})
        return sum(len(by_name) for by_name in resources.values())
    return len(re.findall(r'^resource "', (stack_dir / "cdk.tf").read_text(), flags=re.MULTILINE))


def _shown_path(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def report_synthesized(specs: list[StackSpec], outdir: Path, removed: list[str], wanted: str) -> None:
    """One line per stack (name, resources, output file); a note when a subset replaced other stacks."""
    stacks_dir = outdir.resolve() / "stacks"
    width = max(len(spec.name) for spec in specs)
    for spec in specs:
        stack_dir = stacks_dir / spec.name
        output = next(path for path in (stack_dir / "cdk.tf.json", stack_dir / "cdk.tf") if path.is_file())
        count = _resource_count(stack_dir)
        print(f"{spec.name:<{width}}  {count:>3} resource{'' if count == 1 else 's'}  {_shown_path(output)}")
    if removed and wanted:
        print(
            f"note: STACKS={wanted} replaced the whole output: {_shown_path(outdir.resolve())} now holds only these "
            f"{len(specs)} stack(s); {len(removed)} other stack(s) were removed ({', '.join(removed)}). "
            "Run without STACKS to synthesize them all."
        )
    elif removed:
        print(f"note: removed {len(removed)} stack(s) no longer in the configuration: {', '.join(removed)}")


def _synthesize_here(specs: list[StackSpec], staging: Path) -> None:
    clouds = dict.fromkeys(spec.context.cloud for spec in specs)
    synth_speed.prefetch_provider_packages(tuple(p for cloud in clouds for p in PREBUILT_PROVIDERS[cloud]))
    from cdktf import App

    app = App(outdir=str(staging))
    built: dict = {}
    for spec in specs:
        try:
            built[spec.name] = spec.build(app, built)
        except PropsError as error:
            raise ConfigError(spec.context.config_path, error.field, error.problem) from None
    app.synth()


class ChildSynthError(Exception):
    """A per-cloud synthesis process failed; its own error text is the message."""


def _synthesize_per_cloud(specs: list[StackSpec], clouds: list[str], staging: Path, jobs: int) -> None:
    """Each cloud's stacks in a forked child that inherits the loaded config and Python modules and starts a jsii
    kernel of its own; the parts are merged into one output identical to a single-process run."""
    context = multiprocessing.get_context("fork")
    parts = {cloud: staging / f".part-{cloud}" for cloud in clouds}
    pending = list(clouds)
    running: dict[Connection, tuple[str, BaseProcess]] = {}
    failure = ""
    while pending or running:
        while pending and len(running) < jobs and not failure:
            cloud = pending.pop(0)
            receiver, sender = context.Pipe(duplex=False)
            cloud_specs = [spec for spec in specs if spec.context.cloud == cloud]
            child = context.Process(target=_synthesize_child, args=(cloud_specs, parts[cloud], sender), name=cloud)
            child.start()
            sender.close()  # the child's end: reading ours returns end-of-file once the child exits
            running[receiver] = (cloud, child)
        for receiver in wait(list(running)):
            cloud, child = running.pop(receiver)
            try:
                message = receiver.recv()
            except EOFError:
                message = ""
            receiver.close()
            child.join()
            if child.exitcode != 0 and not failure:
                failure = message or f"synthesis of the {cloud} stacks failed (exit status {child.exitcode})"
    if failure:
        raise ChildSynthError(failure)
    manifest: dict = {"stacks": {}}
    (staging / "stacks").mkdir()
    for cloud in clouds:
        part_manifest = json.loads((parts[cloud] / "manifest.json").read_text())
        manifest["version"] = part_manifest["version"]
        manifest["stacks"].update(part_manifest["stacks"])
        for stack_dir in sorted((parts[cloud] / "stacks").iterdir()):
            stack_dir.rename(staging / "stacks" / stack_dir.name)
        shutil.rmtree(parts[cloud])
    manifest["stacks"] = dict(sorted(manifest["stacks"].items()))
    (staging / "manifest.json").write_text(_cdktf_json(manifest))


def _synthesize_child(specs: list[StackSpec], part: Path, sender: Connection) -> None:
    """In the forked child: a config error travels to the parent as its one-line message."""
    try:
        _synthesize_here(specs, part)
    except ConfigError as error:
        sender.send(str(error))
        sys.exit(EXIT_USAGE)


def _cdktf_json(value: object) -> str:
    """JSON as cdktf writes its manifest: two-space indent, empty lists opened and closed on two lines."""
    text = json.dumps(value, indent=2)
    return re.sub(r'^( *)("[^"]+": )\[\]', lambda m: f"{m[1]}{m[2]}[\n{m[1]}]", text, flags=re.MULTILINE)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(sys.argv[1:] if argv is None else argv)
    try:
        specs = stack_specs(load_all(args.config_dir))
        if args.list_stacks:
            print(json.dumps([spec.describe() for spec in select(specs, args.stacks)], indent=2))
            return 0
        selected = select(specs, args.stacks)
        removed = synthesize(selected, args.outdir, jobs=args.jobs)
    except (ConfigError, UsageError, ChildSynthError) as error:
        for line in str(error).splitlines():
            print(line if line.startswith("... and ") else f"error: {line}", file=sys.stderr)
        return EXIT_USAGE
    report_synthesized(selected, args.outdir, removed, args.stacks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
