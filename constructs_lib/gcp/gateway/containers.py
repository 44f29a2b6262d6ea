"""How the gateway's Cloud Run containers start, and the gateway's extras: PgBouncer and the spend collector.

command = startup_command(uvicorn("backend.main", 4001, 2), build_database_url=True, replica=False)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from constructs_lib.config.gcp import GcpConfig
from constructs_lib.gcp.cloud_run import SecretFile, Sidecar
from constructs_lib.gcp.cloud_sql_connection import database_url
from constructs_lib.gcp.secrets import GatewaySecret

PORTS = {"gateway": 4000, "backend": 4001, "ui": 3000}
MIGRATIONS_ENTRYPOINT = "python3 /app/run.py"


def startup_command(
    start: str,
    *,
    build_database_url: bool,
    replica: bool,
    check_config: str | None = None,
    url_params: Mapping[str, int] | None = None,
) -> list[str]:
    """Refuse a proxy config other than the deployed one, build DATABASE_URL from the discrete env vars (the
    password comes from Secret Manager), then start.

    An external database arrives as a ready DATABASE_URL secret, and without a database there is nothing to
    build. `$NAME` without braces: `${...}` would be read as a Terraform interpolation.
    """
    steps = [check_config] if check_config else []
    if build_database_url:
        steps.append(f'export DATABASE_URL="{database_url("$DATABASE_HOST", url_params)}"')
        if replica:
            replica_url = database_url("$DATABASE_HOST_READ_REPLICA", url_params)
            steps.append(
                f'if [ -n "$DATABASE_HOST_READ_REPLICA" ]; then export DATABASE_URL_READ_REPLICA="{replica_url}"; fi'
            )
    steps.append(f"exec {start}")
    return ["sh", "-c", " && ".join(steps)]


def uvicorn(module: str, port: int, workers: int) -> str:
    return f"uvicorn {module}:app --host 0.0.0.0 --port {port} --workers {workers}"


def gateway_start(gcp: GcpConfig) -> tuple[str, dict[str, str]]:
    """The gateway's start command and env: uvicorn, or (connection_pool) gateway.launch, which starts PgBouncer
    once, then forks the uvicorn workers onto it."""
    workers = gcp.components.gateway.processes
    pool = gcp.database.connection_pool
    if not pool.enabled:
        return uvicorn("gateway.main", PORTS["gateway"], workers), {}
    start = f"python -m gateway.launch --host 0.0.0.0 --port {PORTS['gateway']} --workers {workers}"
    return start, {
        "LITELLM_PGBOUNCER_ENABLED": "true",
        "LITELLM_PGBOUNCER_MAX_DB_CONNECTIONS": str(pool.max_db_connections),
        "LITELLM_PGBOUNCER_MAX_CLIENT_CONN": str(pool.max_client_conn),
    }


def collector_env(gcp: GcpConfig) -> dict[str, str]:
    """What the gateway and the spend collector share to talk over loopback."""
    collector = gcp.spend_collector
    return {
        "LITELLM_COLLECTOR_ENABLED": "true",
        "LITELLM_COLLECTOR_ADDRESS": f"tcp://127.0.0.1:{collector.port}",
        "LITELLM_COLLECTOR_BUFFER_SIZE": str(collector.buffer_size),
        "LITELLM_COLLECTOR_ON_UNAVAILABLE": collector.on_unavailable,
        "LITELLM_COLLECTOR_DRAIN_TIMEOUT_SECONDS": str(collector.drain_timeout_seconds),
    }


def collector_sidecar(
    gcp: GcpConfig,
    runtime_env: dict[str, str],
    secrets: Sequence[GatewaySecret],
    secret_files: Sequence[SecretFile],
    startup: Callable[[str], list[str]],
) -> Sidecar:
    """The collector writes spend to the database and reads Redis like the gateway; no provider keys."""
    collector = gcp.spend_collector
    return Sidecar(
        name="spend-collector",
        image=gcp.image("gateway"),
        command=startup("python -m litellm.proxy.collector"),
        cpu=collector.cpu,
        memory=collector.memory,
        env={**runtime_env, **collector_env(gcp), "LITELLM_JOB_ROLE": "collector"},
        secrets=secrets,
        secret_files=secret_files,
        cloud_sql=True,
    )
