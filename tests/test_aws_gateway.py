"""The `aws-<env>` stacks as synthesized from the shipped examples: routing, identity, secrets, data stores, TLS.

ECS container definitions are one JSON string, which checkov cannot look into: these tests parse it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap

import pytest

from constructs_lib._common.litellm_config import CONFIG_SHA_ENV, render_proxy_config
from constructs_lib._common.routes import (
    ALB_MAX_CONDITION_VALUES,
    GATEWAY_PATH_PATTERNS,
    UI_PATH_PATTERNS,
)
from constructs_lib.config.components import pinned_by_digest
from tests.digest_check import assert_digest_check_passes_then_refuses

AWS_STACKS = ("aws-dev", "aws-staging", "aws-prod")
_REF = re.compile(r"\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.")
SENSITIVE_SUFFIXES = ("_KEY", "_SECRET", "_PASSWORD", "_TOKEN", "_HEADERS")


def resources(stack: dict, kind: str) -> dict[str, dict]:
    return stack.get("resource", {}).get(kind, {})


def data_sources(stack: dict, kind: str) -> dict[str, dict]:
    return stack.get("data", {}).get(kind, {})


def path_of(name: str, body: dict) -> str:
    """`/<construct>/<path>/` without the stack, from the metadata (full synth) or the logical id (Testing.synth)."""
    if "//" in body:
        return "/" + "/".join(body["//"]["metadata"]["path"].split("/")[1:]) + "/"
    return "/" + "/".join(name.split("_")[:-1]) + "/"


def named(stack: dict, kind: str, path_part: str) -> tuple[str, dict]:
    """The one resource of `kind` whose construct path contains `path_part`."""
    found = [(name, body) for name, body in resources(stack, kind).items() if path_part in path_of(name, body)]
    assert len(found) == 1, f"{kind} with {path_part!r}: {[name for name, _ in found]}"
    return found[0]


def address(kind: str, name: str) -> str:
    return f"{kind}.{name}"


def referenced(expression: str) -> tuple[str, str]:
    match = _REF.search(expression)
    assert match, expression
    return match.group(1), match.group(2)


def containers(stack: dict) -> dict[str, dict]:
    """Task family construct (gateway, backend, ui, migrations, bootstrap-db) -> its only container."""
    result = {}
    for name, body in resources(stack, "aws_ecs_task_definition").items():
        family = path_of(name, body).split("/")[1].removesuffix("-task")
        # The RDS CA init container (constructs_lib/aws/rds_ca.py) is not the family's container.
        definitions = [item for item in json.loads(body["container_definitions"]) if item["name"] != "rds-ca"]
        assert len(definitions) == 1
        result[family] = definitions[0]
    return result


def task_definition(stack: dict, family: str) -> tuple[str, dict]:
    return named(stack, "aws_ecs_task_definition", f"/{family}-task/")


def policy_statements(stack: dict, role_ref: str) -> list[dict]:
    """Every statement of every inline policy on the role `${aws_iam_role.X.arn}`."""
    _, role = referenced(role_ref)
    statements = []
    for body in resources(stack, "aws_iam_role_policy").values():
        if referenced(body["role"])[1] == role:
            document = body["policy"].removeprefix("${data.aws_iam_policy_document.").removesuffix(".json}")
            statements += data_sources(stack, "aws_iam_policy_document")[document]["statement"]
    return statements


def attachments(stack: dict, role_ref: str) -> list[dict]:
    _, role = referenced(role_ref)
    return [
        body
        for body in resources(stack, "aws_iam_role_policy_attachment").values()
        if referenced(body["role"])[1] == role
    ]


def bare_secret(value_from: str) -> str:
    """`${aws_secretsmanager_secret.x.arn}::v1:` -> `${aws_secretsmanager_secret.x.arn}`."""
    return value_from[: value_from.index("}") + 1]


@pytest.fixture(params=AWS_STACKS)
def stack(request, synthesized) -> dict:
    return synthesized[request.param]


@pytest.fixture
def prod(synthesized) -> dict:
    return synthesized["aws-prod"]


def _routing_listener(stack: dict) -> tuple[str, dict]:
    return named(stack, "aws_lb_listener", "/lb/https")


def _target_group(stack: dict, component: str) -> str:
    name, _ = named(stack, "aws_lb_target_group", f"/lb/{component}-targets")
    return f"${{aws_lb_target_group.{name}.arn}}"


# ---- routing -------------------------------------------------------------------------------------------------


def test_every_gateway_and_ui_pattern_lands_on_its_target_in_chunks_of_at_most_five(stack):
    listener, _ = _routing_listener(stack)
    routed: dict[str, str] = {}
    for rule in resources(stack, "aws_lb_listener_rule").values():
        assert rule["listener_arn"] == f"${{aws_lb_listener.{listener}.arn}}"
        (condition,) = rule["condition"]
        values = condition["path_pattern"]["values"]
        assert 1 <= len(values) <= ALB_MAX_CONDITION_VALUES
        (action,) = rule["action"]
        assert action["type"] == "forward"
        for value in values:
            assert value not in routed, f"{value} routed twice"
            routed[value] = action["target_group_arn"]
    gateway, ui = _target_group(stack, "gateway"), _target_group(stack, "ui")
    assert {pattern: routed.get(pattern) for pattern in GATEWAY_PATH_PATTERNS} == dict.fromkeys(
        GATEWAY_PATH_PATTERNS, gateway
    )
    assert {pattern: routed.get(pattern) for pattern in UI_PATH_PATTERNS} == dict.fromkeys(UI_PATH_PATTERNS, ui)
    assert set(routed) == {*GATEWAY_PATH_PATTERNS, *UI_PATH_PATTERNS}
    for prefix in ("/v1/chat/*", "/v1/messages*", "/anthropic/*", "/health*", "/v1/embeddings*"):
        assert routed[prefix] == gateway


def test_rule_priorities_are_unique_and_ui_comes_before_the_gateway(stack):
    rules = list(resources(stack, "aws_lb_listener_rule").values())
    priorities = [rule["priority"] for rule in rules]
    assert len(priorities) == len(set(priorities))
    ui = _target_group(stack, "ui")
    ui_priorities = [rule["priority"] for rule in rules if rule["action"][0]["target_group_arn"] == ui]
    gateway_priorities = [rule["priority"] for rule in rules if rule["action"][0]["target_group_arn"] != ui]
    assert max(ui_priorities) < min(gateway_priorities)


def test_management_api_is_the_default_route(stack):
    _, listener = _routing_listener(stack)
    (action,) = listener["default_action"]
    assert action == {"type": "forward", "target_group_arn": _target_group(stack, "backend")}


def test_target_groups_use_the_reference_health_paths_and_a_short_drain(stack):
    expected = {
        "gateway": ("/health/readiness", 4000),
        "backend": ("/health/readiness", 4001),
        "ui": ("/healthz", 3000),
    }
    for component, (path, port) in expected.items():
        _, group = named(stack, "aws_lb_target_group", f"/lb/{component}-targets")
        assert group["health_check"]["path"] == path
        assert group["port"] == port and group["target_type"] == "ip"
        assert group["deregistration_delay"] == "30"


# ---- load balancer -------------------------------------------------------------------------------------------


def test_alb_is_internal_drops_bad_headers_and_logs(stack):
    _, alb = named(stack, "aws_lb", "/lb/alb")
    assert alb["internal"] is True
    assert alb["drop_invalid_header_fields"] is True
    assert alb["access_logs"]["enabled"] is True
    assert alb["enable_deletion_protection"] is True
    # ELB verifies its log-delivery permission at creation: the bucket policy comes first.
    policy, _ = named(stack, "aws_s3_bucket_policy", "/lb/access-logs/")
    assert f"aws_s3_bucket_policy.{policy}" in alb["depends_on"]
    private = {
        f"${{aws_subnet.{name}.id}}"
        for name, body in resources(stack, "aws_subnet").items()
        if "/private-" in path_of(name, body)
    }
    assert set(alb["subnets"]) == private


def test_https_listener_uses_a_tls13_policy_and_http_only_redirects(stack):
    _, https = _routing_listener(stack)
    assert https["protocol"] == "HTTPS" and https["port"] == 443
    assert https["ssl_policy"].startswith("ELBSecurityPolicy-TLS13-")
    assert https["certificate_arn"].startswith("arn:aws:acm:")
    _, http = named(stack, "aws_lb_listener", "/lb/http-redirect")
    (action,) = http["default_action"]
    assert action["type"] == "redirect"
    assert action["redirect"] == {"port": "443", "protocol": "HTTPS", "status_code": "HTTP_301"}
    assert len(resources(stack, "aws_lb_listener")) == 2


def test_alb_admits_only_the_configured_cidrs_on_its_listener_ports(stack):
    alb_sg, _ = named(stack, "aws_security_group", "/network/alb-sg")
    rules = [
        body
        for body in resources(stack, "aws_vpc_security_group_ingress_rule").values()
        if body["security_group_id"] == f"${{aws_security_group.{alb_sg}.id}}"
    ]
    _, vpc = next(iter(resources(stack, "aws_vpc").items()))
    assert sorted(rule["from_port"] for rule in rules) == [80, 443]
    assert all(rule["cidr_ipv4"] == vpc["cidr_block"] for rule in rules)


def test_tasks_admit_only_the_alb_and_data_stores_only_the_tasks(stack):
    sg = {
        path_of(name, body).split("/")[-2].removesuffix("-sg"): f"${{aws_security_group.{name}.id}}"
        for name, body in resources(stack, "aws_security_group").items()
    }
    ingress: dict[str, list[tuple[int, str | None, str | None]]] = {}
    for rule in resources(stack, "aws_vpc_security_group_ingress_rule").values():
        group = next(key for key, value in sg.items() if value == rule["security_group_id"])
        ingress.setdefault(group, []).append(
            (rule["from_port"], rule.get("referenced_security_group_id"), rule.get("cidr_ipv4"))
        )
    for component, port in {"gateway": 4000, "backend": 4001, "ui": 3000}.items():
        assert ingress[f"{component}-tasks"] == [(port, sg["alb"], None)]
    assert sorted(ingress["database"]) == sorted(
        (5432, sg[client], None) for client in ("gateway-tasks", "backend-tasks", "jobs")
    )
    assert sorted(ingress["cache"]) == sorted((6379, sg[client], None) for client in ("gateway-tasks", "backend-tasks"))
    assert "jobs" not in ingress and "ui-tasks" in ingress


def test_default_security_group_is_emptied_and_flow_logs_are_on(stack):
    (default,) = resources(stack, "aws_default_security_group").values()
    assert default["ingress"] == [] and default["egress"] == []
    (flow,) = resources(stack, "aws_flow_log").values()
    assert flow["traffic_type"] == "ALL"


# ---- identity and secrets ------------------------------------------------------------------------------------


def test_no_wildcard_action_or_resource_in_any_iam_policy(stack):
    for name, document in data_sources(stack, "aws_iam_policy_document").items():
        for statement in document["statement"]:
            if statement.get("effect", "Allow") == "Deny":
                continue
            for action in statement.get("actions", []):
                assert action != "*" and not action.endswith(":*"), (name, action)
            for resource in statement.get("resources", []):
                # The one action AWS grants only on `*`: the ECR registry login (no data, no secret).
                assert resource != "*" or statement["actions"] == ["ecr:GetAuthorizationToken"], (name, statement)
                if any(action.startswith(("secretsmanager:", "kms:")) for action in statement.get("actions", [])):
                    assert "*" not in resource, (name, resource)
    for body in resources(stack, "aws_iam_role_policy_attachment").values():
        assert body["policy_arn"].endswith("AmazonRDSEnhancedMonitoringRole"), body


def test_each_execution_role_reads_exactly_the_secrets_its_container_references(stack):
    found = containers(stack)
    for family, container in found.items():
        _, task = task_definition(stack, family)
        statements = policy_statements(stack, task["execution_role_arn"])
        secret_reads = [s for s in statements if any(a.startswith("secretsmanager:") for a in s["actions"])]
        referenced_secrets = {bare_secret(item["valueFrom"]) for item in container["secrets"]}
        if not referenced_secrets:
            assert secret_reads == [], family
            assert not any(a.startswith("kms:") for s in statements for a in s["actions"]), family
            continue
        (read,) = secret_reads
        assert read["actions"] == ["secretsmanager:GetSecretValue"]
        assert set(read["resources"]) == referenced_secrets, family
        (decrypt,) = [s for s in statements if s["actions"] == ["kms:Decrypt"]]
        assert decrypt["resources"] == [f"${{aws_kms_key.{next(iter(resources(stack, 'aws_kms_key')))}.arn}}"]
        assert decrypt["condition"][0]["variable"] == "kms:ViaService"


def test_no_secret_value_in_any_task_definition(stack):
    for family, container in containers(stack).items():
        for item in container["environment"]:
            assert not item["name"].endswith(SENSITIVE_SUFFIXES), (family, item["name"])
            assert "random_password" not in item["value"] and "ephemeral" not in item["value"], (family, item)
            assert not item["value"].startswith("sk-"), (family, item)
        for item in container["secrets"]:
            assert item["valueFrom"].startswith(("${aws_secretsmanager_secret.", "${aws_rds_cluster.")), item
    text = json.dumps(stack)
    # Ephemeral values feed write-only arguments only.
    for kind, bodies in stack["resource"].items():
        for name, body in bodies.items():
            for key, value in body.items():
                if "ephemeral." in json.dumps(value):
                    assert (kind, key) == ("aws_secretsmanager_secret_version", "secret_string_wo"), (kind, name, key)
    assert 'master_password"' not in text


def test_secrets_reach_containers_pinned_to_a_version_label(stack):
    found = containers(stack)
    gateway = {item["name"]: item["valueFrom"] for item in found["gateway"]["secrets"]}
    backend = {item["name"]: item["valueFrom"] for item in found["backend"]["secrets"]}
    # Put in out of band: the operator's `v<n>` label.
    for env_var in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        assert re.fullmatch(r"\$\{aws_secretsmanager_secret\.[^}]+\.arn\}::v\d+:", gateway[env_var]), env_var
    # Written by Terraform: the version id (its label goes when the version resource is replaced).
    for env_var in ("LITELLM_MASTER_KEY", "LITELLM_SALT_KEY", "REDIS_PASSWORD"):
        pattern = (
            r"\$\{aws_secretsmanager_secret\.[^}]+\.arn\}:::\$\{aws_secretsmanager_secret_version\.[^}]+\.version_id\}"
        )
        assert re.fullmatch(pattern, gateway[env_var]), env_var
    assert "UI_PASSWORD" in backend and "UI_PASSWORD" not in gateway
    assert not any(name.endswith("_API_KEY") for name in backend), "provider keys are the gateway's only"
    for body in resources(stack, "aws_secretsmanager_secret_version").values():
        assert body["version_stages"][0] == "AWSCURRENT" and re.fullmatch(r"v\d+", body["version_stages"][1])
        assert body["lifecycle"]["create_before_destroy"] is True


def test_every_secret_is_encrypted_with_the_gateway_key(stack):
    (key_name,) = resources(stack, "aws_kms_key")
    env = stack["//"]["metadata"]["stackName"].removeprefix("aws-")
    names = {body["name"] for body in resources(stack, "aws_secretsmanager_secret").values()}
    # As ProviderKey documents: `<tenant>-<env>-provider-<name>`.
    assert {f"acme-{env}-provider-{key}" for key in ("openai", "anthropic", "dashscope", "deepseek")} <= names
    for body in resources(stack, "aws_secretsmanager_secret").values():
        assert body["kms_key_id"] == f"${{aws_kms_key.{key_name}.arn}}"
        assert 7 <= body["recovery_window_in_days"] <= 30
    (key,) = resources(stack, "aws_kms_key").values()
    assert key["enable_key_rotation"] is True


def test_ui_task_role_has_no_permissions_and_the_ui_no_secrets(stack):
    _, task = task_definition(stack, "ui")
    assert policy_statements(stack, task["task_role_arn"]) == []
    assert attachments(stack, task["task_role_arn"]) == []
    assert containers(stack)["ui"]["secrets"] == []
    assert task["task_role_arn"] != task["execution_role_arn"]


def test_task_roles_reach_their_bucket_and_exactly_their_database_user(stack):
    bucket, _ = named(stack, "aws_s3_bucket", "/bucket/bucket")
    bucket_arn = f"${{aws_s3_bucket.{bucket}.arn}}"
    # The backend logs in as its own capped role (tests/test_aws_db_client_roles.py).
    for family, user in (("gateway", "litellm_app"), ("backend", "litellm_app_backend")):
        _, task = task_definition(stack, family)
        statements = policy_statements(stack, task["task_role_arn"])
        s3 = {r for s in statements if s["actions"][0].startswith("s3:") for r in s["resources"]}
        assert s3 == {bucket_arn, f"{bucket_arn}/*"}
        (connect,) = [s for s in statements if s["actions"] == ["rds-db:connect"]]
        (resource,) = connect["resources"]
        assert resource.endswith(f".cluster_resource_id}}/{user}")
        assert resource.startswith("arn:aws:rds-db:us-east-1:")
        assert not any(a.startswith("bedrock:") for s in statements for a in s["actions"])


# ---- data stores ---------------------------------------------------------------------------------------------


def test_aurora_enforces_ssl_iam_auth_cmk_backups_and_protection(stack):
    (cluster,) = resources(stack, "aws_rds_cluster").values()
    assert cluster["engine"] == "aurora-postgresql"
    assert cluster["iam_database_authentication_enabled"] is True
    assert cluster["manage_master_user_password"] is True and "master_password" not in cluster
    assert cluster["storage_encrypted"] is True and cluster["kms_key_id"].startswith("${aws_kms_key.")
    assert cluster["master_user_secret_kms_key_id"] == cluster["kms_key_id"]
    assert cluster["deletion_protection"] is True and cluster["skip_final_snapshot"] is False
    assert cluster["final_snapshot_identifier"] and cluster["backup_retention_period"] >= 7
    (parameters,) = resources(stack, "aws_rds_cluster_parameter_group").values()
    assert {"name": "rds.force_ssl", "value": "1", "apply_method": "pending-reboot"} in parameters["parameter"]
    assert cluster["db_cluster_parameter_group_name"].startswith("${aws_rds_cluster_parameter_group.")
    instances = list(resources(stack, "aws_rds_cluster_instance").values())
    assert len(instances) >= 2 and sorted(i["promotion_tier"] for i in instances)[0] == 0
    assert all(i["publicly_accessible"] is False for i in instances)


def test_redis_is_encrypted_authenticated_and_highly_available_in_production(stack, synthesized):
    (redis,) = resources(stack, "aws_elasticache_replication_group").values()
    assert redis["at_rest_encryption_enabled"] == "true" and redis["kms_key_id"].startswith("${aws_kms_key.")
    assert redis["transit_encryption_enabled"] is True and redis["transit_encryption_mode"] == "required"
    assert redis["auth_token"].startswith("${random_password.")
    _, secret_version = named(stack, "aws_secretsmanager_secret_version", "/redis-auth/")
    assert secret_version["secret_string"] == redis["auth_token"]
    if stack is synthesized["aws-prod"]:
        assert redis["multi_az_enabled"] is True and redis["automatic_failover_enabled"] is True
        assert redis["num_cache_clusters"] >= 2


def test_buckets_are_private_versioned_owner_enforced_tls_only_and_data_is_kms(stack):
    buckets = resources(stack, "aws_s3_bucket")
    assert len(buckets) == 2
    for kind in ("aws_s3_bucket_public_access_block", "aws_s3_bucket_ownership_controls", "aws_s3_bucket_versioning"):
        assert len(resources(stack, kind)) == 2
    for block in resources(stack, "aws_s3_bucket_public_access_block").values():
        assert all(
            block[key] is True
            for key in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
        )
    for document in data_sources(stack, "aws_iam_policy_document").values():
        if document["statement"][0].get("sid") == "DenyInsecureTransport":
            deny = document["statement"][0]
            assert deny["effect"] == "Deny" and deny["condition"][0]["variable"] == "aws:SecureTransport"
    assert (
        sum(
            d["statement"][0].get("sid") == "DenyInsecureTransport"
            for d in data_sources(stack, "aws_iam_policy_document").values()
        )
        == 2
    )
    algorithms = {
        path_of(name, body).strip("/"): body["rule"][0]["apply_server_side_encryption_by_default"]["sse_algorithm"]
        for name, body in resources(stack, "aws_s3_bucket_server_side_encryption_configuration").items()
    }
    # ALB log delivery supports SSE-S3 only; every other bucket uses the gateway key.
    assert algorithms == {"bucket/encryption": "aws:kms", "lb/access-logs/encryption": "AES256"}


def test_log_groups_are_encrypted_and_retained(stack):
    for body in resources(stack, "aws_cloudwatch_log_group").values():
        assert body["kms_key_id"].startswith("${aws_kms_key.")
        assert body["retention_in_days"] >= 365


# ---- services, proxy config and migrations ---------------------------------------------------------------------


def test_services_run_privately_roll_back_and_autoscale(stack):
    services = {
        path_of(name, body).split("/")[1].removesuffix("-service"): body
        for name, body in resources(stack, "aws_ecs_service").items()
    }
    assert set(services) == {"gateway", "backend", "ui"}
    for service in services.values():
        assert service["launch_type"] == "FARGATE"
        assert service["network_configuration"]["assign_public_ip"] is False
        assert service["deployment_circuit_breaker"] == {"enable": True, "rollback": True}
        assert service["task_definition"].startswith("${aws_ecs_task_definition.")
    scaled = {
        target["resource_id"].split("${aws_ecs_service.")[1].split(".")[0]
        for target in resources(stack, "aws_appautoscaling_target").values()
    }
    for component in ("gateway", "backend"):
        assert services[component]["lifecycle"]["ignore_changes"] == ["desired_count"]
    assert len(scaled) == 2
    for policy in resources(stack, "aws_appautoscaling_policy").values():
        spec = policy["target_tracking_scaling_policy_configuration"]
        assert spec["predefined_metric_specification"]["predefined_metric_type"] == "ECSServiceAverageCPUUtilization"


def test_proxy_config_lives_in_s3_and_its_digest_rolls_the_services(stack, example_environments):
    env = stack["//"]["metadata"]["stackName"].removeprefix("aws-")
    config = next(loaded.config for loaded in example_environments if loaded.config.env == env)
    rendered = render_proxy_config(config)
    objects = {body["key"]: body for body in resources(stack, "aws_s3_object").values()}
    assert set(objects) == {rendered.object_key} | {hook.object_key for hook in rendered.hooks}
    assert objects[rendered.object_key]["content"] == rendered.text
    for hook in rendered.hooks:  # the daily token cap hook, loaded by LiteLLM from the config's directory
        assert objects[hook.object_key]["content"] == hook.text
    assert all(body["server_side_encryption"] == "aws:kms" for body in objects.values())
    found = containers(stack)
    for component in ("gateway", "backend"):
        environment = {item["name"]: item["value"] for item in found[component]["environment"]}
        assert environment[CONFIG_SHA_ENV] == rendered.sha256
        assert environment["LITELLM_PROXY_CONFIG_S3_OBJECT"].startswith("${aws_s3_object.")
        assert environment["IAM_TOKEN_DB_AUTH"] == "true" and environment["REDIS_SSL"] == "true"
        assert environment["DATABASE_SSLMODE"] == "verify-full" and "DATABASE_PASSWORD" not in environment
        (command,) = found[component]["command"]
        # The gateway starts through gateway.launch: its PgBouncer caps the Aurora connections (test_aws_db_pool_limit).
        server = "exec python -m gateway.launch" if component == "gateway" else "exec uvicorn"
        assert "download_file" in command and CONFIG_SHA_ENV in command and server in command


# Stands in for boto3 in the container: "downloads" the version of an object that ExtraArgs["VersionId"] names from the
# local file FAKE_S3_DIR/<VersionId>. boto3's S3 download_file(Bucket, Key, Filename, ExtraArgs=None, ...) takes the
# version as ExtraArgs["VersionId"] (boto3/s3/transfer.py, S3Transfer.ALLOWED_DOWNLOAD_ARGS).
_FAKE_BOTO3 = textwrap.dedent(
    """
    import os, shutil

    class _S3:
        def download_file(self, bucket, key, path, ExtraArgs=None):
            shutil.copyfile(os.path.join(os.environ["FAKE_S3_DIR"], ExtraArgs["VersionId"]), path)

    def client(service, region_name):
        assert service == "s3" and region_name
        return _S3()
    """
)


@pytest.mark.parametrize("optimize", ["", "1"], ids=["plain", "PYTHONOPTIMIZE"])
def test_the_digest_check_refuses_any_other_file_even_optimized(stack, tmp_path, optimize):
    """Run the container's first step for real: the deployed file passes, one changed byte stops the start,
    also with PYTHONOPTIMIZE set in the image (which would silently drop an `assert`)."""
    (gateway,) = containers(stack)["gateway"]["command"]
    fetch = gateway.split(" && exec ")[0]
    environment = {item["name"]: item["value"] for item in containers(stack)["gateway"]["environment"]}
    objects = {body["key"]: body for body in resources(stack, "aws_s3_object").values()}
    (tmp_path / "boto3.py").write_text(_FAKE_BOTO3)
    bucket = tmp_path / "bucket"
    bucket.mkdir()
    # Terraform resolves the object keys in the env (`${aws_s3_object.<name>.key}`): the test puts them in.
    config_key = next(key for key in objects if key.endswith(".yaml"))
    hook_keys = {os.path.basename(key).split(".")[0] + ".py": key for key in objects if key.endswith(".py")}
    # `${aws_s3_object.<name>.key}|${aws_s3_object.<name>.version_id}|<file name>|<sha256>`, comma-separated
    hooks = [entry.split("|") for entry in environment["LLMGW_PROXY_HOOKS"].split(",")]
    assert all(reference.startswith("${aws_s3_object.proxy-hook-") for reference, _, _, _ in hooks)
    assert all(version.endswith(".version_id}") for _, version, _, _ in hooks)
    # Terraform resolves the version ids; the test names each one after its file.
    hooks = [f"{hook_keys[name]}|{name}-version|{name}|{digest}" for _, _, name, digest in hooks]
    for name, key in hook_keys.items():
        (bucket / f"{name}-version").write_text(objects[key]["content"])
    env = {
        "PATH": f"{os.path.dirname(sys.executable)}:{os.environ['PATH']}",
        "PYTHONPATH": str(tmp_path),
        "PYTHONOPTIMIZE": optimize,
        "AWS_REGION": "eu-west-1",
        "FAKE_S3_DIR": str(bucket),
        "LITELLM_PROXY_CONFIG_S3_BUCKET": environment["LITELLM_PROXY_CONFIG_S3_BUCKET"],
        "LITELLM_PROXY_CONFIG_S3_OBJECT": config_key,
        "LITELLM_PROXY_CONFIG_S3_VERSION": "config-version",
        "LLMGW_PROXY_HOOKS": ",".join(hooks),
        "CONFIG_FILE_PATH": str(tmp_path / "litellm" / "proxy_config.yaml"),
        CONFIG_SHA_ENV: environment[CONFIG_SHA_ENV],
    }
    deployed = bucket / "config-version"
    assert_digest_check_passes_then_refuses(fetch, env, deployed, objects[config_key]["content"])
    # The hook lands beside the config, where LiteLLM resolves `llmgw_daily_tokens.daily_token_cap`.
    assert (tmp_path / "litellm" / "llmgw_daily_tokens.py").read_text() == objects[hook_keys["llmgw_daily_tokens.py"]][
        "content"
    ]
    for name in hook_keys:
        (bucket / f"{name}-version").write_text("tampered = True\n")
    deployed.write_text(objects[config_key]["content"])
    refused = subprocess.run(["sh", "-c", fetch], env=env, capture_output=True, text=True, check=False, timeout=60)
    assert refused.returncode == 1 and "proxy config digest mismatch" in refused.stderr
    assert "llmgw_daily_tokens.py" in refused.stderr


def test_services_start_only_after_migrations_which_follow_the_user_bootstrap(stack):
    runs = {
        path_of(name, body).split("/")[2]: (name, body) for name, body in resources(stack, "terraform_data").items()
    }
    assert set(runs) == {"bootstrap-db", "migrations"}
    migrations_name, migrations = runs["migrations"]
    bootstrap_name, bootstrap = runs["bootstrap-db"]
    assert address("terraform_data", bootstrap_name) in migrations["depends_on"]
    assert migrations["triggers_replace"]["after"] == f"${{terraform_data.{bootstrap_name}.id}}"
    assert migrations["triggers_replace"]["task_definition"].startswith("${aws_ecs_task_definition.migrations-task")
    assert bootstrap["triggers_replace"]["cluster"].endswith(".cluster_resource_id}")
    for name, body in resources(stack, "aws_ecs_service").items():
        component = path_of(name, body).split("/")[1]
        has = address("terraform_data", migrations_name) in body["depends_on"]
        assert has is (component != "ui-service"), name
    for _, run in runs.values():
        (provisioner,) = run["provisioner"]
        command = provisioner["local-exec"]["command"]
        for needle in ("aws ecs run-task", "aws ecs wait tasks-stopped", "exitCode", "$LOG_GROUP", "exit 1"):
            assert needle in command
        assert provisioner["local-exec"]["environment"]["LOG_GROUP"].startswith("${aws_cloudwatch_log_group.")


def test_migration_task_has_room_for_prisma_and_bootstrap_uses_tls(stack):
    _, task = task_definition(stack, "migrations")
    assert int(task["memory"]) >= 2048
    bootstrap = containers(stack)["bootstrap-db"]
    environment = {item["name"]: item["value"] for item in bootstrap["environment"]}
    assert environment["PGSSLMODE"] == "verify-full"
    assert "GRANT rds_iam TO litellm_app" in environment["BOOTSTRAP_SQL"]
    (password,) = bootstrap["secrets"]
    assert password["name"] == "PGPASSWORD" and password["valueFrom"].endswith(":password::")
    assert ".master_user_secret[0].secret_arn}" in password["valueFrom"]


def test_production_images_are_digest_pinned(prod):
    for family, container in containers(prod).items():
        assert pinned_by_digest(container["image"]), (family, container["image"])


def test_outputs_name_secrets_and_endpoints_not_values(stack):
    outputs = stack["output"]
    for name in (
        "alb_dns_name",
        "gateway_url",
        "migration_command",
        "master_key_secret_arn",
        "provider_key_secret_arns",
        "ecs_cluster",
        "aurora_writer_endpoint",
        "redis_endpoint",
        "s3_bucket",
    ):
        assert name in outputs
    assert outputs["gateway_url"]["value"].startswith("https://llm-gateway.")
    for name, output in outputs.items():
        text = json.dumps(output["value"])
        assert "random_password" not in text and "ephemeral" not in text, name
    assert "aws ecs run-task" in outputs["migration_command"]["value"]
