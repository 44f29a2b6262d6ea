"""Parity with the LiteLLM Terraform module for GCP (issue 12): every option on and off, every refusal.

Off is the shipped examples (the session fixture, `gcp-dev`/`gcp-prod`); on is `gcp-dev` built from an edited
copy of config/dev.yaml (the pattern of test_gcp_stack_options.py).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import cdktf
import pytest
import yaml

from constructs_lib._common.errors import PropsError
from constructs_lib.config import ConfigError, load_environment
from stacks.context import StackContext
from tests.conftest import CONFIG_DIR
from tests.gcp_iam import is_ci_member
from tests.test_gcp_stack_options import _load, _merge, _synth

NO_QUOTAS = {"quotas": {"enabled": False}}
# What a Redis-less gateway must look like: one instance, one worker.
SINGLE_PROCESS = {"components": {"gateway": {"max_instances": 1, "workers": 1}}}
SHARED_NET = "projects/acme-net-host/global/networks/shared"
SHARED_SUBNET = "projects/acme-net-host/regions/us-central1/subnetworks/llm"
GMP_DIGEST = "@sha256:" + "5" * 64
# Secret Manager secret ids (names, never values) for the bring-your-own URLs.
DB_URL_NAME, REDIS_URL_NAME = "acme-pg-url", "acme-redis-url"


def resources(stack: dict, kind: str) -> dict[str, dict]:
    return stack.get("resource", {}).get(kind, {})


def services(stack: dict) -> dict[str, dict]:
    """Cloud Run services by component (the name's last word)."""
    return {body["name"].rsplit("-", 1)[-1]: body for body in resources(stack, "google_cloud_run_v2_service").values()}


def containers(stack: dict, component: str) -> list[dict]:
    return services(stack)[component]["template"]["containers"]


def env_of(container: dict) -> dict[str, object]:
    """Env name -> plain value, or the secret_key_ref of a secret reference."""
    return {
        item["name"]: item["value_source"]["secret_key_ref"] if "value_source" in item else item["value"]
        for item in container.get("env", [])
    }


def secret_name(stack: dict, secret_ref: str) -> str:
    """`secret_id` of the google_secret_manager_secret a `${...id}` reference points at."""
    address = secret_ref.split(".")[1]
    return resources(stack, "google_secret_manager_secret")[address]["secret_id"]


def readers_of(stack: dict, secret_id: str) -> set[str]:
    """The runtime identities granted on a secret (the CI plan identity's reads: tests/test_gcp_plan_refresh.py)."""
    addresses = [
        name
        for name, body in resources(stack, "google_secret_manager_secret").items()
        if body["secret_id"] == secret_id
    ]
    assert len(addresses) == 1, f"no single secret {secret_id}"
    return {
        body["member"]
        for body in resources(stack, "google_secret_manager_secret_iam_member").values()
        if body["secret_id"] == f"${{google_secret_manager_secret.{addresses[0]}.id}}"
        and not is_ci_member(body["member"])
    }


def account_member(stack: dict, component_suffix: str) -> str:
    (address,) = [
        name
        for name, body in resources(stack, "google_service_account").items()
        if body["account_id"].endswith(f"-{component_suffix}")
    ]
    return f"serviceAccount:${{google_service_account.{address}.email}}"


def secret_ids(stack: dict) -> set[str]:
    return {body["secret_id"] for body in resources(stack, "google_secret_manager_secret").values()}


def command(container: dict) -> str:
    assert container["command"][:2] == ["sh", "-c"]
    return container["command"][2]


def proxy_document(stack: dict, component: str = "gateway") -> dict:
    """The LiteLLM config.yaml a service mounts (the secret version its `proxy-config` volume names)."""
    (volume,) = [item for item in services(stack)[component]["template"]["volumes"] if item["name"] == "proxy-config"]
    version_address = volume["secret"]["items"][0]["version"].split(".")[1]
    return yaml.safe_load(resources(stack, "google_secret_manager_secret_version")[version_address]["secret_data"])


@pytest.fixture
def dev(synthesized) -> dict:
    return synthesized["gcp-dev"]


# ---------------------------------------------------------------- refusals at load (the field is named)


@pytest.mark.parametrize(
    ("edits", "field", "message"),
    [
        ({"database": {"url_secret": DB_URL_NAME}}, "clouds.gcp.database.url_secret", "source `external`"),
        ({"cache": {"source": "none", "url_secret": REDIS_URL_NAME}}, "clouds.gcp.cache.url_secret", "'none'"),
        ({"database": {"source": "external", "read_replica": True}}, "clouds.gcp.database.read_replica", "managed"),
        (
            {"database": {"source": "none", "cmek_key": "projects/k/locations/us-central1/keyRings/r/cryptoKeys/c"}},
            "clouds.gcp.database.cmek_key",
            "managed",
        ),
        (
            {"database": {"source": "none", "connection_pool": {"enabled": True}}},
            "clouds.gcp.database.connection_pool.enabled",
            "no database to pool",
        ),
        (
            {"database": {"connection_pool": {"max_db_connections": 0}}},
            "clouds.gcp.database.connection_pool.max_db_connections",
            "at least 1",
        ),
        ({"cache": {"transit_encryption": False}}, "clouds.gcp.cache.transit_encryption", "allow_plaintext: true"),
        (
            {"cache": {"source": "external", "transit_encryption": False, "allow_plaintext": True}},
            "clouds.gcp.cache.transit_encryption",
            "rediss://",
        ),
        (
            {"cache": {"source": "none"}, "components": {"gateway": {"max_instances": 3, "workers": 1}}},
            "clouds.gcp.components.gateway.max_instances",
            "per-agent rate limits",
        ),
        (
            # Workers default to one per vCPU.
            {"cache": {"source": "none"}, "components": {"gateway": {"cpu": "2", "max_instances": 1}}},
            "clouds.gcp.components.gateway.workers",
            "2 worker processes",
        ),
        (
            {"external_gateway_url": "https://llm.example.com"},
            "clouds.gcp.external_gateway_url",
            "dependencies-only",
        ),
        ({"create_runtime": False, "metrics": {"enabled": True}}, "clouds.gcp.metrics.enabled", "no Cloud Run"),
        (
            {"create_runtime": False, "spend_collector": {"enabled": True}},
            "clouds.gcp.spend_collector.enabled",
            "no Cloud Run",
        ),
        ({"metrics": {"enabled": True, "port": 4000}}, "clouds.gcp.metrics.port", "gateway port"),
        ({"metrics": {"port": 13133}}, "clouds.gcp.metrics.port", "health port"),
        ({"metrics": {"port": 4000.5}}, "clouds.gcp.metrics.port", "whole number"),
        ({"spend_collector": {"port": 13133}}, "clouds.gcp.spend_collector.port", "health port"),
        (
            {"metrics": {"enabled": True, "port": 4100}, "spend_collector": {"enabled": True, "port": 4100}},
            "clouds.gcp.spend_collector.port",
            "metrics.port",
        ),
        (
            {"spend_collector": {"enabled": True, "cpu": "1500m"}},
            "clouds.gcp.spend_collector.cpu",
            "whole vCPUs only",
        ),
        (
            {"components": {"gateway": {"cpu": "1", "memory": "2Gi"}}, "spend_collector": {"enabled": True}},
            "clouds.gcp.spend_collector.cpu",
            "0m of components.gateway.cpu 1",
        ),
        (
            # 2 vCPU - 500m leaves 1.5 vCPU, which Cloud Run does not take.
            {"spend_collector": {"enabled": True, "cpu": "500m"}},
            "clouds.gcp.spend_collector.cpu",
            "add up to whole vCPUs",
        ),
        (
            {"metrics": {"enabled": True, "server_cpu": "250m", "server_memory": "1Gi"}},
            "clouds.gcp.metrics.server_memory",
            "below 0.5 vCPU 512Mi",
        ),
        (
            # 2 vCPU / 8Gi minus a 1 vCPU / 512Mi sidecar: 1 vCPU with 7.5Gi, above Cloud Run's 4Gi.
            {"components": {"gateway": {"cpu": "2", "memory": "8Gi"}}, "spend_collector": {"enabled": True}},
            "clouds.gcp.spend_collector.memory",
            "512Mi-4096Mi",
        ),
        (
            {"spend_collector": {"enabled": True, "memory": "4000Mi"}},
            "clouds.gcp.spend_collector.memory",
            "96Mi",
        ),
        (
            {"components": {"gateway": {"cpu": "1", "memory": "2Gi"}}, "metrics": {"enabled": True}},
            "clouds.gcp.metrics.server_cpu",
            "500m of components.gateway.cpu 1",
        ),
        (
            {"database": {"source": "none"}, "spend_collector": {"enabled": True}},
            "clouds.gcp.spend_collector.enabled",
            "database.source is none",
        ),
        ({"metrics": {"collector_image": "ghcr.io/acme/gmp:1.0"}}, "clouds.gcp.metrics.collector_image", "ghcr.io"),
        (
            {
                "network": {
                    "existing_network": SHARED_NET,
                    "existing_subnetwork": "projects/acme-other/regions/us-central1/subnetworks/llm",
                }
            },
            "clouds.gcp.network.existing_subnetwork",
            "host) project",
        ),
        (
            {
                "network": {
                    "existing_network": SHARED_NET,
                    "existing_subnetwork": "projects/acme-net-host/regions/europe-west1/subnetworks/llm",
                }
            },
            "clouds.gcp.network.existing_subnetwork",
            "'europe-west1'",
        ),
        (
            {
                "network": {
                    "existing_network": SHARED_NET,
                    "existing_subnetwork": SHARED_SUBNET,
                    "egress": "connector",
                }
            },
            "clouds.gcp.network.egress",
            "network's project",
        ),
        (
            {"network": {"create_private_services_access": False}},
            "clouds.gcp.network.create_private_services_access",
            "",
        ),
    ],
)
def test_inconsistent_parity_options_fail_naming_the_field(tmp_path, edits, field, message):
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, edits)
    assert caught.value.path == field
    assert message in caught.value.problem


# ---------------------------------------------------------------- refusals at synth (PropsError)


def _prod(tmp_path: Path, gcp_edits: dict) -> dict:
    prod = yaml.safe_load((CONFIG_DIR / "prod.yaml").read_text())
    _merge(prod["clouds"]["gcp"], copy.deepcopy(gcp_edits))
    path = tmp_path / "prod.yaml"
    path.write_text(yaml.safe_dump(prod, sort_keys=False))
    return load_environment(path)


def test_production_refuses_plaintext_redis(tmp_path):
    config = _prod(tmp_path, {"cache": {"transit_encryption": False, "allow_plaintext": True}})
    with pytest.raises(PropsError) as caught:
        _synth(config)
    assert caught.value.field == "clouds.gcp.cache.transit_encryption"
    assert "production" in caught.value.problem


def test_production_needs_the_metrics_collector_pinned_by_digest(tmp_path):
    with pytest.raises(PropsError) as caught:
        _synth(_prod(tmp_path, {"metrics": {"enabled": True}}))
    assert caught.value.field == "clouds.gcp.metrics.collector_image"
    collector = "us-docker.pkg.dev/cloud-ops-agents-artifacts/cloud-run-gmp-sidecar/cloud-run-gmp-sidecar:1.9.2"
    stack = _synth(_prod(tmp_path, {"metrics": {"enabled": True, "collector_image": collector + GMP_DIGEST}}))
    assert [item["name"] for item in containers(stack, "gateway")] == ["litellm", "metrics", "collector"]


def test_quotas_need_a_database(tmp_path):
    config = _load(tmp_path, {"database": {"source": "none"}})
    assert config.quotas.enabled and config.agents
    with pytest.raises(PropsError) as caught:
        _synth(config)
    assert caught.value.field == "clouds.gcp.database.source"
    assert "quotas" in caught.value.problem


def test_dependencies_only_quotas_need_the_gateway_url(tmp_path):
    with pytest.raises(PropsError) as caught:
        _synth(_load(tmp_path, {"create_runtime": False}))
    assert caught.value.field == "clouds.gcp.external_gateway_url"


# ---------------------------------------------------------------- bring your own data stores


def test_managed_stores_by_default(dev):
    assert len(resources(dev, "google_sql_database_instance")) == 1
    assert len(resources(dev, "google_redis_instance")) == 1
    gateway = env_of(containers(dev, "gateway")[0])
    assert "DATABASE_URL" not in gateway and "REDIS_URL" not in gateway
    assert "DATABASE_PASSWORD" in gateway and gateway["REDIS_SSL"] == "true"
    assert "export DATABASE_URL=" in command(containers(dev, "gateway")[0])
    assert "database_url_secret_id" not in dev["output"] and "redis_url_secret_id" not in dev["output"]


def test_external_database_and_redis_replace_the_managed_stores(tmp_path):
    stack = _synth(
        _load(
            tmp_path,
            {
                "database": {"source": "external", "url_secret": DB_URL_NAME, "url_secret_version": 3},
                "cache": {"source": "external"},
            },
        )
    )
    for kind in (
        "google_sql_database_instance",
        "google_sql_user",
        "google_sql_database",
        "google_redis_instance",
        "google_service_networking_connection",
    ):
        assert kind not in stack["resource"], kind
    # No private-services range either: nothing managed peers into the VPC.
    assert all(
        body.get("purpose") != "VPC_PEERING" for body in resources(stack, "google_compute_global_address").values()
    )
    ids = secret_ids(stack)
    assert DB_URL_NAME in ids and any(item.endswith("-redis-url") for item in ids)
    assert not any(item.endswith(("db-password", "redis-auth", "redis-ca")) for item in ids)
    # The URLs' values are put in out of band: no version resource for them.
    url_secrets = [
        name
        for name, body in resources(stack, "google_secret_manager_secret").items()
        if body["secret_id"] == DB_URL_NAME or body["secret_id"].endswith("redis-url")
    ]
    assert len(url_secrets) == 2
    for version in resources(stack, "google_secret_manager_secret_version").values():
        assert all(f".{name}." not in version["secret"] for name in url_secrets)

    for component in ("gateway", "backend"):
        container = containers(stack, component)[0]
        env = env_of(container)
        assert isinstance(env["DATABASE_URL"], dict) and isinstance(env["REDIS_URL"], dict)
        assert secret_name(stack, env["DATABASE_URL"]["secret"]) == DB_URL_NAME
        assert env["DATABASE_URL"]["version"] == "3"
        for plain in ("DATABASE_HOST", "DATABASE_PASSWORD", "REDIS_HOST", "REDIS_PASSWORD", "REDIS_SSL"):
            assert plain not in env, (component, plain)
        assert "export DATABASE_URL" not in command(container)
    # store_model_in_db lives in the proxy config only (no STORE_MODEL_IN_DB env to OR onto it).
    assert "STORE_MODEL_IN_DB" not in env_of(containers(stack, "backend")[0])
    assert proxy_document(stack, "backend")["general_settings"]["store_model_in_db"] is True
    # Migrations still run, against the external database, through the same secret.
    (job,) = resources(stack, "google_cloud_run_v2_job").values()
    job_env = {item["name"]: item for item in job["template"]["template"]["containers"][0]["env"]}
    assert set(job_env) == {"DATABASE_URL"}
    assert "terraform_data" in stack["resource"]
    # Grants: exactly the identities that use each URL.
    members = {suffix: account_member(stack, suffix) for suffix in ("gateway", "backend", "migrate")}
    assert readers_of(stack, DB_URL_NAME) == set(members.values())
    redis_url = next(item for item in ids if item.endswith("redis-url"))
    assert readers_of(stack, redis_url) == {members["gateway"], members["backend"]}
    assert stack["output"]["database_url_secret_id"]["value"].startswith("${google_secret_manager_secret.")
    assert stack["output"]["database_password_secret_id"]["value"] is None


def test_no_database_and_no_redis_leave_nothing_to_migrate_or_grant(tmp_path):
    stack = _synth(
        _load(
            tmp_path,
            {"database": {"source": "none"}, "cache": {"source": "none"}, **SINGLE_PROCESS},
            **NO_QUOTAS,
        )
    )
    for kind in (
        "google_sql_database_instance",
        "google_redis_instance",
        "google_cloud_run_v2_job",
        "terraform_data",
        "google_service_networking_connection",
    ):
        assert kind not in stack["resource"], kind
    assert not any(
        body["account_id"].endswith("-migrate") for body in resources(stack, "google_service_account").values()
    )
    assert not any(item.endswith(("db-password", "redis-auth", "redis-ca", "-url")) for item in secret_ids(stack))
    for component in ("gateway", "backend"):
        (container,) = containers(stack, component)
        env = env_of(container)
        assert not any(name.startswith(("DATABASE_", "REDIS_")) for name in env), component
        assert "STORE_MODEL_IN_DB" not in env
        assert proxy_document(stack, component)["general_settings"]["store_model_in_db"] is False
        assert "export DATABASE_URL" not in command(container)
        assert command(container).split(" && ")[-1].startswith("exec uvicorn")
        assert not any("google_cloud_run_v2_job" in item for item in services(stack)[component]["depends_on"])
    assert "--workers 1" in command(containers(stack, "gateway")[0])
    assert stack["output"]["migration_command"]["value"] is None


def test_redis_less_gateway_with_a_database_keeps_store_model_in_db(tmp_path):
    stack = _synth(_load(tmp_path, {"cache": {"source": "none"}, **SINGLE_PROCESS}))
    assert "google_redis_instance" not in stack["resource"]
    assert "STORE_MODEL_IN_DB" not in env_of(containers(stack, "backend")[0])
    assert proxy_document(stack, "backend")["general_settings"]["store_model_in_db"] is True
    assert len(resources(stack, "google_sql_database_instance")) == 1
    # Cloud SQL still needs Private Services Access.
    assert len(resources(stack, "google_service_networking_connection")) == 1


# ---------------------------------------------------------------- existing network with PSA


def test_existing_network_gets_private_services_access_and_no_network_resources(tmp_path):
    stack = _synth(_load(tmp_path, {"network": {"existing_network": SHARED_NET, "existing_subnetwork": SHARED_SUBNET}}))
    for kind in ("google_compute_network", "google_compute_subnetwork", "google_compute_firewall"):
        assert kind not in stack["resource"], kind
    (psa_range,) = [
        body
        for body in resources(stack, "google_compute_global_address").values()
        if body.get("purpose") == "VPC_PEERING"
    ]
    assert psa_range["network"] == SHARED_NET
    (peering,) = resources(stack, "google_service_networking_connection").values()
    assert peering["network"] == SHARED_NET
    (redis,) = resources(stack, "google_redis_instance").values()
    assert redis["authorized_network"] == SHARED_NET
    interface = services(stack)["gateway"]["template"]["vpc_access"]["network_interfaces"][0]
    assert interface == {"network": SHARED_NET, "subnetwork": SHARED_SUBNET}


# ---------------------------------------------------------------- dependencies-only mode


LB_KINDS = (
    "google_compute_url_map",
    "google_compute_backend_service",
    "google_compute_global_forwarding_rule",
    "google_compute_region_network_endpoint_group",
    "google_compute_target_https_proxy",
    "google_compute_target_http_proxy",
    "google_compute_managed_ssl_certificate",
    "google_compute_security_policy",
    "google_compute_ssl_policy",
)


def test_runtime_by_default(dev):
    assert set(services(dev)) == {"gateway", "backend", "ui"}
    assert all(kind in dev["resource"] for kind in ("google_compute_url_map", "google_cloud_run_v2_job"))
    assert "runtime_service_accounts" not in dev["output"]


def test_dependencies_only_keeps_stores_secrets_and_identities_without_runtime(tmp_path):
    url = "https://llm.gke.acme.example"
    config = _load(
        tmp_path,
        {"create_runtime": False, "external_gateway_url": url, "network": {"egress": "connector"}},
    )
    from stacks.gcp.gateway import GcpGatewayStack

    stack_object = GcpGatewayStack(
        cdktf.Testing.app(),
        StackContext("gcp-dev", "gcp", "gateway", config_path=Path("config/dev.yaml"), config=config),
    )
    # The quotas stack gets the gateway you run, not a reference into a load balancer that does not exist.
    assert stack_object.gateway_url == url
    from stacks.gcp.quotas import GcpQuotasStack

    quotas_context = StackContext("gcp-dev-quotas", "gcp", "quotas", config_path=Path("config/dev.yaml"), config=config)
    quotas = json.loads(
        cdktf.Testing.synth(GcpQuotasStack(cdktf.Testing.app(), quotas_context, gateway_url=stack_object.gateway_url))
    )
    assert quotas["provider"]["litellm"][0]["api_base"] == url

    stack = json.loads(cdktf.Testing.synth(stack_object))
    for kind in ("google_cloud_run_v2_service", "google_cloud_run_v2_job", "terraform_data", *LB_KINDS):
        assert kind not in stack["resource"], kind
    assert "google_vpc_access_connector" not in stack["resource"]
    assert all(
        body.get("purpose") == "VPC_PEERING" for body in resources(stack, "google_compute_global_address").values()
    )
    for kind in ("google_sql_database_instance", "google_redis_instance", "google_storage_bucket"):
        assert len(resources(stack, kind)) == 1, kind
    suffixes = sorted(
        body["account_id"].rsplit("-", 1)[-1] for body in resources(stack, "google_service_account").values()
    )
    assert suffixes == ["backend", "gateway", "migrate"]
    assert any(item.endswith("db-password") for item in secret_ids(stack))
    gateway = account_member(stack, "gateway")
    assert any(gateway in readers_of(stack, item) for item in secret_ids(stack) if item.endswith("master-key"))
    outputs = stack["output"]
    for name in ("lb_ip", "gateway_url", "gateway_service_url", "backend_service_url", "ui_service_url"):
        assert outputs[name]["value"] is None, name
    assert outputs["migration_command"]["value"] is None
    assert outputs["database_host"]["value"].startswith("${google_sql_database_instance.")
    assert outputs["redis_ca_secret_id"]["value"].startswith("${google_secret_manager_secret.")
    assert set(outputs["runtime_service_accounts"]["value"]) == {"gateway", "backend", "migrations"}
    assert not any(
        body["service"] == "vpcaccess.googleapis.com" for body in resources(stack, "google_project_service").values()
    )


# ---------------------------------------------------------------- read replica


def test_read_replica_and_its_environment_come_and_go_together(synthesized, dev):
    prod = synthesized["gcp-prod"]
    assert len(resources(prod, "google_sql_database_instance")) == 2
    prod_gateway = containers(prod, "gateway")[0]
    assert "DATABASE_HOST_READ_REPLICA" in env_of(prod_gateway)
    assert "DATABASE_URL_READ_REPLICA" in command(prod_gateway)
    assert len(resources(dev, "google_sql_database_instance")) == 1
    for component in ("gateway", "backend"):
        container = containers(dev, component)[0]
        assert "DATABASE_HOST_READ_REPLICA" not in env_of(container)
        assert "READ_REPLICA" not in command(container)


# ---------------------------------------------------------------- metrics sidecars


def test_no_metrics_sidecar_by_default(dev):
    (gateway,) = containers(dev, "gateway")
    assert "PROMETHEUS_MULTIPROC_DIR" not in env_of(gateway)
    # The only project-level grants: Cloud SQL client on the gateway's instances (test_gcp_database_connection.py).
    assert {body["role"] for body in resources(dev, "google_project_iam_member").values()} == {"roles/cloudsql.client"}
    assert not any(item.endswith("run-monitoring") for item in secret_ids(dev))


def test_metrics_sidecars_scrape_on_loopback_and_write_to_cloud_monitoring(tmp_path):
    stack = _synth(_load(tmp_path, {"metrics": {"enabled": True, "port": 9464}}))
    gateway_service = services(stack)["gateway"]
    main, metrics, collector = gateway_service["template"]["containers"]
    assert [main["name"], metrics["name"], collector["name"]] == ["litellm", "metrics", "collector"]
    # Only the gateway container declares a port: the sidecars are unreachable from the load balancer.
    assert main["ports"]["container_port"] == 4000
    assert "ports" not in metrics and "ports" not in collector
    assert metrics["command"] == ["python", "-m", "litellm.proxy.prometheus_metrics_server", "--port", "9464"]
    assert metrics["image"] == main["image"]
    assert metrics["startup_probe"]["http_get"] == {"path": "/health", "port": 9464}
    for container in (main, metrics):
        assert env_of(container)["PROMETHEUS_MULTIPROC_DIR"] == "/tmp/litellm_prometheus_multiproc"
        assert {"name": "prometheus-multiproc", "mount_path": "/tmp/litellm_prometheus_multiproc"} in container[
            "volume_mounts"
        ]
    volumes = {volume["name"]: volume for volume in gateway_service["template"]["volumes"]}
    assert volumes["prometheus-multiproc"]["empty_dir"] == {"medium": "MEMORY"}
    assert collector["depends_on"] == ["metrics"]
    assert collector["startup_probe"]["tcp_socket"] == {"port": 13133}
    assert collector["volume_mounts"] == [{"name": "gmp-config", "mount_path": "/etc/rungmp"}]
    assert volumes["gmp-config"]["secret"]["items"][0]["path"] == "config.yaml"
    config_secret = volumes["gmp-config"]["secret"]["secret"]
    monitoring_id = secret_name(stack, config_secret)
    assert monitoring_id.endswith("gateway-run-monitoring")
    (document,) = [
        yaml.safe_load(body["secret_data"])
        for body in resources(stack, "google_secret_manager_secret_version").values()
        if body["secret"] == config_secret
    ]
    assert document["kind"] == "RunMonitoring"
    assert document["spec"]["endpoints"] == [{"port": 9464, "path": "/metrics", "interval": "30s"}]
    gateway = account_member(stack, "gateway")
    assert readers_of(stack, monitoring_id) == {gateway}
    (writer,) = [
        body
        for body in resources(stack, "google_project_iam_member").values()
        if body["role"] != "roles/cloudsql.client"
    ]
    assert (writer["role"], writer["member"], writer["project"]) == (
        "roles/monitoring.metricWriter",
        gateway,
        "acme-llmgw-dev",
    )
    # The sidecars' share comes out of the gateway's 2 vCPU / 4Gi.
    assert main["resources"]["limits"] == {"cpu": "1", "memory": "3584Mi"}
    assert [metrics["resources"]["limits"], collector["resources"]["limits"]] == [
        {"cpu": "500m", "memory": "256Mi"},
        {"cpu": "500m", "memory": "256Mi"},
    ]
    # The backend is untouched.
    assert len(containers(stack, "backend")) == 1


# ---------------------------------------------------------------- spend collector sidecar


def test_no_spend_collector_by_default(dev):
    assert not any(name.startswith("LITELLM_COLLECTOR_") for name in env_of(containers(dev, "gateway")[0]))


def test_spend_collector_sidecar_shares_the_transport_and_a_carved_share(tmp_path):
    stack = _synth(
        _load(
            tmp_path,
            {
                "spend_collector": {
                    "enabled": True,
                    "port": 4321,
                    "buffer_size": 250,
                    "on_unavailable": "drop",
                    "cpu": "1",
                    "memory": "1Gi",
                }
            },
        )
    )
    main, collector = containers(stack, "gateway")
    assert collector["name"] == "spend-collector" and "ports" not in collector
    assert collector["image"] == main["image"]
    expected = {
        "LITELLM_COLLECTOR_ENABLED": "true",
        "LITELLM_COLLECTOR_ADDRESS": "tcp://127.0.0.1:4321",
        "LITELLM_COLLECTOR_BUFFER_SIZE": "250",
        "LITELLM_COLLECTOR_ON_UNAVAILABLE": "drop",
        "LITELLM_COLLECTOR_DRAIN_TIMEOUT_SECONDS": "10",
    }
    for container in (main, collector):
        assert expected.items() <= env_of(container).items()
    collector_env = env_of(collector)
    assert collector_env["LITELLM_JOB_ROLE"] == "collector"
    assert command(collector).endswith("&& exec python -m litellm.proxy.collector")
    assert "export DATABASE_URL=" in command(collector)
    assert {"DATABASE_PASSWORD", "LITELLM_MASTER_KEY", "REDIS_PASSWORD", "DATABASE_HOST", "REDIS_HOST"} <= set(
        collector_env
    )
    # Spend accounting needs no provider key.
    assert not any(name.endswith("_API_KEY") for name in collector_env)
    # The Memorystore CA and the Cloud SQL sockets (it writes spend to the database).
    assert collector["volume_mounts"] == [
        {"name": "redis-ca", "mount_path": "/etc/litellm/redis-ca"},
        {"name": "cloudsql", "mount_path": "/cloudsql"},
    ]
    assert collector["resources"]["limits"] == {"cpu": "1", "memory": "1Gi"}
    assert main["resources"]["limits"] == {"cpu": "1", "memory": "3072Mi"}


def test_spend_collector_next_to_the_metrics_sidecars(tmp_path):
    stack = _synth(
        _load(
            tmp_path,
            {
                "metrics": {"enabled": True},
                "spend_collector": {"enabled": True},
                "components": {"gateway": {"cpu": "4", "memory": "4Gi"}},
            },
        )
    )
    names = [container["name"] for container in containers(stack, "gateway")]
    assert names == ["litellm", "metrics", "collector", "spend-collector"]
    env = env_of(containers(stack, "gateway")[0])
    assert env["PROMETHEUS_MULTIPROC_DIR"] and env["LITELLM_COLLECTOR_ENABLED"] == "true"
    # 4 vCPU - 500m - 500m - 1; 4Gi - 256Mi - 256Mi - 512Mi.
    assert containers(stack, "gateway")[0]["resources"]["limits"] == {"cpu": "2", "memory": "3072Mi"}
    # Workers follow the instance's vCPUs, not the carved share.
    assert "--workers 4" in command(containers(stack, "gateway")[0])


# ---------------------------------------------------------------- connection pooling and workers


def test_no_pgbouncer_by_default(dev):
    (gateway,) = containers(dev, "gateway")
    assert not any(name.startswith("LITELLM_PGBOUNCER_") for name in env_of(gateway))
    assert "exec uvicorn gateway.main:app" in command(gateway)


def test_gateway_pgbouncer_with_its_limits_and_only_on_the_gateway(tmp_path):
    stack = _synth(
        _load(
            tmp_path,
            {
                # An external database: the managed one is reached through a socket LiteLLM's PgBouncer cannot dial.
                "database": {
                    "source": "external",
                    "url_secret": DB_URL_NAME,
                    "connection_pool": {"enabled": True, "max_db_connections": 8, "max_client_conn": 250},
                },
                "components": {"gateway": {"workers": 4}},
            },
        )
    )
    (gateway,) = containers(stack, "gateway")
    env = env_of(gateway)
    assert env["LITELLM_PGBOUNCER_ENABLED"] == "true"
    assert env["LITELLM_PGBOUNCER_MAX_DB_CONNECTIONS"] == "8"
    assert env["LITELLM_PGBOUNCER_MAX_CLIENT_CONN"] == "250"
    assert command(gateway).endswith("exec python -m gateway.launch --host 0.0.0.0 --port 4000 --workers 4")
    (backend,) = containers(stack, "backend")
    (job,) = resources(stack, "google_cloud_run_v2_job").values()
    job_env = job["template"]["template"]["containers"][0]["env"]
    for item in (*backend["env"], *job_env):
        assert not item["name"].startswith("LITELLM_PGBOUNCER_")
    assert "uvicorn backend.main:app" in command(backend)


# ---------------------------------------------------------------- Redis TLS toggle


def test_redis_tls_by_default(dev):
    (redis,) = resources(dev, "google_redis_instance").values()
    assert redis["transit_encryption_mode"] == "SERVER_AUTHENTICATION"
    assert env_of(containers(dev, "gateway")[0])["REDIS_SSL_CA_CERTS"] == "/etc/litellm/redis-ca/ca.pem"
    assert any(item.endswith("redis-ca") for item in secret_ids(dev))


def test_plaintext_redis_opt_in_drops_the_ca_and_redis_ssl(tmp_path):
    stack = _synth(_load(tmp_path, {"cache": {"transit_encryption": False, "allow_plaintext": True}}))
    (redis,) = resources(stack, "google_redis_instance").values()
    assert redis["transit_encryption_mode"] == "DISABLED" and redis["auth_enabled"] is True
    assert not any(item.endswith("redis-ca") for item in secret_ids(stack))
    for component in ("gateway", "backend"):
        service = services(stack)[component]
        env = env_of(service["template"]["containers"][0])
        assert "REDIS_SSL" not in env and "REDIS_SSL_CA_CERTS" not in env
        assert isinstance(env["REDIS_PASSWORD"], dict) and "REDIS_HOST" in env
        # No CA volume: the proxy config, the daily cap hook and the Cloud SQL sockets; the document says plaintext.
        volumes = [volume["name"] for volume in service["template"]["volumes"]]
        assert volumes == ["proxy-config", "proxy-hook-llmgw-daily-tokens", "cloudsql"]
        assert proxy_document(stack, component)["litellm_settings"]["cache_params"]["ssl"] is False
