"""Prometheus metrics of the gateway, written to Cloud Monitoring by Google's Managed Prometheus sidecar.

    metrics = GatewayMetrics(self, "metrics", GatewayMetricsProps(naming=..., project=..., config=gcp.metrics,
        gateway_image=..., gateway_member="serviceAccount:...", production=True))
    GatewayService(..., env={**metrics.gateway_env}, memory_dirs=[metrics.multiproc_dir], sidecars=metrics.sidecars)

Two sidecars in the gateway's Cloud Run service: `metrics` (the gateway image running LiteLLM's multiprocess
Prometheus server over the workers' shared, in-memory PROMETHEUS_MULTIPROC_DIR) and `collector` (the Managed
Service for Prometheus sidecar, which scrapes `localhost:<port>/metrics` and writes the series to Cloud
Monitoring). Neither declares a port, so Cloud Run routes nothing to them: the load balancer and the internet
never reach the metrics. The collector's RunMonitoring config is a Secret Manager secret mounted at
/etc/rungmp/config.yaml (the path the sidecar reads), readable by the gateway identity only.

Writing metrics needs `roles/monitoring.metricWriter`, which exists only at project level: the one project-level
grant of the gateway stack, on the gateway identity only, and only while metrics are enabled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import yaml
from cdktf import ITerraformDependable
from cdktf_cdktf_provider_google.project_iam_member import ProjectIamMember
from constructs import Construct

from constructs_lib._common.naming import Naming
from constructs_lib.config.gcp import GMP_HEALTH_PORT, GcpMetricsConfig
from constructs_lib.gcp.cloud_run import MemoryDir, SecretFile, Sidecar
from constructs_lib.gcp.secrets import GatewaySecret, GatewaySecretProps

MULTIPROC_DIR = "/tmp/litellm_prometheus_multiproc"  # noqa: S108 (an in-memory volume, not a shared /tmp)
GMP_CONFIG_DIR, GMP_CONFIG_FILE = "/etc/rungmp", "config.yaml"
METRIC_WRITER_ROLE = "roles/monitoring.metricWriter"


def run_monitoring(config: GcpMetricsConfig) -> str:
    """The collector's RunMonitoring resource: scrape /metrics of the `metrics` sidecar over loopback."""
    document = {
        "apiVersion": "monitoring.googleapis.com/v1beta",
        "kind": "RunMonitoring",
        "metadata": {"name": "litellm-gateway"},
        "spec": {
            "endpoints": [{"port": config.port, "path": "/metrics", "interval": f"{config.scrape_interval_seconds}s"}]
        },
    }
    return yaml.safe_dump(document, sort_keys=False)


@dataclass(frozen=True)
class GatewayMetricsProps:
    naming: Naming
    project: str
    config: GcpMetricsConfig
    gateway_image: str
    gateway_member: str
    production: bool
    pin_version: bool = True
    depends_on: Sequence[ITerraformDependable] = ()


class GatewayMetrics(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: GatewayMetricsProps) -> None:
        super().__init__(scope, construct_id)
        config = props.config
        self.config_secret = GatewaySecret(
            self,
            "run-monitoring",
            GatewaySecretProps(
                secret_id=props.naming.name("gateway-run-monitoring"),
                env_var="",
                production=props.production,
                state_value=run_monitoring(config),
                pin_version=props.pin_version,
                depends_on=props.depends_on,
            ),
        )
        # The services wait for these (a revision whose identity cannot read its mounts fails to start).
        self.grants: list[ITerraformDependable] = [
            self.config_secret.grant_read(props.gateway_member, "gateway"),
            ProjectIamMember(
                self, "metric-writer", project=props.project, role=METRIC_WRITER_ROLE, member=props.gateway_member
            ),
        ]
        self.multiproc_dir = MemoryDir(volume="prometheus-multiproc", mount_dir=MULTIPROC_DIR)
        # What the gateway container itself needs: its workers write their samples to the shared directory.
        self.gateway_env = {"PROMETHEUS_MULTIPROC_DIR": MULTIPROC_DIR}
        config_file = SecretFile(
            secret=self.config_secret, volume="gmp-config", mount_dir=GMP_CONFIG_DIR, file_name=GMP_CONFIG_FILE
        )
        self.sidecars = (
            Sidecar(
                name="metrics",
                image=props.gateway_image,
                command=["python", "-m", "litellm.proxy.prometheus_metrics_server", "--port", str(config.port)],
                cpu=config.server_cpu,
                memory=config.server_memory,
                env=self.gateway_env,
                memory_dirs=[self.multiproc_dir],
                health_port=config.port,
                health_path="/health",
            ),
            Sidecar(
                name="collector",
                image=config.collector_image,
                cpu=config.collector_cpu,
                memory=config.collector_memory,
                secret_files=[config_file],
                after=["metrics"],
                health_port=GMP_HEALTH_PORT,
            ),
        )
