"""The database URLs the pinned LiteLLM (.venv-litellm) makes of a container's environment.

    litellm_database_urls(env, shell_steps=["export DATABASE_URL=..."])  # {"DATABASE_URL": ..., ...}

Runs `shell_steps` (a start command's own `export` steps) in a real shell, then LiteLLM's
DatabaseURLSettings.from_env().apply_to_env(), the call gateway.main, backend.main and migrations/run.py make before
Prisma starts (litellm/proxy/db/db_url_settings.py:1-7). Each probe is the process `sh -c 'STEP && ... && exec python
-c PROBE'` (or `python -c PROBE ...`), run as tests/litellm_probe.py runs it: in a fork of a LiteLLM imported once.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence

from tests.litellm_probe import run_litellm

# What every probe here imports first; the probe server imports it once (tests/litellm_probe.py).
DB_URL_SETTINGS = ("litellm.proxy.db.db_url_settings",)
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
    result = run_litellm(_PROBE, env=env, imports=DB_URL_SETTINGS, shell_steps=shell_steps)
    result.check_returncode()
    return json.loads(result.stdout.strip().splitlines()[-1])


# What the gateway task's supervisor does before the workers fork: gateway.launch.main (BerriAI/litellm
# gateway/launch.py at ff834facc808d91dc3ae1e162eac5444fb87eb1a, the generation that hands token auth to the pooler;
# the same steps as litellm/proxy/proxy_cli.py:1507-1521 in 1.106.12) assembles DATABASE_URL (an IAM token under
# IAM_TOKEN_DB_AUTH), reads LITELLM_PGBOUNCER_* (PgBouncerSettings), and start_in_container_pgbouncer renders
# PgBouncer's config for that URL (plan_pgbouncer, write_pgbouncer_ini, pgbouncer.py:710-718); then it exports the
# loopback URL, and each worker runs DatabaseURLSettings.apply_to_env, which keeps a pooled URL under token auth
# (db_url_settings.py:452-455). Only PgBouncer itself and the token refresh are not started.
_PGBOUNCER_PROBE = """
import json, os, pathlib, sys
from litellm.proxy.db.db_url_settings import DatabaseURLSettings
from litellm.proxy.db import pgbouncer
DatabaseURLSettings.from_env().apply_to_env()
upstream = os.environ["DATABASE_URL"]
settings = pgbouncer.PgBouncerSettings()
runtime_dir = pathlib.Path(sys.argv[1])
plan = pgbouncer.plan_pgbouncer(upstream, settings, runtime_dir, run_as_user=None)
if isinstance(plan, pgbouncer.PgBouncerError):
    sys.exit(plan.reason)
ini_path = pgbouncer.write_pgbouncer_ini(plan, runtime_dir, run_as_user=None)
if isinstance(ini_path, pgbouncer.PgBouncerError):
    sys.exit(ini_path.reason)
pgbouncer.export_pooled_database_url(plan.pooled_url)
DatabaseURLSettings.from_env().apply_to_env()
print(json.dumps({
    "enabled": settings.enabled,
    "upstream_url": upstream,
    "upstream_user": plan.upstream_user,
    "ini": pathlib.Path(ini_path).read_text(),
    "pooled_url": plan.pooled_url,
    "worker_env": {k: v for k, v in os.environ.items() if k.startswith("DATABASE_URL")},
}))
"""


def litellm_pgbouncer_plan(env: Mapping[str, str], runtime_dir: str) -> dict:
    """The pinned LiteLLM's PgBouncer plan for a gateway container's `env`: the upstream URL, the rendered
    pgbouncer.ini, the pooled URL and the DATABASE_URL* a worker then runs with."""
    result = run_litellm(_PGBOUNCER_PROBE, [runtime_dir], env, imports=DB_URL_SETTINGS)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])
