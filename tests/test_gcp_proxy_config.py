"""GCP: LiteLLM's reviewed proxy config reaches the gateway and backend Cloud Run services, and only them.

The document is a Secret Manager secret version mounted as a file (constructs_lib/gcp/proxy_config.py); its
SHA-256 is in the container env and checked before LiteLLM starts. Every option variant of test_gcp_parity.py is
synthesized once here: the document each stack deploys passes the real LiteLLM check, and the containers' env
agrees with it (Redis, database, store_model_in_db, metrics).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import cdktf
import pytest
import yaml

from constructs_lib._common.errors import PropsError
from constructs_lib._common.litellm_config import (
    CONFIG_SHA_ENV,
    ENV_REFERENCE_PREFIX,
    ProxyConfig,
    ProxyRuntime,
    render_proxy_config,
)
from constructs_lib.config import EnvironmentConfig
from constructs_lib.config.gcp import GcpConfig
from constructs_lib.gcp.gateway import proxy_runtime
from constructs_lib.gcp.proxy_config import (
    CONFIG_DIR,
    CONFIG_FILE_ENV,
    MAX_PAYLOAD_BYTES,
    GatewayProxyConfig,
    GatewayProxyConfigProps,
)
from stacks.context import StackContext
from tests.digest_check import assert_digest_check_passes_then_refuses
from tests.leakcheck import is_env_only_proxy_config
from tests.test_gcp_parity import (
    DB_URL_NAME,
    NO_QUOTAS,
    SINGLE_PROCESS,
    account_member,
    command,
    containers,
    env_of,
    proxy_document,
    readers_of,
    resources,
    secret_name,
    services,
)
from tests.test_gcp_stack_options import _load, _synth

REPO = Path(__file__).resolve().parent.parent
LOADS_CONFIG = ("gateway", "backend")
GATEWAY_URL = "https://llm.acme.example"

# Every option combination test_gcp_parity.py synthesizes, as (gcp edits, root edits), and the runtime it implies.
VARIANTS: dict[str, tuple[dict, dict, ProxyRuntime]] = {
    "default": ({}, {}, ProxyRuntime(redis="tls", database=True, metrics=False)),
    "external-stores": (
        {"database": {"source": "external", "url_secret": DB_URL_NAME}, "cache": {"source": "external"}},
        {},
        ProxyRuntime(redis="url", database=True),
    ),
    "no-stores": (
        {"database": {"source": "none"}, "cache": {"source": "none"}, **SINGLE_PROCESS},
        NO_QUOTAS,
        ProxyRuntime(redis="none", database=False),
    ),
    "no-redis": ({"cache": {"source": "none"}, **SINGLE_PROCESS}, {}, ProxyRuntime(redis="none", database=True)),
    "plaintext-redis": (
        {"cache": {"transit_encryption": False, "allow_plaintext": True}},
        {},
        ProxyRuntime(redis="plaintext", database=True),
    ),
    "metrics": ({"metrics": {"enabled": True, "port": 9464}}, {}, ProxyRuntime(redis="tls", metrics=True)),
    "spend-collector": ({"spend_collector": {"enabled": True}}, {}, ProxyRuntime()),
    "connection-pool": (
        {"database": {"source": "external", "url_secret": DB_URL_NAME, "connection_pool": {"enabled": True}}},
        {},
        ProxyRuntime(),
    ),
    "dependencies-only": (
        {"create_runtime": False, "external_gateway_url": GATEWAY_URL},
        {},
        ProxyRuntime(),
    ),
}


@pytest.fixture(scope="module")
def variants(tmp_path_factory) -> dict[str, tuple[EnvironmentConfig, dict]]:
    """Variant -> (config, synthesized gcp-dev), each synthesized once for this module."""
    built = {}
    for name, (gcp_edits, root, _) in VARIANTS.items():
        config = _load(tmp_path_factory.mktemp(name), gcp_edits, **root)
        built[name] = (config, _synth(config))
    return built


def _gcp(config: EnvironmentConfig) -> GcpConfig:
    gcp = config.cloud("gcp")
    assert isinstance(gcp, GcpConfig)
    return gcp


def _config_secret(stack: dict) -> tuple[str, dict, dict]:
    """(address, secret, version) of the proxy-config secret."""
    (address,) = [
        name
        for name, body in resources(stack, "google_secret_manager_secret").items()
        if body["secret_id"].endswith("-proxy-config")
    ]
    (version,) = [
        body
        for body in resources(stack, "google_secret_manager_secret_version").values()
        if body["secret"] == f"${{google_secret_manager_secret.{address}.id}}"
    ]
    return address, resources(stack, "google_secret_manager_secret")[address], version


def _references(node: object) -> set[str]:
    if isinstance(node, str):
        return {node.removeprefix(ENV_REFERENCE_PREFIX)} if node.startswith(ENV_REFERENCE_PREFIX) else set()
    if isinstance(node, dict):
        return set().union(set(), *(_references(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(set(), *(_references(value) for value in node))
    return set()


# ---------------------------------------------------------------- the mechanism


@pytest.mark.parametrize("stack_name", ["gcp-dev", "gcp-staging", "gcp-prod"])
def test_gateway_and_backend_mount_the_pinned_config_version_with_its_digest(
    synthesized, example_environments, stack_name
):
    stack = synthesized[stack_name]
    (config,) = [item.config for item in example_environments if f"gcp-{item.config.env}" == stack_name]
    expected = render_proxy_config(config, proxy_runtime(_gcp(config)))
    address, secret, version = _config_secret(stack)
    # The deployed bytes are the rendered document, and the env's digest is theirs.
    assert version["secret_data"] == expected.text
    assert hashlib.sha256(version["secret_data"].encode()).hexdigest() == expected.sha256
    assert secret["deletion_protection"] is config.production
    version_ref = f"${{google_secret_manager_secret_version.{next(iter(_version_addresses(stack, address)))}.version}}"
    for component in LOADS_CONFIG:
        service = services(stack)[component]
        (volume,) = [item for item in service["template"]["volumes"] if item["name"] == "proxy-config"]
        assert volume["secret"]["secret"] == f"${{google_secret_manager_secret.{address}.id}}"
        # Pinned to the version this stack wrote, never `latest`.
        assert volume["secret"]["items"] == [{"path": "config.yaml", "version": version_ref}]
        main = containers(stack, component)[0]
        assert {"name": "proxy-config", "mount_path": CONFIG_DIR} in main["volume_mounts"]
        env = env_of(main)
        assert env[CONFIG_FILE_ENV] == f"{CONFIG_DIR}/config.yaml"
        assert env[CONFIG_SHA_ENV] == f"sha256:{expected.sha256}"
        # The digest check runs first, before DATABASE_URL is built and LiteLLM starts.
        assert command(main).startswith('python -c "import hashlib')
        assert proxy_document(stack, component) == yaml.safe_load(expected.text)
    # Nothing else mounts it or carries its digest.
    ui = services(stack)["ui"]
    assert not ui["template"].get("volumes")
    assert CONFIG_SHA_ENV not in env_of(ui["template"]["containers"][0])
    for job in resources(stack, "google_cloud_run_v2_job").values():
        assert "proxy-config" not in json.dumps(job)
    assert stack["output"]["proxy_config_secret"]["value"] == {
        "id": f"${{google_secret_manager_secret.{address}.id}}",
        "version": version_ref,
    }


def _version_addresses(stack: dict, secret_address: str) -> list[str]:
    return [
        name
        for name, body in resources(stack, "google_secret_manager_secret_version").items()
        if body["secret"] == f"${{google_secret_manager_secret.{secret_address}.id}}"
    ]


def test_only_the_gateway_and_backend_identities_read_the_config(synthesized):
    stack = synthesized["gcp-dev"]
    _, secret, _ = _config_secret(stack)
    members = {account_member(stack, suffix) for suffix in LOADS_CONFIG}
    assert readers_of(stack, secret["secret_id"]) == members
    for member in ("ui", "migrate"):
        assert account_member(stack, member) not in readers_of(stack, secret["secret_id"])
    # Each service waits for its own grant (a revision that cannot read its mount fails to start).
    grants = {
        body["member"]: name
        for name, body in resources(stack, "google_secret_manager_secret_iam_member").items()
        if body["secret_id"].endswith(f"{_config_secret(stack)[0]}.id}}")
    }
    for component in LOADS_CONFIG:
        grant = grants[account_member(stack, component)]
        assert f"google_secret_manager_secret_iam_member.{grant}" in services(stack)[component]["depends_on"]


def test_the_config_version_stays_pinned_when_other_secrets_float(tmp_path):
    stack = _synth(_load(tmp_path, {"secrets": {"version_pin": "latest"}}))
    env = env_of(containers(stack, "gateway")[0])
    assert env["LITELLM_MASTER_KEY"]["version"] == "latest"
    (volume,) = [item for item in services(stack)["gateway"]["template"]["volumes"] if item["name"] == "proxy-config"]
    assert volume["secret"]["items"][0]["version"].startswith("${google_secret_manager_secret_version.")


def test_the_digest_check_refuses_any_other_file(synthesized, tmp_path):
    """Run the container's first step for real: the deployed file passes, one changed byte stops the start."""
    stack = synthesized["gcp-dev"]
    main = containers(stack, "gateway")[0]
    check = command(main).split(" && ")[0]
    _, _, version = _config_secret(stack)
    path = tmp_path / "config.yaml"
    env = {
        "PATH": f"{REPO / '.venv' / 'bin'}:{os.environ['PATH']}",
        CONFIG_FILE_ENV: str(path),
        CONFIG_SHA_ENV: env_of(main)[CONFIG_SHA_ENV],
    }
    assert_digest_check_passes_then_refuses(check, env, path, version["secret_data"])


def test_dependencies_only_mode_still_publishes_the_config_for_the_runtime_you_run(variants):
    config, stack = variants["dependencies-only"]
    assert "google_cloud_run_v2_service" not in stack["resource"]
    _, secret, version = _config_secret(stack)
    assert readers_of(stack, secret["secret_id"]) == {account_member(stack, suffix) for suffix in LOADS_CONFIG}
    output = stack["output"]["proxy_config_secret"]["value"]
    assert output["version"].startswith("${google_secret_manager_secret_version.")
    assert version["secret_data"] == render_proxy_config(config, proxy_runtime(_gcp(config))).text


# ---------------------------------------------------------------- a model-list change


def test_a_model_list_change_rolls_exactly_the_services_that_load_the_config(tmp_path):
    from stacks.gcp.quotas import GcpQuotasStack

    base = _load(tmp_path, {})
    models = list(base.models)
    models[1] = models[1].model_copy(update={"litellm_model": "openai/gpt-4o-2024-11-20"})
    changed = base.model_copy(update={"models": models})
    before, after = _synth(base), _synth(changed)

    differing = {
        (kind, name)
        for kind in set(before["resource"]) | set(after["resource"])
        for name in set(resources(before, kind)) | set(resources(after, kind))
        if resources(before, kind).get(name) != resources(after, kind).get(name)
    }
    address = _config_secret(before)[0]
    (version_address,) = _version_addresses(before, address)
    gateway, backend = (
        next(
            name for name, body in resources(before, "google_cloud_run_v2_service").items() if body["name"].endswith(c)
        )
        for c in ("-gateway", "-backend")
    )
    assert differing == {
        ("google_secret_manager_secret_version", version_address),
        ("google_cloud_run_v2_service", gateway),
        ("google_cloud_run_v2_service", backend),
    }
    # In each service only the digest changed: that is the new revision (the pinned version number follows).
    for name in (gateway, backend):
        old, new = (resources(stack, "google_cloud_run_v2_service")[name] for stack in (before, after))
        old_env, new_env = env_of(old["template"]["containers"][0]), env_of(new["template"]["containers"][0])
        assert old_env[CONFIG_SHA_ENV] != new_env[CONFIG_SHA_ENV]
        assert {key: value for key, value in old_env.items() if key != CONFIG_SHA_ENV} == {
            key: value for key, value in new_env.items() if key != CONFIG_SHA_ENV
        }
    assert _config_secret(after)[2]["secret_data"] == render_proxy_config(changed, proxy_runtime(_gcp(changed))).text

    # Agent-side: the quotas stack is byte-identical.
    def quotas(config: EnvironmentConfig) -> str:
        context = StackContext("gcp-dev-quotas", "gcp", "quotas", config_path=Path("config/dev.yaml"), config=config)
        return cdktf.Testing.synth(GcpQuotasStack(cdktf.Testing.app(), context, gateway_url=GATEWAY_URL))

    assert quotas(base) == quotas(changed)


# ---------------------------------------------------------------- every variant: LiteLLM accepts it, env agrees


def test_the_runtime_follows_the_gcp_options(variants):
    for name, (config, _) in variants.items():
        assert proxy_runtime(_gcp(config)) == VARIANTS[name][2], name


def test_every_variants_deployed_document_passes_the_litellm_check(variants, tmp_path, litellm_check):
    paths, expected = [], []
    for name, (config, stack) in variants.items():
        path = tmp_path / f"{name}.yaml"
        path.write_text(_config_secret(stack)[2]["secret_data"])
        paths.append(path)
        expected.append(config)
    returncode, results = litellm_check(paths)
    assert returncode == 0, results
    for config, result in zip(expected, results, strict=True):
        assert result["ok"], result
        assert result["models"] == sorted(model.name for model in config.models)


@pytest.mark.parametrize("variant", [name for name in VARIANTS if name != "dependencies-only"])
def test_container_env_agrees_with_the_document(variants, variant):
    config, stack = variants[variant]
    runtime = VARIANTS[variant][2]
    provider_env = {key.env_var for key in config.provider_keys}
    for component in LOADS_CONFIG:
        document = proxy_document(stack, component)
        main = containers(stack, component)[0]
        env, start = env_of(main), command(main)
        general, litellm_settings = document["general_settings"], document["litellm_settings"]

        # The document names only variables the container has (or builds before LiteLLM starts); the backend
        # holds no provider keys by design, so its model entries resolve to no key and it calls no provider.
        built = {"DATABASE_URL"} if 'export DATABASE_URL="' in start else set()
        missing = _references(document) - set(env) - built
        assert missing == (provider_env & _references(document) if component == "backend" else set()), component
        assert not provider_env & set(env) if component == "backend" else provider_env <= set(env)

        # Redis: REDIS_* exactly when the document has a cache, TLS on both sides or on neither.
        redis_env = {name for name in env if name.startswith("REDIS_")}
        cache_params = litellm_settings.get("cache_params")
        if runtime.redis == "none":
            assert "cache" not in litellm_settings and cache_params is None
            assert redis_env == set()
        elif runtime.redis == "url":
            assert cache_params["url"] == f"{ENV_REFERENCE_PREFIX}REDIS_URL" and "host" not in cache_params
            assert redis_env == {"REDIS_URL"} and isinstance(env["REDIS_URL"], dict)
        else:
            tls = runtime.redis == "tls"
            assert cache_params["ssl"] is tls
            assert {"REDIS_HOST", "REDIS_PORT", "REDIS_PASSWORD"} <= redis_env
            assert isinstance(env["REDIS_PASSWORD"], dict)
            assert (env.get("REDIS_SSL") == "true") is tls and ("REDIS_SSL_CA_CERTS" in env) is tls

        # Database: DATABASE_URL (secret or built) exactly when the document names one.
        has_url = "DATABASE_URL" in env or "DATABASE_URL" in built
        assert ("database_url" in general) is runtime.database is has_url
        if not runtime.database:
            assert not any(name.startswith("DATABASE_") for name in env)

        # store_model_in_db: the document only. LiteLLM reads general_settings.store_model_in_db in load_config,
        # then ORs get_secret_bool("STORE_MODEL_IN_DB") onto it at startup, so an env var could only turn it on.
        assert general["store_model_in_db"] is runtime.database
        for container in containers(stack, component):
            assert "STORE_MODEL_IN_DB" not in env_of(container)

        # Metrics: the Prometheus callback exactly when the gateway has its multiprocess directory.
        assert ("prometheus" in litellm_settings["callbacks"]) is runtime.metrics
    gateway_env = env_of(containers(stack, "gateway")[0])
    assert ("PROMETHEUS_MULTIPROC_DIR" in gateway_env) is runtime.metrics


def test_sidecars_neither_mount_nor_read_the_config(variants):
    for name in ("metrics", "spend-collector"):
        _, stack = variants[name]
        _, secret, _ = _config_secret(stack)
        sidecars = containers(stack, "gateway")[1:]
        assert sidecars, name
        for sidecar in sidecars:
            assert all(mount["name"] != "proxy-config" for mount in sidecar.get("volume_mounts", []))
            assert CONFIG_SHA_ENV not in env_of(sidecar) and CONFIG_FILE_ENV not in env_of(sidecar)
            for value in env_of(sidecar).values():
                if isinstance(value, dict):
                    assert secret_name(stack, value["secret"]) != secret["secret_id"]


def test_the_leak_rules_admit_the_deployed_documents_and_nothing_with_a_credential_in_it(variants):
    """test_leaks.py lets a secret version hold this one literal; the rule must bite on a document with a value."""
    for name, (_, stack) in variants.items():
        assert is_env_only_proxy_config(_config_secret(stack)[2]["secret_data"]), name
    text = _config_secret(variants["external-stores"][1])[2]["secret_data"]
    document = yaml.safe_load(text)
    header = text.splitlines(keepends=True)[0]

    def with_change(change) -> str:
        changed = json.loads(json.dumps(document))
        change(changed)
        return header + yaml.safe_dump(changed, sort_keys=False)

    assert is_env_only_proxy_config(with_change(lambda doc: None))
    leaks = [
        with_change(lambda doc: doc["model_list"][0]["litellm_params"].update(api_key="sk-live-0123456789")),
        with_change(lambda doc: doc["general_settings"].update(master_key="hunter2-not-a-reference")),
        with_change(lambda doc: doc["litellm_settings"]["cache_params"].update(url="rediss://:pw@redis.internal:6379")),
        with_change(lambda doc: doc["general_settings"].update(database_url="${random_password.db.result}")),
        with_change(lambda doc: doc["general_settings"].update(ui_access_token="abc")),
        with_change(lambda doc: doc["router_settings"].update(note="sk-live-0123456789")),
        text.replace(header, ""),
        header + "not: [a, proxy, config]\n",
    ]
    assert [is_env_only_proxy_config(item) for item in leaks] == [False] * len(leaks)


# ---------------------------------------------------------------- construct refusals


def _stack() -> cdktf.TerraformStack:
    return cdktf.TerraformStack(cdktf.Testing.app(), "probe")


def test_the_construct_refuses_a_document_over_secret_managers_limit():
    text = "#" * (MAX_PAYLOAD_BYTES + 1)
    oversized = ProxyConfig(text=text, sha256=hashlib.sha256(text.encode()).hexdigest())
    with pytest.raises(PropsError) as caught:
        GatewayProxyConfig(
            _stack(),
            "proxy-config",
            GatewayProxyConfigProps(secret_id="x", proxy_config=oversized, readers={"gateway": "u"}, production=False),
        )
    assert caught.value.field == "models" and "65536-byte limit" in caught.value.problem


def test_the_construct_refuses_a_config_nobody_reads(example_environments):
    with pytest.raises(PropsError) as caught:
        GatewayProxyConfig(
            _stack(),
            "proxy-config",
            GatewayProxyConfigProps(
                secret_id="x",
                proxy_config=render_proxy_config(example_environments[0].config),
                readers={},
                production=False,
            ),
        )
    assert caught.value.field == "proxy_config.readers"
