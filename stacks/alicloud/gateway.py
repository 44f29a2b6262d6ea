"""`alicloud-<env>`: the LiteLLM gateway on Alibaba Cloud.

LiteLLM on ECS instances in (at least) two zones behind an intranet ALB; KMS Secrets Manager holds every
credential under one customer-managed key; a RAM role assumable only by ECS reads exactly those secrets;
RDS PostgreSQL and Redis admit only the gateway security group; SLS keeps the request logs; Cloud Assistant
invocations install each release, migrate the database once per release and roll the instances onto new
secret versions. One construct per concern in constructs_lib/alicloud/.
"""

from __future__ import annotations

from cdktf import TerraformOutput
from cdktf_cdktf_provider_random.provider import RandomProvider
from constructs import Construct

from constructs_lib._common.errors import PropsError
from constructs_lib._common.litellm_config import (
    CONFIG_SHA_ENV,
    MASTER_KEY_ENV,
    REDIS_ENV,
    ProxyRuntime,
    render_proxy_config,
)
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
from imports.alicloud.data_alicloud_account import DataAlicloudAccount
from stacks.alicloud.base import AlicloudStack
from stacks.context import StackContext

# Where the runtime puts the Redis CA chain, and the variable LiteLLM's Redis client reads it from.
REDIS_CA_ENV, REDIS_CA_PATH = "REDIS_SSL_CA_CERTS", "/etc/llmgw/redis-ca.pem"
DATABASE_PASSWORD_ENV = "DATABASE_PASSWORD"  # noqa: S105  # pragma: allowlist secret (a variable name)


# Where the ApsaraDB Redis CA comes from (per instance, once TLS is on): the console's TLS Settings page.
REDIS_TLS_DOC = "https://www.alibabacloud.com/help/en/redis/user-guide/enable-tls-encryption"


def _redis_ca(context: StackContext, alicloud: AlicloudConfig) -> str:
    """The configured CA chain file (relative to the environment file), read at synth time.

    Redis TLS is always on, and without its CA LiteLLM cannot verify Redis and falls back to per-process counters
    (limits multiplied by workers x instances): no CA, no synth.
    """
    name = alicloud.cache.ca_certificate_file
    if name is None:
        raise PropsError(
            "clouds.alicloud.cache.ca_certificate_file",
            "Redis TLS is on and LiteLLM must verify it: download the instance's CA (Redis console > the instance > "
            f"TLS Settings > Download CA certificate, {REDIS_TLS_DOC}), save the PEM next to this file and name it "
            "here (a new environment: README, Alibaba Cloud, apply order)",
        )
    path = context.config_path.parent / name
    if not path.is_file():
        raise PropsError("clouds.alicloud.cache.ca_certificate_file", f"{path} does not exist")
    return path.read_text()


class AlicloudGatewayStack(AlicloudStack):
    def __init__(self, scope: Construct, context: StackContext) -> None:
        super().__init__(scope, context)
        config, naming = context.config, context.naming
        alicloud = config.cloud("alicloud")
        assert isinstance(alicloud, AlicloudConfig)
        production, zones, region = config.production, tuple(alicloud.zones), alicloud.region
        # random_password makes the master key and the DB/Redis passwords (kept in the encrypted OSS state).
        RandomProvider(self, "random")
        account = DataAlicloudAccount(self, "account")

        network = GatewayNetwork(
            self,
            "network",
            GatewayNetworkProps(
                naming=naming, zones=zones, config=alicloud.network, gateway_port=GATEWAY_PORT, production=production
            ),
        )
        key = GatewayKey(
            self,
            "kms",
            GatewayKeyProps(
                naming=naming,
                kms_instance_id=alicloud.secrets.kms_instance_id,
                rotation_interval_days=alicloud.secrets.key_rotation_interval_days,
                production=production,
            ),
        )
        secrets_config = alicloud.secrets

        def secret(construct_id: str, env_var: str, version: int, description: str, **kwargs: object) -> GatewaySecret:
            return GatewaySecret(
                self,
                construct_id,
                GatewaySecretProps(
                    name=naming.name(construct_id),
                    description=description,
                    env_var=env_var,
                    version=version,
                    key_id=key.id,
                    recovery_window_days=secrets_config.recovery_window_days,
                    rotation_interval_days=secrets_config.rotation_interval_days,
                    **kwargs,  # type: ignore[arg-type]
                ),
            )

        master_key = secret(
            "master-key",
            MASTER_KEY_ENV,
            secrets_config.master_key_version,
            "LiteLLM master key (admin API); generated",
            generated_length=48,
            generated_prefix="sk-",
        )
        db_password = secret(
            "db-password",
            DATABASE_PASSWORD_ENV,
            secrets_config.database_password_version,
            "RDS PostgreSQL password of the litellm account; generated",
            generated_length=32,
        )
        redis_password = secret(
            "redis-password",
            REDIS_ENV["password"],
            secrets_config.redis_password_version,
            "Redis password; generated",
            generated_length=32,
        )
        # Provider keys: names only, created out of band (tools/alicloud_secret.py); never an alicloud_kms_secret.
        provider_keys = [
            ExternalSecret(
                name=naming.name(f"provider-{item.name}"),
                env_var=item.env_var,
                # 0: the key is being added; its secret is read by nothing yet (ready_keys below).
                version=max(item.version, 1),
                region=region,
                account_id=account.id,
            )
            for item in config.provider_keys
        ]
        # A key being added (version 0) is created but read by nothing until its first value is in.
        ready_keys = [secret for item, secret in zip(config.provider_keys, provider_keys, strict=True) if item.ready]
        # Budget alerts' webhook URL (when configured): a name only, created out of band like a provider key.
        webhook = budget_webhook_secret(naming, alicloud.alerting, region, account.id)
        gateway_secrets = [master_key, db_password, redis_password, *ready_keys, *([webhook] if webhook else [])]

        release = GatewayRelease(
            self,
            "release",
            GatewayReleaseProps(
                naming=naming,
                region=region,
                account_id=account.id,
                kms_key_id=key.id,
                proxy_config=render_proxy_config(
                    config, ProxyRuntime(callbacks=(REQUEST_LOG_CALLBACK,), budget_webhook=webhook is not None)
                ),
                production=production,
                redis_ca_certificate=_redis_ca(context, alicloud),
            ),
        )
        role = GatewayRole(
            self,
            "role",
            GatewayRoleProps(
                naming=naming,
                secret_arns=[item.arn for item in gateway_secrets],
                key_arn=key.arn,
                object_arns=release.object_arns,
            ),
        )
        database = GatewayDatabase(
            self,
            "database",
            GatewayDatabaseProps(
                naming=naming,
                config=alicloud.database,
                zones=zones,
                vswitch_ids=network.private_vswitch_ids,
                security_group_id=network.gateway_sg.id,
                password=db_password.value,
                kms_key_id=key.id,
                production=production,
            ),
        )
        cache = GatewayCache(
            self,
            "cache",
            GatewayCacheProps(
                naming=naming,
                config=alicloud.cache,
                zones=zones,
                vswitch_id=network.private_vswitch_ids[0],
                security_group_id=network.gateway_sg.id,
                password=redis_password.value,
                production=production,
            ),
        )
        logs = GatewayLogs(self, "logs", GatewayLogsProps(naming=naming, config=alicloud.logs, region=region))
        instances = GatewayInstances(
            self,
            "gateway",
            GatewayInstancesProps(
                naming=naming,
                config=alicloud.gateway,
                zones=zones,
                vswitch_ids=network.private_vswitch_ids,
                security_group_id=network.gateway_sg.id,
                kms_key_id=key.id,
                role=role,
                production=production,
            ),
        )

        # What each instance runs on: names, versions, endpoints and digests. Never a secret value.
        def runtime(secrets: list[GatewaySecret | ExternalSecret]) -> dict[str, object]:
            return {
                "region": region,
                "role": role.role_name,
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
                    "logtail_identity": logs.identity,
                    "logtail_installer": logs.installer_url,
                },
                "port": GATEWAY_PORT,
                "workers": alicloud.gateway.workers,
                "refresh_seconds": alicloud.gateway.key_refresh_minutes * 60,
                "environment": {
                    REDIS_ENV["host"]: cache.host,
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

        deployment = GatewayDeployment(
            self,
            "deployment",
            GatewayDeploymentProps(
                naming=naming,
                config=alicloud.migrations,
                instance_ids=instances.ids,
                migrate_runtime=runtime([db_password]),
                deploy_runtime=runtime(gateway_secrets),
                depends_on=[*instances.attachments, role.policy, database.privilege, *network.rules],
            ),
        )
        lb = GatewayLoadBalancer(
            self,
            "lb",
            GatewayLoadBalancerProps(
                naming=naming,
                config=alicloud.load_balancer,
                vpc_id=network.vpc_id,
                zones=zones,
                vswitch_ids=network.alb_vswitch_ids,
                instance_ids=instances.ids,
                log_project=logs.project.project_name,
                log_store=logs.store.logstore_name,
                port=GATEWAY_PORT,
                production=production,
                servers_after=deployment.deploys,
            ),
        )
        if alicloud.alerting is not None:
            GatewayAlarms(
                self,
                "alarms",
                GatewayAlarmsProps(naming=naming, config=alicloud.alerting, load_balancer_id=lb.alb.id),
            )
        # Read by the quotas stack (cross-stack reference).
        self.gateway_url = lb.url

        TerraformOutput(self, "gateway_url", value=lb.url, description="Internal URL of the gateway")
        TerraformOutput(
            self, "alb_dns_name", value=lb.alb.dns_name, description="Point load_balancer.domain_name's record here"
        )
        TerraformOutput(self, "gateway_role_name", value=role.role.role_name)
        TerraformOutput(self, "master_key_secret_name", value=master_key.secret_name)
        TerraformOutput(self, "database_password_secret_name", value=db_password.secret_name)
        TerraformOutput(self, "redis_password_secret_name", value=redis_password.secret_name)
        TerraformOutput(
            self,
            "provider_key_secret_names",
            value={
                item.name: secret.secret_name for item, secret in zip(config.provider_keys, provider_keys, strict=True)
            },
            description="Create each secret out of band, value from a file: python -m tools.alicloud_secret create "
            "--name <name> --version v<version> --key-id <kms_key_id> --value-file ... (README runbook)",
        )
        TerraformOutput(self, "kms_key_id", value=key.id, description="The key provider-key secrets are created under")
        if webhook is not None:
            TerraformOutput(
                self,
                "alert_webhook_secret_name",
                value=webhook.secret_name,
                description="Create it out of band, the webhook URL read from a file: python -m "
                "tools.alicloud_secret create --name <name> --version v<version> --key-id <kms_key_id> --value-file",
            )
        TerraformOutput(self, "log_project", value=logs.project.project_name)
        TerraformOutput(self, "release_bucket", value=release.bucket_name)
