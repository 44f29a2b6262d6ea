"""An AWS rollback (ECS circuit breaker, or a task started from the previous revision) still finds its proxy config.

The rules, from hashicorp/terraform-provider-aws internal/service/s3/object.go: `key` is ForceNew (a changed key
replaces the object), `content` is updated in place (PutObject: a new version on a versioned bucket), and
resourceObjectDelete on a versioned object calls deleteAllObjectVersions, so replacing a content-addressed object
removes every version of the old key and the old revision's fetch gets NoSuchKey. The stack therefore keeps one key,
pins each task definition to the object's `version_id`, and lets the bucket's noncurrent-version expiry bound the
rollback window.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path

import yaml

from constructs_lib._common.litellm_config import CONFIG_SHA_ENV
from tests.test_aws_gateway import _FAKE_BOTO3, containers, named, policy_statements, resources, task_definition
from tests.test_aws_stack_options import DEV, _synth
from tests.test_aws_stack_options import _load as load_aws


def _two_revisions(tmp_path: Path) -> tuple[dict, dict]:
    """The dev stack before and after a change of the model list (a new proxy config)."""
    from constructs_lib.config import load_environment

    before = _synth(load_aws(tmp_path, {}))
    changed = copy.deepcopy(DEV)
    # A newer dated model behind the same name: a new proxy config, nothing else.
    changed["models"][1]["litellm_model"] = "openai/gpt-4o-2024-11-20"
    path = tmp_path / "changed" / "dev.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(changed, sort_keys=False))
    return before, _synth(load_environment(path))


def _env(container: dict) -> dict[str, str]:
    return {item["name"]: item["value"] for item in container["environment"]}


def test_a_changed_config_is_a_new_version_of_the_same_object_not_a_replacement(tmp_path):
    before, after = _two_revisions(tmp_path)
    ((name_before, object_before),) = resources(before, "aws_s3_object").items()
    ((name_after, object_after),) = resources(after, "aws_s3_object").items()
    assert object_before["content"] != object_after["content"]
    # Same resource, same key (ForceNew), so Terraform updates the content in place.
    assert name_before == name_after and object_before["key"] == object_after["key"]
    assert object_before["bucket"] == object_after["bucket"]


def test_every_task_definition_pins_the_config_version_it_was_written_with(tmp_path):
    before, _ = _two_revisions(tmp_path)
    (name,) = resources(before, "aws_s3_object")
    for component in ("gateway", "backend"):
        env = _env(containers(before)[component])
        assert env["LITELLM_PROXY_CONFIG_S3_VERSION"] == f"${{aws_s3_object.{name}.version_id}}"
        (command,) = containers(before)[component]["command"]
        assert "'VersionId': e['LITELLM_PROXY_CONFIG_S3_VERSION']" in command
    # Reading a given version needs s3:GetObjectVersion (GetObject alone reads the current one).
    _, task = task_definition(before, "gateway")
    actions = {
        action for statement in policy_statements(before, task["task_role_arn"]) for action in statement["actions"]
    }
    assert {"s3:GetObject", "s3:GetObjectVersion"} <= actions


def test_the_previous_revision_still_starts_after_the_config_changed(tmp_path):
    """Run the old revision's fetch for real after the new version was written: it gets its own document."""
    before, after = _two_revisions(tmp_path)
    ((_, old_object),) = resources(before, "aws_s3_object").items()
    ((_, new_object),) = resources(after, "aws_s3_object").items()
    store = tmp_path / "s3"
    store.mkdir()
    # The bucket after the apply: the new version is current, the old one noncurrent (versioned bucket).
    (store / "version-1").write_text(old_object["content"])
    (store / "version-2").write_text(new_object["content"])
    (store / "latest").write_text(new_object["content"])
    (tmp_path / "boto3.py").write_text(_FAKE_BOTO3)
    old_gateway = containers(before)["gateway"]
    (command,) = old_gateway["command"]
    fetch = command.split(" && exec ")[0]
    env = _env(old_gateway)
    run_env = {
        "PATH": f"{os.path.dirname(sys.executable)}:{os.environ['PATH']}",
        "PYTHONPATH": str(tmp_path),
        "AWS_REGION": "us-east-1",
        "FAKE_S3_DIR": str(store),
        "LITELLM_PROXY_CONFIG_S3_BUCKET": env["LITELLM_PROXY_CONFIG_S3_BUCKET"],
        "LITELLM_PROXY_CONFIG_S3_OBJECT": env["LITELLM_PROXY_CONFIG_S3_OBJECT"],
        # The version id Terraform recorded for the old revision.
        "LITELLM_PROXY_CONFIG_S3_VERSION": "version-1",
        "CONFIG_FILE_PATH": str(tmp_path / "litellm" / "proxy_config.yaml"),
        CONFIG_SHA_ENV: env[CONFIG_SHA_ENV],
    }
    started = subprocess.run(["sh", "-c", fetch], env=run_env, capture_output=True, text=True, timeout=60, check=False)
    assert started.returncode == 0, started.stderr
    assert (tmp_path / "litellm" / "proxy_config.yaml").read_text() == old_object["content"]


def test_noncurrent_config_versions_are_kept_for_a_rollback_window_then_expire(tmp_path):
    before, _ = _two_revisions(tmp_path)
    _, lifecycle = named(before, "aws_s3_bucket_lifecycle_configuration", "/bucket/")
    (rule,) = [item for item in lifecycle["rule"] if item.get("noncurrent_version_expiration")]
    assert rule["status"] == "Enabled"
    assert rule["noncurrent_version_expiration"][0]["noncurrent_days"] >= 30
