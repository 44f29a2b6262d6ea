"""The gateway's runtime, one class per `clouds.gcp.create_runtime`: `CloudRunRuntime` (the migrations job, the
three Cloud Run services and the load balancer) or `DependenciesOnly` (nothing runs here: the outputs hand the
service accounts and store addresses to the LiteLLM you run, e.g. on GKE).

    runtime = CloudRunRuntime(RuntimeScope(scope=..., gcp=gcp, database=database, cache=cache, ...))
    runtime.gateway_url, runtime.outputs()
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from cdktf import ITerraformDependable
from constructs import Construct

from constructs_lib._common.naming import Naming
from constructs_lib._common.outputs import GatewayOutput
from constructs_lib.config.gcp import GcpConfig
from constructs_lib.gcp.apis import GatewayApis
from constructs_lib.gcp.bucket import GatewayBucket
from constructs_lib.gcp.cloud_run import LITELLM_PROBES, UI_PROBES, GatewayService, GatewayServiceProps, Sidecar
from constructs_lib.gcp.gateway.cache_stores import NoCache
from constructs_lib.gcp.gateway.containers import (
    PORTS,
    collector_env,
    collector_sidecar,
    gateway_start,
    startup_command,
    uvicorn,
)
from constructs_lib.gcp.gateway.database_stores import NoDatabase
from constructs_lib.gcp.image_mirror import image_mirror
from constructs_lib.gcp.load_balancer import GatewayLoadBalancer, GatewayLoadBalancerProps
from constructs_lib.gcp.metrics import GatewayMetrics, GatewayMetricsProps
from constructs_lib.gcp.migrations import MigrationsJob, MigrationsJobProps
from constructs_lib.gcp.network import GatewayNetwork
from constructs_lib.gcp.proxy_config import GatewayProxyConfig
from constructs_lib.gcp.secrets import GatewaySecret
from constructs_lib.gcp.service_accounts import GatewayServiceAccounts
from constructs_lib.gcp.url_map_paths import shared_url_map_rules


@dataclass(frozen=True, kw_only=True)
class RuntimeScope:
    """What a runtime is defined with: everything below it in the gateway, already defined."""

    scope: Construct
    naming: Naming
    gcp: GcpConfig
    project: str
    region: str
    production: bool
    apis: GatewayApis
    network: GatewayNetwork
    accounts: GatewayServiceAccounts
    # The components with a service account of their own.
    identities: Sequence[str]
    # Per component: the secrets its container reads, and the grants that let it (done before it starts).
    readers: dict[str, list[GatewaySecret]]
    grants: dict[str, list[ITerraformDependable]]
    database: NoDatabase
    cache: NoCache
    bucket: GatewayBucket
    proxy_config: GatewayProxyConfig


class GatewayRuntime(Protocol):
    # What the quotas stack talks to (cross-stack reference), or None.
    gateway_url: str | None

    def outputs(self) -> dict[str, GatewayOutput]: ...


class DependenciesOnly:
    """What a runtime elsewhere needs; the runtime outputs exist, as null (the migration command too: migrations
    run wherever LiteLLM runs)."""

    def __init__(self, at: RuntimeScope) -> None:
        # The gateway you run yourself (None without quotas; refused otherwise).
        self.gateway_url = at.gcp.external_gateway_url
        self._at = at

    def outputs(self) -> dict[str, GatewayOutput]:
        at = self._at
        nulls = ("lb_ip", "gateway_url", "gateway_service_url", "backend_service_url", "ui_service_url")
        return {
            **dict.fromkeys(nulls, GatewayOutput(None)),
            "runtime_service_accounts": GatewayOutput(
                {component: at.accounts.email(component) for component in at.identities},
                "Bind these to your runtime (GKE Workload Identity); each holds its secret grants",
            ),
            **at.database.elsewhere_outputs(),
            **at.cache.elsewhere_outputs(),
            "migration_command": GatewayOutput(None),
        }


class CloudRunRuntime:
    """gateway, backend and ui on Cloud Run behind the global HTTPS load balancer; the migrations job first."""

    def __init__(self, at: RuntimeScope) -> None:
        self._at = at
        # The remote repository image_registry points at (when it is one of this project) and the Cloud Run service
        # agent's read on it: no revision or job is created before its images can be pulled.
        mirror = image_mirror(
            at.scope,
            "image-mirror",
            at.gcp.image_registry,
            at.project,
            depends_on=at.apis.of("artifactregistry.googleapis.com"),
        )
        self._run_apis = [*at.apis.of("run.googleapis.com"), *(mirror.ready if mirror else [])]
        self._migrations = self._migrations_job()
        self.services = self._services()
        self.lb = GatewayLoadBalancer(
            at.scope,
            "lb",
            GatewayLoadBalancerProps(
                naming=at.naming,
                region=at.region,
                config=at.gcp.load_balancer,
                services={component: service.name for component, service in self.services.items()},
                default_component="backend",
                rules=shared_url_map_rules(),
            ),
        )
        self.gateway_url: str | None = self.lb.url

    def outputs(self) -> dict[str, GatewayOutput]:
        lb = self.lb
        return {
            "lb_ip": GatewayOutput(lb.address.address, "Point lb_domains' DNS records here"),
            "gateway_url": GatewayOutput(lb.url),
            **{
                f"{component}_service_url": GatewayOutput(
                    service.uri, "Cloud Run URL; ingress admits only the load balancer"
                )
                for component, service in self.services.items()
            },
            "migration_command": GatewayOutput(self._migrations.command if self._migrations else None),
        }

    def _migrations_job(self) -> MigrationsJob | None:
        at = self._at
        if not at.database.migrates:
            return None
        return MigrationsJob(
            at.scope,
            "migrations",
            MigrationsJobProps(
                name=at.naming.name("migrations", "google_cloud_run_v2_service"),
                project=at.project,
                region=at.region,
                image=at.gcp.image("migrations"),
                service_account_email=at.accounts.email("migrations"),
                config=at.gcp.migrations,
                egress=at.network.egress,
                production=at.production,
                env=at.database.env,
                secrets=at.database.secrets,
                command=at.database.migrations_command,
                cloud_sql_instances=at.database.cloud_sql_instances[
                    :1
                ],  # the writer: migrations never read the replica
                depends_on=[*self._run_apis, *at.grants["migrations"], *at.database.migrations_depend_on],
            ),
        )

    def _runtime_env(self) -> dict[str, str]:
        at = self._at
        return at.database.env | at.cache.runtime_env() | {"GCS_BUCKET_NAME": at.bucket.name} | at.database.reader_env

    def _startup(self, start: str, *, loads_config: bool = False) -> list[str]:
        at = self._at
        return startup_command(
            start,
            build_database_url=at.database.builds_url,
            replica="DATABASE_HOST_READ_REPLICA" in at.database.reader_env,
            check_config=at.proxy_config.check if loads_config else None,
            # Each instance's Prisma pools, sized against max_connections (constructs_lib/config/db_connections.py).
            url_params=at.gcp.database_pool_params(at.production),
        )

    def _env_secrets(self, component: str) -> list[GatewaySecret]:
        """What the component reads as env (the CA certificate is mounted as a file instead)."""
        return [item for item in self._at.readers[component] if item is not self._at.cache.ca]

    def _services(self) -> dict[str, GatewayService]:
        at = self._at
        gcp, runtime_env = at.gcp, self._runtime_env()
        services_wait_for = [self._migrations.done] if self._migrations else []
        start, gateway_env = gateway_start(gcp)
        sidecars: list[Sidecar] = []
        memory_dirs = []
        gateway_grants = list(at.grants["gateway"])
        if gcp.metrics.enabled:
            metrics = GatewayMetrics(
                at.scope,
                "metrics",
                GatewayMetricsProps(
                    naming=at.naming,
                    project=at.project,
                    config=gcp.metrics,
                    gateway_image=gcp.image("gateway"),
                    gateway_member=at.accounts.member("gateway"),
                    production=at.production,
                    pin_version=gcp.secrets.version_pin == "pinned",
                    depends_on=at.apis.of("secretmanager.googleapis.com"),
                ),
            )
            gateway_env |= metrics.gateway_env
            memory_dirs.append(metrics.multiproc_dir)
            sidecars += metrics.sidecars
            gateway_grants += metrics.grants
        if gcp.spend_collector.enabled:
            gateway_env |= collector_env(gcp)
            sidecars.append(
                collector_sidecar(gcp, runtime_env, self._env_secrets("backend"), at.cache.secret_files, self._startup)
            )
        container_cpu, container_memory = gcp.gateway_container_limits() if sidecars else (None, None)
        services: dict[str, GatewayService] = {}
        # No STORE_MODEL_IN_DB env: the document's general_settings.store_model_in_db (on with a database) is the
        # one place; LiteLLM would OR the env var onto it at start.
        for component, command, extra_env in (
            ("gateway", start, gateway_env),
            ("backend", uvicorn("backend.main", PORTS["backend"], gcp.components.backend.processes), {}),
        ):
            gateway = component == "gateway"
            services[component] = GatewayService(
                at.scope,
                f"{component}-service",
                GatewayServiceProps(
                    name=at.naming.name(component, "google_cloud_run_v2_service"),
                    region=at.region,
                    image=gcp.image(component),
                    port=PORTS[component],
                    service_account_email=at.accounts.email(component),
                    config=getattr(gcp.components, component),
                    probes=LITELLM_PROBES,
                    production=at.production,
                    egress=at.network.egress,
                    env={**runtime_env, **extra_env, **at.proxy_config.env},
                    secrets=self._env_secrets(component),
                    secret_files=[*at.cache.secret_files, *at.proxy_config.files],
                    command=self._startup(command, loads_config=True),
                    container_cpu=container_cpu if gateway else None,
                    container_memory=container_memory if gateway else None,
                    memory_dirs=memory_dirs if gateway else (),
                    sidecars=sidecars if gateway else (),
                    cloud_sql_instances=at.database.cloud_sql_instances,
                    depends_on=[
                        *self._run_apis,
                        *(gateway_grants if gateway else at.grants[component]),
                        *services_wait_for,
                    ],
                ),
            )
        services["ui"] = self._ui_service()
        return services

    def _ui_service(self) -> GatewayService:
        at = self._at
        return GatewayService(
            at.scope,
            "ui-service",
            GatewayServiceProps(
                name=at.naming.name("ui", "google_cloud_run_v2_service"),
                region=at.region,
                image=at.gcp.image("ui"),
                port=PORTS["ui"],
                service_account_email=at.accounts.email("ui"),
                config=at.gcp.components.ui,
                probes=UI_PROBES,
                production=at.production,
                always_on_cpu=False,
                depends_on=[*self._run_apis, *at.accounts.deployer_grants("ui")],
            ),
        )
