"""The real LiteLLM proxy (the pinned 1.106.12 app the gateways run) on the loopback, for tests and drills.

`LiveLiteLLM` starts, in this order, each bound to 127.0.0.1 and stopped on `close()`:
- a real `redis-server` (Debian's package; `.ci/run` installs it) with a per-session password, no persistence;
- `FakeUpstream` (upstream.py), the OpenAI-compatible model API every configured model is pointed at;
- the proxy app (proxy_app.py) in .venv-litellm, with the proxy config the gateways ship
  (`render_proxy_config`, plaintext Redis) whose model entries are re-pointed at the fake upstream, and its
  database behind the in-memory Prisma stand-in (prisma_standin.py, raw_sql.py).
The master key and Redis password are random per session and only ever in the child processes' environment.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tools.litellm_live.upstream import FakeUpstream, usage_message

REPO = Path(__file__).resolve().parents[2]
LITELLM_PYTHON = REPO / ".venv-litellm" / "bin" / "python"
START_TIMEOUT_SECONDS = 180
REQUEST_TIMEOUT_SECONDS = 60
# A DATABASE_URL the shipped config resolves (`general_settings.database_url`); nothing connects to it: the
# PrismaClient is built around the in-memory stand-in (proxy_app.build_prisma_client).
STANDIN_DATABASE_URL = "postgresql://standin@127.0.0.1:9/in-memory-prisma-standin"

__all__ = ["LiveLiteLLM", "Reply", "usage_message"]


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any
    text: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def upstream_config(document: Mapping[str, Any], upstream_url: str) -> dict[str, Any]:
    """The shipped proxy config with every deployment served by the fake upstream (as OpenAI-compatible models
    of the same names); everything else (limits, Redis, master key, callbacks) stays as the gateways ship it."""
    config = json.loads(json.dumps(document))
    for entry in config["model_list"]:
        params = entry["litellm_params"]
        params["model"] = f"openai/{entry['model_name']}"
        params["api_base"] = upstream_url
    config.setdefault("router_settings", {})["num_retries"] = 0  # one upstream call per request: exact counting
    return config


class LiveLiteLLM:
    def __init__(
        self,
        work_dir: Path,
        proxy_config: Mapping[str, Any],
        files: Mapping[str, str] | None = None,
        extra_env: Mapping[str, str] | None = None,
        master_key: str | None = None,
    ):
        """`files`: name -> text of the files the gateways ship beside config.yaml (the hooks it loads).
        `master_key`: given when several instances stand for several gateways one caller drives with one key."""
        if shutil.which("redis-server") is None:
            raise RuntimeError("redis-server is not installed: apt-get install -y redis-server (.ci/run does)")
        if not LITELLM_PYTHON.exists():
            raise RuntimeError("the LiteLLM venv is missing: run `make litellm-venv`")
        self.work_dir = work_dir
        work_dir.mkdir(parents=True, exist_ok=True)
        self.master_key = master_key or "sk-master-" + secrets.token_hex(16)
        self._redis_password = secrets.token_hex(16)
        self.redis_port = _free_port()
        self._processes: list[subprocess.Popen] = []
        self.upstream: FakeUpstream | None = None
        try:
            self._start_redis()
            self.upstream = FakeUpstream()
            for name, text in (files or {}).items():
                (work_dir / name).write_text(text)
            self._start_proxy(upstream_config(proxy_config, self.upstream.url), extra_env or {})
        except BaseException:
            self.close()
            raise

    # -- processes ---------------------------------------------------------------------------------------
    def _start_redis(self) -> None:
        log = (self.work_dir / "redis.log").open("wb")
        self._processes.append(
            subprocess.Popen(
                [
                    "redis-server",
                    "--bind",
                    "127.0.0.1",
                    "--port",
                    str(self.redis_port),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(self.work_dir),
                    "--requirepass",
                    self._redis_password,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.redis("PING") == "+PONG":
                return
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer PING: {(self.work_dir / 'redis.log').read_text()[-2000:]}")

    def redis(self, *command: str) -> str:
        """One Redis command over RESP, answered as the raw first reply line (`+OK`, `:3`, `$-1`, a bulk value)."""
        try:
            with socket.create_connection(("127.0.0.1", self.redis_port), timeout=5) as sock:
                frames = [("AUTH", self._redis_password), command]
                payload = b"".join(
                    f"*{len(frame)}\r\n".encode()
                    + b"".join(f"${len(part.encode())}\r\n{part}\r\n".encode() for part in frame)
                    for frame in frames
                )
                sock.sendall(payload)
                data = b""
                while data.count(b"\r\n") < 2 or (data.split(b"\r\n")[1].startswith(b"$") and data.count(b"\r\n") < 3):
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    data += chunk
        except OSError:
            return ""
        lines = data.decode(errors="replace").split("\r\n")
        reply = lines[1] if len(lines) > 1 else ""
        return lines[2] if reply.startswith("$") and reply != "$-1" else reply

    def _start_proxy(self, config: Mapping[str, Any], extra_env: Mapping[str, str]) -> None:
        config_path = self.work_dir / "proxy_config.yaml"
        config_path.write_text(yaml.safe_dump(dict(config), sort_keys=False))
        ready = self.work_dir / "proxy.ready.json"
        ready.unlink(missing_ok=True)
        # The model providers' key variables the config references: the fake upstream ignores their value.
        env = {variable: "sk-upstream-standin" for variable in _env_references(config)}
        env |= {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/root"),
            "LITELLM_MASTER_KEY": self.master_key,
            "DATABASE_URL": STANDIN_DATABASE_URL,
            "REDIS_HOST": "127.0.0.1",
            "REDIS_PORT": str(self.redis_port),
            "REDIS_PASSWORD": self._redis_password,
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "PYTHONPATH": str(REPO),
            **extra_env,
        }
        self._proxy_log = self.work_dir / "proxy.log"
        with self._proxy_log.open("wb") as log:
            self._processes.append(
                subprocess.Popen(
                    [
                        str(LITELLM_PYTHON),
                        "-m",
                        "tools.litellm_live.proxy_app",
                        "--config",
                        str(config_path),
                        "--ready-file",
                        str(ready),
                    ],
                    cwd=REPO,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                )
            )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not ready.exists():
            if self._processes[-1].poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the LiteLLM proxy did not start:\n{self.log_tail()}")
            time.sleep(0.1)
        self.base_url = f"http://127.0.0.1:{json.loads(ready.read_text())['port']}"

    def log_tail(self, characters: int = 4000) -> str:
        return self._proxy_log.read_text(errors="replace")[-characters:] if self._proxy_log.exists() else ""

    def close(self) -> None:
        for process in reversed(self._processes):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self._processes.clear()
        if self.upstream is not None:
            self.upstream.stop()
            self.upstream = None

    def __enter__(self) -> LiveLiteLLM:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- HTTP --------------------------------------------------------------------------------------------
    def call(self, method: str, path: str, body: Any = None, key: str | None = None) -> Reply:
        request = urllib.request.Request(  # noqa: S310 - the loopback proxy started above
            self.base_url + path,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {key or self.master_key}", "Content-Type": "application/json"},
            method=method,
        )
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_SECONDS) as response:  # noqa: S310
                status, text = response.status, response.read().decode(errors="replace")
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode(errors="replace")
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        return Reply(status, parsed, text)

    def chat(self, key: str, model: str, prompt_tokens: int = 1, completion_tokens: int = 1) -> Reply:
        """One chat completion through the proxy with `key`; the upstream reports exactly these tokens."""
        message = {"role": "user", "content": usage_message(prompt_tokens, completion_tokens)}
        return self.call("POST", "/chat/completions", {"model": model, "messages": [message]}, key=key)


def _env_references(node: Any) -> set[str]:
    if isinstance(node, str):
        return {node.removeprefix("os.environ/")} if node.startswith("os.environ/") else set()
    if isinstance(node, Mapping):
        return set().union(*map(_env_references, node.values())) if node else set()
    if isinstance(node, list):
        return set().union(*map(_env_references, node)) if node else set()
    return set()
