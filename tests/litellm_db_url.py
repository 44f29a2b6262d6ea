"""The database URLs the pinned LiteLLM (.venv-litellm) makes of a container's environment.

    litellm_database_urls(env, shell_steps=["export DATABASE_URL=..."])  # {"DATABASE_URL": ..., ...}

Runs `shell_steps` (a start command's own `export` steps) in a real shell, then LiteLLM's
DatabaseURLSettings.from_env().apply_to_env(), the call gateway.main, backend.main and migrations/run.py make before
Prisma starts (litellm/proxy/db/db_url_settings.py:1-7).
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import subprocess
from collections.abc import Mapping, Sequence

from tests.litellm_check import LITELLM_PYTHON

_PROBE = (
    "import json, os; from litellm.proxy.db.db_url_settings import DatabaseURLSettings; "
    "DatabaseURLSettings.from_env().apply_to_env(); "
    "print(json.dumps({k: v for k, v in os.environ.items() if k in ('DATABASE_URL', 'DATABASE_URL_READ_REPLICA')}))"
)


def made_up_aws_credentials() -> dict[str, str]:
    """An IAM token is a SigV4 presign made locally (no network); any credentials sign it. Made up at run time: no
    key-like literal sits in a file."""
    return {"AWS_ACCESS_KEY_ID": "AKID" + secrets.token_hex(8).upper(), "AWS_SECRET_ACCESS_KEY": secrets.token_hex(20)}


def litellm_database_urls(env: Mapping[str, str], shell_steps: Sequence[str] = ()) -> dict[str, str]:
    script = " && ".join([*shell_steps, f"exec {shlex.quote(str(LITELLM_PYTHON))} -c {shlex.quote(_PROBE)}"])
    result = subprocess.run(
        ["sh", "-c", script],
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])
