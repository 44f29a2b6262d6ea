"""Boot drill: the instance runtime (constructs_lib/alicloud/assets/llmgw_runtime.py) run for real on this machine.

What an ECS instance does after `terraform apply`, with loopback stand-ins for what only Alibaba Cloud has
(tests/alicloud_standins.py: the metadata service, KMS, OSS with V4 checked) and the real rest:

1. `install` takes STS credentials from the metadata stand-in, fetches the release (lock, LiteLLM config, Redis CA)
   from the OSS stand-in, V4-signed, checks each SHA-256, and installs the lock with `pip --require-hashes` into a
   fresh venv from PyPI (cached between runs under ~/.cache/llmgw-drill, keyed by the lock's digest);
2. `serve` reads every secret from the KMS stand-in at its pinned version and starts LiteLLM with the generated
   config and a real `redis-server` with TLS (a CA and server certificate made here): up to /health/readiness
   answering and LiteLLM's Redis cache ping succeeding through the shipped CA;
3. `install` installs Logtail (SLS's agent, which ships the request log): it downloads the installer from the
   `logtail-release-<region>` bucket on the internal OSS endpoint (a loopback stand-in, HTTPS), runs it once
   (`logtail.sh install <region>`), checks what the documentation says an install leaves behind (the startup config
   naming the region's internal endpoint, `ilogtaild status` "ilogtail is running") and writes the machine group's
   custom identifier; a missing, failing or wrong-region installer stops the install with its reason. The installer
   itself is a stand-in (tests/alicloud_standins.py LOGTAIL_INSTALLER): this proves the runtime's download, run,
   checks and failure handling, not that Alibaba's script installs on Ubuntu 24.04 or that Logtail reaches SLS;
4. with a database (DATABASE_URL), `install` goes up to the Prisma step: prisma is importable from the release venv,
   and `prisma generate` stops where Node and the Prisma engines would download (not reachable here) with the
   runtime's message; `migrate` gets past LiteLLM's "prisma CLI is neither on PATH nor importable" check.

The runtime resolves the Alibaba host names and 100.100.100.200 through a `sitecustomize` that maps exactly those
names to the loopback ports (a hosts-file stand-in); its code is unchanged. Only loopback addresses are used.
"""

# ruff: noqa: S310 (fixed http://127.0.0.1 URLs of the gateway under test)
from __future__ import annotations

import getpass
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from constructs_lib._common.litellm_config import ProxyRuntime, render_proxy_config
from constructs_lib.alicloud.gateway import REQUIREMENTS_LOCK
from constructs_lib.alicloud.logs import REQUEST_LOGGER, logtail_installer_url
from constructs_lib.alicloud.migrations import RUNTIME_SCRIPT
from constructs_lib.config import load_environment
from tests import alicloud_standins as standins
from tests.conftest import CONFIG_DIR

pytestmark = pytest.mark.drill

REGION, ROLE = "cn-shanghai", "acme-dev-gateway"
BUCKET = "acme-dev-llmgw-release-cn-shanghai"
KMS_ENDPOINT, OSS_ENDPOINT = f"kms-vpc.{REGION}.aliyuncs.com", f"oss-{REGION}-internal.aliyuncs.com"
LOGTAIL_HOST = f"logtail-release-{REGION}.{OSS_ENDPOINT}"
IDENTITY = "acme-dev-llm-gateway"
SYSTEM_CAS = Path("/etc/ssl/certs/ca-certificates.crt")
SITECUSTOMIZE = '''"""Boot drill only: its Alibaba Cloud names resolve to loopback ports (a hosts-file stand-in)."""
import json, os, socket
_routes = json.loads(os.environ["LLMGW_DRILL_ROUTES"])
_real = socket.getaddrinfo
def _getaddrinfo(host, port, *args, **kwargs):
    target = _routes.get(f"{host}|{port}")
    return _real("127.0.0.1", target, *args, **kwargs) if target else _real(host, port, *args, **kwargs)
socket.getaddrinfo = _getaddrinfo
'''


def _artifact(cloud: standins.Cloud, name: str, data: bytes) -> dict:
    digest = hashlib.sha256(data).hexdigest()
    key = f"releases/{digest[:16]}/{name}"
    cloud.objects[key] = data
    return {"key": key, "sha256": digest}


def _run(command: list[str], env: dict, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def drill(tmp_path_factory):
    """Stand-ins, Redis with TLS, a release in OSS, secrets in KMS, and the runtime's environment."""
    tmp = tmp_path_factory.mktemp("drill")
    config = load_environment(CONFIG_DIR / "dev.yaml")
    lock = REQUIREMENTS_LOCK.read_bytes()
    # The runtime's own paths (ROOT) persist between runs, so the venv it installs is reused (keyed by the lock).
    root = Path.home() / ".cache" / "llmgw-drill" / f"py{sys.version_info[0]}{sys.version_info[1]}-"
    root = root.with_name(root.name + hashlib.sha256(lock).hexdigest()[:12])
    for directory in (root / "etc/llmgw", root / "opt/llmgw"):
        directory.mkdir(parents=True, exist_ok=True)
    _remove_logtail(root)  # each run installs Logtail afresh (the venv alone is cached)
    names = [KMS_ENDPOINT, f"{BUCKET}.{OSS_ENDPOINT}", LOGTAIL_HOST, "localhost"]
    pki = standins.make_pki(tmp / "pki", names)
    bundle = tmp / "ca-bundle.pem"
    bundle.write_bytes(SYSTEM_CAS.read_bytes() + b"\n" + pki.ca.read_bytes())
    cloud = standins.Cloud(role=ROLE, bucket=BUCKET, oss_endpoint=OSS_ENDPOINT, region=REGION)
    cloud.logtail_installer = standins.LOGTAIL_INSTALLER
    secrets = {
        "LITELLM_MASTER_KEY": ("acme-dev-master-key", "v1", "sk-drill-" + os.urandom(16).hex()),
        "REDIS_PASSWORD": ("acme-dev-redis-password", "v1", os.urandom(16).hex()),
        "DATABASE_PASSWORD": ("acme-dev-db-password", "v1", os.urandom(16).hex()),
        # The budget alerts' webhook URL (config/dev.yaml clouds.alicloud.alerting): a secret like the others.
        "WEBHOOK_URL": ("acme-dev-alert-webhook", "v1", "https://hooks.example.invalid/" + os.urandom(16).hex()),
        **{
            item.env_var: (f"acme-dev-provider-{item.name}", f"v{item.version}", f"drill-{item.name}-key")
            for item in config.provider_keys
        },
    }
    for name, version, value in secrets.values():
        cloud.secrets.setdefault(name, {})[version] = value
    site = tmp / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    with (
        standins.serve("metadata", cloud, None) as metadata_port,
        standins.serve("kms", cloud, pki) as kms_port,
        standins.serve("oss", cloud, pki) as oss_port,
        standins.serve("logtail", cloud, pki) as logtail_port,
        standins.redis_tls(tmp / "redis", pki, secrets["REDIS_PASSWORD"][2]) as redis_port,
    ):
        routes = {
            "100.100.100.200|80": metadata_port,
            f"{KMS_ENDPOINT}|443": kms_port,
            f"{BUCKET}.{OSS_ENDPOINT}|443": oss_port,
            f"{LOGTAIL_HOST}|443": logtail_port,
        }
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("PIP_FIND_LINKS", "PIP_CONSTRAINT", "PIP_EXTRA_INDEX", "PYTHONPATH"))
        }
        env |= {
            "LLMGW_ROOT": str(root),
            "LLMGW_USER": getpass.getuser(),
            "LLMGW_DRILL_ROUTES": json.dumps(routes),
            "PYTHONPATH": str(site),
            "SSL_CERT_FILE": str(bundle),
            # pip as on the instance: PyPI only (no local mirrors, wheel folders or constraint files of this host).
            "PIP_CONFIG_FILE": os.devnull,
        }
        yield {
            "tmp": tmp,
            "root": root,
            "cloud": cloud,
            "env": env,
            "secrets": secrets,
            "redis_port": redis_port,
            "pki": pki,
            "config": config,
            "lock": lock,
        }


def _remove_logtail(root: Path) -> None:
    for path in (root / "usr/local/ilogtail", root / "etc/ilogtail"):
        shutil.rmtree(path, ignore_errors=True)
    (root / "etc/init.d/ilogtaild").unlink(missing_ok=True)


def _document(drill: dict, *, database: bool) -> dict:
    """The runtime document the stack hands over (stacks/alicloud/gateway.py `runtime`), for this drill."""
    cloud, root, config = drill["cloud"], drill["root"], drill["config"]
    proxy = render_proxy_config(config, ProxyRuntime(redis="tls", database=database, budget_webhook=True))
    secret_names = [name for name in drill["secrets"] if database or name != "DATABASE_PASSWORD"]
    document = {
        "region": REGION,
        "role": ROLE,
        "kms_endpoint": KMS_ENDPOINT,
        "oss_endpoint": OSS_ENDPOINT,
        "bucket": BUCKET,
        "litellm_version": "1.106.12",
        "requirements": _artifact(cloud, "litellm-proxy.lock.txt", drill["lock"]),
        "config": _artifact(cloud, "config.yaml", proxy.text.encode()),
        "redis_ca": _artifact(cloud, "redis-ca.pem", drill["pki"].ca.read_bytes()),
        # The files LiteLLM loads beside config.yaml (the daily token cap hook), as stacks/alicloud/gateway.py lists.
        "hooks": [{**_artifact(cloud, hook.name, hook.text.encode()), "name": hook.name} for hook in proxy.hooks],
        # The request logger and Logtail, with the installer URL the stack ships (constructs_lib/alicloud/logs.py).
        "request_log": {
            **_artifact(cloud, REQUEST_LOGGER.name, REQUEST_LOGGER.read_bytes()),
            "logtail_identity": IDENTITY,
            "logtail_installer": logtail_installer_url(REGION),
        },
        "host": "127.0.0.1",
        "port": standins.free_port(),
        "workers": 1,
        "refresh_seconds": 600,
        "environment": {
            "REDIS_HOST": "localhost",
            "REDIS_PORT": str(drill["redis_port"]),
            "REDIS_SSL": "true",
            "LITELLM_PROXY_CONFIG_SHA256": proxy.sha256,
            "REDIS_SSL_CA_CERTS": f"{root}/etc/llmgw/redis-ca.pem",
        },
        "secrets": {
            variable: {"name": drill["secrets"][variable][0], "version": drill["secrets"][variable][1]}
            for variable in secret_names
        },
    }
    if database:
        # Nothing listens there: the drill stops at the Prisma step, before any connection.
        document["database"] = {"host": "127.0.0.1", "port": str(standins.free_port()), "user": "litellm"}
        document["database"]["name"] = "litellm"
    (root / "etc/llmgw/runtime.json").write_text(json.dumps(document))
    return document


def _runtime(drill: dict, command: str, timeout: float) -> subprocess.CompletedProcess:
    return _run([sys.executable, str(RUNTIME_SCRIPT), command], drill["env"], timeout)


def test_the_document_has_the_keys_the_stack_hands_over(drill):
    """The drill's document is the stack's: every key the synthesized deploy invocation carries (dev example)."""
    from tests.test_alicloud_runtime import _example_stack

    stack = _example_stack("dev")
    deploy = next(body for body in stack["resource"]["alicloud_ecs_invocation"].values() if "deploy" in str(body))
    text = deploy["parameters"]["runtime"]
    document = _document(drill, database=True)
    for key in set(document) - {"host"}:  # host: the drill listens on 127.0.0.1, the instance on its address
        assert f'"{key}" = ' in text, key


def test_install_then_serve_up_to_health_and_a_verified_redis(drill):
    started = time.monotonic()
    document = _document(drill, database=False)
    install = _runtime(drill, "install", timeout=1500)
    assert install.returncode == 0, install.stderr[-3000:]
    install_seconds = time.monotonic() - started
    cloud = drill["cloud"]
    assert not cloud.oss_refused and {key for key, _ in cloud.oss_requests} >= {
        document["config"]["key"],
        document["redis_ca"]["key"],
        *(hook["key"] for hook in document["hooks"]),
    }
    assert all(scheme == "OSS4-HMAC-SHA256" for _, scheme in cloud.oss_requests)
    venv = Path(os.path.realpath(drill["root"] / "opt/llmgw/venv"))
    assert venv.name == f"venv-{document['requirements']['sha256'][:12]}" and (venv / ".installed").exists()
    # Logtail: downloaded once over HTTPS from the region's internal endpoint, installed for the region, running,
    # and the machine group's identity written where the machine group looks (/etc/ilogtail/user_defined_id).
    root = drill["root"]
    assert cloud.logtail_downloads == ["/linux64/logtail.sh"]
    assert (root / "etc/ilogtail/user_defined_id").read_text() == IDENTITY + "\n"
    assert not (root / "etc/ilogtail/users").exists()  # same-account ECS: no user identifier (logs.py)
    assert "Logtail drill-standin running, machine group identity acme-dev-llm-gateway" in install.stderr
    # A second deploy does not reinstall (the installer overwrites, which would interrupt collection).
    again = _runtime(drill, "install", timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    assert cloud.logtail_downloads == ["/linux64/logtail.sh"] and "installing Logtail" not in again.stderr

    serve = subprocess.Popen(
        [sys.executable, str(RUNTIME_SCRIPT), "serve"],
        env=drill["env"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{document['port']}"
    master_key = drill["secrets"]["LITELLM_MASTER_KEY"][2]
    try:
        deadline, ready = time.monotonic() + 240, None
        while time.monotonic() < deadline and serve.poll() is None:
            try:
                with urllib.request.urlopen(f"{base}/health/readiness", timeout=5) as response:
                    ready = (response.status, json.loads(response.read()))
                    break
            except OSError:
                time.sleep(1)
        exited = serve.poll()
        assert ready is not None, f"LiteLLM never answered: {exited}\n" + (
            serve.stdout.read()[-3000:] if exited is not None and serve.stdout else ""
        )
        assert ready[0] == 200 and ready[1]["status"] == "healthy", ready
        # LiteLLM's own Redis ping, through TLS verified with the CA the release shipped.
        request = urllib.request.Request(f"{base}/cache/ping", headers={"Authorization": f"Bearer {master_key}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            ping = json.loads(response.read())
        assert ping["status"] == "healthy" and ping["cache_type"] == "redis" and ping["ping_response"] is True, ping
        # Every secret was read at its pinned version; the provider keys among them.
        assert set(cloud.kms_reads) >= {(name, version) for name, version, _ in drill["secrets"].values()} - {
            drill["secrets"]["DATABASE_PASSWORD"][:2]
        }
        print(f"drill: install {install_seconds:.0f} s, ready {time.monotonic() - started - install_seconds:.0f} s")
    finally:
        os.killpg(serve.pid, signal.SIGTERM)
        try:
            output, _ = serve.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(serve.pid, signal.SIGKILL)
            output, _ = serve.communicate()
    for _, _, value in drill["secrets"].values():
        assert value not in output, "a secret value reached the service's output"


def test_with_a_database_install_reaches_the_prisma_step_and_prisma_is_importable(drill):
    _document(drill, database=True)
    install = _runtime(drill, "install", timeout=1500)
    venv = Path(os.path.realpath(drill["root"] / "opt/llmgw/venv"))
    importable = _run([str(venv / "bin/python"), "-c", "import prisma; print(prisma.__version__)"], drill["env"], 60)
    assert importable.returncode == 0 and importable.stdout.strip() == "0.11.0", importable.stderr
    # The engines cannot download here: the runtime stops the release at the Prisma step, with its reason.
    assert install.returncode != 0
    assert "prisma generate failed" in install.stderr and "binaries.prisma.sh" in install.stderr, install.stderr[-2000:]
    assert not (venv / ".prisma-generated").exists()
    # LiteLLM itself gets past the "prisma CLI is neither on PATH nor importable" exit (proxy_cli.py:1500-1506).
    migrate = _runtime(drill, "migrate", timeout=900)
    output = migrate.stdout + migrate.stderr
    assert "neither on PATH nor importable" not in output
    assert migrate.returncode != 0 and "prisma" in output.lower(), output[-2000:]
    for _, _, value in drill["secrets"].values():
        assert value not in output
    print("drill: install stopped at: " + " | ".join(install.stderr.strip().splitlines()[-6:]))
    print("drill: migrate output ends with: " + " | ".join(output.strip().splitlines()[-3:]))


@pytest.mark.parametrize(
    ("installer", "reason"),
    [
        (None, "could not be downloaded (HTTP Error 404"),
        (b"<Error><Code>AccessDenied</Code></Error>", "is not Logtail's installer script"),
        (b"#!/bin/bash\necho 'cannot reach logtail-release' >&2\nexit 3\n", "installer failed (exit 3): cannot reach"),
        (standins.LOGTAIL_INSTALLER.replace(b'region="$2"', b'region="cn-beijing"'), "does not name cn-shanghai"),
    ],
    ids=["missing", "not-a-script", "installer-fails", "wrong-region"],
)
def test_a_failed_logtail_install_stops_the_install_with_its_reason(drill, installer, reason):
    """No gateway without its request log: every way the Logtail step can fail stops `install` (so the deploy command
    and the apply) before the release is switched to, and says why."""
    cloud = drill["cloud"]
    _remove_logtail(drill["root"])
    _document(drill, database=False)
    before = os.path.realpath(drill["root"] / "opt/llmgw/venv")
    cloud.logtail_installer = installer
    try:
        install = _runtime(drill, "install", timeout=600)
    finally:
        cloud.logtail_installer = standins.LOGTAIL_INSTALLER
        _remove_logtail(drill["root"])
    assert install.returncode != 0 and reason in install.stderr, install.stderr[-2000:]
    assert not (drill["root"] / "etc/ilogtail/user_defined_id").exists()
    assert os.path.realpath(drill["root"] / "opt/llmgw/venv") == before
