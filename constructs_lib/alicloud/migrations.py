"""Releases and rotations, Terraform-natively: one Cloud Assistant command, run by `alicloud_ecs_invocation`s.

The command (`alicloud_ecs_command`, parameters on) writes the instance runtime (`assets/llmgw_runtime.py`)
and its systemd unit, writes the runtime document it is given to /etc/llmgw/runtime.json, installs the release
it names (hash-checked from OSS) and then either migrates the database or restarts the gateway. Invocations are
ForceNew on their parameters (and on the command, so a runtime change re-runs them all), so:

* **migrate** runs once on the first instance, keyed on the release (LiteLLM version, requirements and config
  digests) and the database password version: a new LiteLLM release re-runs `prisma migrate deploy` before any
  instance serves it; nothing else does.
* **deploy** runs on each instance in turn (each after the previous one is ready again, so the ALB always has a
  healthy server), after the migration, keyed on the full runtime document: a release or a secret version bump
  (provider key, master key, DB or Redis password) re-runs it, and the instance re-reads its secrets from KMS at
  the new versions. Agents hold only their virtual keys and are not touched.

The ALB registers the instances only after their first deploy: no traffic before the migration.
"""

from __future__ import annotations

import base64
import gzip
import importlib.util
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cdktf import Fn, ITerraformDependable
from constructs import Construct

from constructs_lib._common.errors import PropsError
from constructs_lib._common.naming import Naming
from constructs_lib.config.alicloud import AlicloudMigrationsConfig
from imports.alicloud.ecs_command import EcsCommand
from imports.alicloud.ecs_invocation import EcsInvocation, EcsInvocationTimeouts

RUNTIME_SCRIPT = Path(__file__).resolve().parent / "assets" / "llmgw_runtime.py"
# Cloud Assistant's limit on a command's base64-encoded content (tests keep the command under it).
COMMAND_CONTENT_LIMIT = 16 * 1024
# How long the command waits for cloud-init (the bootstrap's apt-get) before it gives up.
BOOT_WAIT_SECONDS = 600
# Cloud Assistant delivering the command to the instance's agent, plus the provider's 5 s status polling
# (resource_alicloud_ecs_invocation.go:136 at v1.289.0): added to the command's own timeout.
DISPATCH_SECONDS = 300

UNIT = """[Unit]
Description=LiteLLM gateway (provider keys read from KMS into memory)
After=network-online.target
Wants=network-online.target

[Service]
User=litellm
Group=litellm
Environment=HOME=/var/lib/llmgw
WorkingDirectory=/var/lib/llmgw
# The request log (assets/llmgw_request_log.py) writes here; Logtail collects it (constructs_lib/alicloud/logs.py).
LogsDirectory=llmgw
LogsDirectoryMode=0750
ExecStart=/usr/bin/python3 /opt/llmgw/runtime.py serve
Restart=always
RestartSec=5
LimitCORE=0
NoNewPrivileges=yes
PrivateTmp=yes
ProtectHome=yes
ProtectSystem=full

[Install]
WantedBy=multi-user.target
"""


def deploy_script() -> str:
    """The command every invocation runs: write the runtime and its unit, then install, then migrate or restart.

    `{{mode}}` and `{{runtime}}` are Cloud Assistant parameters; both are generated (mode is a fixed word, runtime
    base64), so neither can break out of its quotes. The runtime script travels gzip + base64 (no `{{` either way).
    """
    runtime = RUNTIME_SCRIPT.read_text()
    if "{{" in runtime:
        raise PropsError("assets/llmgw_runtime.py", "must not contain `{{` (Cloud Assistant parameter syntax)")
    # Compressed (mtime 0: the same bytes every synth), so the command stays under Cloud Assistant's size limit.
    packed = base64.b64encode(gzip.compress(runtime.encode("utf-8"), mtime=0)).decode("ascii")
    return f"""#!/bin/bash
set -euo pipefail
umask 022
timeout {BOOT_WAIT_SECONDS} cloud-init status --wait >/dev/null 2>&1 || true
test -f /opt/llmgw/.bootstrapped
printf '%s' '{packed}' | base64 -d | gunzip > /opt/llmgw/runtime.py
cat > /etc/systemd/system/llmgw.service <<'LLMGW_UNIT'
{UNIT}LLMGW_UNIT
systemctl daemon-reload
printf '%s' '{{{{runtime}}}}' | base64 -d > /etc/llmgw/runtime.json.new
mv /etc/llmgw/runtime.json.new /etc/llmgw/runtime.json
python3 /opt/llmgw/runtime.py install
case '{{{{mode}}}}' in
  migrate) runuser -u litellm -- env HOME=/var/lib/llmgw python3 /opt/llmgw/runtime.py migrate ;;
  deploy) python3 /opt/llmgw/runtime.py restart ;;
  *) echo "unknown mode" >&2; exit 2 ;;
esac
"""


def _runtime_module():
    spec = importlib.util.spec_from_file_location("llmgw_runtime", RUNTIME_SCRIPT)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def command_seconds(mode: str, document: Mapping[str, Any]) -> int:
    """The longest one run of the command can take in `mode`, from the runtime's own step bounds.

    Each wait loop may overrun its deadline by one attempt (its requests plus one pause).
    """
    runtime = _runtime_module()
    waits, requests, pause = runtime.STEP_WAITS, runtime.REQUEST_TIMEOUTS, runtime.RETRY_SECONDS
    credentials = waits["credentials"] + 2 * requests["metadata"] + pause
    objects = sum(1 for name in ("config", "requirements", "redis_ca", "request_log") if document.get(name))
    objects += len(document.get("hooks", ()))
    total = BOOT_WAIT_SECONDS + credentials + objects * requests["oss"] + waits["install"]
    if document.get("request_log"):
        # Logtail: the installer's download and run, then `ilogtaild` status, start and status again.
        total += requests["logtail"] + waits["logtail"] + 3 * requests["logtail"]
    if document.get("database"):
        total += waits["prisma"]
    if mode == "migrate":
        return total + credentials + len(document["secrets"]) * requests["kms"] + waits["migrate"]
    return total + requests["redis"] + waits["ready"] + requests["health"] + pause


def runtime_parameter(document: Mapping[str, Any]) -> str:
    """The runtime document as Cloud Assistant receives it: base64 of its JSON (evaluated by Terraform)."""
    return Fn.base64encode(Fn.jsonencode(document))


@dataclass(frozen=True)
class GatewayDeploymentProps:
    naming: Naming
    config: AlicloudMigrationsConfig
    instance_ids: Sequence[str]
    # What the migration needs (only the database secret) and what each instance runs on (every secret).
    migrate_runtime: Mapping[str, Any]
    deploy_runtime: Mapping[str, Any]
    depends_on: Sequence[ITerraformDependable] = ()

    def __post_init__(self) -> None:
        if len(self.instance_ids) < 2:
            raise PropsError("clouds.alicloud.gateway.instances_per_zone", "deploy needs at least two instances")
        if set(self.migrate_runtime["secrets"]) - {"DATABASE_PASSWORD"}:
            raise PropsError("migrate_runtime", "the migration reads the database secret only")
        needed = max(command_seconds("migrate", self.migrate_runtime), command_seconds("deploy", self.deploy_runtime))
        if self.config.timeout_seconds < needed:
            raise PropsError(
                "clouds.alicloud.migrations.timeout_seconds",
                f"{self.config.timeout_seconds} s is shorter than the deploy command's own step waits ({needed} s)",
            )

    @property
    def invocation_timeouts(self) -> EcsInvocationTimeouts:
        """The provider waits for `Success` within the create timeout, one minute by default
        (resource_alicloud_ecs_invocation.go:21 and :136 at v1.289.0): the command's timeout plus the dispatch."""
        return EcsInvocationTimeouts(create=f"{self.config.timeout_seconds + DISPATCH_SECONDS}s")


class GatewayDeployment(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: GatewayDeploymentProps) -> None:
        super().__init__(scope, construct_id)
        self.command = EcsCommand(
            self,
            "command",
            name=props.naming.name("llmgw-deploy"),
            description="Install the LLM gateway release, then migrate the database or restart the gateway",
            type="RunShellScript",
            # Cloud Assistant takes the content base64-encoded. Encoded here, not with Terraform's base64encode():
            # the script (Python source with backslash escapes) cannot pass through an HCL string unchanged.
            command_content=base64.b64encode(deploy_script().encode("utf-8")).decode("ascii"),
            enable_parameter=True,
            timeout=props.config.timeout_seconds,
            working_dir="/root",
        )
        self.migration = EcsInvocation(
            self,
            "migrate",
            command_id=self.command.id,
            instance_id=[props.instance_ids[0]],
            repeat_mode="Once",
            parameters={"mode": "migrate", "runtime": runtime_parameter(props.migrate_runtime)},
            depends_on=list(props.depends_on),
            timeouts=props.invocation_timeouts,
        )
        self.deploys: list[EcsInvocation] = []
        previous: ITerraformDependable = self.migration
        deploy_runtime = runtime_parameter(props.deploy_runtime)
        for index, instance_id in enumerate(props.instance_ids):
            deploy = EcsInvocation(
                self,
                f"deploy-{index + 1}",
                command_id=self.command.id,
                instance_id=[instance_id],
                repeat_mode="Once",
                parameters={"mode": "deploy", "runtime": deploy_runtime},
                depends_on=[previous],
                timeouts=props.invocation_timeouts,
            )
            self.deploys.append(deploy)
            previous = deploy
