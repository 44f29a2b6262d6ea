"""Memorystore TLS: the GCP gateway's exact Redis client settings against a real TLS `redis-server` shaped like
Memorystore, with the pinned LiteLLM (1.106.12, its redis-py 8.2.0) in .venv-litellm.

The server certificate names the server's IP only in its subject CN and has no subjectAltName: the shape reported
for Memorystore ("GCP Memorystore which sets the CN to an IP address", envoyproxy/ratelimit#409; Google exposes no
way to put a name in it, hashicorp/terraform-provider-google#8060). A certificate with the IP in a SAN would also
pass these settings: they never match the name. What the clients get is taken from the synthesized gcp-dev stack:
the gateway container's REDIS_* environment (its references replaced by this server's address, password and CA
file), the rendered config.yaml's `cache_params`, and the daily token cap hook the gateway mounts. Each runs through
LiteLLM's own Cache / RedisCache / get_redis_async_client (tests/redis_tls_driver.py).

The CA file holds every `server_ca_certs` entry: during a CA rotation Memorystore lists the new CA beside the old
one (https://cloud.google.com/memorystore/docs/redis/about-in-transit-encryption#certificate_authority_rotation), and
a server certificate of the new CA must verify whichever entry comes first.
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.alicloud_standins import _ca, make_pki, redis_tls
from tests.litellm_check import LITELLM_PYTHON
from tests.test_gcp_parity import containers, env_of, proxy_document, resources, services

DRIVER = Path(__file__).with_name("redis_tls_driver.py")
PASSWORD = "tls-check-password"  # pragma: allowlist secret (a throwaway test server's)
SERVER_IP = "127.0.0.1"


def _pem(certificate) -> str:
    from cryptography.hazmat.primitives import serialization

    return certificate.public_bytes(serialization.Encoding.PEM).decode()


@pytest.fixture(scope="module")
def gateway(synthesized) -> dict:
    """What the gcp-dev gateway container gets: its environment, the CA file's path, cache_params, the hook."""
    stack = synthesized["gcp-dev"]
    (container,) = containers(stack, "gateway")
    env = env_of(container)
    (volume,) = [item for item in services(stack)["gateway"]["template"]["volumes"] if item["name"] == "redis-ca"]
    mounts = {mount["name"]: mount["mount_path"] for mount in container["volume_mounts"]}
    ca_path = f"{mounts['redis-ca']}/{volume['secret']['items'][0]['path']}"
    hooks = [
        body["secret_data"]
        for body in resources(stack, "google_secret_manager_secret_version").values()
        if str(body.get("secret_data", "")).startswith('"""A daily token cap')
    ]
    return {
        "env": env,
        "ca_path": ca_path,
        "cache_params": proxy_document(stack)["litellm_settings"]["cache_params"],
        "hook": hooks[0],
    }


def _client_env(gateway: dict, port: int, ca_file: Path) -> dict[str, str]:
    """The container's REDIS_* variables; Terraform references and the secret become this server's values."""
    env = {name: value for name, value in gateway["env"].items() if name.startswith("REDIS_")}
    assert env["REDIS_SSL_CA_CERTS"] == gateway["ca_path"], "REDIS_SSL_CA_CERTS names the mounted CA file"
    assert isinstance(env["REDIS_PASSWORD"], dict), "the AUTH string comes from Secret Manager"
    literal = {name: value for name, value in env.items() if isinstance(value, str) and "${" not in value}
    assert set(env) - set(literal) == {"REDIS_HOST", "REDIS_PORT", "REDIS_PASSWORD"}, env
    return {
        **literal,
        "REDIS_HOST": SERVER_IP,
        "REDIS_PORT": str(port),
        "REDIS_PASSWORD": PASSWORD,
        "REDIS_SSL_CA_CERTS": str(ca_file),
    }


def _memorystore_server(directory: Path, issuer):
    """A server certificate like Memorystore's: the IP in the CN, no subjectAltName."""
    return make_pki(directory, names=[], ips=(), common_name=SERVER_IP, issuer=issuer)


# case -> (the server certificate's issuer, the CA file the client trusts, REDIS_* variables left out)
CASES = {
    # Memorystore during a CA rotation: the old CA listed first, the server already on the new one.
    "memorystore": ("new", ("old", "new"), ()),
    "another-ca": ("other", ("old", "new"), ()),
    "first-ca-only": ("new", ("old",), ()),
    "redis-py-default-name-check": ("new", ("old", "new"), ("REDIS_SSL_CHECK_HOSTNAME",)),
}


@pytest.fixture(scope="module")
def answers(tmp_path_factory, gateway) -> dict[str, dict[str, str]]:
    """One real TLS redis-server per case (RedisCache keeps an async client per host/port), one LiteLLM process."""
    root = tmp_path_factory.mktemp("redis-tls")
    cas = {name: _ca(f"{name} CA") for name in ("old", "new", "other")}
    hook = root / "llmgw_daily_tokens.py"
    hook.write_text(gateway["hook"])
    request: dict = {"hook": str(hook), "cases": {}}
    with contextlib.ExitStack() as servers:
        for case, (issuer, trusted, dropped) in CASES.items():
            pki = _memorystore_server(root / case, issuer=cas[issuer])
            ca_file = root / case / "trusted.pem"
            ca_file.write_text("\n".join(_pem(cas[name][1]) for name in trusted))
            port = servers.enter_context(redis_tls(root / case / "redis", pki, PASSWORD))
            env = {name: value for name, value in _client_env(gateway, port, ca_file).items() if name not in dropped}
            request["cases"][case] = {"env": env, "cache_params": gateway["cache_params"]}
        finished = subprocess.run(
            [str(LITELLM_PYTHON), str(DRIVER)],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            cwd=root,
        )
    assert finished.returncode == 0, finished.stderr[-3000:]
    return json.loads(finished.stdout.strip().splitlines()[-1])


def test_the_gateway_verifies_memorystore_against_every_listed_ca_without_a_name_match(answers):
    assert answers["memorystore"] == {"sync": "ok", "async": "ok", "hook": "ok"}


def test_a_server_certificate_of_another_ca_is_refused(answers):
    for client, answer in answers["another-ca"].items():
        assert "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed" in answer, (client, answer)


def test_only_the_first_listed_ca_refuses_a_server_on_the_rotated_ca(answers):
    """Why the file holds every entry: `server_ca_certs[0]` alone (the old CA) refuses the new CA's server."""
    for client, answer in answers["first-ca-only"].items():
        assert "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed" in answer, (client, answer)


def test_redis_py_default_hostname_check_refuses_the_memorystore_certificate(answers):
    """Why REDIS_SSL_CHECK_HOSTNAME is "false": redis-py's default (True) matches an IP only against subjectAltName
    IP entries, which Memorystore's certificate does not have."""
    for client, answer in answers["redis-py-default-name-check"].items():
        assert f"IP address mismatch, certificate is not valid for '{SERVER_IP}'" in answer, (client, answer)


def test_the_mounted_ca_file_is_every_server_ca_cert_joined(synthesized, tmp_path):
    """The redis-ca secret's value is every `server_ca_certs[*].cert`: the synthesized expression, evaluated by the
    real terraform (1.11.4) against a value of the attribute's shape (a list of objects with `cert`)."""
    stack = synthesized["gcp-dev"]
    (redis_address,) = resources(stack, "google_redis_instance")
    (ca_version,) = [
        body
        for body in resources(stack, "google_secret_manager_secret_version").values()
        if "server_ca_certs" in str(body.get("secret_data", ""))
    ]
    expression = ca_version["secret_data"]
    reference = f"google_redis_instance.{redis_address}"
    assert expression.startswith("${") and expression.endswith("}") and reference in expression
    certificates = [f"-----BEGIN CERTIFICATE-----\nCA{index}\n-----END CERTIFICATE-----" for index in (1, 2, 3)]
    instance = "{ server_ca_certs = [" + ", ".join(f"{{ cert = {json.dumps(c)} }}" for c in certificates) + "] }"
    (tmp_path / "main.tf").write_text(f"locals {{\n  instance = {instance}\n}}\n")
    evaluated = subprocess.run(
        ["terraform", "console"],
        input="jsonencode(" + expression[2:-1].replace(reference, "local.instance") + ")\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=tmp_path,
    )
    value = json.loads(json.loads(evaluated.stdout.strip()))
    assert value == "\n".join(certificates)
    assert re.findall(r"CA\d", value) == ["CA1", "CA2", "CA3"]


def test_the_config_yaml_gives_the_cache_the_same_redis_as_the_environment(gateway):
    """cache_params reference the env (host, port, password) and keep TLS on; CA file and name check come from the
    REDIS_SSL_* variables LiteLLM reads from the environment."""
    params = gateway["cache_params"]
    assert params["ssl"] is True
    assert {params[key] for key in ("host", "port", "password")} == {
        "os.environ/REDIS_HOST",
        "os.environ/REDIS_PORT",
        "os.environ/REDIS_PASSWORD",
    }
    assert not {key for key in params if key.startswith("ssl_")}, "nothing in the document overrides the env"
