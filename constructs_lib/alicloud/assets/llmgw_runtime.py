#!/usr/bin/env python3
"""LiteLLM gateway runtime on an ECS instance (standard library only; written by every deploy command).

Reads /etc/llmgw/runtime.json (names, versions and endpoints; never a secret value), takes the instance RAM
role's STS credentials from the metadata service (hardened mode: a session token first), and

  install   fetches the release (hash-locked requirements, LiteLLM config, Redis CA) from OSS (V4-signed), checks
            each SHA-256, installs LiteLLM with `pip --require-hashes` into a venv named for the requirements digest
            and, with a database, generates the Prisma client there (Node, the Prisma CLI and engines download here);
  migrate   runs LiteLLM's Prisma migrations once (`--skip_server_startup`);
  restart   checks Redis TLS against the shipped CA, restarts the llmgw service and waits for /health/readiness;
  serve     (the systemd service) reads every secret from KMS into the environment of a LiteLLM child process,
            re-reads them every `refresh_seconds`, and exits for a restart when a value changed.

Secret values live only in process memory: never written to a file, an argument list or a log line.
"""

# ruff: noqa: S310 (fixed http(s) URLs of the metadata service, KMS and OSS)
from __future__ import annotations

import base64
import contextlib
import datetime
import glob
import hashlib
import hmac
import json
import os
import platform
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

METADATA = "http://100.100.100.200/latest"
# Everything the runtime writes lives under ROOT (empty on an instance; a scratch directory in the boot drill).
ROOT = os.environ.get("LLMGW_ROOT", "")
RUNTIME = f"{ROOT}/etc/llmgw/runtime.json"
CONFIG = f"{ROOT}/etc/llmgw/config.yaml"
REDIS_CA = f"{ROOT}/etc/llmgw/redis-ca.pem"
# LiteLLM loads the config's callback module from the config's own directory.
REQUEST_LOGGER = f"{ROOT}/etc/llmgw/llmgw_request_log.py"
# Logtail: the machine group's identity file, the agent's home (startup config, version) and init script.
LOGTAIL_IDENTITY = f"{ROOT}/etc/ilogtail/user_defined_id"
LOGTAIL_HOME = f"{ROOT}/usr/local/ilogtail"
LOGTAIL_INIT = f"{ROOT}/etc/init.d/ilogtaild"
LOGTAIL_INSTALLER_MAX_BYTES = 1024 * 1024  # the installer is a script of about 10 KB
HOME = f"{ROOT}/opt/llmgw"
SERVICE_USER = os.environ.get("LLMGW_USER", "litellm")
# The longest each step may wait (seconds). The deploy command's timeout and the invocations' create timeouts are
# sized from these (constructs_lib/alicloud/migrations.py), so a slow step fails here, not as a Terraform timeout.
STEP_WAITS = {
    "credentials": 300,  # the metadata service, while the RAM role attachment is still being applied
    "install": 900,  # pip installing the locked wheels from the package index
    # `prisma generate`: Node (nodeenv), the Prisma CLI (npm) and its engines download on first use; LiteLLM gives
    # that bootstrap 600 s (DEFAULT_PRISMA_BOOTSTRAP_TIMEOUT, litellm_proxy_extras/prisma_toolchain.py 0.4.108).
    "prisma": 600,
    # LiteLLM's migration lock wait plus `prisma migrate deploy`, 600 s each by default (migration_lock_timeout,
    # DEFAULT_PRISMA_MIGRATE_DEPLOY_TIMEOUT in litellm_proxy_extras/prisma_toolchain.py 0.4.108).
    "migrate": 1200,
    "ready": 600,  # the restarted service answering /health/readiness
    "logtail": 300,  # Logtail's installer (it downloads the agent)
}
# Each single request's timeout (seconds): metadata service, KMS, OSS, Redis TLS, health probe, Logtail's download.
REQUEST_TIMEOUTS = {"metadata": 5, "kms": 15, "oss": 60, "redis": 10, "health": 5, "logtail": 60}
RETRY_SECONDS = 5  # pause between two attempts of a wait loop
# Node for the Prisma CLI (prisma 0.11.0 runs CLI 5.4.2 and engines ac9d7041..., its defaults): pinned, not "latest".
PRISMA_NODE_VERSION = "20.18.1"


def _log(message: str) -> None:
    print(f"llmgw: {message}", file=sys.stderr, flush=True)


def _runtime() -> dict:
    with open(RUNTIME, encoding="utf-8") as handle:
        return json.load(handle)


def _supported_interpreter() -> None:
    """A final CPython release, 3.11 or newer: never a release candidate (Ubuntu 22.04's universe python3.11)."""
    version = sys.version_info
    if version.releaselevel != "final" or version[:2] < (3, 11):
        raise SystemExit(f"llmgw: {sys.executable} is Python {platform.python_version()}: need a final 3.11+ release")


def _credentials(role: str) -> dict:
    """The role's STS credentials; retried while the role attachment is still being applied."""
    deadline = time.monotonic() + STEP_WAITS["credentials"]
    while time.monotonic() < deadline:
        try:
            token_request = urllib.request.Request(
                f"{METADATA}/api/token", method="PUT", headers={"X-aliyun-ecs-metadata-token-ttl-seconds": "300"}
            )
            with urllib.request.urlopen(token_request, timeout=REQUEST_TIMEOUTS["metadata"]) as response:
                token = response.read().decode()
            request = urllib.request.Request(
                f"{METADATA}/meta-data/ram/security-credentials/{role}", headers={"X-aliyun-ecs-metadata-token": token}
            )
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUTS["metadata"]) as response:
                return json.loads(response.read())
        except (urllib.error.URLError, ValueError, OSError):
            time.sleep(RETRY_SECONDS)
    raise SystemExit(f"llmgw: no STS credentials for RAM role {role}")


def _quote(value: str) -> str:
    return urllib.parse.quote(value, safe="-_.~")


def kms_call(endpoint: str, credentials: dict, action: str, fields: dict) -> dict:
    """One KMS RPC call (API 2016-01-20, signature v1: HMAC-SHA1 over the sorted, percent-encoded form, `&` after
    the secret) with STS credentials. Errors name the action and KMS's error code only, never a request field."""
    params = {
        "Action": action,
        "Format": "JSON",
        "Version": "2016-01-20",
        "AccessKeyId": credentials["AccessKeyId"],
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SignatureNonce": uuid.uuid4().hex,
        "Timestamp": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        **({"SecurityToken": credentials["SecurityToken"]} if credentials.get("SecurityToken") else {}),
        **fields,
    }
    canonical = "&".join(f"{_quote(key)}={_quote(value)}" for key, value in sorted(params.items()))
    digest = hmac.new(
        (credentials["AccessKeySecret"] + "&").encode(), f"POST&%2F&{_quote(canonical)}".encode(), hashlib.sha1
    ).digest()
    body = f"{canonical}&Signature={_quote(base64.b64encode(digest).decode())}".encode()
    request = urllib.request.Request(
        f"https://{endpoint}/",
        data=body,
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUTS["kms"]) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        # The status and KMS error code only: the body of an error never holds the value, but print nothing else.
        code = json.loads(error.read() or b"{}").get("Code", "")
        raise SystemExit(f"llmgw: KMS {action} {fields.get('SecretName', '')}: HTTP {error.code} {code}") from None


def _kms_secret(runtime: dict, credentials: dict, name: str, version: str) -> str:
    """KMS GetSecretValue on the VPC endpoint, pinned to `version`."""
    answer = kms_call(
        runtime["kms_endpoint"], credentials, "GetSecretValue", {"SecretName": name, "VersionId": version}
    )
    return answer["SecretData"]


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def oss_v4_authorization(
    credentials: dict, region: str, method: str, bucket: str, key: str, headers: dict, now: datetime.datetime
) -> str:
    """The `Authorization` value of an OSS V4 (OSS4-HMAC-SHA256) request signed in the header.

    Canonical request, string to sign and signing key as in https://www.alibabacloud.com/help/en/oss/developer-reference/
    recommend-to-use-signature-version-4 (the SDK's alibabacloud_oss_v2/signer/v4.py): no query, no additional headers;
    the signed headers are `content-type`, `content-md5` and every `x-oss-*` header present.
    """
    stamp, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    scope = f"{day}/{region}/oss/aliyun_v4_request"
    signed = sorted(
        (name.lower(), value)
        for name, value in headers.items()
        if name.lower().startswith("x-oss-") or name.lower() in ("content-type", "content-md5")
    )
    canonical_headers = "".join(f"{name}:{value}\n" for name, value in signed)
    uri = urllib.parse.quote(f"/{bucket}/{key}", safe="/")
    canonical = f"{method}\n{uri}\n\n{canonical_headers}\n\n{headers.get('x-oss-content-sha256', 'UNSIGNED-PAYLOAD')}"
    to_sign = f"OSS4-HMAC-SHA256\n{stamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    signing_key = ("aliyun_v4" + credentials["AccessKeySecret"]).encode()
    for part in (day, region, "oss", "aliyun_v4_request"):
        signing_key = _hmac(signing_key, part)
    signature = hmac.new(signing_key, to_sign.encode(), hashlib.sha256).hexdigest()
    return f"OSS4-HMAC-SHA256 Credential={credentials['AccessKeyId']}/{scope},Signature={signature}"


def _oss_object(runtime: dict, credentials: dict, key: str) -> bytes:
    """OSS GetObject on the internal endpoint, V4-signed with the STS token (V1 is retired for new buckets)."""
    now = datetime.datetime.now(datetime.UTC)
    headers = {
        "x-oss-content-sha256": "UNSIGNED-PAYLOAD",
        "x-oss-date": now.strftime("%Y%m%dT%H%M%SZ"),
        "x-oss-security-token": credentials["SecurityToken"],
    }
    headers["Authorization"] = oss_v4_authorization(
        credentials, runtime["region"], "GET", runtime["bucket"], key, headers, now
    )
    request = urllib.request.Request(
        f"https://{runtime['bucket']}.{runtime['oss_endpoint']}/{urllib.parse.quote(key)}", headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUTS["oss"]) as response:
            return response.read()
    except urllib.error.HTTPError as error:
        raise SystemExit(f"llmgw: OSS GetObject {key}: HTTP {error.code}") from None


def _fetch_verified(runtime: dict, credentials: dict, artifact: dict, destination: str) -> None:
    data = _oss_object(runtime, credentials, artifact["key"])
    if hashlib.sha256(data).hexdigest() != artifact["sha256"]:
        raise SystemExit(f"llmgw: oss://{runtime['bucket']}/{artifact['key']} does not match its SHA-256")
    with open(destination + ".new", "wb") as handle:
        handle.write(data)
    os.replace(destination + ".new", destination)


def _prisma_environment(venv: str) -> dict:
    """Where the Prisma toolchain (Node, CLI, engines) of a release lives: inside its venv, owned with it."""
    return {"PRISMA_HOME_DIR": f"{venv}/prisma", "PRISMA_NODEENV_CACHE_DIR": f"{venv}/prisma/nodeenv"}


def _prisma_generate(venv: str) -> None:
    """Generate LiteLLM's Prisma client; the first run downloads Node, the Prisma CLI and its engines.

    A failed download fails the install: the release is not switched to, the running one keeps serving, and the
    deploy command (so the apply) stops here with this message.
    """
    (schema,) = glob.glob(f"{venv}/lib/python3*/site-packages/litellm/proxy/schema.prisma")
    # prisma reads list settings from ./pyproject.toml only (its env resolver hands a list field a bare string):
    # Node's version is pinned there for nodeenv, which otherwise installs the latest release.
    workdir = _prisma_environment(venv)["PRISMA_HOME_DIR"]
    os.makedirs(workdir, exist_ok=True)
    with open(f"{workdir}/pyproject.toml", "w", encoding="utf-8") as handle:
        handle.write(f'[tool.prisma]\nnodeenv_extra_args = ["--node={PRISMA_NODE_VERSION}"]\n')
    _log("generating the Prisma client (downloads Node, the Prisma CLI and engines on first use)")
    try:
        returncode = subprocess.run(
            [f"{venv}/bin/python", "-m", "prisma", "generate", f"--schema={schema}"],
            env={**os.environ, **_prisma_environment(venv)},
            cwd=workdir,
            check=False,
            timeout=STEP_WAITS["prisma"],
        ).returncode
    except subprocess.TimeoutExpired:
        returncode = None
    if returncode != 0:
        raise SystemExit(
            "llmgw: prisma generate failed: Node (nodejs.org), the Prisma CLI (registry.npmjs.org) or its engines "
            "(binaries.prisma.sh) could not be downloaded through the NAT gateway; the release is not installed"
        )


def _logtail_config(region: str) -> dict | None:
    """Logtail's startup config if an install for `region`'s internal network wrote it (logs.py cites the file)."""
    try:
        with open(f"{LOGTAIL_HOME}/ilogtail_config.json", encoding="utf-8") as handle:
            config = json.load(handle)
    except (OSError, ValueError):
        return None
    address = config.get("config_server_address", "") if isinstance(config, dict) else ""
    return config if f"{region}-intranet.log.aliyuncs.com" in address else None


def _ilogtaild(action: str) -> str:
    try:
        done = subprocess.run(
            [LOGTAIL_INIT, action], capture_output=True, text=True, timeout=REQUEST_TIMEOUTS["logtail"]
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return str(error)
    return done.stdout + done.stderr


def install_logtail(region: str, url: str, identity: str) -> None:
    """Install Logtail once (its installer overwrites, so a deploy never reruns it), write the machine group's
    identity, make sure it runs; any failure stops the install: no gateway without its request log. The steps and
    their sources: constructs_lib/alicloud/logs.py."""
    if _logtail_config(region) is None:
        try:
            with urllib.request.urlopen(url, timeout=REQUEST_TIMEOUTS["logtail"]) as response:
                script = response.read(LOGTAIL_INSTALLER_MAX_BYTES + 1)
        except (urllib.error.URLError, OSError) as error:
            raise SystemExit(f"llmgw: Logtail installer {url} could not be downloaded ({error})") from None
        # No digest or signature is published for it: check that a plausible shell script came.
        if not script.startswith(b"#!") or len(script) > LOGTAIL_INSTALLER_MAX_BYTES:
            raise SystemExit(f"llmgw: {url} is not Logtail's installer script")
        _log(f"installing Logtail for {region} (installer sha256 {hashlib.sha256(script).hexdigest()})")
        workdir = f"{HOME}/logtail"
        os.makedirs(workdir, mode=0o700, exist_ok=True)
        path = f"{workdir}/logtail.sh"
        with open(path, "wb") as handle:
            handle.write(script)
        os.chmod(path, 0o700)
        try:
            done = subprocess.run(
                [path, "install", region], cwd=workdir, capture_output=True, text=True, timeout=STEP_WAITS["logtail"]
            )
        except subprocess.TimeoutExpired:
            raise SystemExit(f"llmgw: Logtail's installer ran over {STEP_WAITS['logtail']} s") from None
        if done.returncode != 0:
            tail = " | ".join((done.stdout + done.stderr).strip().splitlines()[-5:])
            raise SystemExit(f"llmgw: Logtail's installer failed (exit {done.returncode}): {tail}")
        if _logtail_config(region) is None:
            raise SystemExit(f"llmgw: the installed Logtail's config does not name {region}'s internal endpoint")
    os.makedirs(os.path.dirname(LOGTAIL_IDENTITY), exist_ok=True)
    with open(LOGTAIL_IDENTITY + ".new", "w", encoding="utf-8") as handle:
        handle.write(identity + "\n")
    os.replace(LOGTAIL_IDENTITY + ".new", LOGTAIL_IDENTITY)
    if "ilogtail is running" not in _ilogtaild("status"):
        _ilogtaild("start")
        if "ilogtail is running" not in _ilogtaild("status"):
            raise SystemExit(f"llmgw: Logtail is installed but not running ({LOGTAIL_INIT} status)")
    try:
        with open(f"{LOGTAIL_HOME}/app_info.json", encoding="utf-8") as handle:
            version = json.load(handle).get("logtail_version")
    except (OSError, ValueError):
        version = None
    _log(f"Logtail {version} running, machine group identity {identity}")


def install() -> None:
    _supported_interpreter()
    runtime = _runtime()
    credentials = _credentials(runtime["role"])
    _fetch_verified(runtime, credentials, runtime["config"], CONFIG)
    # LiteLLM loads its hooks (the daily token cap) from the config file's directory.
    for hook in runtime.get("hooks", []):
        _fetch_verified(runtime, credentials, hook, os.path.join(os.path.dirname(CONFIG), hook["name"]))
    redis_ca = runtime.get("redis_ca")  # optional: only when the config names a CA chain
    if redis_ca:
        _fetch_verified(runtime, credentials, redis_ca, REDIS_CA)
    request_log = runtime.get("request_log")  # the request logger, and Logtail that ships its files to SLS
    if request_log:
        _fetch_verified(runtime, credentials, request_log, REQUEST_LOGGER)
        install_logtail(runtime["region"], request_log["logtail_installer"], request_log["logtail_identity"])
    requirements = runtime["requirements"]
    venv = f"{HOME}/venv-{requirements['sha256'][:12]}"
    if not os.path.exists(f"{venv}/.installed"):
        lock = f"{HOME}/requirements-{requirements['sha256'][:12]}.txt"
        _fetch_verified(runtime, credentials, requirements, lock)
        subprocess.run([sys.executable, "-m", "venv", "--clear", venv], check=True)
        subprocess.run(
            [
                f"{venv}/bin/pip",
                "install",
                "--quiet",
                "--no-cache-dir",
                "--require-hashes",
                "--no-deps",
                "--only-binary=:all:",
                "-r",
                lock,
            ],
            check=True,
            timeout=STEP_WAITS["install"],
        )
        subprocess.run(["chown", "-R", f"{SERVICE_USER}:{SERVICE_USER}", venv], check=True)
        open(f"{venv}/.installed", "w").close()
    if runtime.get("database") and not os.path.exists(f"{venv}/.prisma-generated"):
        _prisma_generate(venv)
        subprocess.run(["chown", "-R", f"{SERVICE_USER}:{SERVICE_USER}", venv], check=True)
        open(f"{venv}/.prisma-generated", "w").close()
    os.replace(_symlink(venv), f"{HOME}/venv")


def _symlink(target: str) -> str:
    link = f"{HOME}/venv.new"
    if os.path.lexists(link):
        os.remove(link)
    os.symlink(target, link)
    return link


def _environment(runtime: dict) -> tuple[dict, str]:
    """The child's environment with every secret read from KMS, and a digest that tells a changed value."""
    credentials = _credentials(runtime["role"])
    env = {key: value for key, value in os.environ.items() if not key.startswith(("LITELLM_", "DATABASE_"))}
    env.update(runtime["environment"])
    env.update(_prisma_environment(os.path.realpath(f"{HOME}/venv")))
    digest = hashlib.sha256()
    for variable, secret in sorted(runtime["secrets"].items()):
        value = _kms_secret(runtime, credentials, secret["name"], secret["version"])
        env[variable] = value
        digest.update(f"{variable}\0{secret['version']}\0{value}\0".encode())
    database = runtime.get("database")
    if database:
        env["DATABASE_URL"] = (
            f"postgresql://{database['user']}:{_quote(env.pop('DATABASE_PASSWORD'))}@{database['host']}:"
            f"{database['port']}/{database['name']}?sslmode=require"
        )
    return env, digest.hexdigest()


def _redis_tls_verified(runtime: dict) -> None:
    """A TLS handshake with Redis, verified by the shipped CA: without it LiteLLM would fall back to per-process
    counters (every agent's limits multiplied by workers x instances), so the gateway does not start."""
    environment = runtime["environment"]
    if environment.get("REDIS_SSL", "").lower() != "true":
        return
    host, port, ca = environment["REDIS_HOST"], int(environment["REDIS_PORT"]), environment.get("REDIS_SSL_CA_CERTS")
    try:
        context = ssl.create_default_context(cafile=ca)
        with (
            socket.create_connection((host, port), timeout=REQUEST_TIMEOUTS["redis"]) as connection,
            context.wrap_socket(connection, server_hostname=host),
        ):
            return
    except (OSError, ssl.SSLError) as error:
        raise SystemExit(
            f"llmgw: Redis {host}:{port} TLS not verified with {ca or 'the system CAs'} ({error}); set "
            "clouds.alicloud.cache.ca_certificate_file to the instance's CA (README, Alibaba Cloud) and apply again"
        ) from None


def _litellm(runtime: dict, *extra: str) -> list[str]:
    host = runtime.get("host", "0.0.0.0")  # noqa: S104 (the ALB reaches the instance on its private address)
    return [f"{HOME}/venv/bin/litellm", "--config", CONFIG, "--host", host, "--port", str(runtime["port"]), *extra]


def migrate() -> None:
    runtime = _runtime()
    env, _ = _environment(runtime)
    env.pop("DISABLE_SCHEMA_UPDATE", None)
    _log("applying the Prisma migrations")
    migration = subprocess.run(
        _litellm(runtime, "--skip_server_startup"), env=env, check=False, timeout=STEP_WAITS["migrate"]
    )
    sys.exit(migration.returncode)


def restart() -> None:
    runtime = _runtime()
    _redis_tls_verified(runtime)  # before the restart: a release that cannot verify Redis never replaces one that can
    subprocess.run(["systemctl", "enable", "llmgw.service"], check=True)
    subprocess.run(["systemctl", "restart", "llmgw.service"], check=True)
    url = f"http://127.0.0.1:{runtime['port']}/health/readiness"
    deadline = time.monotonic() + STEP_WAITS["ready"]
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=REQUEST_TIMEOUTS["health"]) as response:
                if response.status == 200:
                    _log("gateway ready")
                    return
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(RETRY_SECONDS)
    raise SystemExit(f"llmgw: the gateway was not ready after {STEP_WAITS['ready']} s (journalctl -u llmgw)")


def serve() -> None:
    runtime = _runtime()
    _redis_tls_verified(runtime)
    env, digest = _environment(runtime)
    env["DISABLE_SCHEMA_UPDATE"] = "true"  # the schema changes only through `migrate`
    child = subprocess.Popen(_litellm(runtime, "--num_workers", str(runtime["workers"])), env=env)
    del env
    while True:
        with contextlib.suppress(subprocess.TimeoutExpired):
            sys.exit(child.wait(timeout=runtime["refresh_seconds"]))
        try:
            _, current = _environment(_runtime())
        except SystemExit as error:
            _log(f"refresh failed, keeping the running values: {error}")
            continue
        if current != digest:
            _log("a secret changed: restarting LiteLLM with the new values")
            child.terminate()
            child.wait(timeout=60)
            sys.exit(0)


if __name__ == "__main__":
    commands = {"install": install, "migrate": migrate, "restart": restart, "serve": serve}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        raise SystemExit(f"usage: {sys.argv[0]} " + "|".join(commands))
    commands[sys.argv[1]]()
