"""Alibaba Cloud rotation: a version bump re-pulls the secret on every gateway instance and nothing else moves.

A provider key's `version` (value put in KMS out of band as `v<version>`) is part of the runtime document the
deploy invocations carry, so a bump replaces exactly those invocations: each instance re-reads its secrets at
the new version and restarts, one after the other. The secret itself is untouched (the old version stays
readable), no instance is replaced or rebooted, the migration does not re-run, and the quotas stack (agents)
does not change. The master key and the DB password rotate through the same path.
"""

from __future__ import annotations

import json

import cdktf
import pytest

from constructs_lib.config import load_environment
from stacks.alicloud.gateway import AlicloudGatewayStack
from stacks.context import StackContext
from tests.conftest import CONFIG_DIR
from tests.test_rotation import _bump, _changed, _stack_json


def _gateway(config) -> dict:
    context = StackContext(f"alicloud-{config.env}", "alicloud", "gateway", CONFIG_DIR / "dev.yaml", config)
    return json.loads(cdktf.Testing.synth(AlicloudGatewayStack(cdktf.App(), context)))


def _invocations(stack: dict, mode: str) -> dict[str, dict]:
    return {
        name: body
        for name, body in stack["resource"]["alicloud_ecs_invocation"].items()
        if body["parameters"]["mode"] == mode
    }


def _with_secrets(config, **versions: int):
    alicloud = config.clouds.alicloud
    secrets = alicloud.secrets.model_copy(update=versions)
    clouds = config.clouds.model_copy(update={"alicloud": alicloud.model_copy(update={"secrets": secrets})})
    return config.model_copy(update={"clouds": clouds})


@pytest.fixture(scope="module")
def dev():
    return load_environment(CONFIG_DIR / "dev.yaml")


@pytest.fixture(scope="module")
def before(dev):
    return _gateway(dev)


def test_provider_key_bump_redeploys_every_instance_at_the_new_version_only(dev, before):
    after = _gateway(_bump(dev, "openai"))
    changed = _changed(before, after)
    deploys = set(_invocations(before, "deploy"))
    assert len(deploys) == 2
    assert set(changed) == {("alicloud_ecs_invocation", name) for name in deploys}, changed
    for name in deploys:
        old, new = (
            stack["resource"]["alicloud_ecs_invocation"][name]["parameters"]["runtime"] for stack in (before, after)
        )
        assert '"OPENAI_API_KEY" = {"name" = "acme-dev-provider-openai", "version" = "v1"}' in old
        assert '"OPENAI_API_KEY" = {"name" = "acme-dev-provider-openai", "version" = "v2"}' in new
    # Not touched: the KMS secret (old version stays readable), the instances (no reboot), the migration.
    assert ("alicloud_kms_secret", next(iter(before["resource"]["alicloud_kms_secret"]))) not in changed
    assert not {kind for kind, _ in changed} & {"alicloud_kms_secret", "alicloud_instance", "alicloud_alb_server_group"}


@pytest.mark.parametrize(
    ("field", "secret", "migrates"),
    [("master_key_version", "master-key", False), ("database_password_version", "db-password", True)],
)
def test_master_key_and_database_password_rotate_the_same_way(dev, before, field, secret, migrates):
    after = _gateway(_with_secrets(dev, **{field: 2}))
    changed = dict.fromkeys(kind for kind, _ in _changed(before, after))
    secrets = {
        name: body
        for name, body in after["resource"]["alicloud_kms_secret"].items()
        if body["secret_name"].endswith(secret)
    }
    (name,) = secrets
    assert secrets[name]["version_id"] == "v2"
    assert ("alicloud_kms_secret", name) in _changed(before, after)
    assert "alicloud_instance" not in changed
    migrate = set(_invocations(before, "migrate"))
    assert (
        bool(migrate & {name for kind, name in _changed(before, after) if kind == "alicloud_ecs_invocation"})
        is migrates
    )
    assert set(_invocations(before, "deploy")) <= {name for kind, name in _changed(before, after)}


def test_a_release_change_re_runs_the_migration(dev, before):
    models = [
        model.model_copy(update={"name": f"{model.name}-v2"}) if model.name == "gpt-4o" else model
        for model in dev.models
    ]
    after = _gateway(dev.model_copy(update={"models": models}))
    changed = {name for kind, name in _changed(before, after) if kind == "alicloud_ecs_invocation"}
    assert set(_invocations(before, "migrate")) <= changed


def test_agents_are_untouched_by_a_provider_key_bump(dev):
    assert (
        _changed(_stack_json("alicloud", "quotas", dev), _stack_json("alicloud", "quotas", _bump(dev, "openai"))) == []
    )
