"""The `alicloud-<env>` stacks as synthesized from the shipped examples: each security property, and bad config."""

from __future__ import annotations

import base64
import copy
import gzip
import json
import re
from pathlib import Path

import cdktf
import pytest
import yaml

from constructs_lib._common.errors import PropsError
from constructs_lib.config import ConfigError, EnvironmentConfig, load_environment
from stacks.context import StackContext
from tests.alicloud_standins import ca_pem
from tests.conftest import CONFIG_DIR
from tests.test_gcp_stack_options import _merge

ALICLOUD_STACKS = ("alicloud-dev", "alicloud-staging", "alicloud-prod")
PROVIDER_KEYS = ("dashscope", "openai", "anthropic", "deepseek")


def resources(stack: dict, kind: str) -> dict[str, dict]:
    return stack.get("resource", {}).get(kind, {})


def only(stack: dict, kind: str) -> dict:
    items = resources(stack, kind)
    assert len(items) == 1, f"expected one {kind}, found {sorted(items)}"
    return next(iter(items.values()))


def ref(kind: str, name: str, attribute: str) -> str:
    return f"{kind}.{name}.{attribute}"


@pytest.fixture(params=ALICLOUD_STACKS)
def stack(request, synthesized) -> dict:
    return synthesized[request.param]


# --- RAM: ECS-only trust, exactly-scoped policy, attached, no AccessKey --------------------------------------


def test_role_is_assumable_only_by_ecs(stack):
    trust = json.loads(only(stack, "alicloud_ram_role")["assume_role_policy_document"])
    assert trust["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": ["ecs.aliyuncs.com"]}}
    ]


def test_policy_names_exactly_the_gateway_secrets_and_key_without_wildcards(stack):
    document = only(stack, "alicloud_ram_policy")["policy_document"]
    assert "*" not in document
    secrets = resources(stack, "alicloud_kms_secret")
    (key_name,) = resources(stack, "alicloud_kms_key")
    get_secret, decrypt, get_object = document.split("kms:GetSecretValue")[1], "kms:Decrypt", "oss:GetObject"
    for name in secrets:
        assert ref("alicloud_kms_secret", name, "arn") in get_secret.split(decrypt)[0]
    assert get_secret.split(decrypt)[0].count("alicloud_kms_secret.") == len(secrets) == 3
    # Provider keys by exact name (no resource holds them): acs:kms:<region>:<account>:secret/<name>.
    for provider in PROVIDER_KEYS:
        assert re.search(rf"acs:kms:cn-shanghai:\$\{{[^}}]+\}}:secret/acme-\w+-provider-{provider}\b", get_secret)
    assert ref("alicloud_kms_key", key_name, "arn") in document.split(decrypt)[1].split(get_object)[0]
    actions = {"kms:GetSecretValue", "kms:Decrypt", "oss:GetObject"}
    assert {part.split('"')[0] for part in document.split('Action" = ["')[1:]} == actions
    # The release objects by exact key, each one the bucket actually holds.
    keys = {body["key"] for body in resources(stack, "alicloud_oss_bucket_object").values()}
    assert keys and all(f"/{key}" in document for key in keys)


def test_policy_is_attached_and_role_attached_to_every_instance_without_deprecated_role_name(stack):
    (role_name,) = resources(stack, "alicloud_ram_role")
    (policy_name,) = resources(stack, "alicloud_ram_policy")
    attachment = only(stack, "alicloud_ram_role_policy_attachment")
    assert attachment["policy_type"] == "Custom"
    assert ref("alicloud_ram_policy", policy_name, "policy_name") in attachment["policy_name"]
    assert ref("alicloud_ram_role", role_name, "role_name") in attachment["role_name"]
    instances = resources(stack, "alicloud_instance")
    attached = {body["instance_id"] for body in resources(stack, "alicloud_ecs_ram_role_attachment").values()}
    assert attached == {f"${{alicloud_instance.{name}.id}}" for name in instances}
    assert all("role_name" not in body for body in instances.values())


def test_no_access_key_anywhere(stack):
    text = json.dumps(stack)
    assert "alicloud_ram_access_key" not in text
    assert not {"access_key", "secret_key"} & set(stack["provider"]["alicloud"][0])


# --- Secrets: values never in the synthesized JSON ------------------------------------------------------------


def test_kms_secrets_are_the_generated_ones_under_the_customer_key_and_none_holds_a_provider_key(stack):
    (key_name,) = resources(stack, "alicloud_kms_key")
    by_name = {body["secret_name"]: body for body in resources(stack, "alicloud_kms_secret").values()}
    assert not [name for name in by_name if "-provider-" in name]
    for body in by_name.values():
        assert body["encryption_key_id"] == f"${{alicloud_kms_key.{key_name}.id}}"
        assert body["recovery_window_in_days"] == 30 and body["rotation_interval"] == "30d"
        assert body["force_delete_without_recovery"] is False


def test_generated_secrets_come_from_random_passwords_keyed_on_their_version(stack):
    passwords = resources(stack, "random_password")
    generated = [body for body in resources(stack, "alicloud_kms_secret").values() if "lifecycle" not in body]
    assert len(generated) == len(passwords) == 3
    for body in generated:
        assert body["secret_data"].startswith(("${random_password.", '${join("", ["sk-", random_password.'))
        assert body["version_id"] == "v1"
    assert all(body["keepers"] == {"version": "1"} for body in passwords.values())


def _user_data(stack: dict) -> list[str]:
    return [body["user_data"] for body in resources(stack, "alicloud_instance").values()]


def test_user_data_holds_no_secret_no_version_and_never_traces(stack):
    for script in _user_data(stack):
        assert "set -euo pipefail" in script and "set -x" not in script and "set -euxo" not in script
        assert "${" not in script, "user data must be static: a change reboots the instance"
        assert "secret_data" not in script and "runtime.py" not in script
        for provider in PROVIDER_KEYS:
            assert f"provider-{provider}" not in script
    assert len(set(_user_data(stack))) == 1


def test_runtime_script_keeps_secret_values_in_memory_only():
    from constructs_lib.alicloud.migrations import RUNTIME_SCRIPT

    source = RUNTIME_SCRIPT.read_text()
    compile(source, str(RUNTIME_SCRIPT), "exec")
    # The only files it writes are the release artifacts it downloads (hash-checked).
    writes = [line.strip() for line in source.splitlines() if re.search(r"\bopen\(.*\"wb?\"", line)]
    # The downloaded release artifact (hash-checked), prisma's settings file, Logtail's installer (a public script)
    # and identity file (a public name) and the empty venv markers: nothing else is ever written.
    assert writes == [
        'with open(destination + ".new", "wb") as handle:',
        'with open(f"{workdir}/pyproject.toml", "w", encoding="utf-8") as handle:',
        'with open(path, "wb") as handle:',
        'with open(LOGTAIL_IDENTITY + ".new", "w", encoding="utf-8") as handle:',
        'open(f"{venv}/.installed", "w").close()',
        'open(f"{venv}/.prisma-generated", "w").close()',
    ]
    assert '"VersionId": version' in source and "/health/readiness" in source
    assert "print(value" not in source and "_log(value" not in source


def test_outputs_name_secrets_url_and_role_and_nothing_sensitive(stack):
    outputs = stack["output"]
    assert {"gateway_url", "gateway_role_name", "provider_key_secret_names", "master_key_secret_name"} <= set(outputs)
    text = json.dumps(outputs)
    assert "random_password" not in text and "secret_data" not in text
    assert set(outputs["provider_key_secret_names"]["value"]) == set(PROVIDER_KEYS)
    # HTTPS names the certificate's domain in every example (plain HTTP is an opt-in no example takes).
    assert re.fullmatch(r"https://llm-gateway\.(dev|staging|prod)\.ali\.acme\.example", outputs["gateway_url"]["value"])
    assert "alicloud_alb_load_balancer." in outputs["alb_dns_name"]["value"]


# --- Load balancer ---------------------------------------------------------------------------------------------


def test_alb_is_intranet_in_two_zones_with_health_checks_on_4000(stack):
    alb = only(stack, "alicloud_alb_load_balancer")
    assert alb["address_type"] == "Intranet"
    zones = {mapping["zone_id"] for mapping in alb["zone_mappings"]}
    assert len(zones) == 2
    group = only(stack, "alicloud_alb_server_group")
    (health,) = group["health_check_config"]
    assert health["health_check_enabled"] is True and health["health_check_path"].startswith("/health")
    assert health["health_check_connect_port"] == 4000
    assert {server["port"] for server in group["servers"]} == {4000}
    assert len(group["servers"]) == len(resources(stack, "alicloud_instance"))
    assert alb["access_log_config"][0]["log_store"].startswith("${alicloud_log_store.")


def test_listener_is_https_with_a_certificate_and_http_only_by_opt_in(synthesized):
    prod = only(synthesized["alicloud-prod"], "alicloud_alb_listener")
    assert prod["listener_protocol"] == "HTTPS" and prod["listener_port"] == 443
    assert prod["certificates"][0]["certificate_id"] and prod["security_policy_id"].startswith("tls_cipher_policy_1_2")


def test_servers_join_the_alb_only_after_every_deploy(stack):
    group = only(stack, "alicloud_alb_server_group")
    invocations = resources(stack, "alicloud_ecs_invocation").items()
    deploys = [name for name, body in invocations if body["parameters"]["mode"] == "deploy"]
    assert set(group["depends_on"]) == {f"alicloud_ecs_invocation.{name}" for name in deploys}


# --- Network and security groups ------------------------------------------------------------------------------


def test_two_zones_for_vswitches_and_instances(stack):
    zones = {body["zone_id"] for body in resources(stack, "alicloud_vswitch").values()}
    assert len(zones) == 2
    instance_zones = {body["availability_zone"] for body in resources(stack, "alicloud_instance").values()}
    assert instance_zones == zones


def test_instances_are_private_hardened_and_encrypted(stack):
    for body in resources(stack, "alicloud_instance").values():
        assert body["internet_max_bandwidth_out"] == 0
        assert body["http_tokens"] == "required"
        assert body["system_disk_encrypted"] is True and body["system_disk_kms_key_id"].startswith(
            "${alicloud_kms_key."
        )
        assert "password" not in body and "key_name" not in body


def test_security_group_rules_are_least_privilege(stack, synthesized):
    rules = list(resources(stack, "alicloud_security_group_rule").values())
    ingress = [rule for rule in rules if rule["type"] == "ingress"]
    network = _alicloud_config(stack)["network"]
    assert {(rule["port_range"], rule["cidr_ip"]) for rule in ingress} == {
        ("4000/4000", cidr) for cidr in network["alb_vswitch_cidrs"]
    }
    accepted_egress = [rule for rule in rules if rule["type"] == "egress" and rule["policy"] == "accept"]
    assert all(rule["port_range"] != "-1/-1" and rule["ip_protocol"] != "all" for rule in accepted_egress)
    assert {rule["port_range"] for rule in accepted_egress if rule["cidr_ip"] == "0.0.0.0/0"} == {"443/443"}
    (deny,) = [rule for rule in rules if rule["policy"] == "drop"]
    assert (deny["type"], deny["ip_protocol"], deny["cidr_ip"], deny["priority"]) == ("egress", "all", "0.0.0.0/0", 100)
    assert only(stack, "alicloud_security_group")["inner_access_policy"] == "Drop"


def _alicloud_config(stack: dict) -> dict:
    env = stack["//"]["metadata"]["stackName"].removeprefix("alicloud-")
    return yaml.safe_load((CONFIG_DIR / f"{env}.yaml").read_text())["clouds"]["alicloud"]


def test_database_and_redis_admit_only_the_gateway_security_group(stack):
    (group,) = resources(stack, "alicloud_security_group")
    database, redis = only(stack, "alicloud_db_instance"), only(stack, "alicloud_kvstore_instance")
    assert database["security_group_ids"] == [f"${{alicloud_security_group.{group}.id}}"]
    assert redis["security_group_id"] == f"${{alicloud_security_group.{group}.id}}"
    assert database["security_ips"] == redis["security_ips"] == ["127.0.0.1"]
    assert database["ssl_action"] == "Open" and redis["ssl_enable"] == "Enable"
    assert database["encryption_key"].startswith("${alicloud_kms_key.")


def test_database_credentials_are_the_kms_held_generated_password(stack):
    account = only(stack, "alicloud_rds_account")
    (secret,) = [
        body for body in resources(stack, "alicloud_kms_secret").values() if body["secret_name"].endswith("db-password")
    ]
    assert account["account_password"] == secret["secret_data"]
    (redis_secret,) = [
        body
        for body in resources(stack, "alicloud_kms_secret").values()
        if body["secret_name"].endswith("redis-password")
    ]
    assert only(stack, "alicloud_kvstore_instance")["password"] == redis_secret["secret_data"]


def test_protections_follow_production(synthesized):
    prod, dev = synthesized["alicloud-prod"], synthesized["alicloud-dev"]
    assert only(prod, "alicloud_db_instance")["deletion_protection"] is True
    assert only(prod, "alicloud_db_instance")["category"] == "HighAvailability"
    assert only(prod, "alicloud_kvstore_instance")["instance_release_protection"] is True
    assert only(prod, "alicloud_alb_load_balancer")["deletion_protection_config"][0]["enabled"] is True
    assert only(prod, "alicloud_kms_key")["deletion_protection"] == "Enabled"
    assert all(body["deletion_protection"] is True for body in resources(prod, "alicloud_instance").values())
    assert only(dev, "alicloud_db_instance")["deletion_protection"] is False
    assert only(prod, "alicloud_db_backup_policy")["backup_retention_period"] == 30


def test_logstore_retention_comes_from_config(synthesized):
    # Both logstores (the ALB's access log and LiteLLM's request log) keep what the config says.
    for stack, days in (("alicloud-prod", 180), ("alicloud-dev", 30)):
        stores = resources(synthesized[stack], "alicloud_log_store").values()
        assert sorted(store["logstore_name"] for store in stores) == ["gateway-requests", "llm-requests"]
        assert {store["retention_period"] for store in stores} == {days}


# --- Migrations ----------------------------------------------------------------------------------------------


def _runtime_text(invocation: dict) -> str:
    return invocation["parameters"]["runtime"]


def test_migration_runs_once_on_one_instance_before_every_deploy(stack):
    invocations = resources(stack, "alicloud_ecs_invocation")
    (migrate_name,) = [name for name, body in invocations.items() if body["parameters"]["mode"] == "migrate"]
    migrate = invocations[migrate_name]
    assert migrate["parameters"]["mode"] == "migrate" and len(migrate["instance_id"]) == 1
    assert "DATABASE_PASSWORD" in _runtime_text(migrate) and "OPENAI_API_KEY" not in _runtime_text(migrate)
    assert "litellm_version" in _runtime_text(migrate)
    first = next(body for name, body in invocations.items() if "deploy-1_" in name)
    assert first["depends_on"] == [f"alicloud_ecs_invocation.{migrate_name}"]
    command = only(stack, "alicloud_ecs_command")
    assert command["type"] == "RunShellScript" and command["enable_parameter"] is True
    script = base64.b64decode(command["command_content"]).decode()
    assert "{{runtime}}" in script and "{{mode}}" in script and "set -x" not in script
    # The command carries the runtime (a runtime change is a release: new command, every invocation re-runs)
    # and stays under Cloud Assistant's size limit once base64-encoded.
    from constructs_lib.alicloud.migrations import COMMAND_CONTENT_LIMIT, RUNTIME_SCRIPT

    (packed,) = re.findall(r"printf '%s' '([A-Za-z0-9+/=]+)' \| base64 -d \| gunzip > /opt/llmgw/runtime.py", script)
    assert gzip.decompress(base64.b64decode(packed)).decode() == RUNTIME_SCRIPT.read_text()
    assert "ExecStart=/usr/bin/python3 /opt/llmgw/runtime.py serve" in script
    assert len(command["command_content"]) < COMMAND_CONTENT_LIMIT


def test_release_is_hash_locked_litellm_without_the_compromised_versions(stack):
    lock = next(
        body["content"]
        for body in resources(stack, "alicloud_oss_bucket_object").values()
        if body["key"].endswith("lock.txt")
    )
    packages = [line for line in lock.splitlines() if line and not line.startswith("#")]
    assert packages and all("--hash=sha256:" in line for line in packages)
    (litellm,) = [line for line in packages if line.startswith("litellm==")]
    assert not litellm.startswith(("litellm==1.82.7 ", "litellm==1.82.8 "))
    bucket = only(stack, "alicloud_oss_bucket")
    assert bucket["server_side_encryption_rule"][0]["sse_algorithm"] == "KMS"
    assert only(stack, "alicloud_oss_bucket_public_access_block")["block_public_access"] is True


def test_gateway_url_is_exposed_for_the_quotas_stack():
    from stacks.alicloud.gateway import AlicloudGatewayStack

    config = load_environment(CONFIG_DIR / "dev.yaml")
    app = cdktf.Testing.app()
    stack = AlicloudGatewayStack(
        app, StackContext("alicloud-dev", "alicloud", "gateway", CONFIG_DIR / "dev.yaml", config)
    )
    # HTTPS: the name the certificate covers (dev's example); plain HTTP would be a reference to the ALB's DNS name.
    assert stack.gateway_url == "https://llm-gateway.dev.ali.acme.example"


# --- Bad configuration --------------------------------------------------------------------------------------

DEV = yaml.safe_load((CONFIG_DIR / "dev.yaml").read_text())


def _load(tmp_path: Path, edits: dict, name: str = "dev", base: dict | None = None) -> EnvironmentConfig:
    data = copy.deepcopy(base or DEV)
    _merge(data["clouds"]["alicloud"], edits)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_environment(path)


def _synth(config: EnvironmentConfig) -> dict:
    from stacks.alicloud.gateway import AlicloudGatewayStack

    context = StackContext(f"alicloud-{config.env}", "alicloud", "gateway", CONFIG_DIR / "dev.yaml", config)
    return json.loads(cdktf.Testing.synth(AlicloudGatewayStack(cdktf.Testing.app(), context)))


@pytest.mark.parametrize(
    ("edits", "field", "message"),
    [
        (
            {"load_balancer": {"internet_facing": True, "certificate_id": None, "domain_name": None}},
            "clouds.alicloud.load_balancer.internet_facing",
            "certificate",
        ),
        (
            {"load_balancer": {"certificate_id": None, "domain_name": None, "allow_plaintext": False}},
            "clouds.alicloud.load_balancer.certificate_id",
            "allow_plaintext",
        ),
        (
            {"load_balancer": {"internet_facing": True, "certificate_id": "1-cn-shanghai", "allow_plaintext": True}},
            "clouds.alicloud.load_balancer.allow_plaintext",
            "internet-facing",
        ),
        (
            {"load_balancer": {"certificate_id": "1-cn-shanghai", "domain_name": None, "allow_plaintext": False}},
            "clouds.alicloud.load_balancer.domain_name",
            "the DNS name its certificate covers",
        ),
        ({"zones": ["cn-shanghai-e"]}, "clouds.alicloud.zones", "two zones"),
        (
            {"network": {"alb_vswitch_cidrs": ["10.104.32.0/24"]}},
            "clouds.alicloud.network.alb_vswitch_cidrs",
            "one per",
        ),
        (
            {"network": {"alb_vswitch_cidrs": ["10.104.0.0/24", "10.104.33.0/24"]}},
            "clouds.alicloud.network.alb_vswitch_cidrs[0]",
            "overlap",
        ),
        ({"secrets": {"recovery_window_days": 3}}, "clouds.alicloud.secrets.recovery_window_days", "7"),
        ({"gateway": {"instance_type": "c7.large"}}, "clouds.alicloud.gateway.instance_type", "ECS instance type"),
        ({"logs": {"retention_days": 0}}, "clouds.alicloud.logs.retention_days", "1"),
    ],
)
def test_bad_alicloud_config_fails_naming_the_field(tmp_path, edits, field, message):
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, edits)
    assert caught.value.path == field
    assert message in caught.value.problem


PROD = yaml.safe_load((CONFIG_DIR / "prod.yaml").read_text())


def test_production_cannot_turn_off_database_deletion_protection(tmp_path):
    config = _load(tmp_path, {"database": {"deletion_protection": False}}, name="prod", base=PROD)
    with pytest.raises(PropsError) as caught:
        _synth(config)
    assert caught.value.field == "clouds.alicloud.database.deletion_protection"


def test_internet_facing_with_a_certificate_is_https_only(tmp_path):
    stack = _synth(
        _load(
            tmp_path,
            {
                "load_balancer": {
                    "internet_facing": True,
                    "certificate_id": "9-cn-shanghai",
                    "domain_name": "llm.acme.example",
                    "allow_plaintext": False,
                }
            },
        )
    )
    assert only(stack, "alicloud_alb_load_balancer")["address_type"] == "Internet"
    assert only(stack, "alicloud_alb_listener")["listener_protocol"] == "HTTPS"
    # Callers verify the certificate: the URL names the domain it covers, never the ALB's own DNS name.
    assert stack["output"]["gateway_url"]["value"] == "https://llm.acme.example"


def test_plaintext_intranet_gateway_url_is_the_albs_dns_name(tmp_path):
    plaintext = {"load_balancer": {"certificate_id": None, "domain_name": None, "allow_plaintext": True}}
    stack = _synth(_load(tmp_path, plaintext))
    assert only(stack, "alicloud_alb_listener")["listener_protocol"] == "HTTP"
    (alb_name,) = stack["resource"]["alicloud_alb_load_balancer"]
    assert stack["output"]["gateway_url"]["value"] == f"http://${{alicloud_alb_load_balancer.{alb_name}.dns_name}}"


# --- Bindings ------------------------------------------------------------------------------------------------


def test_bindings_reject_unknown_and_missing_required_arguments():
    from imports.alicloud.kms_secret import KmsSecret

    stack = cdktf.TerraformStack(cdktf.Testing.app(), "bindings")
    with pytest.raises(TypeError, match="secret_value"):
        KmsSecret(stack, "a", secret_name="x", secret_data="y", version_id="v1", secret_value="z")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="version_id"):
        KmsSecret(stack, "b", secret_name="x", secret_data="y")  # type: ignore[call-arg]


# --- The instance runtime (standard-library script) -----------------------------------------------------------


def _runtime_module():
    import importlib.util

    from constructs_lib.alicloud.migrations import RUNTIME_SCRIPT

    spec = importlib.util.spec_from_file_location("llmgw_runtime", RUNTIME_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


RUNTIME_DOCUMENT = {
    "role": "acme-dev-gateway",
    "environment": {"REDIS_HOST": "r-1.redis.rds.aliyuncs.com"},
    "database": {"host": "pgm-1.pg.rds.aliyuncs.com", "port": "5432", "user": "litellm", "name": "litellm"},
    "secrets": {
        "OPENAI_API_KEY": {"name": "acme-dev-provider-openai", "version": "v2"},
        "DATABASE_PASSWORD": {"name": "acme-dev-db-password", "version": "v1"},
    },
}


def test_runtime_reads_each_secret_at_its_pinned_version_into_the_environment_only(monkeypatch):
    runtime = _runtime_module()
    reads: list[tuple[str, str]] = []

    def fake_secret(document, credentials, name, version):
        reads.append((name, version))
        return {"acme-dev-db-password": "p@ss/word"}.get(name, f"value-of-{name}-{version}")  # pragma: allowlist secret

    monkeypatch.setattr(runtime, "_credentials", lambda role: {"AccessKeyId": "id", "AccessKeySecret": "s"})
    monkeypatch.setattr(runtime, "_kms_secret", fake_secret)
    env, digest = runtime._environment(RUNTIME_DOCUMENT)
    assert sorted(reads) == [("acme-dev-db-password", "v1"), ("acme-dev-provider-openai", "v2")]
    assert env["OPENAI_API_KEY"] == "value-of-acme-dev-provider-openai-v2"  # pragma: allowlist secret
    assert (
        env["DATABASE_URL"]
        == "postgresql://litellm:p%40ss%2Fword@pgm-1.pg.rds.aliyuncs.com:5432/"  # pragma: allowlist secret
        "litellm?sslmode=require"
    )
    assert "DATABASE_PASSWORD" not in env and env["REDIS_HOST"] == "r-1.redis.rds.aliyuncs.com"
    # A new version is a new digest: the running service restarts onto it at its next refresh.
    bumped = copy.deepcopy(RUNTIME_DOCUMENT)
    bumped["secrets"]["OPENAI_API_KEY"]["version"] = "v3"
    assert runtime._environment(bumped)[1] != digest
    assert runtime._environment(RUNTIME_DOCUMENT)[1] == digest


def test_kms_request_is_signed_and_pinned_to_the_version(monkeypatch):
    runtime = _runtime_module()
    sent = {}

    class Response:
        def __enter__(self):
            return self

        def __exit__(self, *args):
            return False

        def read(self):
            return b'{"SecretData": "the-value"}'  # pragma: allowlist secret

    def fake_urlopen(request, timeout):
        sent["url"], sent["body"] = request.full_url, request.data.decode()
        return Response()

    monkeypatch.setattr(runtime.urllib.request, "urlopen", fake_urlopen)
    signing_key = "fake"  # pragma: allowlist secret
    credentials = {"AccessKeyId": "STS.id", "AccessKeySecret": signing_key, "SecurityToken": "token"}
    value = runtime._kms_secret({"kms_endpoint": "kms-vpc.cn-shanghai.aliyuncs.com"}, credentials, "n", "v2")
    assert value == "the-value"
    assert sent["url"] == "https://kms-vpc.cn-shanghai.aliyuncs.com/"
    fields = dict(part.split("=", 1) for part in sent["body"].split("&"))
    assert fields["Action"] == "GetSecretValue" and fields["VersionId"] == "v2" and fields["SecretName"] == "n"
    assert fields["SecurityToken"] == "token" and fields["Signature"]
    # Signature v1: HMAC-SHA1 over the sorted, percent-encoded query with `&` appended to the key.
    import base64 as b64
    import hashlib
    import hmac
    import urllib.parse

    signature = urllib.parse.unquote(fields.pop("Signature"))
    canonical = "&".join(f"{key}={value}" for key, value in sorted(fields.items()))
    expected = hmac.new(
        f"{signing_key}&".encode(), f"POST&%2F&{runtime._quote(canonical)}".encode(), hashlib.sha1
    ).digest()
    assert signature == b64.b64encode(expected).decode()


def test_runtime_document_has_every_key_the_script_reads(stack):
    from constructs_lib.alicloud.migrations import RUNTIME_SCRIPT

    read = set(re.findall(r"runtime\[\"(\w+)\"\]", RUNTIME_SCRIPT.read_text()))
    (deploy, *_) = [
        body for body in resources(stack, "alicloud_ecs_invocation").values() if body["parameters"]["mode"] == "deploy"
    ]
    document = deploy["parameters"]["runtime"]
    assert read and all(f'"{key}" = ' in document for key in read), read


def _synth_at(config: EnvironmentConfig, config_path: Path) -> dict:
    from stacks.alicloud.gateway import AlicloudGatewayStack

    context = StackContext(f"alicloud-{config.env}", "alicloud", "gateway", config_path, config)
    return json.loads(cdktf.Testing.synth(AlicloudGatewayStack(cdktf.Testing.app(), context)))


FAKE_CA = ca_pem()


def test_a_redis_ca_chain_ships_with_the_release_and_is_readable_by_exactly_its_key(tmp_path):
    (tmp_path / "apsaradb-ca.pem").write_text(FAKE_CA)
    config = _load(tmp_path, {"cache": {"ca_certificate_file": "apsaradb-ca.pem"}})
    stack = _synth_at(config, tmp_path / "dev.yaml")
    (ca,) = [body for body in resources(stack, "alicloud_oss_bucket_object").values() if body["key"].endswith(".pem")]
    assert ca["content"] == FAKE_CA
    assert f"/{ca['key']}" in only(stack, "alicloud_ram_policy")["policy_document"]
    deploy = next(body for body in resources(stack, "alicloud_ecs_invocation").values() if "deploy" in str(body))
    assert '"REDIS_SSL_CA_CERTS" = "/etc/llmgw/redis-ca.pem"' in deploy["parameters"]["runtime"]
    assert '"redis_ca" = {' in deploy["parameters"]["runtime"]


def test_a_redis_ca_file_that_is_missing_or_not_pem_is_refused(tmp_path):
    config = _load(tmp_path, {"cache": {"ca_certificate_file": "missing.pem"}})
    with pytest.raises(PropsError, match="does not exist"):
        _synth_at(config, tmp_path / "dev.yaml")
    (tmp_path / "bad.pem").write_text("not a certificate")
    config = _load(tmp_path, {"cache": {"ca_certificate_file": "bad.pem"}})
    with pytest.raises(PropsError) as caught:
        _synth_at(config, tmp_path / "dev.yaml")
    assert caught.value.field == "clouds.alicloud.cache.ca_certificate_file"
    # Headers alone are not a certificate: OpenSSL parses the chain.
    (tmp_path / "hollow.pem").write_text("-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n")
    config = _load(tmp_path, {"cache": {"ca_certificate_file": "hollow.pem"}})
    with pytest.raises(PropsError, match="not a PEM certificate chain"):
        _synth_at(config, tmp_path / "dev.yaml")


# --- Bring your own VPC -----------------------------------------------------------------------------------------

EXISTING = {
    "vpc_id": "vpc-uf6existing",
    "vswitch_ids": ["vsw-uf6private1", "vsw-uf6private2"],
    "alb_vswitch_ids": ["vsw-uf6alb1", "vsw-uf6alb2"],
}


def test_an_existing_vpc_is_used_as_is(tmp_path):
    stack = _synth(_load(tmp_path, {"network": {"existing": EXISTING}}))
    assert not resources(stack, "alicloud_vpc") and not resources(stack, "alicloud_vswitch")
    assert not resources(stack, "alicloud_nat_gateway") and not resources(stack, "alicloud_snat_entry")
    assert only(stack, "alicloud_security_group")["vpc_id"] == "vpc-uf6existing"
    instances = resources(stack, "alicloud_instance").values()
    assert {body["vswitch_id"] for body in instances} == set(EXISTING["vswitch_ids"])
    alb = only(stack, "alicloud_alb_load_balancer")
    assert {mapping["vswitch_id"] for mapping in alb["zone_mappings"]} == set(EXISTING["alb_vswitch_ids"])
    assert only(stack, "alicloud_db_instance")["vswitch_id"] == "vsw-uf6private1"
    # The security-group rules still use the configured ranges of those vSwitches.
    ingress = [body for body in resources(stack, "alicloud_security_group_rule").values() if body["type"] == "ingress"]
    assert {rule["cidr_ip"] for rule in ingress} == set(DEV["clouds"]["alicloud"]["network"]["alb_vswitch_cidrs"])


def test_an_existing_vpc_can_get_the_nat_egress(tmp_path):
    stack = _synth(_load(tmp_path, {"network": {"existing": {**EXISTING, "create_nat": True}}}))
    nat = only(stack, "alicloud_nat_gateway")
    assert nat["vpc_id"] == "vpc-uf6existing" and nat["vswitch_id"] == "vsw-uf6private1"
    assert {body["source_vswitch_id"] for body in resources(stack, "alicloud_snat_entry").values()} == set(
        EXISTING["vswitch_ids"]
    )


@pytest.mark.parametrize(
    ("existing", "field", "message"),
    [
        ({**EXISTING, "vswitch_ids": ["vsw-uf6private1"]}, "clouds.alicloud.network.existing.vswitch_ids", "one per"),
        ({**EXISTING, "alb_vswitch_ids": ["vsw-uf6private1", "vsw-x"]}, "clouds.alicloud.network.existing", "own"),
        ({**EXISTING, "vswitch_ids": ["subnet-1", "vsw-b"]}, "clouds.alicloud.network.existing.vswitch_ids", "vSwitch"),
        ({**EXISTING, "vpc_id": "10.0.0.0/8"}, "clouds.alicloud.network.existing.vpc_id", "VPC ID"),
    ],
)
def test_bad_existing_network_fails_naming_the_field(tmp_path, existing, field, message):
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, {"network": {"existing": existing}})
    assert caught.value.path.startswith(field)
    assert message in caught.value.problem
