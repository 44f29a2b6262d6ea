"""`aws-<env>` built from edited configs: bad settings fail with the field named, options change the output."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import cdktf
import pytest
import yaml

from constructs_lib._common.errors import PropsError
from constructs_lib.config import ConfigError, EnvironmentConfig, load_environment
from stacks.context import StackContext
from tests.conftest import CONFIG_DIR
from tests.test_aws_gateway import containers, named, path_of, policy_statements, resources, task_definition

DEV = yaml.safe_load((CONFIG_DIR / "dev.yaml").read_text())
PROD = yaml.safe_load((CONFIG_DIR / "prod.yaml").read_text())
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:111111111111:secret:acme/otel-headers-AbCdEf"  # pragma: allowlist secret


def _merge(target: dict, edits: dict) -> None:
    for key, value in edits.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


def _load(tmp_path: Path, aws_edits: dict, base: dict = DEV) -> EnvironmentConfig:
    data = copy.deepcopy(base)
    _merge(data["clouds"]["aws"], aws_edits)
    path = tmp_path / f"{data['env']}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_environment(path)


def _stack(config: EnvironmentConfig, app: cdktf.App | None = None):
    from stacks.aws.gateway import AwsGatewayStack

    context = StackContext(f"aws-{config.env}", "aws", "gateway", config_path=Path("config/dev.yaml"), config=config)
    return AwsGatewayStack(app or cdktf.Testing.app(), context)


def _synth(config: EnvironmentConfig) -> dict:
    return json.loads(cdktf.Testing.synth(_stack(config)))


@pytest.mark.parametrize(
    ("edits", "field", "message"),
    [
        ({"availability_zones": ["us-east-1a"]}, "clouds.aws.availability_zones", "at least two AZs"),
        (
            {"load_balancer": {"domain_name": None}},
            "clouds.aws.load_balancer.domain_name",
            "the DNS name its certificate covers",
        ),
        (
            {"load_balancer": {"certificate_arn": None}},
            "clouds.aws.load_balancer.certificate_arn",
            "allow_plaintext",
        ),
        (
            {"load_balancer": {"certificate_arn": None, "allow_plaintext": True, "internet_facing": True}},
            "clouds.aws.load_balancer.certificate_arn",
            "internet-facing ALB needs a certificate",
        ),
        (
            {"load_balancer": {"internet_facing": True}},
            "clouds.aws.load_balancer.ingress_cidrs",
            "written out",
        ),
        ({"components": {"gateway": {"cpu": 1024, "memory": 512}}}, "clouds.aws.components.gateway.memory", "Fargate"),
        ({"components": {"gateway": {"cpu": 300}}}, "clouds.aws.components.gateway.cpu", "not a Fargate size"),
        (
            {"components": {"backend": {"cpu": 512, "memory": 1024}}},
            "clouds.aws.components.backend.memory",
            "import chain",
        ),
        (
            {"components": {"backend": {"desired_count": 9, "max_count": 4}}},
            "clouds.aws.components.backend.desired_count",
            "outside",
        ),
        (
            {"components": {"gateway": {"image": "ghcr.io/berriai/litellm-gateway:latest"}}},
            "clouds.aws.components.gateway.image",
            "`latest` is not a pin",
        ),
        (
            {"components": {"ui": {"extra_secrets": {"X_TOKEN": SECRET_ARN}}}},
            "clouds.aws.components.ui.extra_secrets",
            "no secrets",
        ),
        (
            {"bedrock_model_arns": ["arn:aws:bedrock:us-east-1::foundation-model/*"]},
            "clouds.aws.bedrock_model_arns",
            "not an exact Bedrock ARN",
        ),
        ({"migrations": {"memory": 1024}}, "clouds.aws.migrations.memory", "at least 2048"),
        ({"database": {"app_user": "litellm_admin"}}, "clouds.aws.database.app_user", "must differ"),
        (
            {
                "network": {
                    "existing_vpc_id": "vpc-0123456789abcdef0",
                    "existing_private_subnet_ids": ["subnet-0123456789abcdef0"],
                }
            },
            "clouds.aws.network.existing_private_subnet_ids",
            "at least two private subnets",
        ),
    ],
)
def test_bad_aws_config_fails_naming_the_field(tmp_path, edits, field, message):
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, edits)
    assert caught.value.path == field
    assert message in caught.value.problem


def test_production_refuses_a_tag_only_image(tmp_path):
    config = _load(
        tmp_path, {"components": {"backend": {"image": "ghcr.io/berriai/litellm-backend:v1.86.0-dev"}}}, PROD
    )
    with pytest.raises(PropsError) as caught:
        _synth(config)
    assert caught.value.field == "clouds.aws.components.backend.image"
    assert "digest" in caught.value.problem


def test_production_refuses_an_unpinned_bootstrap_image_and_a_single_redis_node(tmp_path):
    with pytest.raises(PropsError) as caught:
        _synth(_load(tmp_path, {"migrations": {"bootstrap_image": "public.ecr.aws/docker/library/postgres:16"}}, PROD))
    assert caught.value.field == "clouds.aws.migrations.bootstrap_image"
    with pytest.raises(PropsError) as caught:
        _synth(_load(tmp_path, {"cache": {"nodes": 1}}, PROD))
    assert caught.value.field == "clouds.aws.cache.nodes"
    with pytest.raises(PropsError) as caught:
        _synth(_load(tmp_path, {"database": {"deletion_protection": False}}, PROD))
    assert caught.value.field == "clouds.aws.database.deletion_protection"


def test_plaintext_opt_in_serves_http_on_an_internal_alb_only(tmp_path):
    stack = _synth(
        _load(tmp_path, {"load_balancer": {"certificate_arn": None, "allow_plaintext": True, "domain_name": None}})
    )
    listeners = list(resources(stack, "aws_lb_listener").values())
    assert [(listener["protocol"], listener["port"]) for listener in listeners] == [("HTTP", 80)]
    assert listeners[0]["default_action"][0]["type"] == "forward"
    assert stack["output"]["gateway_url"]["value"].startswith("http://${aws_lb.")
    (alb,) = resources(stack, "aws_lb").values()
    assert alb["internal"] is True


def test_internet_facing_alb_sits_on_public_subnets_and_admits_only_its_cidrs(tmp_path):
    stack = _synth(_load(tmp_path, {"load_balancer": {"internet_facing": True, "ingress_cidrs": ["203.0.113.0/24"]}}))
    (alb,) = resources(stack, "aws_lb").values()
    assert alb["internal"] is False
    public = {
        f"${{aws_subnet.{n}.id}}" for n, b in resources(stack, "aws_subnet").items() if "/public-" in path_of(n, b)
    }
    assert set(alb["subnets"]) == public
    alb_sg, _ = named(stack, "aws_security_group", "/network/alb-sg")
    cidrs = {
        rule["cidr_ipv4"]
        for rule in resources(stack, "aws_vpc_security_group_ingress_rule").values()
        if rule["security_group_id"] == f"${{aws_security_group.{alb_sg}.id}}"
    }
    assert cidrs == {"203.0.113.0/24"}
    assert all(not subnet.get("map_public_ip_on_launch") for subnet in resources(stack, "aws_subnet").values())


def test_without_auto_run_nothing_runs_and_the_command_is_printed(tmp_path):
    stack = _synth(_load(tmp_path, {"migrations": {"auto_run": False}}))
    assert resources(stack, "terraform_data") == {}
    command = stack["output"]["migration_command"]["value"]
    assert command.index("STEP=bootstrap-db") < command.index("STEP=migrations")
    assert "aws ecs wait tasks-stopped" in command
    migrations, _ = task_definition(stack, "migrations")
    for name, service in resources(stack, "aws_ecs_service").items():
        if "/ui-service/" not in path_of(name, service):
            assert f"aws_ecs_task_definition.{migrations}" in service["depends_on"], name


def test_otel_is_absent_by_default_and_complete_when_an_endpoint_is_set(tmp_path, synthesized):
    for container in containers(synthesized["aws-dev"]).values():
        assert not any(item["name"].startswith(("OTEL_", "LITELLM_OTEL")) for item in container["environment"])
    stack = _synth(
        _load(tmp_path, {"otel": {"endpoint": "https://otel.acme.example", "headers_secret_arn": SECRET_ARN}})
    )
    found = containers(stack)
    for component in ("gateway", "backend"):
        environment = {item["name"]: item["value"] for item in found[component]["environment"]}
        assert environment["LITELLM_OTEL_V2"] == "true"
        assert environment["OTEL_SERVICE_NAME"] == f"acme-dev-{component}"
        assert environment["OTEL_ENDPOINT"] == "https://otel.acme.example"
        assert environment["OTEL_ENVIRONMENT_NAME"] == "dev"
        assert environment["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] == "no_content"
        secrets = {item["name"]: item["valueFrom"] for item in found[component]["secrets"]}
        assert secrets["OTEL_HEADERS"] == SECRET_ARN
        _, task = task_definition(stack, component)
        reads = [
            s
            for s in policy_statements(stack, task["execution_role_arn"])
            if s["actions"] == ["secretsmanager:GetSecretValue"]
        ]
        assert SECRET_ARN in reads[0]["resources"]
    assert not any(item["name"].startswith("OTEL_") for item in found["ui"]["environment"])


def test_extra_env_and_extra_secrets_reach_only_their_component(tmp_path):
    stack = _synth(
        _load(
            tmp_path,
            {
                "components": {
                    "gateway": {
                        "extra_env": {"LITELLM_LOG": "INFO"},
                        "extra_secrets": {"LANGFUSE_SECRET_KEY": SECRET_ARN},
                    }
                }
            },
        )
    )
    found = containers(stack)
    assert {"name": "LITELLM_LOG", "value": "INFO"} in found["gateway"]["environment"]
    assert {"name": "LANGFUSE_SECRET_KEY", "valueFrom": SECRET_ARN} in found["gateway"]["secrets"]
    assert not any(item["name"] == "LANGFUSE_SECRET_KEY" for item in found["backend"]["secrets"])


def test_plain_env_that_looks_like_a_secret_is_refused(tmp_path):
    with pytest.raises(PropsError) as caught:
        secret_looking = {"LANGFUSE_SECRET_KEY": "not-here"}  # pragma: allowlist secret
        _synth(_load(tmp_path, {"components": {"backend": {"extra_env": secret_looking}}}))
    assert "pass it as a secret" in caught.value.problem


def test_bedrock_invoke_is_granted_on_exactly_the_configured_models(tmp_path):
    model = "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:0"
    stack = _synth(_load(tmp_path, {"bedrock_model_arns": [model]}))
    _, gateway = task_definition(stack, "gateway")
    (invoke,) = [
        s for s in policy_statements(stack, gateway["task_role_arn"]) if s["actions"][0].startswith("bedrock:")
    ]
    assert invoke["resources"] == [model]
    _, backend = task_definition(stack, "backend")
    assert not any(s["actions"][0].startswith("bedrock:") for s in policy_statements(stack, backend["task_role_arn"]))


def test_brought_vpc_creates_no_network_and_uses_its_subnets(tmp_path):
    subnets = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
    stack = _synth(
        _load(
            tmp_path, {"network": {"existing_vpc_id": "vpc-0123456789abcdef0", "existing_private_subnet_ids": subnets}}
        )
    )
    for kind in ("aws_vpc", "aws_subnet", "aws_nat_gateway", "aws_flow_log"):
        assert resources(stack, kind) == {}, kind
    for service in resources(stack, "aws_ecs_service").values():
        assert service["network_configuration"]["subnets"] == subnets
    assert all(group["vpc_id"] == "vpc-0123456789abcdef0" for group in resources(stack, "aws_security_group").values())
    # The internal ALB admits the brought VPC's own range, read from AWS, not the config's default CIDR.
    (vpc,) = stack["data"]["aws_vpc"].values()
    assert vpc["id"] == "vpc-0123456789abcdef0"
    alb_sg, _ = named(stack, "aws_security_group", "/network/alb-sg")
    cidrs = {
        rule["cidr_ipv4"]
        for rule in resources(stack, "aws_vpc_security_group_ingress_rule").values()
        if rule["security_group_id"] == f"${{aws_security_group.{alb_sg}.id}}"
    }
    assert len(cidrs) == 1 and next(iter(cidrs)).startswith("${data.aws_vpc.")


def test_nat_gateway_per_az_option(tmp_path, synthesized):
    assert len(resources(synthesized["aws-dev"], "aws_nat_gateway")) == 1
    stack = _synth(_load(tmp_path, {"network": {"nat_gateway_per_az": True}}))
    assert len(resources(stack, "aws_nat_gateway")) == 2


def test_gateway_url_token_crosses_stacks_without_a_domain_name(tmp_path):
    from stacks.aws.quotas import AwsQuotasStack

    # Plain HTTP inside the VPC: the only case whose URL is the ALB's own DNS name (a certificate needs domain_name).
    config = _load(tmp_path, {"load_balancer": {"domain_name": None, "certificate_arn": None, "allow_plaintext": True}})
    outdir = tmp_path / "out"
    app = cdktf.App(outdir=str(outdir))
    gateway = _stack(config, app)
    AwsQuotasStack(
        app,
        StackContext("aws-dev-quotas", "aws", "quotas", Path("config/dev.yaml"), config),
        gateway_url=gateway.gateway_url,
    )
    app.synth()
    quotas_json = json.loads((outdir / "stacks" / "aws-dev-quotas" / "cdk.tf.json").read_text())
    gateway_json = json.loads((outdir / "stacks" / "aws-dev" / "cdk.tf.json").read_text())
    api_base = quotas_json["provider"]["litellm"][0]["api_base"]
    assert api_base.startswith("http://${data.terraform_remote_state.cross-stack-reference-input-aws-dev.outputs.")
    (exported,) = [output for name, output in gateway_json["output"].items() if name.startswith("cross-stack-output-")]
    assert exported["value"].startswith("${aws_lb.") and exported["value"].endswith(".dns_name}")


UNIFIED = "123456789012.dkr.ecr.us-east-1.amazonaws.com/litellm:v1.86.0"


def test_unified_image_runs_every_role_through_the_image_entrypoint(tmp_path):
    stack = _synth(_load(tmp_path, {"unified_image": UNIFIED, "image_tag": None}))
    found = containers(stack)
    assert {container["image"] for container in found.values() if container["name"] != "psql"} == {UNIFIED}
    assert found["ui"]["command"] == ["ui"] and "entryPoint" not in found["ui"]
    assert found["migrations"]["command"] == ["migrations"]
    (gateway,) = found["gateway"]["command"]
    assert gateway.endswith("&& exec /app/docker-entrypoint.sh gateway --workers 1")
    (backend,) = found["backend"]["command"]
    assert backend.endswith("&& exec /app/docker-entrypoint.sh backend") and "download_file" in backend


def test_unified_image_excludes_per_component_images(tmp_path):
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, {"unified_image": UNIFIED, "components": {"ui": {"image": "ghcr.io/berriai/litellm-ui:v1"}}})
    assert caught.value.path == "clouds.aws.unified_image"
    assert "not both" in caught.value.problem


def test_production_unified_image_must_be_digest_pinned(tmp_path):
    prod = copy.deepcopy(PROD)
    aws = prod["clouds"]["aws"]
    for component in ("gateway", "backend", "ui"):
        aws["components"][component].pop("image")
    aws["migrations"].pop("image")
    aws["unified_image"] = UNIFIED
    with pytest.raises(PropsError) as caught:
        _synth(_load(tmp_path, {}, prod))
    assert caught.value.field == "clouds.aws.unified_image"


def test_private_ecr_images_are_pullable_from_exactly_their_repository(tmp_path, synthesized):
    documents = synthesized["aws-dev"]["data"]["aws_iam_policy_document"]
    assert not any(a.startswith("ecr:") for d in documents.values() for s in d["statement"] for a in s["actions"])
    stack = _synth(_load(tmp_path, {"unified_image": UNIFIED, "image_tag": None}))
    _, gateway = task_definition(stack, "gateway")
    statements = policy_statements(stack, gateway["execution_role_arn"])
    (pull,) = [s for s in statements if s.get("sid") == "PullOwnImages"]
    assert pull["resources"] == ["arn:aws:ecr:us-east-1:123456789012:repository/litellm"]
    (login,) = [s for s in statements if s.get("sid") == "RegistryLogin"]
    assert login["actions"] == ["ecr:GetAuthorizationToken"]
    _, bootstrap = task_definition(stack, "bootstrap-db")
    assert not any(s.get("sid") == "PullOwnImages" for s in policy_statements(stack, bootstrap["execution_role_arn"]))


def test_longest_tenant_and_env_fit_every_aws_name_limit(tmp_path):
    data = copy.deepcopy(DEV)
    data["tenant"], data["env"] = "abcdefghij", "abcdefgh"
    path = tmp_path / "abcdefgh.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    stack = _synth(load_environment(path))
    limits = {"aws_lb": 32, "aws_lb_target_group": 32, "aws_iam_role": 64, "aws_s3_bucket": 63}
    for kind, limit in limits.items():
        for body in resources(stack, kind).values():
            name = body.get("name") or body["bucket"]
            assert name.startswith("abcdefghij-abcdefgh-") and len(name) <= limit, (kind, name)
    (redis,) = resources(stack, "aws_elasticache_replication_group").values()
    assert len(redis["replication_group_id"]) <= 40
