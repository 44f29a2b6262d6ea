"""One LiteLLM component as a Cloud Run v2 service that only the load balancer can reach.

    GatewayService(self, "gateway", GatewayServiceProps(name=..., region=..., image=..., port=4000,
        service_account_email=..., config=gcp.components.gateway, probes=LITELLM_PROBES, egress=network.egress,
        env={...}, secrets=[master_key, ...]))

Secrets arrive as `secret_key_ref` env (or mounted files), pinned to the version each GatewaySecret names;
never as plain env values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cdktf import ITerraformDependable
from cdktf_cdktf_provider_google.cloud_run_v2_service import (
    CloudRunV2Service,
    CloudRunV2ServiceTemplate,
    CloudRunV2ServiceTemplateContainers,
    CloudRunV2ServiceTemplateContainersEnv,
    CloudRunV2ServiceTemplateContainersEnvValueSource,
    CloudRunV2ServiceTemplateContainersEnvValueSourceSecretKeyRef,
    CloudRunV2ServiceTemplateContainersLivenessProbe,
    CloudRunV2ServiceTemplateContainersLivenessProbeHttpGet,
    CloudRunV2ServiceTemplateContainersPorts,
    CloudRunV2ServiceTemplateContainersResources,
    CloudRunV2ServiceTemplateContainersStartupProbe,
    CloudRunV2ServiceTemplateContainersStartupProbeHttpGet,
    CloudRunV2ServiceTemplateContainersStartupProbeTcpSocket,
    CloudRunV2ServiceTemplateContainersVolumeMounts,
    CloudRunV2ServiceTemplateScaling,
    CloudRunV2ServiceTemplateVolumes,
    CloudRunV2ServiceTemplateVolumesCloudSqlInstance,
    CloudRunV2ServiceTemplateVolumesEmptyDir,
    CloudRunV2ServiceTemplateVolumesSecret,
    CloudRunV2ServiceTemplateVolumesSecretItems,
    CloudRunV2ServiceTemplateVpcAccess,
    CloudRunV2ServiceTemplateVpcAccessNetworkInterfaces,
)
from constructs import Construct

from constructs_lib.config.gcp import GcpServiceConfig
from constructs_lib.gcp.cloud_sql_connection import SOCKET_ROOT
from constructs_lib.gcp.cloud_sql_connection import VOLUME as CLOUD_SQL_VOLUME
from constructs_lib.gcp.network import VpcEgress
from constructs_lib.gcp.secrets import GatewaySecret

# Only traffic from Google Cloud load balancers (and the VPC) reaches the service; `*.run.app` is closed.
INGRESS = "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"


@dataclass(frozen=True)
class Probes:
    startup_path: str
    liveness_path: str


# The reference's health paths: readiness gates startup (DB/cache reachable), liveliness restarts hung instances.
LITELLM_PROBES = Probes(startup_path="/health/readiness", liveness_path="/health/liveliness")
UI_PROBES = Probes(startup_path="/healthz", liveness_path="/healthz")


@dataclass(frozen=True)
class SecretFile:
    """A secret mounted as `<mount_dir>/<file_name>` (Cloud Run mounts one secret per directory)."""

    secret: GatewaySecret
    volume: str
    mount_dir: str
    file_name: str

    @property
    def path(self) -> str:
        return f"{self.mount_dir}/{self.file_name}"


@dataclass(frozen=True)
class MemoryDir:
    """An in-memory `empty_dir` volume, shared by the containers that mount it (Prometheus multiprocess files)."""

    volume: str
    mount_dir: str


@dataclass(frozen=True)
class Sidecar:
    """A container next to the ingress one: no declared port (Cloud Run routes ingress to one container only),
    so nothing outside the instance reaches it; loopback from the main container does."""

    name: str
    image: str
    cpu: str
    memory: str
    command: Sequence[str] | None = None
    args: Sequence[str] | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    secrets: Sequence[GatewaySecret] = ()
    secret_files: Sequence[SecretFile] = ()
    memory_dirs: Sequence[MemoryDir] = ()
    # Containers that must be started (and healthy) before this one.
    after: Sequence[str] = ()
    # Mounts the service's Cloud SQL sockets (it talks to the database).
    cloud_sql: bool = False
    # HTTP health path on `health_port` (startup + liveness), or a TCP startup check only when the path is None.
    health_port: int | None = None
    health_path: str | None = None


@dataclass(frozen=True)
class GatewayServiceProps:
    name: str
    region: str
    image: str
    port: int
    service_account_email: str
    config: GcpServiceConfig
    probes: Probes
    production: bool
    # None: no VPC access at all (the UI talks to nothing private).
    egress: VpcEgress | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    secrets: Sequence[GatewaySecret] = ()
    secret_files: Sequence[SecretFile] = ()
    command: Sequence[str] | None = None
    args: Sequence[str] | None = None
    # Background work (spend-log batching) needs CPU between requests; a static UI does not.
    always_on_cpu: bool = True
    # The main container's own limits when sidecars take part of the instance (default: config.cpu/memory).
    container_cpu: str | None = None
    container_memory: str | None = None
    memory_dirs: Sequence[MemoryDir] = ()
    sidecars: Sequence[Sidecar] = ()
    # Cloud SQL connection names whose sockets appear under /cloudsql (cloud_sql_connection.py).
    cloud_sql_instances: Sequence[str] = ()
    depends_on: Sequence[ITerraformDependable] = ()


def _env(plain: Mapping[str, str], secrets: Sequence[GatewaySecret]) -> list[CloudRunV2ServiceTemplateContainersEnv]:
    """Plain values first (sorted), then secret references pinned to each secret's version (sorted)."""
    env = [CloudRunV2ServiceTemplateContainersEnv(name=name, value=value) for name, value in sorted(plain.items())]
    env += [
        CloudRunV2ServiceTemplateContainersEnv(
            name=secret.env_var,
            value_source=CloudRunV2ServiceTemplateContainersEnvValueSource(
                secret_key_ref=CloudRunV2ServiceTemplateContainersEnvValueSourceSecretKeyRef(
                    secret=secret.id, version=secret.version
                )
            ),
        )
        for secret in sorted(secrets, key=lambda secret: secret.env_var)
    ]
    return env


def _mounts(
    secret_files: Sequence[SecretFile], memory_dirs: Sequence[MemoryDir], cloud_sql: bool = False
) -> list[CloudRunV2ServiceTemplateContainersVolumeMounts]:
    mounts = [
        CloudRunV2ServiceTemplateContainersVolumeMounts(name=item.volume, mount_path=item.mount_dir)
        for item in (*secret_files, *memory_dirs)
    ]
    if cloud_sql:
        mounts.append(CloudRunV2ServiceTemplateContainersVolumeMounts(name=CLOUD_SQL_VOLUME, mount_path=SOCKET_ROOT))
    return mounts


def _sidecar_container(sidecar: Sidecar, cloud_sql: bool) -> CloudRunV2ServiceTemplateContainers:
    startup = liveness = None
    if sidecar.health_port is not None and sidecar.health_path is not None:
        startup = CloudRunV2ServiceTemplateContainersStartupProbe(
            http_get=CloudRunV2ServiceTemplateContainersStartupProbeHttpGet(
                path=sidecar.health_path, port=sidecar.health_port
            ),
            period_seconds=10,
            timeout_seconds=5,
            failure_threshold=12,
        )
        liveness = CloudRunV2ServiceTemplateContainersLivenessProbe(
            http_get=CloudRunV2ServiceTemplateContainersLivenessProbeHttpGet(
                path=sidecar.health_path, port=sidecar.health_port
            ),
            period_seconds=30,
            timeout_seconds=5,
            failure_threshold=3,
        )
    elif sidecar.health_port is not None:
        startup = CloudRunV2ServiceTemplateContainersStartupProbe(
            tcp_socket=CloudRunV2ServiceTemplateContainersStartupProbeTcpSocket(port=sidecar.health_port),
            period_seconds=10,
            timeout_seconds=5,
            failure_threshold=12,
        )
    return CloudRunV2ServiceTemplateContainers(
        name=sidecar.name,
        image=sidecar.image,
        command=list(sidecar.command) if sidecar.command else None,
        args=list(sidecar.args) if sidecar.args else None,
        depends_on=list(sidecar.after) if sidecar.after else None,
        resources=CloudRunV2ServiceTemplateContainersResources(
            limits={"cpu": sidecar.cpu, "memory": sidecar.memory}, cpu_idle=False
        ),
        env=_env(sidecar.env, sidecar.secrets) or None,
        volume_mounts=_mounts(sidecar.secret_files, sidecar.memory_dirs, cloud_sql and sidecar.cloud_sql) or None,
        startup_probe=startup,
        liveness_probe=liveness,
    )


def _volumes(props: GatewayServiceProps) -> list[CloudRunV2ServiceTemplateVolumes]:
    """Each secret file and memory dir once, whichever containers mount it."""
    secret_files = {item.volume: item for item in props.secret_files}
    memory_dirs = {item.volume: item for item in props.memory_dirs}
    for sidecar in props.sidecars:
        secret_files |= {item.volume: item for item in sidecar.secret_files if item.volume not in secret_files}
        memory_dirs |= {item.volume: item for item in sidecar.memory_dirs if item.volume not in memory_dirs}
    volumes = [
        CloudRunV2ServiceTemplateVolumes(
            name=item.volume,
            secret=CloudRunV2ServiceTemplateVolumesSecret(
                secret=item.secret.id,
                default_mode=0o444,
                items=[CloudRunV2ServiceTemplateVolumesSecretItems(path=item.file_name, version=item.secret.version)],
            ),
        )
        for item in secret_files.values()
    ]
    volumes += [
        CloudRunV2ServiceTemplateVolumes(
            name=item.volume, empty_dir=CloudRunV2ServiceTemplateVolumesEmptyDir(medium="MEMORY")
        )
        for item in memory_dirs.values()
    ]
    if props.cloud_sql_instances:
        volumes.append(
            CloudRunV2ServiceTemplateVolumes(
                name=CLOUD_SQL_VOLUME,
                cloud_sql_instance=CloudRunV2ServiceTemplateVolumesCloudSqlInstance(
                    instances=list(props.cloud_sql_instances)
                ),
            )
        )
    return volumes


def vpc_access(egress: VpcEgress | None) -> CloudRunV2ServiceTemplateVpcAccess | None:
    if egress is None:
        return None
    if egress.connector:
        return CloudRunV2ServiceTemplateVpcAccess(connector=egress.connector, egress=egress.egress)
    return CloudRunV2ServiceTemplateVpcAccess(
        egress=egress.egress,
        network_interfaces=[
            CloudRunV2ServiceTemplateVpcAccessNetworkInterfaces(network=egress.network, subnetwork=egress.subnetwork)
        ],
    )


class GatewayService(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: GatewayServiceProps) -> None:
        super().__init__(scope, construct_id)
        config = props.config
        container = CloudRunV2ServiceTemplateContainers(
            name="litellm",
            image=props.image,
            command=list(props.command) if props.command else None,
            args=list(props.args) if props.args else None,
            ports=CloudRunV2ServiceTemplateContainersPorts(container_port=props.port, name="http1"),
            resources=CloudRunV2ServiceTemplateContainersResources(
                limits={"cpu": props.container_cpu or config.cpu, "memory": props.container_memory or config.memory},
                cpu_idle=not props.always_on_cpu,
                startup_cpu_boost=True,
            ),
            env=_env(props.env, props.secrets),
            volume_mounts=_mounts(props.secret_files, props.memory_dirs, bool(props.cloud_sql_instances)),
            startup_probe=CloudRunV2ServiceTemplateContainersStartupProbe(
                http_get=CloudRunV2ServiceTemplateContainersStartupProbeHttpGet(
                    path=props.probes.startup_path, port=props.port
                ),
                initial_delay_seconds=10,
                period_seconds=10,
                timeout_seconds=5,
                failure_threshold=12,
            ),
            liveness_probe=CloudRunV2ServiceTemplateContainersLivenessProbe(
                http_get=CloudRunV2ServiceTemplateContainersLivenessProbeHttpGet(
                    path=props.probes.liveness_path, port=props.port
                ),
                period_seconds=30,
                timeout_seconds=5,
                failure_threshold=3,
            ),
        )
        self.service = CloudRunV2Service(
            self,
            "service",
            name=props.name,
            location=props.region,
            ingress=INGRESS,
            # No `allUsers` run.invoker binding: the invoker IAM check is switched off instead, because the
            # external load balancer forwards end-user requests without Google identity tokens, and ingress
            # INTERNAL_LOAD_BALANCER already admits only the load balancer (and the VPC). LiteLLM authenticates
            # every API call with its own keys; the UI serves static files.
            invoker_iam_disabled=True,
            deletion_protection=props.production,
            template=CloudRunV2ServiceTemplate(
                service_account=props.service_account_email,
                execution_environment="EXECUTION_ENVIRONMENT_GEN2",
                max_instance_request_concurrency=config.concurrency,
                timeout=f"{config.timeout_seconds}s",
                scaling=CloudRunV2ServiceTemplateScaling(
                    min_instance_count=config.min_instances, max_instance_count=config.max_instances
                ),
                vpc_access=vpc_access(props.egress),
                containers=[
                    container,
                    *(_sidecar_container(sidecar, bool(props.cloud_sql_instances)) for sidecar in props.sidecars),
                ],
                volumes=_volumes(props),
            ),
            depends_on=list(props.depends_on),
        )

    @property
    def name(self) -> str:
        return self.service.name

    @property
    def uri(self) -> str:
        return self.service.uri
