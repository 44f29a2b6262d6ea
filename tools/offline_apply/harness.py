"""OfflineApply: real `terraform apply` / `plan` / `destroy` sequences on the synthesized stacks, offline.

The real Terraform binary runs each stack in a work directory of its own (Terraform's local state, kept for the
whole session), against the stand-in providers (tools/standin_provider), which this harness starts with the
session's directory in `LLMGW_OFFLINE_DIR`: the stand-in secret stores, injected failures, the plan index the
provider matches apply requests with (tools/standin_provider/session.py) and the stand-in CLIs' call log live
there. `tools/offline_apply/cli/` is first on PATH, so `local-exec` steps call the stand-in cloud CLIs.
See docs/OFFLINE_PLAN.md ("Offline apply") and HARNESS_CONTRACT.md.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools import plan_offline
from tools.offline_apply.secret_store import SecretStore
from tools.standin_provider.session import LANE_ENV, OFFLINE_DIR_ENV, inject_failure, plan_index_entries

CLI_DIR = Path(__file__).resolve().parent / "cli"
# The cloud CLIs the stacks' local-exec steps call. The real ones may be installed: one without a stand-in in
# CLI_DIR is shadowed by a guard that refuses (exit 127), so an offline apply never reaches a real cloud.
GUARDED_CLIS = ("aws", "gcloud", "aliyun")
# Credentials and config of the real clouds are not passed on to Terraform, the stand-ins or local-exec steps.
_CLOUD_ENV_PREFIXES = ("AWS_", "GOOGLE_", "CLOUDSDK_", "GCLOUD_", "ALICLOUD_", "ALIBABA_CLOUD_", "ALIYUN_")
COMMAND_TIMEOUT_SECONDS = 300
REMOTE_STATE_PREFIX = "cross-stack-reference-input-"
STATE_FILE = "terraform.tfstate"
VARS_FILE = "plan-offline.auto.tfvars.json"  # plan_offline.prepare_workdir's placeholders, overridden per stack
PLAN_FILE = "offline-apply.tfplan"
_DEV_OVERRIDE_WARNING = re.compile(r"\n?╷\n│ Warning: Provider development overrides are in effect.*?╵\n?", re.S)


class OfflineApplyError(Exception):
    """Terraform could not run a step that is not expected to fail (plan, show) or the input is wrong."""


@dataclass(frozen=True)
class Changes:
    """What a plan would do: resource addresses by action (create, update, replace, delete, read), and the
    output names that change; `document` is `terraform show -json` of the plan."""

    actions: dict[str, list[str]]
    outputs: list[str]
    document: dict[str, Any] = field(repr=False)
    complete: bool = True  # False for a destroy plan, which is not read back (its actions are not listed)

    @property
    def empty(self) -> bool:
        return not any(self.actions.values()) and not self.outputs

    def addresses(self, action: str) -> list[str]:
        return self.actions.get(action, [])


@dataclass(frozen=True)
class Result:
    """One apply/destroy/refresh: whether Terraform succeeded, its output, the plan it applied, the time."""

    stack: str
    ok: bool
    output: str
    seconds: float
    changes: Changes | None = None

    def check(self) -> Result:
        if not self.ok:
            raise OfflineApplyError(f"{self.stack}: terraform failed:\n{self.output}")
        return self


def _action(actions: list[str]) -> str:
    if sorted(actions) == ["create", "delete"]:
        return "replace"
    return actions[0] if len(actions) == 1 else "-".join(actions)


def changes_from(document: dict[str, Any]) -> Changes:
    actions: dict[str, list[str]] = {}
    for change in document.get("resource_changes", []):
        action = _action(change["change"]["actions"])
        if action != "no-op":
            actions.setdefault(action, []).append(change["address"])
    outputs = sorted(
        name for name, change in (document.get("output_changes") or {}).items() if change["actions"] != ["no-op"]
    )
    return Changes({key: sorted(value) for key, value in actions.items()}, outputs, document)


def _has_outputs(state_file: Path, outputs: dict[str, Any]) -> bool:
    """Whether a producing stack's local state has every output a consumer reads (it was applied here)."""
    if not state_file.exists():
        return False
    return set(outputs) <= set(json.loads(state_file.read_text()).get("outputs", {}))


def state_document(state: dict[str, Any]) -> dict[str, Any]:
    """A version-4 state file as `terraform show -json` presents it (root module, no child modules here)."""
    resources = []
    for resource in state.get("resources", []):
        prefix = "data." if resource["mode"] == "data" else ""
        for instance in resource.get("instances", []):
            key = instance.get("index_key")
            suffix = "" if key is None else f"[{json.dumps(key)}]"
            resources.append(
                {
                    "address": f"{prefix}{resource['type']}.{resource['name']}{suffix}",
                    "mode": resource["mode"],
                    "type": resource["type"],
                    "name": resource["name"],
                    "values": instance.get("attributes", {}),
                }
            )
    outputs = {name: {"value": output["value"]} for name, output in state.get("outputs", {}).items()}
    return {"values": {"outputs": outputs, "root_module": {"resources": resources}}}


class OfflineApply:
    """One offline-apply session over the stacks synthesized in `out_dir`; a context manager.

    `env` is added to every Terraform run's environment (and so to `local-exec` steps: e.g. LITELLM_API_KEY);
    `url_map` replaces URLs in the stacks' configuration (a gateway's public URL -> the loopback LiteLLM).
    """

    def __init__(
        self,
        out_dir: Path = plan_offline.DEFAULT_OUT,
        work_dir: Path | None = None,
        env: dict[str, str] | None = None,
        url_map: dict[str, str] | None = None,
    ) -> None:
        self.out_dir = Path(out_dir)
        self._owned_work_dir = work_dir is None
        self.work_dir = Path(work_dir) if work_dir is not None else Path(tempfile.mkdtemp(prefix="offline-apply-"))
        self.offline_dir = self.work_dir / "offline"
        for sub in ("secrets", "plans"):
            (self.offline_dir / sub).mkdir(parents=True, exist_ok=True)
        self.env = dict(env or {})
        self.url_map = dict(url_map or {})
        self._vars: dict[str, dict[str, str]] = {}
        # Lanes: one set of stand-in servers per Terraform run at a time. A provider learns its configuration
        # from ConfigureProvider, which carries no run identity: two stacks planned at once against one server
        # would see each other's provider blocks (region, account, LiteLLM api_base).
        self._lanes: list[plan_offline.StandinServers] = []
        self._free_lanes: list[plan_offline.StandinServers] = []
        self._lanes_lock = threading.Condition()
        self._stacks: dict[str, Path] | None = None

    # --- lifecycle --------------------------------------------------------------------------------

    def __enter__(self) -> OfflineApply:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lanes_lock:
            for lane in self._lanes:
                lane.close()
            self._lanes.clear()
            self._free_lanes.clear()
        if self._owned_work_dir:
            shutil.rmtree(self.work_dir, ignore_errors=True)

    # --- stacks and work directories --------------------------------------------------------------

    def stacks(self) -> dict[str, Path]:
        if self._stacks is None:
            self._stacks = plan_offline.discover_stacks(self.out_dir)
        return self._stacks

    def stack_dir(self, stack: str) -> Path:
        return self.work_dir / "stacks" / stack

    def _stack_file(self, stack: str) -> Path:
        stacks = self.stacks()
        if stack not in stacks:
            raise OfflineApplyError(f"unknown stack {stack!r}; {self.out_dir} has: {', '.join(sorted(stacks))}")
        return stacks[stack]

    def _prepare(self, stack: str, variables: dict[str, str] | None, lift_prevent_destroy: bool = False) -> Path:
        """The stack's work directory with its current configuration (state kept): no backend, placeholders
        for required variables (overridden by `variables`, remembered per stack), URLs mapped, and each
        cross-stack reference reading the producing stack's local state when it was applied in this session."""
        stack_file = self._stack_file(stack)
        workdir = self.stack_dir(stack)
        scratch = self.work_dir / f".prepare-{stack}"
        shutil.rmtree(scratch, ignore_errors=True)
        plan_offline.prepare_workdir(stack_file, scratch)
        config_file = scratch / stack_file.name
        text = config_file.read_text()
        for url, replacement in self.url_map.items():
            text = text.replace(url, replacement)
        config = json.loads(text)
        if lift_prevent_destroy:
            for resources in config.get("resource", {}).values():
                for resource in resources.values():
                    resource.get("lifecycle", {}).pop("prevent_destroy", None)
        for name, block in config.get("data", {}).get("terraform_remote_state", {}).items():
            producer = self.stack_dir(name.removeprefix(REMOTE_STATE_PREFIX)) / STATE_FILE
            placeholder = json.loads((scratch / block["config"]["path"]).read_text())
            if name.startswith(REMOTE_STATE_PREFIX) and _has_outputs(producer, placeholder["outputs"]):
                block["config"] = {"path": str(producer)}
            else:
                block["config"] = {"path": str(workdir / block["config"]["path"])}
        config_file.write_text(json.dumps(config, indent=2))
        self._vars.setdefault(stack, {}).update(variables or {})
        vars_file = scratch / VARS_FILE
        placeholders = json.loads(vars_file.read_text()) if vars_file.exists() else {}
        # a value given as TF_VAR_<name> in `env` must win, and a tfvars file would beat the environment
        placeholders = {name: value for name, value in placeholders.items() if f"TF_VAR_{name}" not in self.env}
        vars_file.unlink(missing_ok=True)
        if placeholders or self._vars[stack]:
            vars_file.write_text(json.dumps({**placeholders, **self._vars[stack]}, indent=2))
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / VARS_FILE).unlink(missing_ok=True)
        for path in scratch.iterdir():
            target = workdir / path.name
            if target.is_dir():
                shutil.rmtree(target)
            os.replace(path, target)
        scratch.rmdir()
        return workdir

    def _cli_guard(self) -> Path:
        guard = self.work_dir / "cli-guard"
        guard.mkdir(exist_ok=True)
        for cli in GUARDED_CLIS:
            script = guard / cli
            if not script.exists():
                script.write_text(
                    "#!/bin/sh\n"
                    f"echo 'offline apply: no stand-in for `{cli}` in tools/offline_apply/cli/; "
                    f"the real {cli} must not be reached' >&2\n"
                    "exit 127\n"
                )
                script.chmod(0o755)
        return guard

    @contextlib.contextmanager
    def _lane(self, stack: str) -> Iterator[dict[str, str]]:
        """The environment of Terraform runs for `stack`, with a set of stand-in servers only these runs use."""
        with self._lanes_lock:
            if not self._free_lanes:
                env = {key: value for key, value in os.environ.items() if not key.startswith(_CLOUD_ENV_PREFIXES)}
                env.update({OFFLINE_DIR_ENV: str(self.offline_dir), LANE_ENV: str(len(self._lanes))})
                self._free_lanes.append(plan_offline.StandinServers(env=env))
                self._lanes.append(self._free_lanes[-1])
            lane = self._free_lanes.pop()
        # the lane's servers serve this stack only, until released: they match requests against its plan alone
        lane_file = self.offline_dir / "lanes" / f"{self._lanes.index(lane)}.json"
        lane_file.parent.mkdir(exist_ok=True)
        lane_file.write_text(json.dumps({"stack": stack}))
        try:
            yield self._env(stack, lane)
        finally:
            with self._lanes_lock:
                self._free_lanes.append(lane)

    def _env(self, stack: str, lane: plan_offline.StandinServers) -> dict[str, str]:
        # the schema types of every stack of the directory: a lane's servers then serve each stack it runs
        providers = plan_offline.stack_providers([self._stack_file(stack)], served_for=list(self.stacks().values()))
        cli_config = plan_offline.write_cli_config(self.work_dir)
        env = plan_offline.terraform_env(cli_config, lane.reattach(providers))
        env = {key: value for key, value in env.items() if not key.startswith(_CLOUD_ENV_PREFIXES)}
        env[OFFLINE_DIR_ENV] = str(self.offline_dir)
        env["PATH"] = os.pathsep.join((str(CLI_DIR), str(self._cli_guard()), env.get("PATH", "")))
        env.update(self.env)
        return env

    def _terraform(self, stack: str, args: list[str], env: dict[str, str]) -> tuple[int, str]:
        command = ["terraform", *args]
        try:
            proc = subprocess.run(
                command,
                cwd=self.stack_dir(stack),
                env=env,
                capture_output=True,
                text=True,
                timeout=COMMAND_TIMEOUT_SECONDS,
            )
        except subprocess.TimeoutExpired:
            return 124, f"terraform {' '.join(args)} did not finish in {COMMAND_TIMEOUT_SECONDS} s"
        return proc.returncode, _DEV_OVERRIDE_WARNING.sub("\n", proc.stdout + proc.stderr).strip()

    def _show(self, stack: str, env: dict[str, str], *args: str) -> dict[str, Any]:
        code, output = self._terraform(stack, ["show", "-json", "-no-color", *args], env)
        if code != 0:
            raise OfflineApplyError(f"{stack}: terraform show failed:\n{output}")
        return json.loads(output)

    def _plan(
        self, stack: str, env: dict[str, str], extra: list[str], keep: bool = False
    ) -> tuple[int, str, Changes | None]:
        """`terraform plan -out`, read back with `show -json`; the plan file (which can hold sensitive values) is
        removed unless `keep` (the caller applies it, then removes it)."""
        args = ["plan", "-input=false", "-lock=false", "-no-color", "-detailed-exitcode", f"-out={PLAN_FILE}", *extra]
        try:
            code, output = self._terraform(stack, args, env)
            if code not in (0, 2):
                return code, output, None
            if code == 0:  # -detailed-exitcode: no changes, so no need to read the plan back
                return code, output, Changes({}, [], {})
            if "-destroy" in extra:  # deletes only: the provider needs no plan index, so none is read back
                return code, output, Changes({}, [], {}, complete=False)
            return code, output, changes_from(self._show(stack, env, PLAN_FILE))
        finally:
            if not keep:
                (self.stack_dir(stack) / PLAN_FILE).unlink(missing_ok=True)

    def _apply_plan(
        self, stack: str, extra: list[str], variables: dict[str, str] | None, lift_prevent_destroy: bool = False
    ) -> Result:
        started = time.monotonic()
        self._prepare(stack, variables, lift_prevent_destroy)
        with self._lane(stack) as env:
            code, output, changes = self._plan(stack, env, extra, keep=True)
            index = self.offline_dir / "plans" / f"{stack}.json"
            try:
                if changes is None:
                    return Result(stack, False, output, time.monotonic() - started)
                index.write_text(json.dumps({"stack": stack, "resources": plan_index_entries(changes.document)}))
                code, applied = self._terraform(
                    stack, ["apply", "-input=false", "-lock=false", "-no-color", "-auto-approve", PLAN_FILE], env
                )
            finally:
                index.unlink(missing_ok=True)
                (self.stack_dir(stack) / PLAN_FILE).unlink(missing_ok=True)
        return Result(stack, code == 0, f"{output}\n{applied}".strip(), time.monotonic() - started, changes)

    # --- the API ----------------------------------------------------------------------------------

    def apply(
        self,
        stack: str,
        vars: dict[str, str] | None = None,
        replace: list[str] | None = None,
        targets: list[str] | None = None,
    ) -> Result:
        """`terraform plan -out` then `terraform apply` of that plan (`-replace`/`-target` as given)."""
        extra = [f"-replace={address}" for address in replace or []]
        extra += [f"-target={address}" for address in targets or []]
        return self._apply_plan(stack, extra, vars)

    def destroy(self, stack: str, lift_prevent_destroy: bool = False) -> Result:
        """`terraform plan -destroy` then apply; the result's `changes` are not listed (`complete` is False).
        Resources with `prevent_destroy` make it fail, as they should; `lift_prevent_destroy` removes that guard
        from this session's copy of the configuration (for a drill that must end with empty state)."""
        return self._apply_plan(stack, ["-destroy"], None, lift_prevent_destroy)

    def plan(self, stack: str, vars: dict[str, str] | None = None) -> Changes:
        """What `terraform plan` would change now (with refresh): empty after a converged apply."""
        self._prepare(stack, vars)
        with self._lane(stack) as env:
            _code, output, changes = self._plan(stack, env, [])
        if changes is None:
            raise OfflineApplyError(f"{stack}: terraform plan failed:\n{output}")
        return changes

    def refresh(self, stack: str) -> Result:
        started = time.monotonic()
        self._prepare(stack, None)
        args = ["apply", "-refresh-only", "-input=false", "-lock=false", "-no-color", "-auto-approve"]
        with self._lane(stack) as env:
            code, output = self._terraform(stack, args, env)
        return Result(stack, code == 0, output, time.monotonic() - started)

    def state(self, stack: str) -> dict[str, Any]:
        """The stack's state in `terraform show -json`'s shape (`values.outputs`, `values.root_module.resources`
        with address, mode, type, name, values), read from the local state file ({} before the first apply)."""
        text = self.state_text(stack)
        return state_document(json.loads(text)) if text else {}

    def state_text(self, stack: str) -> str:
        """The raw local state file (to search for values that must never be in it)."""
        path = self.stack_dir(stack) / STATE_FILE
        return path.read_text() if path.exists() else ""

    def resources(self, stack: str) -> list[str]:
        """Addresses of the managed resources in the stack's state."""
        values = self.state(stack).get("values") or {}
        return sorted(
            resource["address"]
            for resource in (values.get("root_module") or {}).get("resources", [])
            if resource.get("mode") == "managed"
        )

    def store(self, cloud: str) -> SecretStore:
        return SecretStore(self.offline_dir, cloud)

    def secret_value(self, cloud: str, name: str, version: str | None = None) -> str | None:
        """What a workload reads: the current value (or the given version id / stage) of the named secret."""
        return self.store(cloud).get(name, version)

    def put_secret(
        self, cloud: str, name: str, value: str, version: str | None = None, stages: list[str] | None = None
    ) -> str:
        """A new version put out of band, as an operator would; returns its version id."""
        return self.store(cloud).put(name, value, version=version, stages=stages)

    def fail_next(self, resource_address: str, times: int = 1) -> None:
        """The next `times` creates/updates of the resource fail (`<address>` or `<stack>:<address>`)."""
        inject_failure(self.offline_dir, resource_address, times)

    def cli_calls(self) -> list[dict[str, Any]]:
        path = self.offline_dir / "cli-calls.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
