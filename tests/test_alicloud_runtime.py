"""The gateway instance runtime (constructs_lib/alicloud/assets/llmgw_runtime.py) and what it is shipped with.

Against loopback stand-ins (tests/alicloud_standins.py) and the real `redis-server`; each rule cites its source.
"""

from __future__ import annotations

import datetime
import socket
import sys
import urllib.parse
from pathlib import Path

import pytest

from constructs_lib._common.errors import PropsError
from tests import alicloud_standins as standins
from tests import oss_v4
from tests.conftest import CONFIG_DIR
from tests.test_alicloud_gateway import _load, _runtime_module, _synth, resources

REGION, BUCKET, ENDPOINT = "cn-shanghai", "acme-dev-llmgw-release-cn-shanghai", "oss-cn-shanghai-internal.aliyuncs.com"
LITELLM_METADATA = Path(sys.prefix).parent / ".venv-litellm/lib/python3.11/site-packages/litellm-1.106.12.dist-info"


@pytest.fixture
def loopback_names(monkeypatch):
    """Resolve the given names to 127.0.0.1 (and a port of our choosing) in this process: a hosts-file stand-in."""
    routes: dict[tuple[str, int], int] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        target = routes.get((host, int(port or 0)))
        return real("127.0.0.1", target, *args, **kwargs) if target else real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return routes


# --- 7. OSS V4 signing --------------------------------------------------------------------------------------------


def test_the_oss_v4_verifier_reproduces_the_official_sdk_vector():
    # aliyun/alibabacloud-oss-python-sdk-v2 tests/unit/signer/test_v4.py, test_auth_header_with_token: ak/sk/token,
    # PUT bucket/"1234+-/123/1.txt", signing time 1702784856, region cn-hangzhou.
    timestamp = datetime.datetime.fromtimestamp(1702784856, datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    query = urllib.parse.urlencode(
        {"param1": "value1", "+param1": "value3", "|param1": "value4", "+param2": "", "|param2": "", "param2": ""},
        quote_via=urllib.parse.quote,
    )
    headers = {
        "x-oss-head1": "value",
        "abc": "value",
        "ZAbc": "value",
        "XYZ": "value",
        "content-type": "text/plain",
        "x-oss-content-sha256": "UNSIGNED-PAYLOAD",
        "x-oss-date": timestamp,
        "x-oss-security-token": "token",
    }
    canonical = oss_v4._canonical("PUT", "bucket", "1234+-/123/1.txt", query, headers, [])
    signature = oss_v4.expected_signature("sk", timestamp[:8], "cn-hangzhou", timestamp, canonical)
    assert signature == "b94a3f999cf85bcdc00d332fbd3734ba03e48382c36fa4d5af5df817395bd9ea"  # pragma: allowlist secret


def test_release_objects_are_fetched_with_a_v4_signature_that_oss_accepts(tmp_path, monkeypatch, loopback_names):
    # https://www.alibabacloud.com/help/en/oss/developer-reference/recommend-to-use-signature-version-4: V4 signs
    # in the Authorization header as OSS4-HMAC-SHA256; the stand-in OSS refuses anything else.
    runtime = _runtime_module()
    pki = standins.make_pki(tmp_path / "pki", [f"{BUCKET}.{ENDPOINT}"])
    monkeypatch.setenv("SSL_CERT_FILE", str(pki.ca))
    cloud = standins.Cloud(role="r", bucket=BUCKET, oss_endpoint=ENDPOINT, region=REGION)
    cloud.objects["releases/0123456789abcdef/config.yaml"] = b"model_list: []\n"
    with standins.serve("oss", cloud, pki) as port:
        loopback_names[(f"{BUCKET}.{ENDPOINT}", 443)] = port
        document = {"bucket": BUCKET, "oss_endpoint": ENDPOINT, "region": REGION}
        data = runtime._oss_object(document, standins.STS, "releases/0123456789abcdef/config.yaml")
        assert data == b"model_list: []\n"
        assert cloud.oss_requests == [("releases/0123456789abcdef/config.yaml", "OSS4-HMAC-SHA256")]
        # A wrong secret is refused: the check is real.
        with pytest.raises(SystemExit, match="HTTP 403"):
            wrong = {**standins.STS, "AccessKeySecret": "wrong"}  # pragma: allowlist secret
            runtime._oss_object(document, wrong, "releases/x")
    assert cloud.oss_refused == ["SignatureDoesNotMatch"]


# --- 8. Redis TLS is verified with the shipped CA ----------------------------------------------------------------


def test_no_redis_ca_is_a_synth_error_naming_the_field_and_where_to_get_it(tmp_path):
    with pytest.raises(PropsError) as caught:
        _synth(_load(tmp_path, {"cache": {"ca_certificate_file": None}}))
    assert caught.value.field == "clouds.alicloud.cache.ca_certificate_file"
    assert "TLS Settings" in caught.value.problem and "enable-tls-encryption" in caught.value.problem


def test_every_example_ships_a_redis_ca_and_points_litellm_at_it():
    for env in ("dev", "staging", "prod"):
        stack = _example_stack(env)
        deploy = next(body for body in resources(stack, "alicloud_ecs_invocation").values() if "deploy" in str(body))
        # LiteLLM maps REDIS_<KWARG> variables to redis-py kwargs, REDIS_SSL_CA_CERTS -> ssl_ca_certs
        # (litellm/_redis.py:194-198 at 1.106.12).
        assert '"REDIS_SSL_CA_CERTS" = "/etc/llmgw/redis-ca.pem"' in deploy["parameters"]["runtime"], env
        assert '"redis_ca" = {' in deploy["parameters"]["runtime"], env


def _example_stack(env: str) -> dict:
    from constructs_lib.config import load_environment

    return _synth(load_environment(CONFIG_DIR / f"{env}.yaml"))


def test_the_gateway_refuses_to_start_when_redis_tls_does_not_verify(tmp_path):
    runtime = _runtime_module()
    pki = standins.make_pki(tmp_path / "pki", ["localhost"])
    with standins.redis_tls(tmp_path / "redis", pki, "redis-drill-password") as port:
        document = {"environment": {"REDIS_HOST": "localhost", "REDIS_PORT": str(port), "REDIS_SSL": "true"}}
        runtime._redis_tls_verified({"environment": {**document["environment"], "REDIS_SSL_CA_CERTS": str(pki.ca)}})
        # The placeholder CA the examples ship verifies nothing: the gateway does not start on it.
        placeholder = str(CONFIG_DIR / "apsaradb-redis-ca.pem")
        with pytest.raises(SystemExit, match=r"clouds\.alicloud\.cache\.ca_certificate_file"):
            runtime._redis_tls_verified({"environment": {**document["environment"], "REDIS_SSL_CA_CERTS": placeholder}})


# --- 9. A supported interpreter, and the image looked up by name --------------------------------------------------


def test_instances_run_the_images_own_final_python_on_ubuntu_24_04_looked_up_by_name():
    for env in ("dev", "staging", "prod"):
        stack = _example_stack(env)
        (images,) = stack["data"]["alicloud_images"].values()
        assert images["name_regex"].startswith("^ubuntu_24_04_x64_"), env
        assert images["owners"] == "system" and images["most_recent"] is True
        for body in resources(stack, "alicloud_instance").values():
            assert body["image_id"].startswith("${element(data.alicloud_images."), (env, body["image_id"])
            assert body["lifecycle"]["ignore_changes"] == ["image_id"]
            assert "python3.11" not in body["user_data"] and " python3 python3-venv " in body["user_data"]


def test_the_runtime_refuses_a_release_candidate_interpreter(monkeypatch):
    runtime = _runtime_module()
    runtime._supported_interpreter()  # this machine's final 3.11
    candidate = _version(3, 11, 0, "candidate", 1)
    monkeypatch.setattr(runtime.sys, "version_info", candidate)
    monkeypatch.setattr(runtime.platform, "python_version", lambda: "3.11.0rc1")
    with pytest.raises(SystemExit, match=r"3\.11\.0rc1: need a final 3\.11"):
        runtime._supported_interpreter()


def _version(major: int, minor: int, micro: int, level: str, serial: int):
    from collections import namedtuple

    return namedtuple("version_info", "major minor micro releaselevel serial")(major, minor, micro, level, serial)


# --- 6. prisma ships with the release ------------------------------------------------------------------------------


def test_the_release_lock_pins_prisma_for_litellms_database_path():
    from constructs_lib.alicloud.gateway import REQUIREMENTS_LOCK

    # LiteLLM 1.106.12 puts prisma in its `extra-proxy` extra (METADATA: `Requires-Dist: prisma>=0.11.0,<1.0 ;
    # extra == 'extra-proxy'`), not in `proxy`; with DATABASE_URL set, proxy_cli exits 1 without it
    # (litellm/proxy/proxy_cli.py:1500-1506).
    metadata = (LITELLM_METADATA / "METADATA").read_text()
    assert "Requires-Dist: prisma>=0.11.0,<1.0 ; extra == 'extra-proxy'" in metadata
    pins = {
        line.split("==")[0]: line.split("==")[1].split()[0]
        for line in REQUIREMENTS_LOCK.read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert "prisma" in pins, "prisma missing from the release lock"
    major, minor, _ = (int(part) for part in pins["prisma"].split("."))
    assert (0, 11) <= (major, minor) < (1, 0)
    # prisma's own requirements (prisma-0.11.0.dist-info/METADATA Requires-Dist) are all pinned too.
    for requirement in ("httpx", "jinja2", "pydantic", "click", "python-dotenv", "typing-extensions", "tomlkit"):
        assert requirement in pins, requirement
    assert "nodeenv" in pins


def test_install_generates_the_prisma_client_with_a_pinned_node_and_fails_the_release_when_the_download_fails(
    tmp_path, monkeypatch
):
    runtime = _runtime_module()
    venv = tmp_path / "venv"
    schema = venv / "lib/python3.12/site-packages/litellm/proxy/schema.prisma"
    schema.parent.mkdir(parents=True)
    schema.write_text('generator client { provider = "prisma-client-py" }\n')
    calls = []

    class Result:
        returncode = 1

    def run(command, env, cwd, check, timeout):
        calls.append((command, env, cwd, timeout))
        return Result()

    monkeypatch.setattr(runtime.subprocess, "run", run)
    with pytest.raises(SystemExit, match=r"binaries\.prisma\.sh"):
        runtime._prisma_generate(str(venv))
    ((command, env, cwd, timeout),) = calls
    assert command == [f"{venv}/bin/python", "-m", "prisma", "generate", f"--schema={schema}"]
    assert env["PRISMA_HOME_DIR"] == cwd == f"{venv}/prisma"
    # prisma 0.11.0 takes list settings from ./pyproject.toml [tool.prisma] (prisma/_config.py Config.load).
    assert (venv / "prisma/pyproject.toml").read_text() == '[tool.prisma]\nnodeenv_extra_args = ["--node=20.18.1"]\n'
    assert timeout == runtime.STEP_WAITS["prisma"]


# --- 11. The examples serve HTTPS; plain HTTP stays an explicit opt-in ------------------------------------------


def test_every_example_gateway_listens_on_https_with_a_certificate():
    from constructs_lib.config import load_environment

    for env in ("dev", "staging", "prod"):
        load_balancer = load_environment(CONFIG_DIR / f"{env}.yaml").cloud("alicloud").load_balancer
        assert load_balancer.allow_plaintext is False, env
        stack = _example_stack(env)
        (listener,) = resources(stack, "alicloud_alb_listener").values()
        assert (listener["listener_protocol"], listener["listener_port"]) == ("HTTPS", 443), env
        assert listener["certificates"][0]["certificate_id"] == load_balancer.certificate_id
        # Agents and the quotas stack call the name the certificate covers, over TLS.
        assert stack["output"]["gateway_url"]["value"] == f"https://{load_balancer.domain_name}"


# --- 10. Provider keys never reach Terraform state -----------------------------------------------------------------


def test_provider_key_secrets_are_names_only_never_an_alicloud_kms_secret():
    # resource_alicloud_kms_secret.go:265-270 (v1.289.0): Read calls GetSecretValue and sets `secret_data` from
    # SecretData, so any alicloud_kms_secret for a provider key would copy the real key into state at the next
    # refresh, ignore_changes or not. Terraform therefore knows the name (policy, runtime document, output) only.
    from constructs_lib.config import load_environment

    for env in ("dev", "staging", "prod"):
        config = load_environment(CONFIG_DIR / f"{env}.yaml")
        stack = _example_stack(env)
        names = {body["secret_name"] for body in resources(stack, "alicloud_kms_secret").values()}
        assert not [name for name in names if "-provider-" in name], (env, names)
        (policy,) = resources(stack, "alicloud_ram_policy").values()
        deploy = next(body for body in resources(stack, "alicloud_ecs_invocation").values() if "deploy" in str(body))
        for item in config.provider_keys:
            name = f"acme-{env}-provider-{item.name}"
            assert f":secret/{name}" in policy["policy_document"], (env, name)
            assert (
                f'"{item.env_var}" = {{"name" = "{name}", "version" = "v{item.version}"}}'
                in (deploy["parameters"]["runtime"])
            )
            assert stack["output"]["provider_key_secret_names"]["value"][item.name] == name
        assert "kms_key_id" in stack["output"]


# --- 12. The runbook reads a key from a file, never from the command line ---------------------------------------


def test_the_runbook_never_puts_a_key_value_on_a_command_line():
    readme = (CONFIG_DIR.parent / "README.md").read_text()
    assert "--SecretData" not in readme, "a value on the command line is visible in /proc/<pid>/cmdline"
    assert "python -m tools.alicloud_secret put" in readme and "--value-file /dev/stdin" in readme


def test_the_secret_tool_stores_a_value_read_from_a_file_that_the_gateway_then_reads(tmp_path, monkeypatch):
    import os
    import subprocess

    pki = standins.make_pki(tmp_path / "pki", ["localhost"])
    cloud = standins.Cloud(role="r", bucket=BUCKET, oss_endpoint=ENDPOINT, region=REGION)
    value = "sk-drill-" + os.urandom(12).hex()
    (tmp_path / "key.txt").write_text(value + "\n")
    env = {
        **os.environ,
        "SSL_CERT_FILE": str(pki.ca),
        "ALIBABA_CLOUD_ACCESS_KEY_ID": standins.STS["AccessKeyId"],
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": standins.STS["AccessKeySecret"],
        "ALIBABA_CLOUD_SECURITY_TOKEN": standins.STS["SecurityToken"],
    }
    name = "acme-dev-provider-openai"
    with standins.serve("kms", cloud, pki) as port:
        common = ["--region", REGION, "--endpoint", f"127.0.0.1:{port}", "--name", name]
        tool = [sys.executable, "-m", "tools.alicloud_secret"]
        # A second put of v2 is refused: a version is never overwritten.
        for action, version, stored in (("create", "v1", True), ("put", "v2", True), ("put", "v2", False)):
            extra = ["--key-id", "key-drill"] if action == "create" else []
            command = [*tool, action, *common, "--version", version, "--value-file", str(tmp_path / "key.txt"), *extra]
            result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, cwd=CONFIG_DIR.parent)
            assert value not in " ".join(command) and value not in result.stdout + result.stderr
            assert (result.returncode == 0) is stored, result.stderr
            assert stored or "Rejected.ResourceExist" in result.stderr
        assert cloud.kms_writes == [("CreateSecret", name, "v1"), ("PutSecretValue", name, "v2")]
        monkeypatch.setenv("SSL_CERT_FILE", str(pki.ca))
        read = _runtime_module()._kms_secret({"kms_endpoint": f"127.0.0.1:{port}"}, standins.STS, name, "v2")
    assert read == value  # the newline `echo` adds is not part of the key
