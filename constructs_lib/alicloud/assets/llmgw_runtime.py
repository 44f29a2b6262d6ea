#!/usr/bin/env python3.11
"""LiteLLM gateway runtime on an ECS instance (standard library only; written by every deploy command).

Reads /etc/llmgw/runtime.json (names, versions and endpoints; never a secret value), takes the instance RAM
role's STS credentials from the metadata service (hardened mode: a session token first), and

  install   fetches the release (hash-locked requirements, LiteLLM config, Redis CA) from OSS, checks each SHA-256, and
            installs LiteLLM with `pip --require-hashes` into a venv named for the requirements digest;
  migrate   runs LiteLLM's Prisma migrations once (`--skip_server_startup`);
  restart   restarts the llmgw service and waits until /health/readiness answers;
  serve     (the systemd service) reads every secret from KMS into the environment of a LiteLLM child process,
            re-reads them every `refresh_seconds`, and exits for a restart when a value changed.

Secret values live only in process memory: never written to a file, an argument list or a log line.
"""

# ruff: noqa: S310, S104 (fixed http(s) URLs of the metadata service, KMS and OSS; LiteLLM listens for the ALB)
from __future__ import annotations

import base64
import contextlib
import datetime
import email.utils
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

METADATA = "http://100.100.100.200/latest"
RUNTIME = "/etc/llmgw/runtime.json"
CONFIG = "/etc/llmgw/config.yaml"
REDIS_CA = "/etc/llmgw/redis-ca.pem"
HOME = "/opt/llmgw"


def _log(message: str) -> None:
    print(f"llmgw: {message}", file=sys.stderr, flush=True)


def _runtime() -> dict:
    with open(RUNTIME, encoding="utf-8") as handle:
        return json.load(handle)


def _credentials(role: str) -> dict:
    """The role's STS credentials; retried while the role attachment is still being applied."""
    for _ in range(120):
        try:
            token_request = urllib.request.Request(
                f"{METADATA}/api/token", method="PUT", headers={"X-aliyun-ecs-metadata-token-ttl-seconds": "300"}
            )
            with urllib.request.urlopen(token_request, timeout=5) as response:
                token = response.read().decode()
            request = urllib.request.Request(
                f"{METADATA}/meta-data/ram/security-credentials/{role}", headers={"X-aliyun-ecs-metadata-token": token}
            )
            with urllib.request.urlopen(request, timeout=5) as response:
                return json.loads(response.read())
        except (urllib.error.URLError, ValueError):
            time.sleep(5)
    raise SystemExit(f"llmgw: no STS credentials for RAM role {role}")


def _quote(value: str) -> str:
    return urllib.parse.quote(value, safe="-_.~")


def _kms_secret(runtime: dict, credentials: dict, name: str, version: str) -> str:
    """KMS GetSecretValue (RPC API 2016-01-20, signature v1) on the VPC endpoint, pinned to `version`."""
    params = {
        "Action": "GetSecretValue",
        "Format": "JSON",
        "Version": "2016-01-20",
        "AccessKeyId": credentials["AccessKeyId"],
        "SecurityToken": credentials["SecurityToken"],
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SignatureNonce": uuid.uuid4().hex,
        "Timestamp": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "SecretName": name,
        "VersionId": version,
    }
    canonical = "&".join(f"{_quote(key)}={_quote(value)}" for key, value in sorted(params.items()))
    digest = hmac.new(
        (credentials["AccessKeySecret"] + "&").encode(), f"POST&%2F&{_quote(canonical)}".encode(), hashlib.sha1
    ).digest()
    body = f"{canonical}&Signature={_quote(base64.b64encode(digest).decode())}".encode()
    request = urllib.request.Request(
        f"https://{runtime['kms_endpoint']}/",
        data=body,
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return json.loads(response.read())["SecretData"]
    except urllib.error.HTTPError as error:
        # The status and KMS error code only: the body of an error never holds the value, but print nothing else.
        code = json.loads(error.read() or b"{}").get("Code", "")
        raise SystemExit(f"llmgw: KMS GetSecretValue {name} {version}: HTTP {error.code} {code}") from None


def _oss_object(runtime: dict, credentials: dict, key: str) -> bytes:
    """OSS GetObject (signature v1 with the STS token) on the internal endpoint."""
    date = email.utils.formatdate(usegmt=True)
    token = credentials["SecurityToken"]
    to_sign = f"GET\n\n\n{date}\nx-oss-security-token:{token}\n/{runtime['bucket']}/{key}"
    signature = base64.b64encode(
        hmac.new(credentials["AccessKeySecret"].encode(), to_sign.encode(), hashlib.sha1).digest()
    ).decode()
    request = urllib.request.Request(
        f"https://{runtime['bucket']}.{runtime['oss_endpoint']}/{urllib.parse.quote(key)}",
        headers={
            "Date": date,
            "x-oss-security-token": token,
            "Authorization": f"OSS {credentials['AccessKeyId']}:{signature}",
        },
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.read()


def _fetch_verified(runtime: dict, credentials: dict, artifact: dict, destination: str) -> None:
    data = _oss_object(runtime, credentials, artifact["key"])
    if hashlib.sha256(data).hexdigest() != artifact["sha256"]:
        raise SystemExit(f"llmgw: oss://{runtime['bucket']}/{artifact['key']} does not match its SHA-256")
    with open(destination + ".new", "wb") as handle:
        handle.write(data)
    os.replace(destination + ".new", destination)


def install() -> None:
    runtime = _runtime()
    credentials = _credentials(runtime["role"])
    _fetch_verified(runtime, credentials, runtime["config"], CONFIG)
    # LiteLLM loads its hooks (the daily token cap) from the config file's directory.
    for hook in runtime.get("hooks", []):
        _fetch_verified(runtime, credentials, hook, os.path.join(os.path.dirname(CONFIG), hook["name"]))
    redis_ca = runtime.get("redis_ca")  # optional: only when the config names a CA chain
    if redis_ca:
        _fetch_verified(runtime, credentials, redis_ca, REDIS_CA)
    requirements = runtime["requirements"]
    venv = f"{HOME}/venv-{requirements['sha256'][:12]}"
    if not os.path.exists(f"{venv}/.installed"):
        lock = f"{HOME}/requirements-{requirements['sha256'][:12]}.txt"
        _fetch_verified(runtime, credentials, requirements, lock)
        subprocess.run(["python3.11", "-m", "venv", "--clear", venv], check=True)
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
        )
        subprocess.run(["chown", "-R", "litellm:litellm", venv], check=True)
        open(f"{venv}/.installed", "w").close()
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
    digest = hashlib.sha256()
    for variable, secret in sorted(runtime["secrets"].items()):
        value = _kms_secret(runtime, credentials, secret["name"], secret["version"])
        env[variable] = value
        digest.update(f"{variable}\0{secret['version']}\0{value}\0".encode())
    database = runtime["database"]
    env["DATABASE_URL"] = (
        f"postgresql://{database['user']}:{_quote(env.pop('DATABASE_PASSWORD'))}@{database['host']}:"
        f"{database['port']}/{database['name']}?sslmode=require"
    )
    return env, digest.hexdigest()


def _litellm(runtime: dict, *extra: str) -> list[str]:
    return [f"{HOME}/venv/bin/litellm", "--config", CONFIG, "--host", "0.0.0.0", "--port", str(runtime["port"]), *extra]


def migrate() -> None:
    runtime = _runtime()
    env, _ = _environment(runtime)
    env.pop("DISABLE_SCHEMA_UPDATE", None)
    _log("applying the Prisma migrations")
    sys.exit(subprocess.run(_litellm(runtime, "--skip_server_startup"), env=env, check=False).returncode)


def restart() -> None:
    runtime = _runtime()
    subprocess.run(["systemctl", "enable", "llmgw.service"], check=True)
    subprocess.run(["systemctl", "restart", "llmgw.service"], check=True)
    url = f"http://127.0.0.1:{runtime['port']}/health/readiness"
    for _ in range(120):
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    _log("gateway ready")
                    return
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(5)
    raise SystemExit("llmgw: the gateway did not become ready in 10 minutes (journalctl -u llmgw)")


def serve() -> None:
    runtime = _runtime()
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
