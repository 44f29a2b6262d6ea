"""Parity of `aws-<env>` with the LiteLLM module for AWS (issue 12): every option on and off, every refusal."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from constructs_lib._common.errors import PropsError
from constructs_lib.config import ConfigError, EnvironmentConfig, load_environment
from tests.test_aws_gateway import policy_statements, resources, task_definition
from tests.test_aws_stack_options import DEV, PROD, _merge, _synth

VPC = "vpc-0123456789abcdef0"
PRIVATE = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
PUBLIC = ["subnet-0123456789abcdef2", "subnet-0123456789abcdef3"]
EXTERNAL_DB = {"source": "external", "egress_cidrs": ["10.50.0.0/24"]}
EXTERNAL_CACHE = {"source": "external", "egress_cidrs": ["10.51.0.0/24"]}
SINGLE_PROCESS = {"gateway": {"autoscaling": False, "desired_count": 1, "min_count": 1, "workers": 1}}
NO_QUOTAS = {"quotas": {"enabled": False}}


def _load(tmp_path: Path, aws: dict, root: dict | None = None, base: dict = DEV) -> EnvironmentConfig:
    data = copy.deepcopy(base)
    _merge(data["clouds"]["aws"], aws)
    _merge(data, root or {})
    path = tmp_path / f"{data['env']}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_environment(path)


def _build(tmp_path: Path, aws: dict, root: dict | None = None, base: dict = DEV) -> dict:
    return _synth(_load(tmp_path, aws, root, base))


def _task_containers(stack: dict, family: str) -> dict[str, dict]:
    _, body = task_definition(stack, family)
    return {item["name"]: item for item in json.loads(body["container_definitions"])}


def _env(container: dict) -> dict[str, str]:
    return {item["name"]: item["value"] for item in container["environment"]}


def _secrets(container: dict) -> dict[str, str]:
    return {item["name"]: item["valueFrom"] for item in container["secrets"]}


def _secret_names(stack: dict) -> set[str]:
    return {body["name"] for body in resources(stack, "aws_secretsmanager_secret").values()}


def _policies(stack: dict) -> dict[str, dict]:
    return {body["name"].rsplit("-", 1)[-1]: body for body in resources(stack, "aws_appautoscaling_policy").values()}


def _sg_rules(stack: dict, kind: str) -> list[dict]:
    return list(resources(stack, kind).values())


def _proxy_config(stack: dict) -> dict:
    (_, body), *_ = resources(stack, "aws_s3_object").items()
    return yaml.safe_load(body["content"].replace("$${", "${"))


@pytest.fixture(scope="module")
def default_dev(tmp_path_factory) -> dict:
    return _build(tmp_path_factory.mktemp("default"), {})


# --- refusals: the message names the field --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("aws", "root", "field", "message"),
    [
        # Data stores
        ({"database": {"source": "external"}}, None, "clouds.aws.database.egress_cidrs", "CIDRs"),
        ({"database": {"url_secret": "x"}}, None, "clouds.aws.database.url_secret", "only a store with source"),
        (
            {
                "database": {**EXTERNAL_DB, "connection_pool": {"enabled": False}},
                "cache": {"egress_cidrs": ["1.0.0.0/8"]},
            },
            None,
            "clouds.aws.cache.egress_cidrs",
            "only a store",
        ),
        # Redis-less: one process only
        (
            {"cache": {"source": "none"}, "components": {"gateway": {"desired_count": 2, "min_count": 2}}},
            None,
            "clouds.aws.components.gateway.desired_count",
            "rate limits",
        ),
        (
            {"cache": {"source": "none"}, "components": {"gateway": {"desired_count": 1, "min_count": 1}}},
            None,
            "clouds.aws.components.gateway.max_count",
            "per-agent rate limits",
        ),
        (
            {"cache": {"source": "none"}, "components": {"gateway": {**SINGLE_PROCESS["gateway"], "workers": 2}}},
            None,
            "clouds.aws.components.gateway.workers",
            "keep a Redis",
        ),
        # Existing network
        ({"network": {"existing_vpc_id": VPC}}, None, "clouds.aws.network.existing_private_subnet_ids", "no subnets"),
        (
            {"network": {"existing_vpc_id": VPC, "existing_private_subnet_ids": PRIVATE[:1]}},
            None,
            "clouds.aws.network.existing_private_subnet_ids",
            "managed database and cache need at least two private subnets",
        ),
        ({"availability_zones": []}, None, "clouds.aws.availability_zones", "no zones at all"),
        (
            {"network": {"existing_private_subnet_ids": PRIVATE}},
            None,
            "clouds.aws.network.existing_private_subnet_ids",
            "need existing_vpc_id",
        ),
        # Public-subnet tasks
        (
            {"network": {"tasks_in_public_subnets": True}},
            None,
            "clouds.aws.network.tasks_in_public_subnets",
            "managed database",
        ),
        (
            {
                "network": {
                    "existing_vpc_id": VPC,
                    "existing_private_subnet_ids": PRIVATE,
                    "tasks_in_public_subnets": True,
                },
                "database": EXTERNAL_DB,
            },
            None,
            "clouds.aws.network.existing_public_subnet_ids",
            "two public subnets",
        ),
        # Dependencies-only
        (
            {"external_gateway_url": "https://litellm.example.com"},
            None,
            "clouds.aws.external_gateway_url",
            "only in dependencies-only mode",
        ),
        (
            {"create_runtime": False, "metrics": {"enabled": True}},
            None,
            "clouds.aws.metrics.enabled",
            "dependencies-only",
        ),
        (
            {"create_runtime": False, "spend_collector": {"enabled": True}},
            None,
            "clouds.aws.spend_collector.enabled",
            "dependencies-only",
        ),
        # Autoscaling
        (
            {"components": {"gateway": {"target_tokens_per_second": 1000}}},
            None,
            "clouds.aws.components.gateway.tokens_metric",
            "namespace",
        ),
        (
            {"components": {"backend": {"target_requests_per_second": 10}}},
            None,
            "clouds.aws.components.backend.target_requests_per_second",
            "only the gateway",
        ),
        (
            {"components": {"ui": {"memory_target_percent": 80}}},
            None,
            "clouds.aws.components.ui.memory_target_percent",
            "UI",
        ),
        # Metrics / collector
        ({"metrics": {"enabled": True, "port": 4000}}, None, "clouds.aws.metrics.port", "gateway port"),
        (
            {"metrics": {"enabled": True}, "spend_collector": {"enabled": True, "port": 9090}},
            None,
            "clouds.aws.spend_collector.port",
            "metrics.port too",
        ),
        ({"spend_collector": {"enabled": True, "port": 4000}}, None, "clouds.aws.spend_collector.port", "gateway port"),
        (
            {
                "components": {"gateway": {"cpu": 1024, "memory": 4096}},
                "spend_collector": {"enabled": True, "cpu": 768},
            },
            None,
            "clouds.aws.spend_collector.cpu",
            "leave the gateway container 256",
        ),
        (
            {
                "components": {"gateway": {"cpu": 1024, "memory": 4096}},
                "spend_collector": {"enabled": True, "memory": 2560},
            },
            None,
            "clouds.aws.spend_collector.memory",
            "needs at least 2048",
        ),
        (
            {
                "components": {"gateway": {"cpu": 1024, "memory": 4096}},
                "metrics": {"enabled": True, "memory": 2048},
                "spend_collector": {"enabled": True, "cpu": 128, "memory": 512},
            },
            None,
            "clouds.aws.spend_collector.memory",
            "needs at least 2048",
        ),
        (
            {"database": {"source": "none"}, "spend_collector": {"enabled": True}},
            NO_QUOTAS,
            "clouds.aws.spend_collector.enabled",
            "database.source is none",
        ),
        # Connection pooling: where there is a database; with the managed Aurora, within its max_connections
        # (tests/test_aws_db_pool_limit.py has the budget's cases).
        (
            {"database": {"max_connections": 20, "connection_pool": {"max_db_connections": 5}}},
            None,
            "clouds.aws.database.connection_pool.max_db_connections",
            "above max_connections 20",
        ),
        (
            {"database": {"source": "none", "connection_pool": {"enabled": True}}},
            None,
            "clouds.aws.database.connection_pool.enabled",
            "no database to pool",
        ),
        # Bedrock
        ({"bedrock_model_arns": ["*"]}, None, "clouds.aws.bedrock_model_arns", "not an exact Bedrock ARN"),
        ({"bedrock_model_arns": ["arn:aws:s3:::bucket/*"]}, None, "clouds.aws.bedrock_model_arns", "Bedrock ARN"),
        ({"bedrock_model_arns": ["arn:aws:bedrock:*"]}, None, "clouds.aws.bedrock_model_arns", "Bedrock ARN"),
        ({"bedrock_model_arns": ["arn:aws:bedrock:*:*:*"]}, None, "clouds.aws.bedrock_model_arns", "Bedrock ARN"),
        (
            {"bedrock_model_arns": ["arn:aws:bedrock:us-east-1::foundation-model/anthropic.*"]},
            None,
            "clouds.aws.bedrock_model_arns",
            "no wildcard",
        ),
    ],
)
def test_bad_parity_config_fails_naming_the_field(tmp_path, aws, root, field, message):
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, aws, root)
    assert caught.value.path == field
    assert message in caught.value.problem


@pytest.mark.parametrize(
    ("aws", "root", "base", "field", "message"),
    [
        ({"database": {"source": "none"}}, None, DEV, "clouds.aws.database.source", "quotas stack"),
        ({"create_runtime": False}, None, DEV, "clouds.aws.external_gateway_url", "dependencies-only"),
        (
            {"network": {"tasks_in_public_subnets": True}, "database": EXTERNAL_DB},
            None,
            PROD,
            "clouds.aws.network.tasks_in_public_subnets",
            "production",
        ),
    ],
)
def test_stack_level_refusals_name_the_field(tmp_path, aws, root, base, field, message):
    config = _load(tmp_path, aws, root, base)
    with pytest.raises(PropsError) as caught:
        _synth(config)
    assert caught.value.field == field
    assert message in caught.value.problem


# --- defaults: today's behaviour --------------------------------------------------------------------------------


def test_defaults_keep_managed_stores_and_nothing_optional(default_dev):
    stack = default_dev
    assert resources(stack, "aws_rds_cluster") and resources(stack, "aws_elasticache_replication_group")
    families = {body["family"] for body in resources(stack, "aws_ecs_task_definition").values()}
    for family in ("gateway", "backend", "ui", "migrations", "bootstrap-db"):
        assert any(name.endswith(f"-{family}") for name in families), family
    gateway = _task_containers(stack, "gateway")
    # Only the gateway and the RDS CA init container (verified database TLS is not an option).
    assert list(gateway) == ["gateway", "rds-ca"]
    env = _env(gateway["gateway"])
    assert not any(name.startswith(("LITELLM_COLLECTOR_", "PROMETHEUS_")) for name in env)
    # The managed Aurora's one bounded path: the task's PgBouncer (tests/test_aws_db_pool_limit.py).
    assert env["LITELLM_PGBOUNCER_ENABLED"] == "true"
    assert "DATABASE_URL" not in _secrets(gateway["gateway"]) and "REDIS_URL" not in _secrets(gateway["gateway"])
    assert set(_policies(stack)) == {"cpu"}
    assert not any("bedrock" in body["name"] for body in resources(stack, "aws_iam_role").values()), (
        "nothing Bedrock-related by default"
    )
    assert len(resources(stack, "aws_nat_gateway")) >= 1 and resources(stack, "aws_eip")
    for service in resources(stack, "aws_ecs_service").values():
        assert service["network_configuration"]["assign_public_ip"] is False
    assert not any(rule["from_port"] == 9090 for rule in _sg_rules(stack, "aws_vpc_security_group_ingress_rule"))
    document = _proxy_config(stack)
    assert document["litellm_settings"]["cache_params"]["ssl"] is True
    assert document["litellm_settings"]["callbacks"] == ["llmgw_daily_tokens.daily_token_cap"], "no Prometheus"
    assert document["general_settings"]["database_url"] == "os.environ/DATABASE_URL"
    outputs = stack["output"]
    assert "database_url_secret_arn" not in outputs and "runtime_role_arns" not in outputs


# --- bring your own data stores ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def external(tmp_path_factory) -> dict:
    return _build(
        tmp_path_factory.mktemp("external"),
        {
            "database": {
                **EXTERNAL_DB,
                "url_secret": "acme/litellm-db-url",  # pragma: allowlist secret (a secret name)
                "url_secret_version": 3,
                "port": 6432,
            },
            "cache": EXTERNAL_CACHE,
        },
    )


def test_external_stores_replace_the_managed_ones(external):
    stack = external
    for kind in (
        "aws_rds_cluster",
        "aws_rds_cluster_instance",
        "aws_db_subnet_group",
        "aws_elasticache_replication_group",
        "aws_elasticache_subnet_group",
        "random_password",
    ):
        assert not resources(stack, kind), kind
    groups = {body["name"] for body in resources(stack, "aws_security_group").values()}
    assert not any(name.endswith(("-database", "-cache")) for name in groups)
    # No IAM-user bootstrap, no rds-db:connect; migrations remain.
    families = {body["family"] for body in resources(stack, "aws_ecs_task_definition").values()}
    assert not any(family.endswith("bootstrap-db") for family in families)
    assert any(family.endswith("migrations") for family in families)
    for role in resources(stack, "aws_iam_role").values():
        assert "bootstrap-db" not in role["name"]
    names = _secret_names(stack)
    assert "acme/litellm-db-url" in names
    assert any(name.endswith("redis-url") for name in names)
    assert not any(name.endswith("redis-auth") for name in names)


def test_external_urls_reach_containers_only_as_secret_references(external):
    stack = external
    for family in ("gateway", "backend", "migrations"):
        (container,) = _task_containers(stack, family).values()
        secrets, env = _secrets(container), _env(container)
        assert secrets["DATABASE_URL"].endswith("::v3:"), family
        assert not any(name.startswith(("DATABASE_HOST", "IAM_TOKEN", "DATABASE_USER")) for name in env), family
        if family != "migrations":
            assert secrets["REDIS_URL"].endswith("::v1:")
            assert "REDIS_HOST" not in env and "REDIS_PASSWORD" not in secrets
    for statement in policy_statements(stack, task_definition(stack, "gateway")[1]["task_role_arn"]):
        assert not any(action.startswith("rds-db:") for action in statement["actions"])
    # The execution role reads exactly the URL secrets, nothing broader.
    _, migrations = task_definition(stack, "migrations")
    (statement,) = [
        s
        for s in policy_statements(stack, migrations["execution_role_arn"])
        if "secretsmanager:GetSecretValue" in s["actions"]
    ]
    assert len(statement["resources"]) == 1 and "aws_secretsmanager_secret.database-url" in statement["resources"][0]
    assert "database_url_secret_arn" in stack["output"] and "redis_url_secret_arn" in stack["output"]


def test_external_stores_get_egress_to_their_cidrs_and_port_only(external):
    egress = _sg_rules(external, "aws_vpc_security_group_egress_rule")
    to_db = [rule for rule in egress if rule.get("cidr_ipv4") == "10.50.0.0/24"]
    to_cache = [rule for rule in egress if rule.get("cidr_ipv4") == "10.51.0.0/24"]
    assert {rule["from_port"] for rule in to_db} == {6432} and len(to_db) == 3  # gateway, backend, jobs
    assert {rule["from_port"] for rule in to_cache} == {6379} and len(to_cache) == 2
    assert not any(rule.get("from_port") == 5432 for rule in egress)


def test_migrations_rerun_when_the_external_url_version_changes(external):
    runs = resources(external, "terraform_data")
    first = [body for body in runs.values() if "database_url" in body.get("triggers_replace", {})]
    assert first and first[0]["triggers_replace"]["database_url"].endswith("::v3:")


# --- no database, no Redis ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def storeless(tmp_path_factory) -> dict:
    return _build(
        tmp_path_factory.mktemp("storeless"),
        {"database": {"source": "none"}, "cache": {"source": "none"}, "components": SINGLE_PROCESS},
        NO_QUOTAS,
    )


def test_no_stores_means_nothing_to_migrate_or_grant(storeless):
    stack = storeless
    assert not resources(stack, "aws_rds_cluster") and not resources(stack, "aws_elasticache_replication_group")
    families = {body["family"] for body in resources(stack, "aws_ecs_task_definition").values()}
    assert not any(family.endswith(("migrations", "bootstrap-db")) for family in families)
    assert not resources(stack, "terraform_data")
    assert stack["output"]["migration_command"]["value"] is None
    gateway = _task_containers(stack, "gateway")["gateway"]
    assert not any(name.startswith(("DATABASE_", "REDIS_")) for name in [*_env(gateway), *_secrets(gateway)])
    document = _proxy_config(stack)
    assert "cache" not in document["litellm_settings"] and "database_url" not in document["general_settings"]
    assert document["general_settings"]["store_model_in_db"] is False
    (gateway_service,) = [s for s in resources(stack, "aws_ecs_service").values() if s["name"].endswith("gateway")]
    assert gateway_service["desired_count"] == 1
    assert not any("gateway" in body["resource_id"] for body in resources(stack, "aws_appautoscaling_target").values())


def test_a_redis_less_gateway_may_run_one_process(tmp_path):
    config = _load(tmp_path, {"cache": {"source": "none"}, "components": SINGLE_PROCESS})
    assert config.cloud("aws").cache.source == "none"


# --- existing network, public-subnet tasks -------------------------------------------------------------------------


def test_existing_vpc_with_one_private_subnet_is_fine_without_managed_stores(tmp_path):
    stack = _build(
        tmp_path,
        {
            "network": {
                "existing_vpc_id": VPC,
                "existing_private_subnet_ids": PRIVATE,
                "existing_public_subnet_ids": PUBLIC,
                "tasks_in_public_subnets": True,
            },
            "database": EXTERNAL_DB,
            "cache": EXTERNAL_CACHE,
        },
    )
    assert not resources(stack, "aws_vpc") and not resources(stack, "aws_subnet")
    for service in resources(stack, "aws_ecs_service").values():
        assert service["network_configuration"]["subnets"] == PUBLIC


@pytest.fixture(scope="module")
def public_tasks(tmp_path_factory) -> dict:
    return _build(
        tmp_path_factory.mktemp("public"),
        {"network": {"tasks_in_public_subnets": True}, "database": EXTERNAL_DB},
    )


def test_public_subnet_tasks_have_no_nat_and_public_ips(public_tasks):
    stack = public_tasks
    assert not resources(stack, "aws_nat_gateway") and not resources(stack, "aws_eip")
    routes = resources(stack, "aws_route").values()
    assert not any("nat_gateway_id" in route for route in routes)
    public_subnets = {
        f"${{aws_subnet.{name}.id}}"
        for name, body in resources(stack, "aws_subnet").items()
        if body["tags"]["tier"] == "public"
    }
    for service in resources(stack, "aws_ecs_service").values():
        network = service["network_configuration"]
        assert network["assign_public_ip"] is True
        assert set(network["subnets"]) == public_subnets
    # The one-off migration task runs there too, with a public IP.
    (run,) = [body for body in resources(stack, "terraform_data").values()]
    provisioner = run["provisioner"][0]["local-exec"]
    assert "assignPublicIp=ENABLED" in provisioner["command"]
    assert set(provisioner["environment"]["SUBNETS"].split(",")) == public_subnets


# --- dependencies-only --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dependencies_only(tmp_path_factory) -> dict:
    return _build(
        tmp_path_factory.mktemp("deps"),
        {"create_runtime": False, "external_gateway_url": "https://litellm.internal.example.com"},
    )


def test_dependencies_only_has_stores_secrets_and_identities_but_no_runtime(dependencies_only):
    stack = dependencies_only
    for kind in (
        "aws_ecs_service",
        "aws_ecs_cluster",
        "aws_ecs_task_definition",
        "aws_lb",
        "aws_lb_listener",
        "terraform_data",
    ):
        assert not resources(stack, kind), kind
    assert resources(stack, "aws_rds_cluster") and resources(stack, "aws_elasticache_replication_group")
    roles = {body["name"] for body in resources(stack, "aws_iam_role").values()}
    assert any("gateway-task" in name for name in roles) and any("migrations-task" in name for name in roles)
    assert not any("ui-" in name or "bootstrap-db" in name for name in roles)
    groups = {body["name"].removeprefix("acme-dev-") for body in resources(stack, "aws_security_group").values()}
    assert "alb" not in groups and "ui-tasks" not in groups and {"gateway-tasks", "backend-tasks"} <= groups
    assert not any(
        "referenced_security_group_id" in rule and "alb" in rule["referenced_security_group_id"]
        for rule in _sg_rules(stack, "aws_vpc_security_group_ingress_rule")
    )
    outputs = stack["output"]
    for name in ("alb_dns_name", "gateway_url", "migration_command", "ecs_cluster"):
        assert outputs[name]["value"] is None, name
    assert set(outputs["runtime_role_arns"]["value"]) == {"gateway", "backend", "migrations"}
    assert "DATABASE_HOST" in outputs["runtime_environment"]["value"]


def test_dependencies_only_hands_the_external_url_to_the_quotas_stack(tmp_path):
    from tests.test_aws_stack_options import _stack

    config = _load(tmp_path, {"create_runtime": False, "external_gateway_url": "https://litellm.internal.example.com"})
    assert _stack(config).gateway_url == "https://litellm.internal.example.com"


# --- read replica -------------------------------------------------------------------------------------------------


def test_read_replica_environment_follows_the_readers(tmp_path, default_dev):
    without = _build(tmp_path, {"database": {"readers": 0}})
    assert len(resources(without, "aws_rds_cluster_instance")) == 1
    assert not any(name.endswith("READ_REPLICA") for name in _env(_task_containers(without, "gateway")["gateway"]))
    assert "DATABASE_HOST_READ_REPLICA" in _env(_task_containers(default_dev, "backend")["backend"])
    # The PgBouncer-pooled gateway reads the writer (tests/test_aws_db_pool_limit.py); without the pool, the reader.
    assert "DATABASE_HOST_READ_REPLICA" not in _env(_task_containers(default_dev, "gateway")["gateway"])
    unpooled = _build(tmp_path, {"database": {"connection_pool": {"enabled": False}}})
    assert "DATABASE_HOST_READ_REPLICA" in _env(_task_containers(unpooled, "gateway")["gateway"])


# --- workload autoscaling -----------------------------------------------------------------------------------------

TOKENS = {"namespace": "LiteLLM/Prometheus", "dimensions": {"ClusterName": "acme", "TaskDefinitionFamily": "gw"}}


@pytest.fixture(scope="module")
def scaling(tmp_path_factory) -> dict:
    return _build(
        tmp_path_factory.mktemp("scaling"),
        {
            "components": {
                "gateway": {
                    "memory_target_percent": 80,
                    "target_requests_per_second": 90,
                    "target_tokens_per_second": 6000,
                    "tokens_metric": TOKENS,
                },
                "backend": {"memory_target_percent": 75},
            }
        },
    )


def _service_policies(stack: dict, service: str) -> dict[str, dict]:
    return {
        body["name"].rsplit("-", 1)[-1]: body
        for body in resources(stack, "aws_appautoscaling_policy").values()
        if body["name"].rsplit("-", 1)[0].endswith(service)
    }


def test_memory_requests_and_tokens_scale_next_to_cpu(scaling):
    gateway = _service_policies(scaling, "gateway")
    assert set(gateway) == {"cpu", "memory", "requests", "tokens"}
    assert set(_service_policies(scaling, "backend")) == {"cpu", "memory"}
    memory = gateway["memory"]["target_tracking_scaling_policy_configuration"]
    assert memory["target_value"] == 80
    assert memory["predefined_metric_specification"]["predefined_metric_type"] == "ECSServiceAverageMemoryUtilization"
    requests = gateway["requests"]["target_tracking_scaling_policy_configuration"]
    assert requests["target_value"] == 90 * 60
    spec = requests["predefined_metric_specification"]
    assert spec["predefined_metric_type"] == "ALBRequestCountPerTarget"
    assert (
        spec["resource_label"].startswith("${aws_lb.")
        and "arn_suffix}/${aws_lb_target_group." in spec["resource_label"]
    )
    assert "gateway" in spec["resource_label"].split("/")[1]


def test_tokens_policy_is_tokens_per_second_per_running_task(scaling):
    config = _service_policies(scaling, "gateway")["tokens"]["target_tracking_scaling_policy_configuration"]
    assert config["target_value"] == 6000
    assert "predefined_metric_specification" not in config
    metrics = {item["id"]: item for item in config["customized_metric_specification"]["metrics"]}
    assert set(metrics) == {"tokens", "running_tasks", "tokens_per_second", "tokens_per_second_per_task"}
    tokens = metrics["tokens"]["metric_stat"]
    assert tokens["stat"] == "Sum" and tokens["metric"]["metric_name"] == "litellm_total_tokens_metric_total"
    assert tokens["metric"]["namespace"] == "LiteLLM/Prometheus"
    assert {d["name"]: d["value"] for d in tokens["metric"]["dimensions"]} == TOKENS["dimensions"]
    tasks = metrics["running_tasks"]["metric_stat"]
    assert tasks["stat"] == "Average" and tasks["metric"]["namespace"] == "ECS/ContainerInsights"
    assert tasks["metric"]["metric_name"] == "RunningTaskCount"
    assert {d["name"] for d in tasks["metric"]["dimensions"]} == {"ClusterName", "ServiceName"}
    assert metrics["tokens_per_second"]["expression"] == "tokens / 60"
    assert metrics["tokens_per_second_per_task"]["expression"] == "tokens_per_second / running_tasks"
    assert [key for key, item in metrics.items() if item["return_data"]] == ["tokens_per_second_per_task"]


def test_workload_policies_disappear_with_autoscaling(tmp_path):
    stack = _build(
        tmp_path,
        {
            "components": {
                "gateway": {
                    "autoscaling": False,
                    "memory_target_percent": 80,
                    "target_requests_per_second": 90,
                    "target_tokens_per_second": 6000,
                    "tokens_metric": TOKENS,
                }
            }
        },
    )
    assert not _service_policies(stack, "gateway")
    assert not any("gateway" in body["resource_id"] for body in resources(stack, "aws_appautoscaling_target").values())
    (gateway,) = [s for s in resources(stack, "aws_ecs_service").values() if s["name"].endswith("gateway")]
    assert "lifecycle" not in gateway
    assert set(_service_policies(stack, "backend")) == {"cpu"}


# --- metrics and spend collector sidecars ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sidecars(tmp_path_factory) -> dict:
    return _build(
        tmp_path_factory.mktemp("sidecars"),
        {
            "components": {"gateway": {"cpu": 2048, "memory": 6144}},
            "metrics": {"enabled": True, "port": 9464, "scrape_cidrs": ["10.10.16.0/20"]},
            "spend_collector": {"enabled": True, "port": 4321, "buffer_size": 250, "on_unavailable": "drop"},
        },
    )


def test_metrics_sidecar_shares_the_multiprocess_dir_and_stays_off_the_alb(sidecars):
    stack = sidecars
    _, task = task_definition(stack, "gateway")
    assert [volume["name"] for volume in task["volume"]] == ["prometheus-multiproc", "rds-ca"]
    found = _task_containers(stack, "gateway")
    gateway, metrics = found["gateway"], found["metrics"]
    for container in (gateway, metrics):
        assert _env(container)["PROMETHEUS_MULTIPROC_DIR"] == "/tmp/litellm_prometheus_multiproc"
        assert container["mountPoints"][0]["sourceVolume"] == "prometheus-multiproc"
    assert metrics["command"] == ["exec python -m litellm.proxy.prometheus_metrics_server --port 9464"]
    assert metrics["essential"] is False and metrics["portMappings"][0]["containerPort"] == 9464
    for service in resources(stack, "aws_ecs_service").values():
        for target in service["load_balancer"]:
            assert target["container_name"] != "metrics"
    scrape = [rule for rule in _sg_rules(stack, "aws_vpc_security_group_ingress_rule") if rule["from_port"] == 9464]
    assert [rule["cidr_ipv4"] for rule in scrape] == ["10.10.16.0/20"]
    assert "gateway-tasks-sg" in scrape[0]["security_group_id"]
    assert _proxy_config(stack)["litellm_settings"]["callbacks"] == ["llmgw_daily_tokens.daily_token_cap", "prometheus"]


def test_collector_sidecar_shares_the_transport_and_is_carved_out(sidecars):
    found = _task_containers(sidecars, "gateway")
    gateway, collector = found["gateway"], found["collector"]
    for container in (gateway, collector):
        env = _env(container)
        assert env["LITELLM_COLLECTOR_ENABLED"] == "true"
        assert env["LITELLM_COLLECTOR_ADDRESS"] == "tcp://127.0.0.1:4321"
        assert env["LITELLM_COLLECTOR_BUFFER_SIZE"] == "250"
        assert env["LITELLM_COLLECTOR_ON_UNAVAILABLE"] == "drop"
        assert env["LITELLM_COLLECTOR_DRAIN_TIMEOUT_SECONDS"] == "10"
    assert _env(collector)["LITELLM_JOB_ROLE"] == "collector"
    assert collector["command"][0].endswith("exec python -m litellm.proxy.collector")
    assert "CONFIG_FILE_PATH" in _env(collector)
    assert collector["image"] == gateway["image"] and collector["essential"] is False
    assert collector["restartPolicy"] == {"enabled": True} and "portMappings" not in collector
    assert "LITELLM_MASTER_KEY" in _secrets(collector)
    # Carved out: metrics 256/512 + collector 512/2048 from the 2048/6144 task.
    assert (collector["cpu"], collector["memory"]) == (512, 2048)
    assert (gateway["cpu"], gateway["memory"]) == (2048 - 256 - 512, 6144 - 512 - 2048)
    _, task = task_definition(sidecars, "gateway")
    assert (task["cpu"], task["memory"]) == ("2048", "6144")


# --- connection pooling -----------------------------------------------------------------------------------------------


def test_pgbouncer_with_an_external_database(tmp_path):
    stack = _build(
        tmp_path,
        {
            "components": {"gateway": {"workers": 3}},
            "database": {
                **EXTERNAL_DB,
                "connection_pool": {"enabled": True, "max_db_connections": 40, "max_client_conn": 500},
            },
        },
    )
    gateway = _task_containers(stack, "gateway")["gateway"]
    env = _env(gateway)
    assert env["LITELLM_PGBOUNCER_ENABLED"] == "true"
    assert env["LITELLM_PGBOUNCER_MAX_DB_CONNECTIONS"] == "40" and env["LITELLM_PGBOUNCER_MAX_CLIENT_CONN"] == "500"
    assert "exec python -m gateway.launch --host 0.0.0.0 --port 4000 --workers 3" in gateway["command"][0]
    backend = _task_containers(stack, "backend")["backend"]
    assert not any(name.startswith("LITELLM_PGBOUNCER") for name in _env(backend))


# --- Bedrock ---


def test_bedrock_any_partition_is_accepted(tmp_path):
    arn = "arn:aws-cn:bedrock:cn-north-1::foundation-model/anthropic.claude-v2"
    assert _load(tmp_path, {"bedrock_model_arns": [arn]}).cloud("aws").bedrock_model_arns == [arn]


def test_custom_model_import_role_is_bedrocks_and_grants_the_tasks_nothing(tmp_path, default_dev):
    stack = _build(tmp_path, {"bedrock_custom_model_import": True})
    name = "bedrock-model-import-role"
    assert resources(stack, "aws_iam_role")[name]["name"].endswith("bedrock-model-import")
    trust = json.dumps(stack["data"]["aws_iam_policy_document"])
    assert "bedrock.amazonaws.com" in trust and "model-import-job/*" in trust and "aws:SourceAccount" in trust
    assert [body["name"] for body in resources(stack, "aws_iam_role_policy").values() if name in body["role"]] == [
        "read-model-weights"
    ]
    statements = {s["sid"]: s for s in policy_statements(stack, f"${{aws_iam_role.{name}.arn}}")}
    assert statements["ReadModelWeights"]["resources"][0].endswith("/models/*")
    assert set(statements) == {"ReadModelWeights", "ListModelWeights", "DecryptModelWeights"}
    gateway_role = task_definition(stack, "gateway")[1]["task_role_arn"]
    assert not any(a.startswith("bedrock:") for s in policy_statements(stack, gateway_role) for a in s["actions"])
    assert not any("bedrock" in body["name"] for body in resources(default_dev, "aws_iam_role").values())
