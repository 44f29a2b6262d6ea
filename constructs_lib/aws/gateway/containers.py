"""How the gateway's containers start and what runs beside them: the launch command (fetch and check the proxy
config, then exec the server), OTel env, and the gateway task's PgBouncer, metrics and spend-collector sidecars.

    command = launch("gateway", unified=False, workers=4)
    command, sidecars, volumes = gateway_extras(aws, env, secrets, command, log_group_name, region, production, {})
"""

from __future__ import annotations

from constructs_lib._common.routes import BACKEND_PORT, GATEWAY_PORT, UI_PORT
from constructs_lib.aws.ecs_service import ContainerSpec
from constructs_lib.aws.gateway.proxy_files import FETCH_CONFIG_COMMAND
from constructs_lib.config.aws import AwsConfig

PORTS = {"gateway": GATEWAY_PORT, "backend": BACKEND_PORT, "ui": UI_PORT}
# The unified image's entrypoint: its first argument selects the role (gateway, backend, ui, migrations).
UNIFIED_ENTRYPOINT = "/app/docker-entrypoint.sh"
# The workers' Prometheus samples, shared with the metrics sidecar (a task-scoped ephemeral volume).
MULTIPROC_VOLUME = "prometheus-multiproc"
MULTIPROC_DIR = "/tmp/litellm_prometheus_multiproc"  # noqa: S108 (a task volume, not the image's /tmp)


def launch(component: str, unified: bool, workers: int) -> list[str]:
    """gateway/backend: fetch and check the proxy config, then exec the server (one uvicorn worker per `workers`)."""
    if unified:
        start = f"{UNIFIED_ENTRYPOINT} {component}" + (f" --workers {workers}" if component == "gateway" else "")
    else:
        start = f"uvicorn {component}.main:app --host 0.0.0.0 --port {PORTS[component]} --workers {workers}"
    return [f"{FETCH_CONFIG_COMMAND} && exec {start}"]


def otel_env(aws: AwsConfig, service_name: str, env: str) -> dict[str, str]:
    """Nothing OTel-related unless an endpoint is configured."""
    otel = aws.otel
    if not otel.endpoint:
        return {}
    return {
        "LITELLM_OTEL_V2": "true",
        "OTEL_EXPORTER": otel.exporter,
        "OTEL_ENDPOINT": otel.endpoint,
        "OTEL_ENVIRONMENT_NAME": otel.environment_name or env,
        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": otel.capture_message_content,
        "OTEL_SERVICE_NAME": service_name,
    }


def gateway_extras(
    aws: AwsConfig,
    env: dict[str, str],
    secrets: dict[str, str],
    command: list[str],
    log_group_name: str,
    region: str,
    production: bool,
    collector_env: dict[str, str],
) -> tuple[list[str], list[ContainerSpec], list[str]]:
    """PgBouncer, the metrics sidecar and the spend collector of the gateway task: (command, sidecars, volumes).
    `collector_env`: what the collector adds to the gateway's env (its own database login role).

    Mutates `env` with what the gateway container needs for them."""
    if aws.pgbouncer_enabled:
        command = _with_pgbouncer(aws, env, production)
    sidecars: list[ContainerSpec] = []
    volumes: list[str] = []
    if aws.metrics.enabled:
        env["PROMETHEUS_MULTIPROC_DIR"] = MULTIPROC_DIR
        volumes.append(MULTIPROC_VOLUME)
        sidecars.append(_metrics_sidecar(aws, log_group_name, region))
    if aws.spend_collector.enabled:
        sidecars.append(_collector_sidecar(aws, env, secrets, log_group_name, region, collector_env))
    return command, sidecars, volumes


def _with_pgbouncer(aws: AwsConfig, env: dict[str, str], production: bool) -> list[str]:
    """The gateway command that starts PgBouncer once, then forks the uvicorn workers onto it (gateway.launch); its
    upstream cap is sized against the managed Aurora's max_connections (AwsConfig.connection_budget)."""
    gateway, pool = aws.components.gateway, aws.database.connection_pool
    start = f"python -m gateway.launch --host 0.0.0.0 --port {PORTS['gateway']} --workers {gateway.workers}"
    if aws.unified_image is not None:
        start = f"{UNIFIED_ENTRYPOINT} gateway --workers {gateway.workers}"
    # LiteLLM leaves DATABASE_URL_READ_REPLICA outside PgBouncer (litellm/proxy/db/pgbouncer.py:18-19), and under IAM
    # auth a reader engine takes Prisma's CPU-sized pool, which nothing caps: the pooled gateway reads the writer.
    for name in ("DATABASE_HOST_READ_REPLICA", "DATABASE_PORT_READ_REPLICA"):
        env.pop(name, None)
    env |= {
        "LITELLM_PGBOUNCER_ENABLED": "true",
        "LITELLM_PGBOUNCER_MAX_DB_CONNECTIONS": str(aws.pgbouncer_max_db_connections(production)),
        "LITELLM_PGBOUNCER_MAX_CLIENT_CONN": str(pool.max_client_conn),
    }
    return [f"{FETCH_CONFIG_COMMAND} && exec {start}"]


def _metrics_sidecar(aws: AwsConfig, log_group_name: str, region: str) -> ContainerSpec:
    metrics = aws.metrics
    return ContainerSpec(
        name="metrics",
        image=aws.image("gateway"),
        log_group=log_group_name,
        region=region,
        # Declared so the scrape port is explicit; only the gateway container is in the target group.
        port=metrics.port,
        env={"PROMETHEUS_MULTIPROC_DIR": MULTIPROC_DIR},
        entry_point=["sh", "-c"],
        command=[f"exec python -m litellm.proxy.prometheus_metrics_server --port {metrics.port}"],
        essential=False,
        cpu=metrics.cpu,
        memory=metrics.memory,
        mount_points=[(MULTIPROC_VOLUME, MULTIPROC_DIR)],
    )


def _collector_sidecar(
    aws: AwsConfig,
    env: dict[str, str],
    secrets: dict[str, str],
    log_group_name: str,
    region: str,
    collector_env: dict[str, str],
) -> ContainerSpec:
    """The spend collector; adds its transport settings to the gateway's `env` too."""
    collector = aws.spend_collector
    env |= {
        "LITELLM_COLLECTOR_ENABLED": "true",
        "LITELLM_COLLECTOR_ADDRESS": f"tcp://127.0.0.1:{collector.port}",
        "LITELLM_COLLECTOR_BUFFER_SIZE": str(collector.buffer_size),
        "LITELLM_COLLECTOR_ON_UNAVAILABLE": collector.on_unavailable,
        "LITELLM_COLLECTOR_DRAIN_TIMEOUT_SECONDS": str(collector.drain_timeout_seconds),
    }
    return ContainerSpec(
        name="collector",
        image=aws.image("gateway"),
        log_group=log_group_name,
        region=region,
        env={**env, **collector_env, "LITELLM_JOB_ROLE": "collector"},
        # The gateway's store and extra secrets; the collector writes spend, it calls no provider.
        secrets=dict(secrets),
        entry_point=["sh", "-c"],
        command=[f"{FETCH_CONFIG_COMMAND} && exec python -m litellm.proxy.collector"],
        essential=False,
        cpu=collector.cpu,
        memory=collector.memory,
    )
