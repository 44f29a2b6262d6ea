"""`gcp-<env>` built from edited configs: bad settings fail with the field named, options change the output."""

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

DEV = yaml.safe_load((CONFIG_DIR / "dev.yaml").read_text())
TAG_ONLY = "us-central1-docker.pkg.dev/acme-llmgw-dev/ghcr/berriai/litellm-gateway:v1.86.0-dev"


def _data(gcp_edits: dict, **root: object) -> dict:
    data = copy.deepcopy(DEV)
    data.update(root)
    _merge(data["clouds"]["gcp"], gcp_edits)
    return data


def _merge(target: dict, edits: dict) -> None:
    for key, value in edits.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


def _load(tmp_path: Path, gcp_edits: dict, **root: object) -> EnvironmentConfig:
    path = tmp_path / f"{root.get('env', 'dev')}.yaml"
    path.write_text(yaml.safe_dump(_data(gcp_edits, **root), sort_keys=False))
    return load_environment(path)


def _synth(config: EnvironmentConfig) -> dict:
    from stacks.gcp.gateway import GcpGatewayStack

    app = cdktf.Testing.app()
    context = StackContext(f"gcp-{config.env}", "gcp", "gateway", config_path=Path("config/dev.yaml"), config=config)
    return json.loads(cdktf.Testing.synth(GcpGatewayStack(app, context)))


@pytest.mark.parametrize(
    ("edits", "field", "message"),
    [
        (
            {"components": {"gateway": {"image": "ghcr.io/berriai/litellm-gateway:v1.86.0"}}},
            "clouds.gcp.components.gateway.image",
            "remote repository in front of ghcr.io",
        ),
        ({"image_registry": "ghcr.io/berriai"}, "clouds.gcp.image_registry", "Artifact Registry remote repository"),
        (
            {"components": {"ui": {"image": "quay.io/acme/ui:1.0"}}},
            "clouds.gcp.components.ui.image",
            "not one Cloud Run pulls from",
        ),
        (
            {"migrations": {"image": "docker.io/acme/migrations:latest"}},
            "clouds.gcp.migrations.image",
            "`latest` is not a pin",
        ),
        ({"image_tag": None}, "clouds.gcp.components.gateway.image", "no image"),
        ({"components": {"backend": {"cpu": "1", "memory": "8Gi"}}}, "clouds.gcp.components.backend.memory", "cpu 1"),
        (
            {"components": {"ui": {"min_instances": 4, "max_instances": 2}}},
            "clouds.gcp.components.ui.min_instances",
            "above max_instances",
        ),
        ({"migrations": {"memory": "1Gi"}}, "clouds.gcp.migrations.memory", "at least 2Gi"),
        (
            {"network": {"egress": "connector", "connector_cidr": "10.103.0.0/27"}},
            "clouds.gcp.network.connector_cidr",
            "/28",
        ),
        (
            {"network": {"existing_network": "projects/acme-net/global/networks/shared"}},
            "clouds.gcp.network.existing_subnetwork",
            "together",
        ),
        (
            {"load_balancer": {"armor": {"requests_per_minute": 100, "ban_requests_per_minute": 50}}},
            "clouds.gcp.load_balancer.armor.ban_requests_per_minute",
            "below",
        ),
    ],
)
def test_fails_on_bad_gcp_config_naming_the_field(tmp_path, edits, field, message):
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, edits)
    assert caught.value.path == field
    assert message in caught.value.problem


def test_fails_when_public_without_domains_and_without_plaintext_opt_in(tmp_path):
    config = _load(tmp_path, {"load_balancer": {"lb_domains": []}})
    with pytest.raises(PropsError) as caught:
        _synth(config)
    assert caught.value.field == "clouds.gcp.load_balancer.lb_domains"
    assert "allow_plaintext" in caught.value.problem


def test_fails_when_production_image_is_not_digest_pinned(tmp_path):
    prod = yaml.safe_load((CONFIG_DIR / "prod.yaml").read_text())
    prod["clouds"]["gcp"]["components"]["gateway"]["image"] = TAG_ONLY
    path = tmp_path / "prod.yaml"
    path.write_text(yaml.safe_dump(prod, sort_keys=False))
    with pytest.raises(PropsError) as caught:
        _synth(load_environment(path))
    assert caught.value.field == "clouds.gcp.components.gateway.image"
    assert "digest" in caught.value.problem


def test_plaintext_opt_in_serves_http_without_certificate_or_redirect(tmp_path):
    stack = _synth(
        _load(
            tmp_path,
            {
                "load_balancer": {"lb_domains": [], "allow_plaintext": True, "armor": {"enabled": False}},
                "migrations": {"auto_run": False},
                "network": {"egress": "connector", "route_all_egress": True},
            },
        )
    )
    resources = stack["resource"]
    assert "google_compute_managed_ssl_certificate" not in resources
    assert "google_compute_target_https_proxy" not in resources
    # Armor's rate limit off: only the admin allowlist policy (tests/test_gcp_admin_private.py) is left.
    assert [name for name in resources["google_compute_security_policy"] if "admin-armor" not in name] == []
    (http,) = resources["google_compute_target_http_proxy"].values()
    (url_map_name,) = resources["google_compute_url_map"]
    assert http["url_map"] == f"${{google_compute_url_map.{url_map_name}.id}}"
    assert stack["output"]["gateway_url"]["value"].startswith("http://")
    # auto_run off: no execution during apply; the services wait for the job only, the command is an output.
    assert "terraform_data" not in resources
    (job_name,) = resources["google_cloud_run_v2_job"]
    gateway = next(
        body for body in resources["google_cloud_run_v2_service"].values() if body["name"].endswith("-gateway")
    )
    assert f"google_cloud_run_v2_job.{job_name}" in gateway["depends_on"]
    assert stack["output"]["migration_command"]["value"].endswith("--wait")
    # connector egress for every VPC-attached workload, all traffic through Cloud NAT.
    (connector_name,) = resources["google_vpc_access_connector"]
    assert gateway["template"]["vpc_access"] == {
        "connector": f"${{google_vpc_access_connector.{connector_name}.id}}",
        "egress": "ALL_TRAFFIC",
    }
    assert "google_compute_router_nat" in resources
    assert {body["service"] for body in resources["google_project_service"].values()} >= {"vpcaccess.googleapis.com"}


def test_default_egress_is_direct_vpc_for_private_ranges_only_without_nat(synthesized):
    resources = synthesized["gcp-dev"]["resource"]
    assert "google_vpc_access_connector" not in resources and "google_compute_router_nat" not in resources
    for body in resources["google_cloud_run_v2_service"].values():
        if "vpc_access" in body["template"]:
            assert body["template"]["vpc_access"]["egress"] == "PRIVATE_RANGES_ONLY"
            assert body["template"]["vpc_access"]["network_interfaces"][0]["subnetwork"].startswith(
                "${google_compute_subnetwork."
            )


def test_bring_your_own_network_creates_no_vpc(tmp_path):
    network = "projects/acme-net-host/global/networks/shared"
    subnet = "projects/acme-net-host/regions/us-central1/subnetworks/llm"
    stack = _synth(
        _load(
            tmp_path,
            {
                "network": {
                    "existing_network": network,
                    "existing_subnetwork": subnet,
                    "create_private_services_access": False,
                }
            },
        )
    )
    resources = stack["resource"]
    assert "google_compute_network" not in resources and "google_service_networking_connection" not in resources
    (instance,) = resources["google_sql_database_instance"].values()
    assert instance["settings"]["ip_configuration"]["private_network"] == network


def test_latest_secret_pin_and_rotation_versions(tmp_path):
    stack = _synth(
        # A master-key rotation needs the salt key read first (tests/test_gcp_salt_key.py).
        _load(
            tmp_path,
            {
                "secrets": {
                    "version_pin": "latest",
                    "master_key_version": 3,
                    "database_password_version": 2,
                    "salt_key_version": 1,
                }
            },
        )
    )
    resources = stack["resource"]
    for body in resources["google_cloud_run_v2_service"].values():
        for item in body["template"]["containers"][0].get("env", []):
            if "value_source" in item:
                assert item["value_source"]["secret_key_ref"]["version"] == "latest"
    wo_versions = sorted(
        body["secret_data_wo_version"]
        for body in resources["google_secret_manager_secret_version"].values()
        if "secret_data_wo" in body
    )
    assert wo_versions == [2, 3]
    (user,) = resources["google_sql_user"].values()
    assert user["password_wo_version"] == 2


def test_database_cmek_grants_the_cloud_sql_agent_before_the_instance(tmp_path):
    key = "projects/acme-kms/locations/us-central1/keyRings/llm/cryptoKeys/sql"
    stack = _synth(_load(tmp_path, {"database": {"cmek_key": key}}))
    resources = stack["resource"]
    (grant_name, grant) = next(iter(resources["google_kms_crypto_key_iam_member"].items()))
    assert grant["crypto_key_id"] == key and "gcp-sa-cloud-sql" in grant["member"]
    (instance,) = resources["google_sql_database_instance"].values()
    assert instance["encryption_key_name"] == key
    assert f"google_kms_crypto_key_iam_member.{grant_name}" in instance["depends_on"]
