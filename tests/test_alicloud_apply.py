"""What a real `terraform apply` of `alicloud-<env>` needs beyond the offline checks: each rule from its source.

Provider rules cite aliyun/terraform-provider-alicloud at tag v1.289.0 (file:line); documentation rules cite the
Alibaba Cloud page's address.
"""

from __future__ import annotations

import re

import pytest

from constructs_lib._common.errors import PropsError
from tests.test_alicloud_gateway import _load, _runtime_module, _synth, only, resources


def _seconds(duration: str) -> int:
    """A Terraform duration (Go time.ParseDuration: `1h5m`, `3900s`) in seconds."""
    units = {"h": 3600, "m": 60, "s": 1}
    parts = re.fullmatch(r"(?:\d+[hms])+", duration) and re.findall(r"(\d+)([hms])", duration)
    assert parts, duration
    return sum(int(number) * units[unit] for number, unit in parts)


@pytest.fixture(scope="module")
def dev_stack(tmp_path_factory) -> dict:
    return _synth(_load(tmp_path_factory.mktemp("dev"), {}))


# --- 1. Cloud Assistant invocations wait as long as the command runs ----------------------------------------


def test_each_invocation_waits_for_the_whole_command_not_the_providers_one_minute(dev_stack):
    # resource_alicloud_ecs_invocation.go:21 (v1.289.0): `Create: schema.DefaultTimeout(1 * time.Minute)`, and
    # :136 waits within that timeout for InvocationStatus `Success` (or `Scheduled`), failing on a timeout.
    # The command runs install (pip), then migrate (prisma) or restart (readiness wait): minutes, not one.
    command = only(dev_stack, "alicloud_ecs_command")
    invocations = resources(dev_stack, "alicloud_ecs_invocation")
    assert invocations
    for name, body in invocations.items():
        assert "timeouts" in body, f"{name}: no timeouts, so the provider gives up after one minute"
        assert _seconds(body["timeouts"]["create"]) > command["timeout"], (name, body["timeouts"])
    waits = _runtime_module().STEP_WAITS
    for mode in {body["parameters"]["mode"] for body in invocations.values()}:
        # The steps this mode runs, each up to its own bound in the runtime script.
        steps = waits["credentials"] + waits["install"] + (waits["migrate"] if mode == "migrate" else waits["ready"])
        assert command["timeout"] >= steps, (mode, command["timeout"], steps)


def test_a_command_timeout_shorter_than_the_steps_waits_is_refused(tmp_path):
    config = _load(tmp_path, {"migrations": {"timeout_seconds": 1800}})
    with pytest.raises(PropsError) as caught:
        _synth(config)
    assert caught.value.field == "clouds.alicloud.migrations.timeout_seconds"
    assert "step waits" in caught.value.problem


# --- 2. Secrets need a key inside a KMS instance ----------------------------------------------------------------

CREATE_SECRET = "https://www.alibabacloud.com/help/en/kms/developer-reference/api-createsecret"


def _quotas_stack(config) -> dict:
    import json

    import cdktf

    from stacks.alicloud.quotas import AlicloudQuotasStack
    from stacks.context import StackContext
    from tests.conftest import CONFIG_DIR

    context = StackContext(f"alicloud-{config.env}-quotas", "alicloud", "quotas", CONFIG_DIR / "dev.yaml", config)
    return json.loads(cdktf.Testing.synth(AlicloudQuotasStack(cdktf.Testing.app(), context, "https://gw.example")))


def test_every_kms_key_lives_in_the_configured_kms_instance(dev_stack, tmp_path):
    # CREATE_SECRET: "The key and the secret must belong to the same KMS instance, and the key must be a symmetric
    # key." A key created without DKMSInstanceId is a default key, outside any instance: CreateSecret refuses it.
    config = _load(tmp_path, {})
    for stack in (dev_stack, _quotas_stack(config)):
        keys = resources(stack, "alicloud_kms_key")
        assert keys
        for name, body in keys.items():
            assert "dkms_instance_id" in body, f"{name}: a default key, in no KMS instance ({CREATE_SECRET})"
            assert body["dkms_instance_id"] == config.cloud("alicloud").secrets.kms_instance_id


def test_a_missing_kms_instance_is_a_clear_config_error(tmp_path):
    from constructs_lib.config import ConfigError

    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, {"secrets": {"kms_instance_id": None}})
    assert caught.value.path == "clouds.alicloud.secrets.kms_instance_id"
    assert "KMS instance" in caught.value.problem and caught.value.line is not None
