"""`terraform plan` (which validates first) of every synthesized stack, offline, against stand-in providers.

Provider binaries cannot be downloaded here, so each provider a stack requires is served by the
stand-in (tools/standin_provider) from its schema: one long-lived process per provider, which every
Terraform run of this process reaches through TF_REATTACH_PROVIDERS (no plugin process is started per
run). The real Terraform binary parses, validates, evaluates and plans the stack. See docs/OFFLINE_PLAN.md.

    python -m tools.plan_offline [--stacks a,b] [--out cdktf.out]
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import re
import select
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools import schemas_from_jsii
from tools.standin_provider import schema as standin_schema

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "cdktf.out"
CACHE_DIR = REPO_ROOT / ".cache" / "standin_provider"
CHECKED_IN_SCHEMAS = REPO_ROOT / "imports" / "schemas"
# Terraform runs at once: each is mostly Terraform's own CPU (the stand-ins answer from memory)
PARALLEL_STACKS = max(2, os.cpu_count() or 1)
DEFAULT_REGISTRY = "registry.terraform.io"
STACK_TIMEOUT_SECONDS = 300
SERVER_START_TIMEOUT_SECONDS = 120


class PlanOfflineError(Exception):
    """A problem with the inputs of the offline plan (not a Terraform failure of a stack)."""


@dataclass(frozen=True)
class StackResult:
    name: str
    ok: bool
    seconds: float
    output: str


@dataclass(frozen=True)
class Provider:
    """A provider a stack requires: its registry address, the schema file the stand-in serves and the types of it
    served (`served_types`; None: all of them)."""

    address: str
    schema_file: Path
    served: tuple[tuple[str, tuple[str, ...]], ...] | None = None

    @property
    def type_name(self) -> str:
        return self.address.rsplit("/", 1)[1]

    @property
    def served_types(self) -> dict[str, list[str]] | None:
        return None if self.served is None else {kind: list(names) for kind, names in self.served}


def discover_stacks(out_dir: Path) -> dict[str, Path]:
    """Stack name -> synthesized cdk.tf.json, from the cdktf manifest (or the stacks/ directories)."""
    manifest = out_dir / "manifest.json"
    stacks: dict[str, Path] = {}
    if manifest.exists():
        for name, entry in json.loads(manifest.read_text()).get("stacks", {}).items():
            stacks[name] = out_dir / entry["synthesizedStackPath"]
    else:
        for path in sorted(out_dir.glob("stacks/*/cdk.tf.json")):
            stacks[path.parent.name] = path
    missing = [str(path) for path in stacks.values() if not path.exists()]
    if missing:
        raise PlanOfflineError(f"{out_dir}: manifest lists stacks that are not synthesized: {', '.join(missing)}")
    if not stacks:
        raise PlanOfflineError(f"no synthesized stacks in {out_dir}: run `make synth` first")
    return stacks


def provider_address(source: str) -> str:
    """Terraform's fully qualified address of a required_providers source (`aws` -> hashicorp/aws)."""
    parts = source.lower().split("/")
    if len(parts) == 1:
        parts = ["hashicorp", *parts]
    if len(parts) == 2:
        parts = [DEFAULT_REGISTRY, *parts]
    return "/".join(parts)


def _exact_version(constraint: str) -> str | None:
    match = re.fullmatch(r"\s*=?\s*(\d+\.\d+\.\d+)\s*", constraint or "")
    return match.group(1) if match else None


def resolve_schema(address: str, constraint: str) -> Path:
    """The schema file for a provider at the version a stack pins.

    hashicorp providers with a prebuilt cdktf package are recovered from its jsii assembly (cached in
    ~/.cache/llm-gateway-cdktf/schemas); any other provider needs imports/schemas/<name>@<version>.json.
    """
    namespace, type_name = address.split("/")[1:]
    wanted = _exact_version(constraint)
    if namespace == "hashicorp":
        try:
            path = schemas_from_jsii.ensure_schema(type_name)
        except FileNotFoundError:
            path = None
        if path is not None:
            version = path.name.removesuffix(".json").split("@", 1)[1]
            if wanted and wanted != version:
                raise PlanOfflineError(
                    f"{address}: stack pins {constraint!r} but the installed cdktf bindings are for {version}"
                )
            return path
    candidates = sorted(CHECKED_IN_SCHEMAS.glob(f"{type_name}@*.json"))
    if wanted:
        exact = CHECKED_IN_SCHEMAS / f"{type_name}@{wanted}.json"
        if exact.exists():
            return exact
    elif len(candidates) == 1:
        return candidates[0]
    raise PlanOfflineError(
        f"{address} {constraint!r}: no schema; expected {CHECKED_IN_SCHEMAS}/{type_name}@<version>.json "
        f"(found: {', '.join(path.name for path in candidates) or 'none'})"
    )


def _blocks(value: Any) -> list[dict[str, Any]]:
    """A top-level block of Terraform's JSON syntax: one object, or an array of objects."""
    return value if isinstance(value, list) else [value]


def named_types(configs: list[dict[str, Any]]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The resource, data source and ephemeral resource types these configurations name (a check block's scoped
    data sources too), per schema kind (tools/standin_provider/schema.py SCHEMA_KINDS), sorted."""
    named: dict[str, set[str]] = {kind: set() for kind in standin_schema.SCHEMA_KINDS}
    for config in configs:
        scoped_data = [check.get("data", {}) for block in _blocks(config.get("check", {})) for check in block.values()]
        for kind, blocks in (
            ("resource_schemas", config.get("resource", {})),
            ("data_source_schemas", [*_blocks(config.get("data", {})), *scoped_data]),
            ("ephemeral_resource_schemas", config.get("ephemeral", {})),
        ):
            for block in _blocks(blocks):
                named[kind].update(block)
    return tuple((kind, tuple(sorted(names))) for kind, names in named.items())


def required_providers(config: dict[str, Any]) -> list[tuple[str, str]]:
    """(address, version constraint) of every provider in terraform.required_providers."""
    blocks = config.get("terraform", {}).get("required_providers", {})
    entries = blocks if isinstance(blocks, list) else [blocks]
    found = []
    for entry in entries:
        for local_name, requirement in entry.items():
            if isinstance(requirement, str):
                found.append((provider_address(local_name), requirement))
            else:
                found.append((provider_address(requirement.get("source", local_name)), requirement.get("version", "")))
    return found


class StandinServers:
    """Long-lived stand-in providers: one process per provider schema, started on first use and reused by every
    Terraform run of this process (`make plan-offline`, or a whole pytest session) until it exits.

    Each server prints its TF_REATTACH_PROVIDERS entry when it listens; it exits when its standard input closes,
    so a server never outlives the process that started it, even one that is killed.
    """

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self._env = env  # the servers' environment (the offline-apply harness adds LLMGW_OFFLINE_DIR); None: ours
        self._lock = threading.Lock()
        self._processes: dict[Provider, subprocess.Popen[bytes]] = {}
        self._entries: dict[Provider, dict[str, Any]] = {}
        self._logs: dict[Provider, Path] = {}
        self._started = 0
        self._socket_dir: Path | None = None

    def reattach(self, providers: list[Provider]) -> str:
        """TF_REATTACH_PROVIDERS for these providers, starting the servers not yet running (in parallel)."""
        with self._lock:
            if self._socket_dir is None:
                self._socket_dir = Path(tempfile.mkdtemp(prefix="standin-"))  # mode 0700: only we reach the sockets
            starting = [provider for provider in providers if not self._running(provider)]
            for provider in starting:
                self._start(provider)
            for provider in starting:
                self._entries[provider] = self._wait_ready(provider)
            reattach: dict[str, Any] = {}
            for provider in providers:
                reattach.update(self._entries[provider])
            return json.dumps(reattach)

    def _running(self, provider: Provider) -> bool:
        process = self._processes.get(provider)
        return process is not None and process.poll() is None and provider in self._entries

    def _start(self, provider: Provider) -> None:
        assert self._socket_dir is not None
        self._started += 1
        stem = f"{provider.type_name}-{self._started}"
        command = [
            sys.executable,
            "-m",
            "tools.standin_provider",
            "--schema",
            str(provider.schema_file.resolve()),
            "--address",
            provider.address,
            "--cache",
            str(CACHE_DIR),
            "--reattach",
            str(self._socket_dir / f"{stem}.sock"),
        ]
        if provider.served is not None:
            served_file = self._socket_dir / f"{stem}.types.json"
            served_file.write_text(json.dumps(provider.served_types))
            command += ["--served-types", str(served_file)]
        self._logs[provider] = self._socket_dir / f"{stem}.log"
        with self._logs[provider].open("wb") as log:
            # cwd on sys.path (python -m) makes `tools` importable
            self._processes[provider] = subprocess.Popen(
                command, cwd=REPO_ROOT, env=self._env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log
            )

    def _wait_ready(self, provider: Provider) -> dict[str, Any]:
        process = self._processes[provider]
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], SERVER_START_TIMEOUT_SECONDS)
        line = process.stdout.readline() if ready else b""
        if not line:
            process.kill()
            process.wait()
            detail = self._logs[provider].read_text(errors="replace")[-2000:]
            raise PlanOfflineError(f"the stand-in provider for {provider.address} did not start:\n{detail}")
        return json.loads(line)

    def close(self) -> None:
        with self._lock:
            for process in self._processes.values():
                if process.stdin is not None:
                    process.stdin.close()
            for process in self._processes.values():
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
                if process.stdout is not None:
                    process.stdout.close()
            self._processes.clear()
            self._entries.clear()
            if self._socket_dir is not None:
                shutil.rmtree(self._socket_dir, ignore_errors=True)
                self._socket_dir = None


# One server set per parallel lane: a stand-in keeps the provider configuration of the run that configured it last
# (default tags, region), so two Terraform runs at once on one server would plan with each other's settings. A lane
# plans its stacks one after another.
LANES = [StandinServers() for _ in range(PARALLEL_STACKS)]
SERVERS = LANES[0]
for _lane in LANES:
    atexit.register(_lane.close)


def write_cli_config(root: Path) -> Path:
    """A CLI config of our own, so a user's (plugin cache, mirrors, dev_overrides) cannot change the run."""
    cli_config = root / "terraform.rc"
    cli_config.write_text("# plan-offline: providers are reattached stand-ins (TF_REATTACH_PROVIDERS)\n")
    return cli_config


# What a required input variable gets in the scratch copy: a placeholder of its type, never a real value.
PLACEHOLDER_VARIABLE_VALUE = "plan-offline-placeholder"


def placeholder_variables(config: dict[str, Any]) -> dict[str, str]:
    """A value for every variable without a default (CI passes the real ones, e.g. TF_VAR_litellm_api_key).

    Only string variables get one: a stack with another required type fails here, loudly, until this learns it.
    """
    values = {}
    for name, variable in sorted(config.get("variable", {}).items()):
        if "default" in variable:
            continue
        if variable.get("type", "string") != "string":
            raise PlanOfflineError(f"variable {name!r}: no placeholder for required type {variable['type']!r}")
        values[name] = PLACEHOLDER_VARIABLE_VALUE
    return values


# cdktf cross-stack references read the producing stack's outputs: `data.terraform_remote_state.<n>.outputs.<o>`.
_REMOTE_OUTPUT = re.compile(r"data\.terraform_remote_state\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)")
PLACEHOLDER_REMOTE_OUTPUT = "https://plan-offline.invalid"


def local_remote_states(config: dict[str, Any], workdir: Path) -> None:
    """Point every `terraform_remote_state` at a local state file holding placeholders for the outputs read.

    The real backend (S3, GCS, OSS) is unreachable offline; Terraform still evaluates the data source and every
    reference to its outputs. Outputs are assumed to be strings (all cross-stack outputs here are URLs and IDs).
    """
    remote_states = config.get("data", {}).get("terraform_remote_state", {})
    read: dict[str, set[str]] = {name: set() for name in remote_states}
    for name, output in _REMOTE_OUTPUT.findall(json.dumps(config)):
        read.setdefault(name, set()).add(output)
    for name, block in remote_states.items():
        state_file = workdir / f"remote-state-{name}.tfstate.json"
        outputs = {output: {"value": PLACEHOLDER_REMOTE_OUTPUT, "type": "string"} for output in sorted(read[name])}
        state = {"version": 4, "terraform_version": "1.11.4", "serial": 1, "lineage": "plan-offline"}
        state_file.write_text(json.dumps({**state, "outputs": outputs, "resources": []}, indent=2))
        block.pop("workspace", None)
        block.update(backend="local", config={"path": state_file.name})


def prepare_workdir(stack_file: Path, workdir: Path) -> None:
    """A scratch copy of the stack directory without its backend: state is local to the scratch copy.

    Dropping the block (rather than declaring a local backend) spares `terraform init`. Required input
    variables get placeholders in a tfvars file of the scratch copy (Terraform reads `*.auto.tfvars.json`), and
    cross-stack references read local placeholder state (`local_remote_states`).
    """
    shutil.copytree(stack_file.parent, workdir, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*", "*.tfplan"))
    config = json.loads(stack_file.read_text())
    config.get("terraform", {}).pop("backend", None)
    local_remote_states(config, workdir)
    (workdir / stack_file.name).write_text(json.dumps(config, indent=2))
    variables = placeholder_variables(config)
    if variables:
        (workdir / "plan-offline.auto.tfvars.json").write_text(json.dumps(variables, indent=2))


def terraform_env(cli_config: Path, reattach: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TF_LOG")}
    env.pop("TF_PLUGIN_CACHE_DIR", None)
    env.pop("TF_DATA_DIR", None)
    env.update(
        TF_CLI_CONFIG_FILE=str(cli_config),
        TF_REATTACH_PROVIDERS=reattach,
        TF_IN_AUTOMATION="1",
        CHECKPOINT_DISABLE="1",
        TF_INPUT="0",
    )
    return env


def _run(command: list[str], workdir: Path, env: dict[str, str]) -> tuple[bool, str]:
    try:
        proc = subprocess.run(
            command, cwd=workdir, env=env, capture_output=True, text=True, timeout=STACK_TIMEOUT_SECONDS
        )
    except subprocess.TimeoutExpired:
        return False, f"{shlex.join(command)} did not finish in {STACK_TIMEOUT_SECONDS} s"
    return proc.returncode == 0, (proc.stdout + proc.stderr).strip()


# `terraform plan` validates first: the CLI turns validation on for the local backend (internal/command/
# meta_backend.go, Meta.Backend: `cliOpts.Validation = true`) and every operation runs `Core.Validate` on the
# configuration before it plans (internal/backend/local/backend_local.go, localRun: "If validation is enabled,
# validate"). A separate `terraform validate` would run the same walk again.
PLAN_COMMAND = ["terraform", "plan", "-input=false", "-lock=false", "-refresh=false", "-no-color"]


def plan_stack(name: str, stack_file: Path, env: dict[str, str], scratch: Path) -> StackResult:
    started = time.monotonic()
    workdir = scratch / "stacks" / name
    prepare_workdir(stack_file, workdir)
    ok, output = _run(PLAN_COMMAND, workdir, env)
    return StackResult(name, ok, time.monotonic() - started, f"$ {shlex.join(PLAN_COMMAND)}\n{output}")


def stack_providers(stack_files: list[Path], served_for: list[Path] | None = None) -> list[Provider]:
    """The providers these stacks require, with their schemas encoded (once, not by each server that starts).

    Each serves only the types the stacks of `served_for` (default: these stacks) name: Terraform decodes a
    provider's whole schema in every run, and the AWS one has thousands of types. Give every stack of a directory
    as `served_for`, so that runs for any of them share one server per provider.
    """
    configs = {path: json.loads(path.read_text()) for path in {*stack_files, *(served_for or [])}}
    served = named_types([configs[path] for path in sorted(served_for or stack_files)])
    requirements = {requirement for path in stack_files for requirement in required_providers(configs[path])}
    providers = sorted(
        {Provider(address, resolve_schema(address, constraint), served) for address, constraint in requirements},
        key=lambda provider: provider.address,
    )
    for provider in providers:
        standin_schema.cached_response_bytes(provider.schema_file, provider.address, CACHE_DIR, provider.served_types)
    return providers


def plan_stacks(out_dir: Path, only: list[str] | None = None) -> list[StackResult]:
    """Validate and plan the stacks synthesized in out_dir (all of them unless `only` names some)."""
    if shutil.which("terraform") is None:
        raise PlanOfflineError("terraform is not on PATH (the offline plan runs the real Terraform binary)")
    stacks = every_stack = discover_stacks(out_dir)
    if only:
        unknown = sorted(set(only) - set(stacks))
        if unknown:
            raise PlanOfflineError(f"unknown stacks {unknown}; {out_dir} has: {', '.join(sorted(stacks))}")
        stacks = {name: path for name, path in stacks.items() if name in only}
    providers = stack_providers(list(stacks.values()), served_for=list(every_stack.values()))
    ordered = sorted(stacks.items())
    lanes = [
        (servers, ordered[index :: len(LANES)]) for index, servers in enumerate(LANES) if ordered[index :: len(LANES)]
    ]
    with tempfile.TemporaryDirectory(prefix="plan-offline-") as tmp:
        scratch = Path(tmp)
        cli_config = write_cli_config(scratch)

        def plan_lane(servers: StandinServers, lane: list[tuple[str, Path]]) -> list[StackResult]:
            env = terraform_env(cli_config, servers.reattach(providers))
            return [plan_stack(name, path, env, scratch) for name, path in lane]

        with ThreadPoolExecutor(max_workers=len(lanes)) as pool:
            planned = [
                result for future in [pool.submit(plan_lane, *lane) for lane in lanes] for result in future.result()
            ]
    return sorted(planned, key=lambda result: result.name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.plan_offline", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stacks", help="comma-separated stack names (default: every synthesized stack)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="cdktf output directory (default: cdktf.out)")
    args = parser.parse_args(argv)
    only = [name for name in (args.stacks or "").split(",") if name]
    started = time.monotonic()
    try:
        results = plan_stacks(args.out, only or None)
    except PlanOfflineError as error:
        print(f"plan-offline: {error}", file=sys.stderr)
        return 2
    width = max(len(result.name) for result in results)
    for result in results:
        print(f"{result.name:<{width}}  {'OK' if result.ok else 'FAIL'}  {result.seconds:.1f}s", flush=True)
    for result in results:
        if not result.ok:
            print(f"\n=== {result.name}: terraform failed ===\n{result.output}", file=sys.stderr)
    failed = [result.name for result in results if not result.ok]
    print(
        f"plan-offline: {len(results) - len(failed)}/{len(results)} stacks OK in {time.monotonic() - started:.1f}s"
        + (f"; failed: {', '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
