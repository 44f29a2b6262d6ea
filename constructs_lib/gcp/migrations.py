"""Prisma migrations as a Cloud Run v2 job, executed during apply and waited on.

    migrations = MigrationsJob(self, "migrations", MigrationsJobProps(...))
    GatewayService(..., depends_on=[migrations.done])
    migrations.command  # the same execution, for runners without gcloud

The provider has no "execute job" resource, so a `terraform_data` runs `gcloud run jobs execute --wait` through
local-exec; a failed execution fails the apply. It re-runs when the image or the job changes (a new release
ships new migration files). The services depend on it, so they never start against an unmigrated schema.
With `clouds.gcp.migrations.auto_run: false` nothing is executed and the command is an output instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cdktf import ITerraformDependable, LocalExecProvisioner
from cdktf_cdktf_provider_google.cloud_run_v2_job import (
    CloudRunV2Job,
    CloudRunV2JobTemplate,
    CloudRunV2JobTemplateTemplate,
    CloudRunV2JobTemplateTemplateContainers,
    CloudRunV2JobTemplateTemplateContainersEnv,
    CloudRunV2JobTemplateTemplateContainersEnvValueSource,
    CloudRunV2JobTemplateTemplateContainersEnvValueSourceSecretKeyRef,
    CloudRunV2JobTemplateTemplateContainersResources,
    CloudRunV2JobTemplateTemplateContainersVolumeMounts,
    CloudRunV2JobTemplateTemplateVolumes,
    CloudRunV2JobTemplateTemplateVolumesCloudSqlInstance,
    CloudRunV2JobTemplateTemplateVpcAccess,
    CloudRunV2JobTemplateTemplateVpcAccessNetworkInterfaces,
)
from constructs import Construct

from constructs_lib._common.terraform_data import TerraformData
from constructs_lib.config.gcp import GcpMigrationsConfig
from constructs_lib.gcp.cloud_sql_connection import SOCKET_ROOT
from constructs_lib.gcp.cloud_sql_connection import VOLUME as CLOUD_SQL_VOLUME
from constructs_lib.gcp.network import VpcEgress
from constructs_lib.gcp.secrets import GatewaySecret


@dataclass(frozen=True)
class MigrationsJobProps:
    name: str
    project: str
    region: str
    image: str
    service_account_email: str
    config: GcpMigrationsConfig
    egress: VpcEgress
    production: bool
    env: Mapping[str, str] = field(default_factory=dict)
    secrets: Sequence[GatewaySecret] = ()
    # The container's start command (default: the image's entrypoint), and the Cloud SQL connection names whose
    # sockets it reaches under /cloudsql (cloud_sql_connection.py).
    command: Sequence[str] | None = None
    cloud_sql_instances: Sequence[str] = ()
    depends_on: Sequence[ITerraformDependable] = ()


def _vpc_access(egress: VpcEgress) -> CloudRunV2JobTemplateTemplateVpcAccess:
    if egress.connector:
        return CloudRunV2JobTemplateTemplateVpcAccess(connector=egress.connector, egress=egress.egress)
    return CloudRunV2JobTemplateTemplateVpcAccess(
        egress=egress.egress,
        network_interfaces=[
            CloudRunV2JobTemplateTemplateVpcAccessNetworkInterfaces(
                network=egress.network, subnetwork=egress.subnetwork
            )
        ],
    )


class MigrationsJob(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: MigrationsJobProps) -> None:
        super().__init__(scope, construct_id)
        env = [
            CloudRunV2JobTemplateTemplateContainersEnv(name=name, value=value)
            for name, value in sorted(props.env.items())
        ]
        env += [
            CloudRunV2JobTemplateTemplateContainersEnv(
                name=secret.env_var,
                value_source=CloudRunV2JobTemplateTemplateContainersEnvValueSource(
                    secret_key_ref=CloudRunV2JobTemplateTemplateContainersEnvValueSourceSecretKeyRef(
                        secret=secret.id, version=secret.version
                    )
                ),
            )
            for secret in sorted(props.secrets, key=lambda secret: secret.env_var)
        ]
        volumes, mounts = None, None
        if props.cloud_sql_instances:
            volumes = [
                CloudRunV2JobTemplateTemplateVolumes(
                    name=CLOUD_SQL_VOLUME,
                    cloud_sql_instance=CloudRunV2JobTemplateTemplateVolumesCloudSqlInstance(
                        instances=list(props.cloud_sql_instances)
                    ),
                )
            ]
            mounts = [
                CloudRunV2JobTemplateTemplateContainersVolumeMounts(name=CLOUD_SQL_VOLUME, mount_path=SOCKET_ROOT)
            ]
        self.job = CloudRunV2Job(
            self,
            "job",
            name=props.name,
            location=props.region,
            deletion_protection=props.production,
            template=CloudRunV2JobTemplate(
                task_count=1,
                parallelism=1,
                template=CloudRunV2JobTemplateTemplate(
                    service_account=props.service_account_email,
                    execution_environment="EXECUTION_ENVIRONMENT_GEN2",
                    max_retries=1,
                    timeout=f"{props.config.timeout_seconds}s",
                    vpc_access=_vpc_access(props.egress),
                    volumes=volumes,
                    containers=[
                        CloudRunV2JobTemplateTemplateContainers(
                            name="migrations",
                            image=props.image,
                            command=list(props.command) if props.command else None,
                            volume_mounts=mounts,
                            resources=CloudRunV2JobTemplateTemplateContainersResources(
                                limits={"cpu": "1", "memory": props.config.memory}
                            ),
                            env=env,
                        )
                    ],
                ),
            ),
            depends_on=list(props.depends_on),
        )
        self.command = f"gcloud run jobs execute {props.name} --region {props.region} --project {props.project} --wait"
        self.done: ITerraformDependable = self.job
        if props.config.auto_run:
            self.done = TerraformData(
                self,
                "run",
                triggers_replace={"job": self.job.id, "image": props.image},
                provisioners=[
                    LocalExecProvisioner(
                        type="local-exec",
                        interpreter=["bash", "-c"],
                        command='set -euo pipefail; gcloud run jobs execute "$JOB" --region "$REGION" '
                        '--project "$PROJECT" --wait',
                        environment={"JOB": self.job.name, "REGION": props.region, "PROJECT": props.project},
                    )
                ],
            )
