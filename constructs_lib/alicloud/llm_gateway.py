"""`AlicloudGateway`: everything the LiteLLM gateway on Alibaba Cloud is, composed from one construct per concern.

    gateway = AlicloudGateway(stack, AlicloudGatewayProps(config=..., naming=..., config_dir=Path("config")))
    gateway.gateway_url, gateway.outputs  # the stack writes each output as a TerraformOutput

LiteLLM on ECS instances in (at least) two zones behind an intranet ALB; KMS Secrets Manager holds every credential
under one customer-managed key; a RAM role assumable only by ECS reads exactly those secrets; RDS PostgreSQL and
Redis admit only the gateway security group; SLS keeps the request logs; Cloud Assistant invocations install each
release, migrate the database once per release and roll the instances onto new secret versions.

Every resource is defined directly in the stack's scope, not under a node of its own: construct ids are a contract
(cdktf derives each resource's Terraform address and `//` metadata path from its construct path).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from constructs import Construct

from constructs_lib._common.errors import PropsError
from constructs_lib._common.litellm_config import (
    CONFIG_SHA_ENV,
    MASTER_KEY_ENV,
    REDIS_ENV,
    ProxyRuntime,
    render_proxy_config,
)
from constructs_lib._common.naming import Naming
from constructs_lib._common.outputs import GatewayOutput
from constructs_lib.alicloud.alarms import GatewayAlarms, GatewayAlarmsProps, budget_webhook_secret
from constructs_lib.alicloud.cache import REDIS_PORT, GatewayCache, GatewayCacheProps
from constructs_lib.alicloud.database import GatewayDatabase, GatewayDatabaseProps
from constructs_lib.alicloud.gateway import (
    GATEWAY_PORT,
    GatewayInstances,
    GatewayInstancesProps,
    GatewayRelease,
    GatewayReleaseProps,
)
from constructs_lib.alicloud.load_balancer import GatewayLoadBalancer, GatewayLoadBalancerProps
from constructs_lib.alicloud.logs import REQUEST_LOG_CALLBACK, GatewayLogs, GatewayLogsProps
from constructs_lib.alicloud.migrations import GatewayDeployment, GatewayDeploymentProps
from constructs_lib.alicloud.network import GatewayNetwork, GatewayNetworkProps
from constructs_lib.alicloud.ram import GatewayRole, GatewayRoleProps
from constructs_lib.alicloud.secrets import (
    ExternalSecret,
    GatewayKey,
    GatewayKeyProps,
    GatewaySecret,
    GatewaySecretProps,
)
from constructs_lib.config.alicloud import AlicloudConfig
from constructs_lib.config.environment import EnvironmentConfig
from imports.alicloud.data_alicloud_account import DataAlicloudAccount

# Where the runtime puts the Redis CA chain, and the variable LiteLLM's Redis client reads it from.
REDIS_CA_ENV, REDIS_CA_PATH = "REDIS_SSL_CA_CERTS", "/etc/llmgw/redis-ca.pem"
DATABASE_PASSWORD_ENV = "DATABASE_PASSWORD"  # noqa: S105  # pragma: allowlist secret (a variable name)
# Where the ApsaraDB Redis CA comes from (per instance, once TLS is on): the console's TLS Settings page.
REDIS_TLS_DOC = "https://www.alibabacloud.com/help/en/redis/user-guide/enable-tls-encryption"


@dataclass(frozen=True, kw_only=True)
class AlicloudGatewayProps:
    # The validated environment: `clouds.alicloud`, the provider keys, the LiteLLM settings.
    config: EnvironmentConfig
    # Names every resource `<tenant>-<env>-...`.
    naming: Naming
    # The environment file's folder: `cache.ca_certificate_file` is relative to it.
    config_dir: Path

    @property
    def alicloud(self) -> AlicloudConfig:
        alicloud = self.config.cloud("alicloud")
        assert isinstance(alicloud, AlicloudConfig)
        return alicloud

    def redis_ca(self) -> str:
        """The configured CA chain file, read at synth time.

        Redis TLS is always on, and without its CA LiteLLM cannot verify Redis and falls back to per-process
        counters (limits multiplied by workers x instances): no CA, no synth.
        """
        name = self.alicloud.cache.ca_certificate_file
        if name is None:
            raise PropsError(
                "clouds.alicloud.cache.ca_certificate_file",
                "Redis TLS is on and LiteLLM must verify it: download the instance's CA (Redis console > the "
                f"instance > TLS Settings > Download CA certificate, {REDIS_TLS_DOC}), save the PEM next to this "
                "file and name it here (a new environment: README, Alibaba Cloud, apply order)",
            )
        path = self.config_dir / name
        if not path.is_file():
            raise PropsError("clouds.alicloud.cache.ca_certificate_file", f"{path} does not exist")
        return path.read_text()


class _Credentials:
    """The KMS key, the generated secrets (master key, database and Redis passwords) and the provider keys'
    names (created out of band with tools/alicloud_secret.py; never an alicloud_kms_secret)."""

    def __init__(self, scope: Construct, props: AlicloudGatewayProps, account_id: str) -> None:
        alicloud, naming, versions = props.alicloud, props.naming, props.alicloud.secrets
        self.key = GatewayKey(
            scope,
            "kms",
            GatewayKeyProps(
                naming=naming,
                kms_instance_id=versions.kms_instance_id,
                rotation_interval_days=versions.key_rotation_interval_days,
                production=props.config.production,
            ),
        )

        def secret(construct_id: str, env_var: str, version: int, description: str, **kwargs: object) -> GatewaySecret:
            return GatewaySecret(
                scope,
                construct_id,
                GatewaySecretProps(
                    name=naming.name(construct_id),
                    description=description,
                    env_var=env_var,
                    version=version,
                    key_id=self.key.id,
                    recovery_window_days=versions.recovery_window_days,
                    rotation_interval_days=versions.rotation_interval_days,
                    **kwargs,  # type: ignore[arg-type]
                ),
            )

        self.master_key = secret(
            "master-key",
            MASTER_KEY_ENV,
            versions.master_key_version,
            "LiteLLM master key (admin API); generated",
            generated_length=48,
            generated_prefix="sk-",
        )
        self.db_password = secret(
            "db-password",
            DATABASE_PASSWORD_ENV,
            versions.database_password_version,
            "RDS PostgreSQL password of the litellm account; generated",
            generated_length=32,
        )
        self.redis_password = secret(
            "redis-password",
            REDIS_ENV["password"],
            versions.redis_password_version,
            "Redis password; generated",
            generated_length=32,
        )
        provider_keys = props.config.provider_keys
        self.provider_keys = {
            item.name: ExternalSecret(
                name=naming.name(f"provider-{item.name}"),
                env_var=item.env_var,
                # 0: the key is being added; its secret is read by nothing yet (ready keys below).
                version=max(item.version, 1),
                region=alicloud.region,
                account_id=account_id,
            )
            for item in provider_keys
        }
        # A key being added (version 0) is created but read by nothing until its first value is in.
        ready_keys = [self.provider_keys[item.name] for item in provider_keys if item.ready]
        # Budget alerts' webhook URL (when configured): a name only, created out of band like a provider key.
        self.webhook = budget_webhook_secret(naming, alicloud.alerting, alicloud.region, account_id)
        self.gateway_secrets: list[GatewaySecret | ExternalSecret] = [
            self.master_key,
            self.db_password,
            self.redis_password,
            *ready_keys,
            *([self.webhook] if self.webhook else []),
        ]


class AlicloudGateway:
    """The gateway's network, key and secrets, release, role, stores, logs, instances, deployment and ALB, in
    `scope`."""

    def __init__(self, scope: Construct, props: AlicloudGatewayProps) -> None:
        alicloud, naming, production = props.alicloud, props.naming, props.config.production
        zones = tuple(alicloud.zones)
        self._props = props
        account = DataAlicloudAccount(scope, "account")
        network = GatewayNetwork(
            scope,
            "network",
            GatewayNetworkProps(
                naming=naming, zones=zones, config=alicloud.network, gateway_port=GATEWAY_PORT, production=production
            ),
        )
        self.credentials = credentials = _Credentials(scope, props, account.id)
        key = credentials.key
        self.release = GatewayRelease(
            scope,
            "release",
            GatewayReleaseProps(
                naming=naming,
                region=alicloud.region,
                account_id=account.id,
                kms_key_id=key.id,
                proxy_config=render_proxy_config(
                    props.config,
                    ProxyRuntime(callbacks=(REQUEST_LOG_CALLBACK,), budget_webhook=credentials.webhook is not None),
                ),
                production=production,
                redis_ca_certificate=props.redis_ca(),
            ),
        )
        self.role = GatewayRole(
            scope,
            "role",
            GatewayRoleProps(
                naming=naming,
                secret_arns=[item.arn for item in credentials.gateway_secrets],
                key_arn=key.arn,
                object_arns=self.release.object_arns,
            ),
        )
        self.database, self.cache = self._stores(scope, network)
        self.logs = GatewayLogs(
            scope, "logs", GatewayLogsProps(naming=naming, config=alicloud.logs, region=alicloud.region)
        )
        self.lb = self._instances_behind_the_lb(scope, network)
        if alicloud.alerting is not None:
            GatewayAlarms(
                scope,
                "alarms",
                GatewayAlarmsProps(naming=naming, config=alicloud.alerting, load_balancer_id=self.lb.alb.id),
            )
        # Read by the quotas stack (cross-stack reference).
        self.gateway_url = self.lb.url

    def _instances_behind_the_lb(self, scope: Construct, network: GatewayNetwork) -> GatewayLoadBalancer:
        """The instances, the deployment that migrates and rolls them onto each release, and the ALB in front."""
        props, credentials = self._props, self.credentials
        alicloud, naming, production = props.alicloud, props.naming, props.config.production
        zones = tuple(alicloud.zones)
        instances = GatewayInstances(
            scope,
            "gateway",
            GatewayInstancesProps(
                naming=naming,
                config=alicloud.gateway,
                zones=zones,
                vswitch_ids=network.private_vswitch_ids,
                security_group_id=network.gateway_sg.id,
                kms_key_id=credentials.key.id,
                role=self.role,
                production=production,
            ),
        )
        deployment = GatewayDeployment(
            scope,
            "deployment",
            GatewayDeploymentProps(
                naming=naming,
                config=alicloud.migrations,
                instance_ids=instances.ids,
                migrate_runtime=self._runtime_document([credentials.db_password]),
                deploy_runtime=self._runtime_document(credentials.gateway_secrets),
                depends_on=[*instances.attachments, self.role.policy, self.database.privilege, *network.rules],
            ),
        )
        return GatewayLoadBalancer(
            scope,
            "lb",
            GatewayLoadBalancerProps(
                naming=naming,
                config=alicloud.load_balancer,
                vpc_id=network.vpc_id,
                zones=zones,
                vswitch_ids=network.alb_vswitch_ids,
                instance_ids=instances.ids,
                log_project=self.logs.project.project_name,
                log_store=self.logs.store.logstore_name,
                port=GATEWAY_PORT,
                production=production,
                servers_after=deployment.deploys,
            ),
        )

    def _stores(self, scope: Construct, network: GatewayNetwork) -> tuple[GatewayDatabase, GatewayCache]:
        """RDS PostgreSQL and Redis on the private vSwitches, admitting only the gateway security group."""
        props, credentials = self._props, self.credentials
        alicloud, naming, production = props.alicloud, props.naming, props.config.production
        zones = tuple(alicloud.zones)
        database = GatewayDatabase(
            scope,
            "database",
            GatewayDatabaseProps(
                naming=naming,
                config=alicloud.database,
                zones=zones,
                vswitch_ids=network.private_vswitch_ids,
                security_group_id=network.gateway_sg.id,
                password=credentials.db_password.value,
                kms_key_id=credentials.key.id,
                production=production,
            ),
        )
        cache = GatewayCache(
            scope,
            "cache",
            GatewayCacheProps(
                naming=naming,
                config=alicloud.cache,
                zones=zones,
                vswitch_id=network.private_vswitch_ids[0],
                security_group_id=network.gateway_sg.id,
                password=credentials.redis_password.value,
                production=production,
            ),
        )
        return database, cache

    def _runtime_document(self, secrets: list[GatewaySecret | ExternalSecret]) -> dict[str, object]:
        """What each instance runs on: names, versions, endpoints and digests. Never a secret value."""
        alicloud, release, database = self._props.alicloud, self.release, self.database
        region = alicloud.region
        return {
            "region": region,
            "role": self.role.role_name,
            "kms_endpoint": f"kms-vpc.{region}.aliyuncs.com",
            "oss_endpoint": f"oss-{region}-internal.aliyuncs.com",
            "bucket": release.bucket_name,
            "litellm_version": release.litellm_version,
            "requirements": release.requirements.document(),
            "config": release.config.document(),
            "hooks": [{**artifact.document(), "name": name} for name, artifact in sorted(release.hooks.items())],
            "redis_ca": release.redis_ca.document(),
            "request_log": {
                **release.request_log.document(),
                "logtail_identity": self.logs.identity,
                "logtail_installer": self.logs.installer_url,
            },
            "port": GATEWAY_PORT,
            "workers": alicloud.gateway.workers,
            "refresh_seconds": alicloud.gateway.key_refresh_minutes * 60,
            "environment": {
                REDIS_ENV["host"]: self.cache.host,
                REDIS_ENV["port"]: str(REDIS_PORT),
                REDIS_ENV["ssl"]: "true",
                CONFIG_SHA_ENV: release.config.sha256,
                REDIS_CA_ENV: REDIS_CA_PATH,
            },
            "database": {
                "host": database.host,
                "port": database.port,
                "user": database.account.account_name,
                "name": database.database.data_base_name,
            },
            "secrets": {item.env_var: {"name": item.secret_name, "version": item.version_id} for item in secrets},
        }

    @property
    def outputs(self) -> dict[str, GatewayOutput]:
        credentials, lb = self.credentials, self.lb
        return {
            "gateway_url": GatewayOutput(lb.url, "Internal URL of the gateway"),
            "alb_dns_name": GatewayOutput(lb.alb.dns_name, "Point load_balancer.domain_name's record here"),
            "gateway_role_name": GatewayOutput(self.role.role.role_name),
            "master_key_secret_name": GatewayOutput(credentials.master_key.secret_name),
            "database_password_secret_name": GatewayOutput(credentials.db_password.secret_name),
            "redis_password_secret_name": GatewayOutput(credentials.redis_password.secret_name),
            "provider_key_secret_names": GatewayOutput(
                {name: secret.secret_name for name, secret in credentials.provider_keys.items()},
                "Create each secret out of band, value from a file: python -m tools.alicloud_secret create "
                "--name <name> --version v<version> --key-id <kms_key_id> --value-file ... (README runbook)",
            ),
            "kms_key_id": GatewayOutput(credentials.key.id, "The key provider-key secrets are created under"),
            **(
                {
                    "alert_webhook_secret_name": GatewayOutput(
                        credentials.webhook.secret_name,
                        "Create it out of band, the webhook URL read from a file: python -m tools.alicloud_secret "
                        "create --name <name> --version v<version> --key-id <kms_key_id> --value-file",
                    )
                }
                if credentials.webhook is not None
                else {}
            ),
            "log_project": GatewayOutput(self.logs.project.project_name),
            "release_bucket": GatewayOutput(self.release.bucket_name),
        }
