"""`aws-<env>`: the LiteLLM gateway on AWS.

gateway (4000), backend (4001) and ui (3000) run as ECS Fargate services in private subnets behind a path-routing
ALB (internal by default) that routes the shared path list; Aurora PostgreSQL (IAM auth, SSL enforced), ElastiCache
Redis (TLS + AUTH) and an S3 bucket sit on the private network; Secrets Manager holds every credential, encrypted
with the gateway's KMS key; one-off ECS tasks create the IAM-auth database user and apply the Prisma migrations
before the services start. One construct per concern in constructs_lib/aws/.
"""

from __future__ import annotations

import re

from cdktf import TerraformOutput
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import DataAwsIamPolicyDocumentStatement
from cdktf_cdktf_provider_aws.s3_object import S3Object
from cdktf_cdktf_provider_random.password import Password
from cdktf_cdktf_provider_random.provider import RandomProvider
from constructs import Construct

from constructs_lib._common.ephemeral import ephemeral_random_password
from constructs_lib._common.errors import PropsError
from constructs_lib._common.litellm_config import CONFIG_SHA_ENV, MASTER_KEY_ENV, REDIS_ENV, render_proxy_config
from constructs_lib._common.routes import (
    BACKEND_HEALTH_PATH,
    BACKEND_PORT,
    GATEWAY_HEALTH_PATH,
    GATEWAY_PORT,
    UI_HEALTH_PATH,
    UI_PORT,
    path_rules,
)
from constructs_lib.aws.cache import GatewayCache, GatewayCacheProps
from constructs_lib.aws.database import GatewayDatabase, GatewayDatabaseProps
from constructs_lib.aws.ecs_service import (
    ContainerSpec,
    FargateTask,
    FargateTaskProps,
    GatewayCluster,
    GatewayService,
    GatewayServiceProps,
    log_group,
    terraform_literal,
)
from constructs_lib.aws.encryption import GatewayKey, GatewayKeyProps
from constructs_lib.aws.iam import TaskIdentity, TaskIdentityProps, via_service
from constructs_lib.aws.load_balancer import GatewayLoadBalancer, GatewayLoadBalancerProps, TargetSpec
from constructs_lib.aws.migrations import OneOffStep, OneOffTasks, OneOffTasksProps
from constructs_lib.aws.network import GatewayNetwork, GatewayNetworkProps
from constructs_lib.aws.secrets import GatewaySecret, GatewaySecretProps, WriteOnlyValue
from constructs_lib.aws.secure_bucket import SecureBucket, SecureBucketProps
from constructs_lib.config.aws import AwsConfig
from constructs_lib.config.components import IMAGE_COMPONENTS, pinned_by_digest
from stacks.aws.base import AwsStack
from stacks.context import StackContext

PORTS = {"gateway": GATEWAY_PORT, "backend": BACKEND_PORT, "ui": UI_PORT}
HEALTH = {"gateway": GATEWAY_HEALTH_PATH, "backend": BACKEND_HEALTH_PATH, "ui": UI_HEALTH_PATH}
# Written at start by the task itself (Fargate's writable layer), read by LiteLLM; never shared between tasks.
CONFIG_PATH = "/tmp/litellm/proxy_config.yaml"  # noqa: S108
# Fetch the proxy config the task definition names, refuse it unless its SHA-256 is the one in the definition.
_FETCH_CONFIG = (
    "python -c \"import hashlib, os, boto3; e = os.environ; os.makedirs(os.path.dirname(e['CONFIG_FILE_PATH']), "
    "exist_ok=True); boto3.client('s3', region_name=e['AWS_REGION']).download_file("
    "e['LITELLM_PROXY_CONFIG_S3_BUCKET'], e['LITELLM_PROXY_CONFIG_S3_OBJECT'], e['CONFIG_FILE_PATH']); "
    "digest = hashlib.sha256(open(e['CONFIG_FILE_PATH'], 'rb').read()).hexdigest(); "
    f"assert digest == e['{CONFIG_SHA_ENV}'], 'proxy config digest mismatch'\""
)
# Creates the IAM-auth application user; idempotent (re-granting is a no-op), so a re-run is harmless.
_BOOTSTRAP_SQL = """DO $$
BEGIN
  CREATE USER {user};
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
GRANT rds_iam TO {user};
GRANT ALL PRIVILEGES ON DATABASE {database} TO {user};
GRANT ALL ON SCHEMA public TO {user};
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO {user};
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON SEQUENCES TO {user};
"""


_ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/(?P<repo>[a-z0-9._/-]+?)(?:[:@].*)?$"
)


def ecr_repository_arns(*images: str) -> list[str]:
    """ARNs of the private ECR repositories among `images` (the execution role may pull from exactly these)."""
    found = {
        f"arn:aws:ecr:{m['region']}:{m['account']}:repository/{m['repo']}" for i in images if (m := _ECR_IMAGE.match(i))
    }
    return sorted(found)


def require_digests_in_production(aws: AwsConfig) -> None:
    """Production runs exactly the bytes that were reviewed: every image pinned by digest."""
    for component in IMAGE_COMPONENTS:
        if not pinned_by_digest(aws.image(component)):
            raise PropsError(
                aws.image_config_path(component),
                f"{aws.image(component)!r}: production environments need images pinned by digest "
                "(`...@sha256:<64 hex>`)",
            )
    if not pinned_by_digest(aws.migrations.bootstrap_image):
        raise PropsError("clouds.aws.migrations.bootstrap_image", "production environments need a digest pin")


# The unified image's entrypoint: its first argument selects the role (gateway, backend, ui, migrations).
UNIFIED_ENTRYPOINT = "/app/docker-entrypoint.sh"


def _launch(component: str, unified: bool, workers: int) -> list[str]:
    """gateway/backend: fetch and check the proxy config, then exec the server (one uvicorn worker per `workers`)."""
    if unified:
        start = f"{UNIFIED_ENTRYPOINT} {component}" + (f" --workers {workers}" if component == "gateway" else "")
    else:
        start = f"uvicorn {component}.main:app --host 0.0.0.0 --port {PORTS[component]} --workers {workers}"
    return [f"{_FETCH_CONFIG} && exec {start}"]


def _otel_env(aws: AwsConfig, service_name: str, env: str) -> dict[str, str]:
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


class AwsGatewayStack(AwsStack):
    def __init__(self, scope: Construct, context: StackContext) -> None:
        super().__init__(scope, context)
        config, naming = context.config, context.naming
        aws = config.cloud("aws")
        assert isinstance(aws, AwsConfig)
        production = config.production
        if production:
            require_digests_in_production(aws)
        region, account = aws.region, aws.account_id
        unified = aws.unified_image is not None
        # Ephemeral random_password (master key, UI password) and the Redis token come from hashicorp/random.
        RandomProvider(self, "random")

        key = GatewayKey(
            self, "kms", GatewayKeyProps(prefix=naming.prefix, account_id=account, region=region, production=production)
        )
        lb_config = aws.load_balancer
        network = GatewayNetwork(
            self,
            "network",
            GatewayNetworkProps(
                naming=naming,
                config=aws.network,
                zones=aws.availability_zones,
                account_id=account,
                region=region,
                kms_key_arn=key.arn,
                ports=PORTS,
                alb_ingress_cidrs=lb_config.ingress_cidrs,
                alb_ports=[443, 80] if lb_config.certificate_arn else [80],
            ),
        )

        def secret(construct_id: str, env_var: str, description: str, **kwargs: object) -> GatewaySecret:
            return GatewaySecret(
                self,
                construct_id,
                GatewaySecretProps(
                    name=naming.name(construct_id),
                    description=description,
                    env_var=env_var,
                    kms_key_arn=key.arn,
                    recovery_window_days=aws.secrets.recovery_window_days,
                    **kwargs,  # type: ignore[arg-type]
                ),
            )

        versions = aws.secrets
        master_key = secret(
            "master-key",
            MASTER_KEY_ENV,
            "LiteLLM master key (generated; never in code or state)",
            write_only=WriteOnlyValue(
                value=f"sk-{ephemeral_random_password(self, 'master_key', length=48)}",
                version=versions.master_key_version,
            ),
        )
        # LiteLLM encrypts the credentials it stores in the database with LITELLM_SALT_KEY (the master key when
        # unset): a key of its own lets the master key rotate without making stored credentials unreadable.
        salt_key = secret(
            "salt-key",
            "LITELLM_SALT_KEY",
            "LiteLLM salt key for credentials stored in the database; never rotated (generated, never in state)",
            write_only=WriteOnlyValue(value=f"sk-{ephemeral_random_password(self, 'salt_key', length=48)}", version=1),
        )
        ui_password = secret(
            "ui-password",
            "UI_PASSWORD",
            "LiteLLM UI admin password (generated; never in code or state)",
            write_only=WriteOnlyValue(
                value=ephemeral_random_password(self, "ui_password", length=32), version=versions.ui_password_version
            ),
        )
        # ElastiCache takes the token only as a plain argument, so it is a state value (encrypted backend).
        redis_token = Password(
            self,
            "redis-auth-token",
            length=64,
            special=False,
            min_numeric=4,
            keepers={"version": str(versions.redis_auth_version)},
        )
        redis_auth = secret(
            "redis-auth",
            REDIS_ENV["password"],
            "Redis AUTH token of the LiteLLM cache",
            state_value=redis_token.result,
            version=versions.redis_auth_version,
        )
        provider_keys = [
            secret(
                f"provider-{item.name}",
                item.env_var,
                f"{item.description or item.name}: put in out of band with staging label v<version>",
                version=item.version,
            )
            for item in config.provider_keys
        ]

        database = GatewayDatabase(
            self,
            "database",
            GatewayDatabaseProps(
                naming=naming,
                config=aws.database,
                account_id=account,
                region=region,
                subnet_ids=network.private_subnet_ids,
                security_group_id=network.database.id,
                kms_key_arn=key.arn,
                production=production,
            ),
        )
        cache = GatewayCache(
            self,
            "cache",
            GatewayCacheProps(
                naming=naming,
                config=aws.cache,
                subnet_ids=network.private_subnet_ids,
                security_group_id=network.cache.id,
                kms_key_arn=key.arn,
                auth_token=redis_token.result,
                production=production,
                log_retention_days=aws.log_retention_days,
            ),
        )
        bucket = SecureBucket(
            self,
            "bucket",
            SecureBucketProps(bucket_name=naming.name(f"litellm-{account}"), kms_key_arn=key.arn),
        )
        proxy_config = render_proxy_config(config)
        config_object = S3Object(
            self,
            "proxy-config",
            bucket=bucket.name,
            key=proxy_config.object_key,
            content=terraform_literal(proxy_config.text),
            content_type="application/yaml",
            server_side_encryption="aws:kms",
            kms_key_id=key.arn,
            bucket_key_enabled=True,
        )

        cluster = GatewayCluster(self, "cluster", naming.name("litellm"))
        log_groups = {
            family: log_group(self, f"{family}-logs", f"/{naming.prefix}/ecs/{family}", aws.log_retention_days, key.arn)
            for family in ("gateway", "backend", "ui", "migrations", "bootstrap-db")
        }

        # What each family's container reads: env var -> GatewaySecret.
        otel = aws.otel
        extra_secret_arns = {
            component: dict(getattr(aws.components, component).extra_secrets) for component in ("gateway", "backend")
        }
        if otel.endpoint and otel.headers_secret_arn:
            for component in extra_secret_arns:
                extra_secret_arns[component].setdefault("OTEL_HEADERS", otel.headers_secret_arn)
        readers = {
            "gateway": [master_key, salt_key, redis_auth, *provider_keys],
            "backend": [master_key, salt_key, redis_auth, ui_password],
        }

        data_access = [
            DataAwsIamPolicyDocumentStatement(
                sid="ListGatewayBucket", actions=["s3:ListBucket"], resources=[bucket.arn]
            ),
            DataAwsIamPolicyDocumentStatement(
                sid="UseGatewayBucketObjects",
                actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                resources=[f"{bucket.arn}/*"],
            ),
            DataAwsIamPolicyDocumentStatement(
                sid="GatewayKeyThroughS3",
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=[key.arn],
                condition=[via_service("s3", region)],
            ),
        ]
        connect = DataAwsIamPolicyDocumentStatement(
            sid="ConnectAsAppUser", actions=["rds-db:connect"], resources=[database.connect_arn]
        )
        task_statements = {
            "gateway": [*data_access, connect],
            "backend": [*data_access, connect],
            "ui": [],
            "migrations": [connect],
            "bootstrap-db": [],
        }
        if aws.bedrock_model_arns:
            task_statements["gateway"].append(
                DataAwsIamPolicyDocumentStatement(
                    sid="InvokeConfiguredBedrockModels",
                    actions=["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
                    resources=list(aws.bedrock_model_arns),
                )
            )
        family_secret_arns = {
            "gateway": [item.arn for item in readers["gateway"]] + sorted(set(extra_secret_arns["gateway"].values())),
            "backend": [item.arn for item in readers["backend"]] + sorted(set(extra_secret_arns["backend"].values())),
            "ui": [],
            "migrations": [],
            "bootstrap-db": [database.master_secret_arn],
        }
        family_images = {
            **{component: aws.image(component) for component in IMAGE_COMPONENTS},
            "bootstrap-db": aws.migrations.bootstrap_image,
        }
        identities = {
            family: TaskIdentity(
                self,
                f"{family}-identity",
                TaskIdentityProps(
                    naming=naming,
                    family=family,
                    account_id=account,
                    region=region,
                    log_group_arn=log_groups[family].arn,
                    kms_key_arn=key.arn,
                    secret_arns=family_secret_arns[family],
                    task_statements=task_statements[family],
                    ecr_repository_arns=ecr_repository_arns(family_images[family]),
                ),
            )
            for family in log_groups
        }

        def task(
            family: str, cpu: int, memory: int, container: ContainerSpec, secrets: list[GatewaySecret]
        ) -> FargateTask:
            return FargateTask(
                self,
                f"{family}-task",
                FargateTaskProps(
                    family=naming.name(family),
                    cpu=cpu,
                    memory=memory,
                    container=container,
                    execution_role_arn=identities[family].execution_role.arn,
                    task_role_arn=identities[family].task_role.arn,
                    depends_on=[
                        *identities[family].policies,
                        *network.egress_routes,
                        *(written for item in secrets for written in item.written),
                    ],
                ),
            )

        # LiteLLM's componentized entrypoints build DATABASE_URL from these (with a fresh IAM token) before the
        # proxy reads its config; sslmode=require matches rds.force_ssl.
        database_env = {
            "IAM_TOKEN_DB_AUTH": "true",
            "DATABASE_SSLMODE": "require",
            "DATABASE_HOST": database.endpoint,
            "DATABASE_PORT": "5432",
            "DATABASE_USER": database.app_user,
            "DATABASE_NAME": database.database_name,
            "AWS_REGION": region,
            "AWS_REGION_NAME": region,
        }
        bootstrap = task(
            "bootstrap-db",
            256,
            512,
            ContainerSpec(
                name="psql",
                image=aws.migrations.bootstrap_image,
                log_group=log_groups["bootstrap-db"].name,
                region=region,
                env={
                    "PGHOST": database.endpoint,
                    "PGPORT": "5432",
                    "PGUSER": database.master_username,
                    "PGDATABASE": database.database_name,
                    "PGSSLMODE": "require",
                    "BOOTSTRAP_SQL": _BOOTSTRAP_SQL.format(user=database.app_user, database=database.database_name),
                },
                # `:password::` picks the password field of the RDS-managed JSON secret, at AWSCURRENT.
                secrets={"PGPASSWORD": f"{database.master_secret_arn}:password::"},
                entry_point=["sh", "-c"],
                command=['printf "%s" "$BOOTSTRAP_SQL" | psql -v ON_ERROR_STOP=1'],
            ),
            [],
        )
        migrations_task = task(
            "migrations",
            aws.migrations.cpu,
            aws.migrations.memory,
            ContainerSpec(
                name="migrations",
                image=aws.image("migrations"),
                log_group=log_groups["migrations"].name,
                region=region,
                env=database_env,
                command=["migrations"] if unified else None,
            ),
            [],
        )
        one_off = OneOffTasks(
            self,
            "one-off",
            OneOffTasksProps(
                region=region,
                cluster_name=cluster.name,
                subnet_ids=network.private_subnet_ids,
                security_group_id=network.jobs.id,
                steps=[
                    OneOffStep("bootstrap-db", bootstrap.task, log_groups["bootstrap-db"].name),
                    OneOffStep("migrations", migrations_task.task, log_groups["migrations"].name),
                ],
                auto_run=aws.migrations.auto_run,
                triggers={"cluster": database.cluster.cluster_resource_id},
                depends_on=database.instances,
            ),
        )

        runtime_env = {
            **database_env,
            REDIS_ENV["host"]: cache.host,
            REDIS_ENV["port"]: cache.port,
            REDIS_ENV["ssl"]: "true",
            "S3_BUCKET_NAME": bucket.name,
            "S3_REGION_NAME": region,
            "CONFIG_FILE_PATH": CONFIG_PATH,
            "LITELLM_PROXY_CONFIG_S3_BUCKET": bucket.name,
            "LITELLM_PROXY_CONFIG_S3_OBJECT": config_object.key,
            # A changed proxy config is a new task definition revision, so the services roll onto it.
            CONFIG_SHA_ENV: proxy_config.sha256,
        }
        if aws.database.readers:
            runtime_env |= {
                "DATABASE_HOST_READ_REPLICA": database.reader_endpoint,
                "DATABASE_PORT_READ_REPLICA": "5432",
            }

        lb = GatewayLoadBalancer(
            self,
            "lb",
            GatewayLoadBalancerProps(
                naming=naming,
                config=lb_config,
                account_id=account,
                production=production,
                vpc_id=network.vpc_id,
                subnet_ids=network.public_subnet_ids if lb_config.internet_facing else network.private_subnet_ids,
                security_group_id=network.alb.id,
                targets={component: TargetSpec(PORTS[component], HEALTH[component]) for component in PORTS},
                default_target="backend",
                rules=path_rules(),
            ),
        )

        services: dict[str, GatewayService] = {}
        for component in ("gateway", "backend", "ui"):
            component_config = getattr(aws.components, component)
            entry_point: list[str] | None = ["sh", "-c"]
            if component == "ui":
                env, secrets, entry_point = dict(component_config.extra_env), {}, None
                command = ["ui"] if unified else None
                readable: list[GatewaySecret] = []
            else:
                env = {
                    **runtime_env,
                    **_otel_env(aws, naming.name(component), config.env),
                    **component_config.extra_env,
                }
                if component == "backend":
                    env["UI_USERNAME"] = "admin"
                readable = readers[component]
                secrets = {item.env_var: item.value_from for item in readable} | extra_secret_arns[component]
                command = _launch(component, unified, component_config.workers)
            container = ContainerSpec(
                name=component,
                image=aws.image(component),
                log_group=log_groups[component].name,
                region=region,
                port=PORTS[component],
                env=env,
                secrets=secrets,
                entry_point=entry_point,
                command=command,
            )
            services[component] = GatewayService(
                self,
                f"{component}-service",
                GatewayServiceProps(
                    name=naming.name(component),
                    cluster=cluster,
                    task=task(component, component_config.cpu, component_config.memory, container, readable),
                    config=component_config,
                    subnet_ids=network.private_subnet_ids,
                    security_group_id=network.tasks[component].id,
                    target_group_arn=lb.target_groups[component].arn,
                    autoscaling=component != "ui",
                    # Never start against an unmigrated schema; the listener rules exist before traffic arrives.
                    depends_on=[*lb.listeners, *lb.rules, *([] if component == "ui" else [one_off.done])],
                ),
            )

        # Read by the quotas stack (cross-stack reference).
        self.gateway_url = lb.url
        TerraformOutput(self, "alb_dns_name", value=lb.lb.dns_name, description="Point your DNS name here")
        TerraformOutput(self, "gateway_url", value=lb.url)
        TerraformOutput(self, "master_key_secret_arn", value=master_key.arn)
        TerraformOutput(self, "ui_password_secret_arn", value=ui_password.arn)
        TerraformOutput(self, "redis_auth_secret_arn", value=redis_auth.arn)
        TerraformOutput(self, "database_master_secret_arn", value=database.master_secret_arn)
        TerraformOutput(
            self,
            "provider_key_secret_arns",
            value={item.name: secret.arn for item, secret in zip(config.provider_keys, provider_keys, strict=True)},
            description="Put each value in out of band: aws secretsmanager put-secret-value --secret-id <arn> "
            "--secret-string file://<file> --version-stages AWSCURRENT v<version>",
        )
        TerraformOutput(self, "migration_command", value=one_off.command)
        TerraformOutput(self, "ecs_cluster", value=cluster.name)
        TerraformOutput(self, "aurora_writer_endpoint", value=database.endpoint)
        TerraformOutput(self, "aurora_reader_endpoint", value=database.reader_endpoint)
        TerraformOutput(self, "redis_endpoint", value=f"{cache.host}:{cache.port}", description="TLS and AUTH required")
        TerraformOutput(self, "s3_bucket", value=bucket.name)
