"""Adding a provider key to an environment, first apply and live, on AWS and GCP: an offline-apply sequence.

The rule being kept: a gateway revision may only reference a secret version that exists. Cloud Run refuses a
revision whose `secret_key_ref` names a missing version (the service, and the NEG, backend service and URL map
behind it, are then never created), and ECS cannot start a task whose `valueFrom` label resolves to nothing (the
circuit breaker rolls back). The path the stacks give (README, "Adding a provider key"): a key enters the
configuration with `version: 0` (its secret is created; nothing references it; its models are not routed), its
value is put in out of band, then `version: 1` routes it. The same path is the first apply of a new environment.

Each step synthesizes the real gateway stack from the dev example (one-off tasks not auto-run: the stand-in cloud
CLIs are not part of the harness yet) and applies it with the real Terraform against the stand-in providers
(tools/offline_apply); after every apply, every secret version the gateway's revision references is looked up in
the stand-in secret store.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from constructs_lib.config import load_environment
from constructs_lib.config.loader import LoadedEnvironment
from tests.conftest import CONFIG_DIR
from tools.offline_apply import OfflineApply

pytestmark = pytest.mark.drill

DEV = yaml.safe_load((CONFIG_DIR / "dev.yaml").read_text())
NEW_KEY = {"name": "mistral", "env_var": "MISTRAL_API_KEY", "description": "Mistral La Plateforme"}
NEW_MODEL = {"name": "mistral-large", "litellm_model": "mistral/mistral-large-latest", "provider_key": "mistral"}


def _synth(tmp_path: Path, out_dir: Path, cloud: str, versions: dict[str, int], with_new_key: bool) -> dict:
    import main
    from stacks.catalog import stack_specs

    data = copy.deepcopy(DEV)
    data["clouds"][cloud].setdefault("migrations", {})["auto_run"] = False
    if with_new_key:
        data["provider_keys"].append(dict(NEW_KEY))
        data["models"].append(dict(NEW_MODEL))
    for key in data["provider_keys"]:
        key["version"] = versions.get(key["name"], key.get("version", 1))
    path = tmp_path / "config" / "dev.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    config = load_environment(path)
    stack = f"{cloud}-dev"
    main.synthesize(main.select(stack_specs([LoadedEnvironment(path, config)]), stack), out_dir, jobs=1)
    return json.loads((out_dir / "stacks" / stack / "cdk.tf.json").read_text())


def _resources(harness: OfflineApply, stack: str, kind: str) -> list[dict[str, Any]]:
    found = harness.state(stack)["values"]["root_module"]["resources"]
    return [item["values"] for item in found if item["type"] == kind and item["mode"] == "managed"]


def _aws_references(harness: OfflineApply) -> list[tuple[str, str, str]]:
    """(env var, secret ARN, stage or version id) of every Secrets Manager reference of the gateway container."""
    references = []
    for task in _resources(harness, "aws-dev", "aws_ecs_task_definition"):
        if not task["family"].endswith("-gateway"):
            continue
        for container in json.loads(task["container_definitions"]):
            for item in container.get("secrets", []):
                parts = item["valueFrom"].split(":")
                if parts[2] != "secretsmanager":
                    continue
                arn, (_json_key, stage, version_id) = ":".join(parts[:7]), parts[7:10]
                references.append((item["name"], arn, stage or version_id))
    return references


def _gcp_references(harness: OfflineApply) -> list[tuple[str, str, str]]:
    """(env var, secret, version) of every Secret Manager reference of the gateway service's containers."""
    references = []
    for service in _resources(harness, "gcp-dev", "google_cloud_run_v2_service"):
        if not service["name"].endswith("-gateway"):
            continue
        for template in service["template"]:
            for container in template["containers"]:
                for env in container.get("env") or []:
                    for source in env.get("value_source") or []:
                        for ref in source.get("secret_key_ref") or []:
                            references.append((env["name"], ref["secret"], ref["version"]))
    return references


def _assert_every_reference_exists(harness: OfflineApply, cloud: str, step: str) -> list[str]:
    references = _aws_references(harness) if cloud == "aws" else _gcp_references(harness)
    assert references, f"{step}: the gateway references no secret at all"
    store = harness.store(cloud)
    for env_var, secret, version in references:
        found = store.describe(secret, version)
        assert found is not None and found["state"] == "ENABLED", f"{step}: {env_var} -> {secret} {version}: missing"
    return sorted(env_var for env_var, _, _ in references)


def _secret_of(harness: OfflineApply, cloud: str, key: str) -> str:
    """The name a value is put in under (aws: the secret name; gcp: projects/<p>/secrets/<id>)."""
    if cloud == "aws":
        (secret,) = [
            s
            for s in _resources(harness, "aws-dev", "aws_secretsmanager_secret")
            if s["name"].endswith(f"-provider-{key}")
        ]
        return secret["name"]
    (secret,) = [
        s
        for s in _resources(harness, "gcp-dev", "google_secret_manager_secret")
        if s["secret_id"].endswith(f"-provider-{key}")
    ]
    return secret["id"]


def _put(harness: OfflineApply, cloud: str, key: str, version: int) -> None:
    """As the README runbook does: aws `put-secret-value --version-stages AWSCURRENT v<n>`; gcp `versions add`."""
    name = _secret_of(harness, cloud, key)
    value = f"drill-{key}-value-{version}"
    if cloud == "aws":
        harness.put_secret("aws", name, value, stages=["AWSCURRENT", f"v{version}"])
    else:
        assert harness.put_secret("gcp", name, value) == str(version)


@pytest.mark.parametrize("cloud", ["aws", "gcp"])
def test_first_apply_then_adding_a_key_never_references_a_missing_version(cloud, tmp_path):
    keys = [key["name"] for key in DEV["provider_keys"]]
    out_dir = tmp_path / "cdktf.out"
    stack = f"{cloud}-dev"
    with OfflineApply(out_dir=out_dir, work_dir=tmp_path / "work") as harness:
        # 1. First apply of a new environment: every key at version 0 (no secret exists before this apply).
        _synth(tmp_path, out_dir, cloud, dict.fromkeys(keys, 0), with_new_key=False)
        harness.apply(stack).check()
        env_vars = _assert_every_reference_exists(harness, cloud, "first apply")
        assert not any(name.endswith("_API_KEY") for name in env_vars), env_vars
        # 2. The values go in out of band, then version 1 routes them.
        for key in keys:
            _put(harness, cloud, key, 1)
        _synth(tmp_path, out_dir, cloud, dict.fromkeys(keys, 1), with_new_key=False)
        harness.apply(stack).check()
        env_vars = _assert_every_reference_exists(harness, cloud, "keys routed")
        assert {f"{key.upper()}_API_KEY" for key in keys} <= set(env_vars)
        # 3. Live: a new key and a model on it, at version 0.
        _synth(tmp_path, out_dir, cloud, {"mistral": 0}, with_new_key=True)
        harness.apply(stack).check()
        assert "MISTRAL_API_KEY" not in _assert_every_reference_exists(harness, cloud, "key added")
        # 4. Its value, then version 1.
        _put(harness, cloud, "mistral", 1)
        _synth(tmp_path, out_dir, cloud, {"mistral": 1}, with_new_key=True)
        harness.apply(stack).check()
        assert "MISTRAL_API_KEY" in _assert_every_reference_exists(harness, cloud, "key routed")
        assert harness.plan(stack).empty
