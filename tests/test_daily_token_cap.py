"""The daily token cap hook (constructs_lib/_common/assets/llmgw_daily_tokens.py) ships on all three gateways.

Its behaviour is tested against the real LiteLLM proxy in tests/test_quotas.py (a burst under the cap passes, the
cap refuses). Here: every cloud's gateway stack puts the exact hook file where its LiteLLM loads it from, and its
start refuses a file with another digest.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from constructs_lib._common.litellm_config import DAILY_CAP_CALLBACK, DAILY_CAP_HOOK
from constructs_lib.gcp.proxy_config import CHECK_COMMAND, HOOK_DIGESTS_ENV


def _resources(stack: dict, kind: str) -> dict:
    return stack["resource"].get(kind, {})


def test_the_proxy_config_names_the_hook_that_ships_beside_it():
    assert DAILY_CAP_HOOK.name.removesuffix(".py") + ".daily_token_cap" == DAILY_CAP_CALLBACK


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_aws_ships_the_hook_as_an_s3_object_the_tasks_fetch(synthesized, env):
    stack = synthesized[f"aws-{env}"]
    objects = {body["key"]: body for body in _resources(stack, "aws_s3_object").values()}
    assert objects[DAILY_CAP_HOOK.object_key]["content"] == DAILY_CAP_HOOK.text
    for definition in _resources(stack, "aws_ecs_task_definition").values():
        for container in json.loads(definition["container_definitions"]):
            environment = {item["name"]: item["value"] for item in container.get("environment", [])}
            if "CONFIG_FILE_PATH" in environment:
                (reference, version, name, digest) = environment["LLMGW_PROXY_HOOKS"].split("|")
                assert reference.startswith("${aws_s3_object.") and name == DAILY_CAP_HOOK.name
                assert version == reference.replace(".key}", ".version_id}")
                assert digest == DAILY_CAP_HOOK.sha256


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_gcp_ships_the_hook_as_a_pinned_secret_on_pythonpath(synthesized, env):
    stack = synthesized[f"gcp-{env}"]
    versions = [body for body in _resources(stack, "google_secret_manager_secret_version").values()]
    assert any(body.get("secret_data") == DAILY_CAP_HOOK.text for body in versions)
    services = {
        name: body for name, body in _resources(stack, "google_cloud_run_v2_service").items() if "gateway" in name
    }
    assert services
    for service in services.values():
        container = service["template"]["containers"][0]
        environment = {item["name"]: item.get("value") for item in container["env"]}
        assert environment["PYTHONPATH"] == "/etc/litellm/proxy-hooks/llmgw_daily_tokens"
        assert environment[HOOK_DIGESTS_ENV] == (
            f"/etc/litellm/proxy-hooks/llmgw_daily_tokens/{DAILY_CAP_HOOK.name}|sha256:{DAILY_CAP_HOOK.sha256}"
        )
        mounts = {mount["mount_path"] for mount in container["volume_mounts"]}
        assert "/etc/litellm/proxy-hooks/llmgw_daily_tokens" in mounts


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_alicloud_ships_the_hook_in_the_release_the_instances_install(synthesized, env):
    stack = synthesized[f"alicloud-{env}"]
    objects = {body["key"]: body for body in _resources(stack, "alicloud_oss_bucket_object").values()}
    (key,) = [key for key in objects if key.endswith("/" + DAILY_CAP_HOOK.name)]
    assert objects[key]["content"] == DAILY_CAP_HOOK.text
    assert f'"key": "{key}"' in json.dumps(stack).replace('\\"', '"'), "the runtime document names the object"


def test_gcp_start_refuses_a_hook_with_another_digest(tmp_path):
    config, hook = tmp_path / "config.yaml", tmp_path / DAILY_CAP_HOOK.name
    config.write_text("model_list: []\n")
    hook.write_text(DAILY_CAP_HOOK.text)
    import hashlib

    env = {
        "PATH": "/usr/bin:/bin",
        "CONFIG_FILE_PATH": str(config),
        "LITELLM_PROXY_CONFIG_SHA256": "sha256:" + hashlib.sha256(config.read_bytes()).hexdigest(),
        HOOK_DIGESTS_ENV: f"{hook}|sha256:{DAILY_CAP_HOOK.sha256}",
    }
    command = CHECK_COMMAND.replace("python -c", "python3 -c", 1)
    passed = subprocess.run(["sh", "-c", command], env=env, capture_output=True, text=True, timeout=60)
    assert passed.returncode == 0, passed.stderr
    hook.write_text(DAILY_CAP_HOOK.text + "\n# changed\n")
    refused = subprocess.run(["sh", "-c", command], env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1 and "proxy config digest mismatch" in refused.stderr
    assert str(hook) in refused.stderr
