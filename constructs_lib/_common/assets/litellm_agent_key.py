#!/usr/bin/env python3
"""Register, retire or revoke one agent's LiteLLM virtual key. Run by Terraform (local-exec) in the quotas stacks.

    litellm_agent_key.py register   # AGENT_KEY, KEY_ALIAS, TEAM_ID, MODEL_LIMITS (JSON object, see below)
    litellm_agent_key.py limits     # KEY_ALIAS, MODEL_LIMITS: re-applies per-model limits to the registered key
    litellm_agent_key.py retire     # KEY_ALIAS, KEY_OVERLAP: the key keeps working for KEY_OVERLAP, then expires
    litellm_agent_key.py revoke     # KEY_ALIAS

All read LITELLM_API_BASE and the master key LITELLM_API_KEY from the environment of the run (never from
Terraform configuration). Terraform runs this file's *content* (`python3 -c "$LITELLM_AGENT_KEY_SCRIPT"`, kept in the
registration's `input`), so a destroy after the script changed still runs the script it was registered with.

`register` revokes any key already holding the alias (a retry), then registers AGENT_KEY itself through
`POST /key/generate`, which accepts a caller-chosen `key`. The key names no models and no metadata: it follows its
team (`litellm_team`), whose models, limits and metadata are declarative Terraform resources. Per-model limits
exist only on keys: MODEL_LIMITS (`model_rpm_limit`, `model_tpm_limit`, `model_max_budget`) is sent with the
registration, and `limits` sends it again through `POST /key/update` when it changes.

`retire` is the rotation's overlap without an enterprise licence (`/key/regenerate` with a grace period is
enterprise-only in 1.106.12): the old key, under its own versioned alias, gets `duration = KEY_OVERLAP` through
`/key/update`, which sets its `expires` to now + overlap
(litellm/proxy/management_endpoints/key_management_endpoints.py:2542-2550);
LiteLLM refuses it once expired (HTTP 401 `expired_key`). `revoke` deletes by alias; LiteLLM answers an alias with
no key with HTTP 404, which is "already done". No key value is ever printed: error output shows the HTTP status
and LiteLLM's message with any `sk-` token redacted.
"""

from __future__ import annotations

import json
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

TIMEOUT_SECONDS = 30
_TOKEN = re.compile(r"sk-[A-Za-z0-9_-]+")


class RegistrationError(Exception):
    pass


def _require(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise RegistrationError(f"{name} is not set")
    return value


def _call(method: str, path: str, body: dict | None = None) -> tuple[int, str]:
    request = urllib.request.Request(  # noqa: S310 - the URL is the gateway's own, from Terraform
        _require("LITELLM_API_BASE").rstrip("/") + path,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {_require('LITELLM_API_KEY')}", "Content-Type": "application/json"},
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")
    except urllib.error.URLError as error:
        raise RegistrationError(f"cannot reach the gateway at LITELLM_API_BASE: {error.reason}") from None


def _post(path: str, body: dict) -> tuple[int, str]:
    return _call("POST", path, body)


def _fail(action: str, status: int, text: str) -> RegistrationError:
    return RegistrationError(f"{action} failed: HTTP {status}: {_TOKEN.sub('sk-<redacted>', text)[:500]}")


def revoke(alias: str) -> None:
    status, text = _post("/key/delete", {"key_aliases": [alias]})
    # LiteLLM 1.106.12 answers an alias that holds no key with HTTP 404 {'error': 'No keys found'}
    # (litellm/proxy/management_endpoints/key_management_endpoints.py:5046): already revoked.
    if status in (200, 404):
        return
    raise _fail(f"revoking key alias {alias!r}", status, text)


def _model_limits() -> dict:
    limits = json.loads(os.environ.get("MODEL_LIMITS", "{}"))
    unknown = sorted(set(limits) - {"model_rpm_limit", "model_tpm_limit", "model_max_budget"})
    if unknown:
        raise RegistrationError(f"MODEL_LIMITS has unknown fields {unknown}")
    return limits


def _tokens_of(alias: str) -> list[str]:
    """The hashed tokens of the keys holding `alias` (`/key/list` matches aliases loosely: filter exactly)."""
    query = urllib.parse.urlencode({"key_alias": alias, "return_full_object": "true"})
    status, text = _call("GET", f"/key/list?{query}")
    if status != 200:
        raise _fail(f"looking up key alias {alias!r}", status, text)
    return [key["token"] for key in json.loads(text).get("keys", []) if key.get("key_alias") == alias]


def _token_of(alias: str) -> str:
    tokens = _tokens_of(alias)
    if len(tokens) != 1:
        raise RegistrationError(f"expected exactly one key with alias {alias!r}, found {len(tokens)}")
    return tokens[0]


def retire(alias: str, overlap: str) -> None:
    if not re.fullmatch(r"\d+[smhd]", overlap):
        raise RegistrationError(f"KEY_OVERLAP must be a LiteLLM duration such as 30s, 10m, 1h or 1d, not {overlap!r}")
    for token in _tokens_of(alias):
        status, text = _post("/key/update", {"key": token, "duration": overlap})
        if status != 200:
            raise _fail(f"retiring key alias {alias!r}", status, text)


def update_limits(alias: str) -> None:
    limits = _model_limits()
    status, text = _post("/key/update", {"key": _token_of(alias), **limits})
    if status != 200:
        raise _fail(f"updating the per-model limits of key alias {alias!r}", status, text)


def register() -> None:
    alias = _require("KEY_ALIAS")
    key = _require("AGENT_KEY")
    if not key.startswith("sk-"):
        raise RegistrationError("AGENT_KEY must start with 'sk-' (LiteLLM virtual-key format)")
    revoke(alias)
    body = {
        "key": key,
        "key_alias": alias,
        "team_id": _require("TEAM_ID"),
        # No `models`: an empty list lets the key call exactly its team's models (can_key_call_model,
        # litellm/proxy/auth/auth_checks.py:5177), so a model added to the team reaches the key without a new key.
        "models": [],
        **_model_limits(),
    }
    status, text = _post("/key/generate", body)
    if status != 200:
        raise _fail(f"registering key alias {alias!r}", status, text)


def main(argv: list[str]) -> int:
    try:
        if argv == ["register"]:
            register()
        elif argv == ["limits"]:
            update_limits(_require("KEY_ALIAS"))
        elif argv == ["retire"]:
            retire(_require("KEY_ALIAS"), _require("KEY_OVERLAP"))
        elif argv == ["revoke"]:
            revoke(_require("KEY_ALIAS"))
        else:
            raise RegistrationError("usage: litellm_agent_key.py register|limits|retire|revoke")
    except RegistrationError as error:
        print(f"litellm_agent_key: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
