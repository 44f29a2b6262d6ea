"""The `gcp-<env>` stacks as synthesized from the shipped examples: routing, identity, data stores, TLS."""

from __future__ import annotations

import json
import re

import pytest

from constructs_lib.gcp.url_map_paths import shared_url_map_rules
from tests.gcp_iam import is_ci_member

GCP_STACKS = ("gcp-dev", "gcp-staging", "gcp-prod")
_REF = re.compile(r"\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.")


def resources(stack: dict, kind: str) -> dict[str, dict]:
    return stack.get("resource", {}).get(kind, {})


def only(stack: dict, kind: str) -> tuple[str, dict]:
    items = resources(stack, kind)
    assert len(items) == 1, f"expected one {kind}, found {sorted(items)}"
    return next(iter(items.items()))


def ref(kind: str, name: str) -> str:
    return f"${{{kind}.{name}."


def service_by_component(stack: dict) -> dict[str, tuple[str, dict]]:
    return {
        body["name"].rsplit("-", 1)[-1]: (name, body)
        for name, body in resources(stack, "google_cloud_run_v2_service").items()
    }


def backend_service_of(stack: dict, component: str) -> str:
    """`google_compute_backend_service` address serving Cloud Run component `component` (via its NEG)."""
    run_name, _ = service_by_component(stack)[component]
    negs = [
        name
        for name, body in resources(stack, "google_compute_region_network_endpoint_group").items()
        if body["cloud_run"]["service"].startswith(ref("google_cloud_run_v2_service", run_name))
    ]
    assert len(negs) == 1
    backends = [
        name
        for name, body in resources(stack, "google_compute_backend_service").items()
        if body["backend"][0]["group"].startswith(ref("google_compute_region_network_endpoint_group", negs[0]))
    ]
    assert len(backends) == 1
    return f"${{google_compute_backend_service.{backends[0]}.id}}"


@pytest.fixture(params=GCP_STACKS)
def stack(request, synthesized) -> dict:
    return synthesized[request.param]


@pytest.fixture
def prod(synthesized) -> dict:
    return synthesized["gcp-prod"]


def _routing_url_map(stack: dict) -> dict:
    maps = [body for body in resources(stack, "google_compute_url_map").values() if "path_matcher" in body]
    assert len(maps) == 1
    return maps[0]


def test_routing_is_complete_and_matches_the_shared_list(stack):
    url_map = _routing_url_map(stack)
    routed = {
        path: rule["service"]
        for matcher in url_map["path_matcher"]
        for rule in matcher["path_rule"]
        for path in rule["paths"]
    }
    expected = {path: component for component, paths in shared_url_map_rules() for path in paths}
    assert set(routed) == set(expected)
    for path, component in expected.items():
        assert routed[path] == backend_service_of(stack, component), f"{path} does not reach {component}"
    assert url_map["default_service"] == backend_service_of(stack, "backend")
    assert url_map["path_matcher"][0]["default_service"] == backend_service_of(stack, "backend")
    assert url_map["host_rule"] == [{"hosts": ["*"], "path_matcher": url_map["path_matcher"][0]["name"]}]


def test_every_backend_service_is_external_managed_and_logged(stack):
    for name, body in resources(stack, "google_compute_backend_service").items():
        assert body["load_balancing_scheme"] == "EXTERNAL_MANAGED", name
        assert body["log_config"]["enable"] is True, name
        assert body["security_policy"].startswith("${google_compute_security_policy."), name


def test_cloud_armor_bans_by_client_ip(stack):
    # The rate-limit policy (the admin allowlist policy is tests/test_gcp_admin_private.py's).
    (policy,) = [
        body for name, body in resources(stack, "google_compute_security_policy").items() if "admin-armor" not in name
    ]
    ban = [rule for rule in policy["rule"] if rule["action"] == "rate_based_ban"]
    assert len(ban) == 1 and ban[0]["rate_limit_options"]["enforce_on_key"] == "IP"
    assert ban[0]["rate_limit_options"]["exceed_action"] == "deny(429)"
    assert any(rule["priority"] == 2147483647 for rule in policy["rule"])


def test_https_with_managed_certificate_modern_tls_and_redirect(stack):
    _, policy = only(stack, "google_compute_ssl_policy")
    assert policy["min_tls_version"] == "TLS_1_2" and policy["profile"] in {"MODERN", "RESTRICTED"}
    cert_name, cert = only(stack, "google_compute_managed_ssl_certificate")
    assert cert["lifecycle"]["create_before_destroy"] is True and cert["managed"]["domains"]
    _, https = only(stack, "google_compute_target_https_proxy")
    assert https["ssl_policy"].startswith("${google_compute_ssl_policy.")
    assert https["ssl_certificates"] == [f"${{google_compute_managed_ssl_certificate.{cert_name}.id}}"]
    _, http = only(stack, "google_compute_target_http_proxy")
    redirect = next(
        body
        for name, body in resources(stack, "google_compute_url_map").items()
        if http["url_map"].startswith(ref("google_compute_url_map", name))
    )
    assert redirect["default_url_redirect"]["https_redirect"] is True
    ports = sorted(rule["port_range"] for rule in resources(stack, "google_compute_global_forwarding_rule").values())
    assert ports == ["443", "80"]


def test_services_trust_only_the_load_balancer(stack):
    for _, body in service_by_component(stack).values():
        assert body["ingress"] == "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
        assert body["invoker_iam_disabled"] is True


def test_no_public_principal_anywhere(stack):
    text = json.dumps(stack)
    assert "allUsers" not in text and "allAuthenticatedUsers" not in text
    for kind, items in stack.get("resource", {}).items():
        if "_iam_" in kind:
            for name, body in items.items():
                members = [body.get("member"), *body.get("members", [])]
                # The stack's own service accounts, or Google's service agents of this project (Cloud Run's, which
                # pulls images from the Artifact Registry mirror).
                assert all(
                    m is None
                    or m.startswith("serviceAccount:${google_service_account.")
                    # The stage's CI identities (tests/test_gcp_plan_refresh.py, tests/test_ci_role_scoping.py).
                    or is_ci_member(m)
                    or re.fullmatch(
                        r"serviceAccount:service-\$\{data\.google_project\.[^}]+\.number\}@[a-z-]+\.iam\.gserviceaccount\.com",
                        m,
                    )
                    for m in members
                ), name


def test_the_only_project_level_grant_is_cloud_sql_client_on_the_gateways_instances(stack):
    # Cloud SQL has no instance-level IAM; the binding is conditioned on the instances (test_gcp_database_connection).
    kinds = [kind for kind in stack.get("resource", {}) if kind.startswith("google_project_iam")]
    assert kinds == ["google_project_iam_member"]
    for body in resources(stack, "google_project_iam_member").values():
        assert body["role"] == "roles/cloudsql.client"
        assert body["condition"]["expression"].startswith("resource.type == 'sqladmin.googleapis.com/Instance' && ")


def _account_of(stack: dict, component: str) -> str:
    _, body = service_by_component(stack)[component]
    return body["template"]["service_account"]


def _secrets_read_by(container: dict, template: dict) -> set[str]:
    env = {
        item["value_source"]["secret_key_ref"]["secret"] for item in container.get("env", []) if "value_source" in item
    }
    files = {volume["secret"]["secret"] for volume in template.get("volumes", []) if "secret" in volume}
    return env | files


def test_secret_access_is_granted_per_secret_exactly_as_used(stack):
    """Each identity may read exactly the secrets its container references, each through its own binding."""
    granted: dict[str, set[str]] = {}
    for body in resources(stack, "google_secret_manager_secret_iam_member").values():
        assert body["role"] == "roles/secretmanager.secretAccessor"
        if is_ci_member(body["member"]):
            continue  # the CI plan identity's refresh reads: tests/test_gcp_plan_refresh.py
        account = body["member"].removeprefix("serviceAccount:")
        granted.setdefault(account, set()).add(body["secret_id"])
    used: dict[str, set[str]] = {}
    for _, service in service_by_component(stack).values():
        template = service["template"]
        used.setdefault(template["service_account"], set()).update(
            _secrets_read_by(template["containers"][0], template)
        )
    _, job = only(stack, "google_cloud_run_v2_job")
    job_template = job["template"]["template"]
    used.setdefault(job_template["service_account"], set()).update(
        _secrets_read_by(job_template["containers"][0], job_template)
    )
    assert {account: secrets for account, secrets in granted.items()} == {
        account: secrets for account, secrets in used.items() if secrets
    }


def test_ui_identity_has_no_grant_and_its_service_no_secret(stack):
    ui_account = _account_of(stack, "ui")
    members = [
        body.get("member") for kind, items in stack["resource"].items() if "_iam_" in kind for body in items.values()
    ]
    assert f"serviceAccount:{ui_account}" not in members
    # The only binding naming it is the one on it that lets the CI apply identity deploy the UI (actAs).
    on_it = [
        body
        for body in resources(stack, "google_service_account_iam_member").values()
        if body["service_account_id"] == ui_account.replace(".email}", ".name}")
    ]
    assert [(body["role"], is_ci_member(body["member"])) for body in on_it] == [("roles/iam.serviceAccountUser", True)]
    _, ui = service_by_component(stack)["ui"]
    assert not _secrets_read_by(ui["template"]["containers"][0], ui["template"])
    assert "vpc_access" not in ui["template"]


def test_plain_env_never_carries_a_secret(stack):
    for name, body in resources(stack, "google_cloud_run_v2_service").items():
        for item in body["template"]["containers"][0].get("env", []):
            value = item.get("value", "")
            assert not re.search(r"secret_manager_secret_version|random_password|ephemeral\.|auth_string", value), (
                name,
                item,
            )


def test_generated_secrets_are_write_only_from_ephemeral_values(stack):
    ephemeral = stack["ephemeral"]["random_password"]
    assert set(ephemeral) == {"master_key", "database_password"}
    versions = resources(stack, "google_secret_manager_secret_version")
    write_only = [body for body in versions.values() if "secret_data_wo" in body]
    assert sorted(body["secret_data_wo"] for body in write_only) == [
        "${ephemeral.random_password.database_password.result}",
        "sk-${ephemeral.random_password.master_key.result}",
    ]
    assert all("secret_data" not in body for body in write_only)
    _, user = only(stack, "google_sql_user")
    assert user["password_wo"] == "${ephemeral.random_password.database_password.result}"
    assert "password" not in user


def test_database_and_user_are_abandoned_not_dropped(stack):
    _, user = only(stack, "google_sql_user")
    _, database = only(stack, "google_sql_database")
    assert user["deletion_policy"] == "ABANDON" and database["deletion_policy"] == "ABANDON"


def test_cloud_sql_is_private_tls_only_backed_up_and_protected(stack):
    for name, body in resources(stack, "google_sql_database_instance").items():
        settings = body["settings"]
        assert body["database_version"] == "POSTGRES_16"
        ip = settings["ip_configuration"]
        # Only the Cloud SQL connection's mTLS is admitted (test_gcp_database_connection.py has the sources).
        assert ip["ipv4_enabled"] is False and ip["ssl_mode"] == "TRUSTED_CLIENT_CERTIFICATE_REQUIRED", name
        assert body["deletion_protection"] is True and settings["deletion_protection_enabled"] is True
        assert settings["disk_autoresize"] is True
        assert body["lifecycle"]["ignore_changes"] == ["settings[0].disk_size"]
        assert settings["insights_config"]["query_insights_enabled"] is True
        if "master_instance_name" not in body:
            backup = settings["backup_configuration"]
            assert backup["enabled"] is True and backup["point_in_time_recovery_enabled"] is True


def test_production_database_is_regional_with_a_replica(prod, synthesized):
    primaries = {
        stack: [
            b
            for b in resources(synthesized[stack], "google_sql_database_instance").values()
            if "master_instance_name" not in b
        ]
        for stack in GCP_STACKS
    }
    assert primaries["gcp-prod"][0]["settings"]["availability_type"] == "REGIONAL"
    assert primaries["gcp-dev"][0]["settings"]["availability_type"] == "ZONAL"
    assert len(resources(prod, "google_sql_database_instance")) == 2


def test_redis_has_auth_and_tls_and_ha_in_production(stack, synthesized):
    _, redis = only(stack, "google_redis_instance")
    assert redis["auth_enabled"] is True and redis["transit_encryption_mode"] == "SERVER_AUTHENTICATION"
    assert redis["connect_mode"] == "PRIVATE_SERVICE_ACCESS"
    tiers = {name: only(synthesized[name], "google_redis_instance")[1]["tier"] for name in GCP_STACKS}
    assert tiers == {"gcp-dev": "BASIC", "gcp-staging": "BASIC", "gcp-prod": "STANDARD_HA"}


def test_redis_ca_reaches_containers_as_a_mounted_secret(stack):
    for component in ("gateway", "backend"):
        _, service = service_by_component(stack)[component]
        container = service["template"]["containers"][0]
        env = {item["name"]: item.get("value") for item in container["env"]}
        mount = container["volume_mounts"][0]["mount_path"]
        assert env["REDIS_SSL"] == "true" and env["REDIS_SSL_CA_CERTS"].startswith(mount + "/")
        volume = service["template"]["volumes"][0]
        assert volume["secret"]["secret"].startswith("${google_secret_manager_secret.")


def test_bucket_is_private_and_granted_on_the_bucket_only(stack):
    _, bucket = only(stack, "google_storage_bucket")
    assert bucket["uniform_bucket_level_access"] is True and bucket["public_access_prevention"] == "enforced"
    assert bucket["force_destroy"] is False and bucket["versioning"]["enabled"] is True
    grants = {name: body for name, body in resources(stack, "google_storage_bucket_iam_member").items()}
    ci = [body for body in grants.values() if is_ci_member(body["member"])]
    # The CI plan identity reads the bucket's metadata only (its refresh: tests/test_gcp_plan_refresh.py).
    assert [(body["role"], "-ci-plan@" in body["member"]) for body in ci] == [("roles/storage.bucketViewer", True)]
    grants = {name: body for name, body in grants.items() if not is_ci_member(body["member"])}
    assert {body["role"] for body in grants.values()} == {"roles/storage.objectUser"}
    assert {body["member"].removeprefix("serviceAccount:") for body in grants.values()} == {
        _account_of(stack, "gateway"),
        _account_of(stack, "backend"),
    }


def test_services_start_only_after_migrations_ran(stack):
    run_name, run = only(stack, "terraform_data")
    _, job = only(stack, "google_cloud_run_v2_job")
    assert run["triggers_replace"]["image"] == job["template"]["template"]["containers"][0]["image"]
    assert "gcloud run jobs execute" in run["provisioner"][0]["local-exec"]["command"]
    assert "--wait" in run["provisioner"][0]["local-exec"]["command"]
    for component in ("gateway", "backend"):
        _, service = service_by_component(stack)[component]
        assert f"terraform_data.{run_name}" in service["depends_on"]
    assert stack["output"]["migration_command"]["value"].startswith("gcloud run jobs execute")


def test_probes_use_the_reference_health_paths(stack):
    for component, (startup, liveness) in {
        "gateway": ("/health/readiness", "/health/liveliness"),
        "backend": ("/health/readiness", "/health/liveliness"),
        "ui": ("/healthz", "/healthz"),
    }.items():
        container = service_by_component(stack)[component][1]["template"]["containers"][0]
        assert container["startup_probe"]["http_get"]["path"] == startup
        assert container["liveness_probe"]["http_get"]["path"] == liveness


def test_apis_stay_enabled_on_destroy(stack):
    services = resources(stack, "google_project_service")
    assert services and all(body["disable_on_destroy"] is False for body in services.values())


def test_production_images_are_digest_pinned(prod):
    images = [
        body["template"]["containers"][0]["image"] for body in resources(prod, "google_cloud_run_v2_service").values()
    ]
    images.append(only(prod, "google_cloud_run_v2_job")[1]["template"]["template"]["containers"][0]["image"])
    assert len(images) == 4 and all(re.search(r"@sha256:[0-9a-f]{64}$", image) for image in images)


def test_outputs_name_secrets_not_values(stack):
    outputs = stack["output"]
    for name in ("lb_ip", "gateway_url", "master_key_secret_id", "database_password_secret_id", "migration_command"):
        assert name in outputs
    for name in ("master_key_secret_id", "database_password_secret_id", "redis_auth_secret_id"):
        assert re.fullmatch(r"\$\{google_secret_manager_secret\.[^.]+\.id\}", outputs[name]["value"])
