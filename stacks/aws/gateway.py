"""`aws-<env>`: the LiteLLM gateway on AWS.

gateway (4000), backend (4001) and ui (3000) run as ECS Fargate services in private subnets behind a path-routing
ALB (internal by default) that routes the shared path list; Aurora PostgreSQL (IAM auth, SSL enforced), ElastiCache
Redis (TLS + AUTH) and an S3 bucket sit on the private network; Secrets Manager holds every credential, encrypted
with the gateway's KMS key; one-off ECS tasks create the IAM-auth database user and apply the Prisma migrations
before the services start. One construct per concern in constructs_lib/aws/.

Options (clouds.aws, all off by default; docs/DESIGN.md "AWS parity"): brought or no PostgreSQL/Redis
(`database.source`/`cache.source`), tasks in public subnets, dependencies-only mode (`create_runtime: false`),
memory/requests/tokens autoscaling, the metrics and spend-collector sidecars, PgBouncer, Bedrock model import.
"""

from __future__ import annotations

import re

from cdktf import TerraformOutput, Token
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.s3_object import S3Object
from cdktf_cdktf_provider_random.password import Password
from cdktf_cdktf_provider_random.provider import RandomProvider
from constructs import Construct

from constructs_lib._common.ephemeral import ephemeral_random_password
from constructs_lib._common.errors import PropsError
from constructs_lib._common.litellm_config import (
    CONFIG_SHA_ENV,
    DATABASE_URL_ENV,
    MASTER_KEY_ENV,
    REDIS_ENV,
    ProxyRuntime,
    render_proxy_config,
)
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
from constructs_lib.aws.database import (
    GatewayDatabase,
    GatewayDatabaseProps,
    cluster_identifier,
    postgres_log_group_name,
)
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
from constructs_lib.aws.rds_ca import PSQL_VERIFY_FULL_ENV, VERIFY_FULL_ENV, rds_root_pem, with_rds_ca
from constructs_lib.aws.secrets import GatewaySecret, GatewaySecretProps, WriteOnlyValue
from constructs_lib.aws.secure_bucket import SecureBucket, SecureBucketProps
from constructs_lib.config.aws import AwsConfig
from constructs_lib.config.components import IMAGE_COMPONENTS, pinned_by_digest
from constructs_lib.config.environment import EnvironmentConfig
from stacks.aws.base import AwsStack
from stacks.context import StackContext

PORTS = {"gateway": GATEWAY_PORT, "backend": BACKEND_PORT, "ui": UI_PORT}
HEALTH = {"gateway": GATEWAY_HEALTH_PATH, "backend": BACKEND_HEALTH_PATH, "ui": UI_HEALTH_PATH}
# Written at start by the task itself (Fargate's writable layer), read by LiteLLM; never shared between tasks.
CONFIG_PATH = "/tmp/litellm/proxy_config.yaml"  # noqa: S108
# Fetch the proxy config version the task definition names, refuse it unless its SHA-256 is the one in the
# definition. `sys.exit(<text>)` exits 1 with the text on stderr; an `assert` would vanish under PYTHONOPTIMIZE.
# The version pin is what makes a rollback work: the object key never changes (an in-place update writes a new
# version; the bucket expires noncurrent versions after its rollback window), so an older revision still fetches
# exactly its own document. Replacing a content-addressed object instead deletes every version of the old key
# (hashicorp/terraform-provider-aws internal/service/s3/object.go resourceObjectDelete: deleteAllObjectVersions
# when version_id is set), and a circuit-breaker rollback then exits on NoSuchKey.
FETCH_CONFIG_COMMAND = (
    'python -c "import hashlib, os, sys, boto3; e = os.environ; '
    "os.makedirs(os.path.dirname(e['CONFIG_FILE_PATH']), exist_ok=True); "
    "boto3.client('s3', region_name=e['AWS_REGION']).download_file("
    "e['LITELLM_PROXY_CONFIG_S3_BUCKET'], e['LITELLM_PROXY_CONFIG_S3_OBJECT'], e['CONFIG_FILE_PATH'], "
    "ExtraArgs={'VersionId': e['LITELLM_PROXY_CONFIG_S3_VERSION']}); "
    "digest = hashlib.sha256(open(e['CONFIG_FILE_PATH'], 'rb').read()).hexdigest(); "
    f"sys.exit(0 if digest == e['{CONFIG_SHA_ENV}'] else 'proxy config digest mismatch')\""
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


def check_environment(config: EnvironmentConfig, aws: AwsConfig) -> None:
    """Refusals that need more than the `clouds.aws` section (production, the quotas stack)."""
    if config.production and aws.network.tasks_in_public_subnets:
        raise PropsError(
            "clouds.aws.network.tasks_in_public_subnets",
            "a cost option for dev; production tasks stay in private subnets",
        )
    if not (config.quotas.enabled and config.agents):
        return
    if aws.database.source == "none":
        raise PropsError(
            "clouds.aws.database.source",
            "`none`, but the quotas stack registers every agent's key in LiteLLM's database; keep a database, "
            "or set quotas.enabled: false",
        )
    if not aws.create_runtime and aws.external_gateway_url is None:
        raise PropsError(
            "clouds.aws.external_gateway_url",
            "dependencies-only mode has no load balancer whose URL the quotas stack could read; set the URL of the "
            "gateway you run, or set quotas.enabled: false",
        )


# The unified image's entrypoint: its first argument selects the role (gateway, backend, ui, migrations).
UNIFIED_ENTRYPOINT = "/app/docker-entrypoint.sh"


def _launch(component: str, unified: bool, workers: int) -> list[str]:
    """gateway/backend: fetch and check the proxy config, then exec the server (one uvicorn worker per `workers`)."""
    if unified:
        start = f"{UNIFIED_ENTRYPOINT} {component}" + (f" --workers {workers}" if component == "gateway" else "")
    else:
        start = f"uvicorn {component}.main:app --host 0.0.0.0 --port {PORTS[component]} --workers {workers}"
    return [f"{FETCH_CONFIG_COMMAND} && exec {start}"]


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
        check_environment(config, aws)
        db_source, cache_source, runtime = aws.database.source, aws.cache.source, aws.create_runtime
        metrics = aws.metrics
        region, account = aws.region, aws.account_id
        unified = aws.unified_image is not None
        # Ephemeral random_password (master key, UI password) and the Redis token come from hashicorp/random.
        RandomProvider(self, "random")

        key = GatewayKey(
            self,
            "kms",
            GatewayKeyProps(
                prefix=naming.prefix,
                account_id=account,
                region=region,
                production=production,
                extra_log_groups=[postgres_log_group_name(cluster_identifier(naming))]
                if db_source == "managed"
                else [],
            ),
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
                # Dependencies-only mode: the runtime identities' groups (gateway, backend), no ALB, no UI.
                ports=PORTS if aws.create_runtime else {name: PORTS[name] for name in ("gateway", "backend")},
                alb_ingress_cidrs=lb_config.ingress_cidrs,
                alb_ports=[443, 80] if lb_config.certificate_arn else [80],
                managed_database=db_source == "managed",
                managed_cache=cache_source == "managed",
                external_database=(aws.database.egress_cidrs, aws.database.external_port)
                if db_source == "external"
                else None,
                external_cache=(aws.cache.egress_cidrs, aws.cache.external_port)
                if cache_source == "external"
                else None,
                metrics_port=metrics.port if metrics.enabled and runtime else None,
                metrics_scrape_cidrs=metrics.scrape_cidrs,
                tasks_in_public_subnets=aws.network.tasks_in_public_subnets,
                load_balancer=aws.create_runtime,
                production=production,
            ),
        )

        def secret(construct_id: str, env_var: str, description: str, **kwargs: object) -> GatewaySecret:
            return GatewaySecret(
                self,
                construct_id,
                GatewaySecretProps(
                    name=str(kwargs.pop("name", None) or naming.name(construct_id)),
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
        redis_auth: GatewaySecret | None = None
        if cache_source == "managed":
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
        # Brought stores: Terraform creates the (empty) secret; the URL goes in out of band with label v<version>.
        database_url: GatewaySecret | None = None
        if db_source == "external":
            database_url = secret(
                "database-url",
                DATABASE_URL_ENV,
                "PostgreSQL URL of the brought LiteLLM database: put in out of band with staging label v<version>",
                name=aws.database.url_secret,
                version=aws.database.url_secret_version,
            )
        redis_url: GatewaySecret | None = None
        if cache_source == "external":
            redis_url = secret(
                "redis-url",
                "REDIS_URL",
                "Redis URL (rediss:// for TLS) of the brought LiteLLM cache: put in out of band with label v<version>",
                name=aws.cache.url_secret,
                version=aws.cache.url_secret_version,
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

        database: GatewayDatabase | None = None
        if db_source == "managed":
            assert network.database is not None
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
                    log_retention_days=aws.log_retention_days,
                ),
            )
        cache: GatewayCache | None = None
        if cache_source == "managed":
            assert network.cache is not None
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
                    auth_rotation=versions.redis_auth_rotation,
                    production=production,
                    log_retention_days=aws.log_retention_days,
                ),
            )
        bucket = SecureBucket(
            self,
            "bucket",
            SecureBucketProps(bucket_name=naming.name(f"litellm-{account}"), kms_key_arn=key.arn),
        )
        proxy_runtime = ProxyRuntime(
            # An external Redis is TLS when its URL is `rediss://`; the document keeps TLS on (see docs/DESIGN.md).
            redis="none" if cache_source == "none" else "tls",
            database=db_source != "none",
            metrics=metrics.enabled and runtime,
        )
        proxy_config = render_proxy_config(config, proxy_runtime)
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
        if aws.bedrock_custom_model_import:
            _bedrock_model_import_role(self, naming.name("bedrock-model-import", "aws_iam_role"), aws, bucket, key.arn)

        # Which task families exist: no migrations without a database, no IAM-user bootstrap without Aurora, and
        # in dependencies-only mode the identities of gateway, backend and migrations only.
        families = ["gateway", "backend"]
        if runtime:
            families.append("ui")
        if db_source != "none":
            families.append("migrations")
        if database is not None and runtime:
            families.append("bootstrap-db")
        cluster = GatewayCluster(self, "cluster", naming.name("litellm")) if runtime else None
        log_groups = {
            family: log_group(self, f"{family}-logs", f"/{naming.prefix}/ecs/{family}", aws.log_retention_days, key.arn)
            for family in families
        }

        # What each family's container reads: env var -> GatewaySecret.
        otel = aws.otel
        extra_secret_arns = {
            component: dict(getattr(aws.components, component).extra_secrets) for component in ("gateway", "backend")
        }
        if otel.endpoint and otel.headers_secret_arn:
            for component in extra_secret_arns:
                extra_secret_arns[component].setdefault("OTEL_HEADERS", otel.headers_secret_arn)
        store_secrets = [item for item in (redis_auth, database_url, redis_url) if item is not None]
        # A key being added (version 0) is created but referenced by nothing until its first value is in.
        ready_keys = [secret for item, secret in zip(config.provider_keys, provider_keys, strict=True) if item.ready]
        readers = {
            "gateway": [master_key, salt_key, *store_secrets, *ready_keys],
            "backend": [master_key, salt_key, *store_secrets, ui_password],
            "migrations": [database_url] if database_url is not None else [],
        }

        data_access = [
            DataAwsIamPolicyDocumentStatement(
                sid="ListGatewayBucket", actions=["s3:ListBucket"], resources=[bucket.arn]
            ),
            DataAwsIamPolicyDocumentStatement(
                sid="UseGatewayBucketObjects",
                # GetObjectVersion: the proxy config is fetched by the version its task definition pins.
                actions=["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject"],
                resources=[f"{bucket.arn}/*"],
            ),
            DataAwsIamPolicyDocumentStatement(
                sid="GatewayKeyThroughS3",
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=[key.arn],
                condition=[via_service("s3", region)],
            ),
        ]
        connect = (
            [
                DataAwsIamPolicyDocumentStatement(
                    sid="ConnectAsAppUser", actions=["rds-db:connect"], resources=[database.connect_arn]
                )
            ]
            if database is not None
            else []
        )
        task_statements = {
            "gateway": [*data_access, *connect],
            "backend": [*data_access, *connect],
            "ui": [],
            "migrations": list(connect),
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
            "migrations": [item.arn for item in readers["migrations"]],
            "bootstrap-db": [database.master_secret_arn] if database is not None else [],
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

        # LiteLLM's componentized entrypoints build DATABASE_URL from these (with a fresh IAM token) before the
        # proxy reads its config, verifying the server's certificate and the endpoint name against the RDS root
        # (constructs_lib/aws/rds_ca.py). A brought database arrives as a ready DATABASE_URL secret instead.
        database_env = {"AWS_REGION": region, "AWS_REGION_NAME": region}
        rds_root = rds_root_pem(region) if database is not None else None
        if database is not None:
            database_env = {
                "IAM_TOKEN_DB_AUTH": "true",
                **VERIFY_FULL_ENV,
                "DATABASE_HOST": database.endpoint,
                "DATABASE_PORT": "5432",
                "DATABASE_USER": database.app_user,
                "DATABASE_NAME": database.database_name,
                **database_env,
            }
        runtime_env = dict(database_env)
        if cache is not None:
            runtime_env |= {REDIS_ENV["host"]: cache.host, REDIS_ENV["port"]: cache.port, REDIS_ENV["ssl"]: "true"}
        runtime_env |= {
            "S3_BUCKET_NAME": bucket.name,
            "S3_REGION_NAME": region,
            "CONFIG_FILE_PATH": CONFIG_PATH,
            "LITELLM_PROXY_CONFIG_S3_BUCKET": bucket.name,
            "LITELLM_PROXY_CONFIG_S3_OBJECT": config_object.key,
            "LITELLM_PROXY_CONFIG_S3_VERSION": config_object.version_id,
            # A changed proxy config is a new task definition revision, so the services roll onto it.
            CONFIG_SHA_ENV: proxy_config.sha256,
        }
        if database is not None and aws.database.readers:
            runtime_env |= {
                "DATABASE_HOST_READ_REPLICA": database.reader_endpoint,
                "DATABASE_PORT_READ_REPLICA": "5432",
            }

        # Outputs every mode has.
        TerraformOutput(self, "master_key_secret_arn", value=master_key.arn)
        null = Token.null_value()
        TerraformOutput(self, "ui_password_secret_arn", value=ui_password.arn)
        TerraformOutput(self, "redis_auth_secret_arn", value=redis_auth.arn if redis_auth else null)
        TerraformOutput(self, "database_master_secret_arn", value=database.master_secret_arn if database else null)
        for name, brought in (("database_url_secret_arn", database_url), ("redis_url_secret_arn", redis_url)):
            if brought is not None:
                TerraformOutput(self, name, value=brought.arn, description="Put the URL in out of band as v<version>")
        TerraformOutput(
            self,
            "provider_key_secret_arns",
            value={item.name: secret.arn for item, secret in zip(config.provider_keys, provider_keys, strict=True)},
            description="Put each value in out of band: aws secretsmanager put-secret-value --secret-id <arn> "
            "--secret-string file://<file> --version-stages AWSCURRENT v<version>",
        )
        TerraformOutput(
            self,
            "database_ca_root_pem",
            value=rds_root if rds_root else null,
            description="The RDS root Aurora's certificate chains to: DATABASE_SSLROOTCERT, with DATABASE_SSLMODE "
            "verify-full and the writer endpoint name",
        )
        TerraformOutput(self, "aurora_writer_endpoint", value=database.endpoint if database else null)
        TerraformOutput(self, "aurora_reader_endpoint", value=database.reader_endpoint if database else null)
        TerraformOutput(
            self,
            "redis_endpoint",
            value=f"{cache.host}:{cache.port}" if cache else null,
            description="TLS and AUTH required",
        )
        TerraformOutput(self, "s3_bucket", value=bucket.name)

        if not runtime:
            # Dependencies-only: the quotas stack talks to the gateway you run (refused above without its URL).
            self.gateway_url = aws.external_gateway_url
            TerraformOutput(
                self,
                "runtime_role_arns",
                value={family: identities[family].task_role.arn for family in identities},
                description="Task roles with the gateway's grants, for the LiteLLM you run (e.g. EKS Pod Identity)",
            )
            TerraformOutput(
                self,
                "runtime_security_group_ids",
                value={name: network.tasks[name].id for name in ("gateway", "backend")},
                description="Security groups the data stores admit; attach them to the pods",
            )
            TerraformOutput(self, "runtime_environment", value=runtime_env)
            for name in ("alb_dns_name", "gateway_url", "migration_command", "ecs_cluster"):
                TerraformOutput(self, name, value=Token.null_value(), description="null: dependencies-only mode")
            return
        assert cluster is not None

        def task(
            family: str,
            cpu: int,
            memory: int,
            container: ContainerSpec,
            secrets: list[GatewaySecret],
            sidecars: list[ContainerSpec] | None = None,
            volumes: list[str] | None = None,
        ) -> FargateTask:
            sidecars = list(sidecars or [])
            volumes = list(volumes or [])
            if rds_root is not None:
                container, sidecars, volumes = with_rds_ca(container, sidecars, volumes, rds_root)
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
                    sidecars=sidecars,
                    volumes=volumes,
                ),
            )

        # Public-subnet tasks need a public IP for the internet (no NAT); the one-off jobs then run there too.
        public_tasks = aws.network.tasks_in_public_subnets
        task_subnets = network.public_subnet_ids if public_tasks else network.private_subnet_ids
        steps: list[OneOffStep] = []
        if database is not None:
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
                        **PSQL_VERIFY_FULL_ENV,
                        "BOOTSTRAP_SQL": _BOOTSTRAP_SQL.format(user=database.app_user, database=database.database_name),
                    },
                    # `:password::` picks the password field of the RDS-managed JSON secret, at AWSCURRENT.
                    secrets={"PGPASSWORD": f"{database.master_secret_arn}:password::"},
                    entry_point=["sh", "-c"],
                    command=['printf "%s" "$BOOTSTRAP_SQL" | psql -v ON_ERROR_STOP=1'],
                ),
                [],
            )
            steps.append(OneOffStep("bootstrap-db", bootstrap.task, log_groups["bootstrap-db"].name))
        if db_source != "none":
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
                    secrets={item.env_var: item.value_from for item in readers["migrations"]},
                    command=["migrations"] if unified else None,
                ),
                readers["migrations"],
            )
            steps.append(OneOffStep("migrations", migrations_task.task, log_groups["migrations"].name))
        one_off: OneOffTasks | None = None
        if steps:
            one_off = OneOffTasks(
                self,
                "one-off",
                OneOffTasksProps(
                    region=region,
                    cluster_name=cluster.name,
                    subnet_ids=task_subnets,
                    security_group_id=network.jobs.id,
                    steps=steps,
                    auto_run=aws.migrations.auto_run,
                    triggers={"cluster": database.cluster.cluster_resource_id}
                    if database is not None
                    else {"database_url": database_url.value_from if database_url else ""},
                    depends_on=database.instances if database is not None else [],
                    assign_public_ip=public_tasks,
                    timeout_seconds=aws.migrations.timeout_seconds,
                ),
            )

        alb_group = network.alb
        assert alb_group is not None
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
                security_group_id=alb_group.id,
                targets={component: TargetSpec(PORTS[component], HEALTH[component]) for component in PORTS},
                default_target="backend",
                rules=path_rules(),
            ),
        )

        services: dict[str, GatewayService] = {}
        for component in ("gateway", "backend", "ui"):
            component_config = getattr(aws.components, component)
            entry_point: list[str] | None = ["sh", "-c"]
            sidecars: list[ContainerSpec] = []
            volumes: list[str] = []
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
                if component == "gateway":
                    command, sidecars, volumes = _gateway_extras(
                        aws, env, secrets, command, log_groups["gateway"].name, region
                    )
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
                mount_points=[(MULTIPROC_VOLUME, MULTIPROC_DIR)] if MULTIPROC_VOLUME in volumes else (),
            )
            target_group = lb.target_groups[component]
            services[component] = GatewayService(
                self,
                f"{component}-service",
                GatewayServiceProps(
                    name=naming.name(component),
                    cluster=cluster,
                    task=task(
                        component,
                        component_config.cpu,
                        component_config.memory,
                        container,
                        readable,
                        sidecars,
                        volumes,
                    ),
                    config=component_config,
                    subnet_ids=task_subnets,
                    security_group_id=network.tasks[component].id,
                    target_group_arn=target_group.arn,
                    autoscaling=component != "ui",
                    assign_public_ip=public_tasks,
                    request_count_label=f"{lb.lb.arn_suffix}/{target_group.arn_suffix}",
                    # Never start against an unmigrated schema; the listener rules exist before traffic arrives.
                    depends_on=[
                        *lb.listeners,
                        *lb.rules,
                        *([one_off.done] if component != "ui" and one_off is not None else []),
                    ],
                ),
            )

        # Read by the quotas stack (cross-stack reference).
        self.gateway_url = lb.url
        TerraformOutput(self, "alb_dns_name", value=lb.lb.dns_name, description="Point your DNS name here")
        TerraformOutput(self, "gateway_url", value=lb.url)
        TerraformOutput(self, "migration_command", value=one_off.command if one_off is not None else Token.null_value())
        TerraformOutput(self, "ecs_cluster", value=cluster.name)


# The workers' Prometheus samples, shared with the metrics sidecar (a task-scoped ephemeral volume).
MULTIPROC_VOLUME = "prometheus-multiproc"
MULTIPROC_DIR = "/tmp/litellm_prometheus_multiproc"  # noqa: S108 (a task volume, not the image's /tmp)


def _gateway_extras(
    aws: AwsConfig,
    env: dict[str, str],
    secrets: dict[str, str],
    command: list[str],
    log_group_name: str,
    region: str,
) -> tuple[list[str], list[ContainerSpec], list[str]]:
    """PgBouncer, the metrics sidecar and the spend collector of the gateway task: (command, sidecars, volumes).

    Mutates `env` with what the gateway container needs for them."""
    gateway = aws.components.gateway
    pool = aws.database.connection_pool
    if pool.enabled:
        # gateway.launch starts PgBouncer once, then forks the uvicorn workers onto it.
        start = f"python -m gateway.launch --host 0.0.0.0 --port {PORTS['gateway']} --workers {gateway.workers}"
        if aws.unified_image is not None:
            start = f"{UNIFIED_ENTRYPOINT} gateway --workers {gateway.workers}"
        command = [f"{FETCH_CONFIG_COMMAND} && exec {start}"]
        env |= {
            "LITELLM_PGBOUNCER_ENABLED": "true",
            "LITELLM_PGBOUNCER_MAX_DB_CONNECTIONS": str(pool.max_db_connections),
            "LITELLM_PGBOUNCER_MAX_CLIENT_CONN": str(pool.max_client_conn),
        }
    sidecars: list[ContainerSpec] = []
    volumes: list[str] = []
    image = aws.image("gateway")
    metrics, collector = aws.metrics, aws.spend_collector
    if metrics.enabled:
        env["PROMETHEUS_MULTIPROC_DIR"] = MULTIPROC_DIR
        volumes.append(MULTIPROC_VOLUME)
        sidecars.append(
            ContainerSpec(
                name="metrics",
                image=image,
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
        )
    if collector.enabled:
        collector_env = {
            "LITELLM_COLLECTOR_ENABLED": "true",
            "LITELLM_COLLECTOR_ADDRESS": f"tcp://127.0.0.1:{collector.port}",
            "LITELLM_COLLECTOR_BUFFER_SIZE": str(collector.buffer_size),
            "LITELLM_COLLECTOR_ON_UNAVAILABLE": collector.on_unavailable,
            "LITELLM_COLLECTOR_DRAIN_TIMEOUT_SECONDS": str(collector.drain_timeout_seconds),
        }
        env |= collector_env
        sidecars.append(
            ContainerSpec(
                name="collector",
                image=image,
                log_group=log_group_name,
                region=region,
                env={**env, "LITELLM_JOB_ROLE": "collector"},
                # The gateway's store and extra secrets; the collector writes spend, it calls no provider.
                secrets=dict(secrets),
                entry_point=["sh", "-c"],
                command=[f"{FETCH_CONFIG_COMMAND} && exec python -m litellm.proxy.collector"],
                essential=False,
                cpu=collector.cpu,
                memory=collector.memory,
            )
        )
    return command, sidecars, volumes


def _bedrock_model_import_role(scope: Construct, name: str, aws: AwsConfig, bucket: SecureBucket, key_arn: str) -> None:
    """The service role Bedrock Custom Model Import assumes to read weights under `models/` of the gateway bucket."""
    account, region = aws.account_id, aws.region
    trust = DataAwsIamPolicyDocument(
        scope,
        "bedrock-model-import-trust",
        statement=[
            DataAwsIamPolicyDocumentStatement(
                actions=["sts:AssumeRole"],
                principals=[
                    DataAwsIamPolicyDocumentStatementPrincipals(type="Service", identifiers=["bedrock.amazonaws.com"])
                ],
                # Confused deputy: only this account's import jobs in this region.
                condition=[
                    DataAwsIamPolicyDocumentStatementCondition(
                        test="StringEquals", variable="aws:SourceAccount", values=[account]
                    ),
                    DataAwsIamPolicyDocumentStatementCondition(
                        test="ArnLike",
                        variable="aws:SourceArn",
                        values=[f"arn:{_partition(region)}:bedrock:{region}:{account}:model-import-job/*"],
                    ),
                ],
            )
        ],
    )
    role = IamRole(
        scope,
        "bedrock-model-import-role",
        name=name,
        description="Bedrock Custom Model Import: reads model weights under models/ of the gateway bucket",
        assume_role_policy=trust.json,
    )
    read = DataAwsIamPolicyDocument(
        scope,
        "bedrock-model-import-read",
        statement=[
            DataAwsIamPolicyDocumentStatement(
                sid="ReadModelWeights",
                actions=["s3:GetObject", "s3:GetObjectAttributes"],
                resources=[f"{bucket.arn}/models/*"],
            ),
            DataAwsIamPolicyDocumentStatement(
                sid="ListModelWeights", actions=["s3:ListBucket"], resources=[bucket.arn]
            ),
            # The bucket is encrypted with the gateway key: decrypt through S3 only.
            DataAwsIamPolicyDocumentStatement(
                sid="DecryptModelWeights",
                actions=["kms:Decrypt"],
                resources=[key_arn],
                condition=[via_service("s3", region)],
            ),
        ],
    )
    IamRolePolicy(scope, "bedrock-model-import-policy", name="read-model-weights", role=role.id, policy=read.json)


def _partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"
