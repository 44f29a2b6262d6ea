"""Rotation on AWS: a version bump in config rolls exactly the ECS services that read the secret, agents untouched.

A bump changes the `v<n>` staging label in the task definition's `valueFrom`, so the next apply registers a new
task definition revision and ECS rolls the service onto it (circuit breaker with rollback); the quotas stack, which
holds the agents' keys, does not change at all.
"""

from __future__ import annotations

import json

import pytest

from tests.test_aws_gateway import path_of
from tests.test_rotation import _bump, _changed, _stack_json


def _aws_secrets(config, **versions: int):
    aws = config.clouds.aws
    secrets = aws.secrets.model_copy(update=versions)
    clouds = config.clouds.model_copy(update={"aws": aws.model_copy(update={"secrets": secrets})})
    return config.model_copy(update={"clouds": clouds})


def _families(stack: dict, changed: list[tuple[str, str]], kind: str) -> set[str]:
    return {path_of(name, stack["resource"][kind][name]).split("/")[1] for k, name in changed if k == kind}


def _secrets_of(stack: dict, family: str) -> dict[str, str]:
    for name, body in stack["resource"]["aws_ecs_task_definition"].items():
        if path_of(name, body).split("/")[1] == f"{family}-task":
            # The RDS CA init container reads no secret.
            (container,) = [item for item in json.loads(body["container_definitions"]) if item["name"] != "rds-ca"]
            return {item["name"]: item["valueFrom"] for item in container["secrets"]}
    raise AssertionError(family)


@pytest.fixture(scope="module")
def dev():
    from constructs_lib.config import load_environment
    from tests.conftest import CONFIG_DIR

    return load_environment(CONFIG_DIR / "dev.yaml")


@pytest.fixture(scope="module")
def before(dev) -> dict:
    return _stack_json("aws", "gateway", dev)


def test_provider_key_bump_rolls_only_the_gateway_onto_the_new_label(dev, before):
    after = _stack_json("aws", "gateway", _bump(dev, "openai"))
    changed = _changed(before, after)
    assert {kind for kind, _ in changed} == {"aws_ecs_task_definition"}, changed
    assert _families(after, changed, "aws_ecs_task_definition") == {"gateway-task"}
    assert _secrets_of(before, "gateway")["OPENAI_API_KEY"].endswith("::v1:")
    assert _secrets_of(after, "gateway")["OPENAI_API_KEY"].endswith("::v2:")
    assert _secrets_of(after, "gateway")["ANTHROPIC_API_KEY"].endswith("::v1:")
    # The service names the task definition by ARN: a new revision is a new deployment of the service.
    ((_, task_name),) = changed
    services = [body for body in after["resource"]["aws_ecs_service"].values() if task_name in body["task_definition"]]
    assert len(services) == 1
    assert services[0]["deployment_circuit_breaker"] == {"enable": True, "rollback": True}


@pytest.mark.parametrize(
    ("field", "secret", "families"),
    [
        ("master_key_version", "LITELLM_MASTER_KEY", {"gateway-task", "backend-task"}),
        ("ui_password_version", "UI_PASSWORD", {"backend-task"}),
        ("redis_auth_version", "REDIS_PASSWORD", {"gateway-task", "backend-task"}),
    ],
)
def test_generated_secret_bump_writes_a_new_version_and_rolls_its_readers(dev, before, field, secret, families):
    """The readers pin the written version by id: the bump replaces the version resource (`secret_string_wo_version`
    and `secret_string` are ForceNew, internal/service/secretsmanager/secret_version.go), so its `version_id` is new
    at apply and exactly the task definitions that reference it get a new revision. By id, not by the `v<n>` label,
    because replacing the old version resource removes its label (resourceSecretVersionDelete), and a rollback to the
    previous revision would no longer start."""
    # A Redis token bump is the first of the two rotation applies (tests/test_aws_redis_auth_rotation.py).
    extra = {"redis_auth_rotation": "rotating"} if field == "redis_auth_version" else {}
    after = _stack_json("aws", "gateway", _aws_secrets(dev, **{field: 2}, **extra))
    changed = _changed(before, after)
    written = [name for kind, name in changed if kind == "aws_secretsmanager_secret_version"]
    assert len(written) == 1
    version = after["resource"]["aws_secretsmanager_secret_version"][written[0]]
    assert version["version_stages"] == ["AWSCURRENT", "v2"]
    assert version["lifecycle"]["create_before_destroy"] is True
    pinned = f"${{aws_secretsmanager_secret_version.{written[0]}.version_id}}"
    readers = {
        family.removesuffix("-task")
        for family in ("gateway-task", "backend-task", "ui-task", "migrations-task", "bootstrap-db-task")
        if any(value.endswith(f":::{pinned}") for value in _secrets_of(after, family.removesuffix("-task")).values())
    }
    assert readers == {family.removesuffix("-task") for family in families}
    for family in readers:
        assert _secrets_of(after, family)[secret].endswith(f":::{pinned}")
    expected_kinds = {"aws_secretsmanager_secret_version"}
    if field == "redis_auth_version":
        # A new token: ElastiCache takes it with the ROTATE strategy (old and new valid while services roll).
        expected_kinds |= {"random_password", "aws_elasticache_replication_group"}
        (token,) = after["resource"]["random_password"].values()
        assert token["keepers"] == {"version": "2"}
        (redis,) = after["resource"]["aws_elasticache_replication_group"].values()
        assert redis["auth_token_update_strategy"] == "ROTATE"
    else:
        assert version["secret_string_wo_version"] == 2
    assert {kind for kind, _ in changed} == expected_kinds, changed


def test_database_credentials_are_never_static_in_the_services(before):
    """The services authenticate with short-lived IAM tokens; the master password is RDS's and RDS rotates it."""
    (cluster,) = before["resource"]["aws_rds_cluster"].values()
    assert cluster["manage_master_user_password"] is True
    for family in ("gateway", "backend", "migrations"):
        assert not any(
            "PASSWORD" in name and name != "UI_PASSWORD" and name != "REDIS_PASSWORD"
            for name in _secrets_of(before, family)
        )
    # The bootstrap reads the RDS-managed secret at AWSCURRENT, so an RDS rotation needs no redeploy.
    assert _secrets_of(before, "bootstrap-db")["PGPASSWORD"].endswith(":password::")


@pytest.mark.parametrize("bump", ["provider_key", "master_key", "redis"])
def test_no_bump_changes_anything_agent_side(dev, bump):
    bumped = {
        "provider_key": lambda: _bump(dev, "openai"),
        "master_key": lambda: _aws_secrets(dev, master_key_version=2),
        "redis": lambda: _aws_secrets(dev, redis_auth_version=2),
    }[bump]()
    assert _changed(_stack_json("aws", "quotas", dev), _stack_json("aws", "quotas", bumped)) == []


def test_a_proxy_config_change_rolls_gateway_and_backend_through_the_digest(dev, before):
    models = [*dev.models, dev.models[0].model_copy(update={"name": "qwen-max-2"})]
    after = _stack_json("aws", "gateway", dev.model_copy(update={"models": models}))
    changed = _changed(before, after)
    assert {kind for kind, _ in changed} == {"aws_ecs_task_definition", "aws_s3_object"}
    assert _families(after, changed, "aws_ecs_task_definition") == {"gateway-task", "backend-task"}
