"""`AwsGateway`: everything the LiteLLM gateway on AWS is, composed from one construct per concern.

    gateway = AwsGateway(stack, AwsGatewayProps(config=environment_config, naming=Naming("acme", "dev")))
    gateway.gateway_url, gateway.outputs  # the stack writes each output as a TerraformOutput

The store modes (`clouds.aws.database.source`, `clouds.aws.cache.source`) and the runtime
(`clouds.aws.create_runtime`) are objects picked once here (database_stores.py, cache_stores.py, runtime.py);
nothing below branches on them.

Every resource is defined directly in the stack's scope, not under a `gateway` node: construct ids are a contract
(cdktf derives each resource's Terraform address and `//` metadata path from its construct path), so a namespace
node here would rename every resource of every deployed stack.
"""

from __future__ import annotations

from constructs import Construct

from constructs_lib._common.litellm_config import ProxyRuntime, render_proxy_config
from constructs_lib._common.outputs import GatewayOutput
from constructs_lib.aws.encryption import GatewayKey, GatewayKeyProps
from constructs_lib.aws.gateway.bedrock import bedrock_model_import_role
from constructs_lib.aws.gateway.cache_stores import CACHE_STORES
from constructs_lib.aws.gateway.containers import PORTS
from constructs_lib.aws.gateway.credentials import GatewayCredentials, SecretFactory
from constructs_lib.aws.gateway.database_stores import DATABASE_STORES
from constructs_lib.aws.gateway.props import AwsGatewayProps
from constructs_lib.aws.gateway.proxy_files import ProxyFiles
from constructs_lib.aws.gateway.runtime import DependenciesOnly, FargateRuntime, GatewayRuntime, RuntimeScope
from constructs_lib.aws.gateway.stores import StoreScope
from constructs_lib.aws.gateway.task_identities import FamiliesProps, TaskFamilies
from constructs_lib.aws.network import GatewayNetwork, GatewayNetworkProps
from constructs_lib.aws.secure_bucket import SecureBucket, SecureBucketProps


class AwsGateway:
    """The gateway's key, network, secrets, stores, bucket, proxy config, task identities and runtime, in `scope`."""

    def __init__(self, scope: Construct, props: AwsGatewayProps) -> None:
        props.validate()
        aws, naming, production = props.aws, props.naming, props.production
        database_store = DATABASE_STORES[aws.database.source]
        cache_store = CACHE_STORES[aws.cache.source]
        key = GatewayKey(
            scope,
            "kms",
            GatewayKeyProps(
                prefix=naming.prefix,
                account_id=aws.account_id,
                region=aws.region,
                production=production,
                extra_log_groups=database_store.log_group_names(naming),
            ),
        )
        network = self._network(scope, props, key.arn)
        secret = SecretFactory(scope, naming, key.arn, aws.secrets.recovery_window_days)
        self.credentials = GatewayCredentials(scope, secret, aws.secrets, props.config.provider_keys)
        stores = StoreScope(
            scope=scope,
            naming=naming,
            aws=aws,
            production=production,
            kms_key_arn=key.arn,
            network=network,
            secret=secret,
        )
        database, cache = database_store(stores), cache_store(stores)
        bucket = SecureBucket(
            scope,
            "bucket",
            SecureBucketProps(bucket_name=naming.name(f"litellm-{aws.account_id}"), kms_key_arn=key.arn),
        )
        proxy_runtime = ProxyRuntime(
            redis="tls" if cache.in_proxy_config else "none",
            database=database.in_proxy_config,
            metrics=aws.metrics.enabled and aws.create_runtime,
        )
        files = ProxyFiles(scope, bucket, key.arn, render_proxy_config(props.config, proxy_runtime))
        if aws.bedrock_custom_model_import:
            bedrock_model_import_role(scope, naming.name("bedrock-model-import", "aws_iam_role"), aws, bucket, key.arn)
        families = TaskFamilies(
            scope,
            FamiliesProps(
                naming=naming,
                aws=aws,
                kms_key_arn=key.arn,
                bucket=bucket,
                credentials=self.credentials,
                database=database,
                cache=cache,
                runtime=aws.create_runtime,
            ),
        )
        runtime_env = database.task_env | cache.runtime_env() | files.env(aws.region) | database.runtime_env()
        runtime_kind = FargateRuntime if aws.create_runtime else DependenciesOnly
        self.runtime: GatewayRuntime = runtime_kind(
            RuntimeScope(
                scope=scope,
                naming=naming,
                aws=aws,
                env=props.config.env,
                production=production,
                network=network,
                families=families,
                database=database,
                runtime_env=runtime_env,
            )
        )
        # Read by the quotas stack (cross-stack reference).
        self.gateway_url = self.runtime.gateway_url
        self.outputs = self._outputs(props, bucket) | database.outputs() | cache.outputs() | self.runtime.outputs()

    @staticmethod
    def _network(scope: Construct, props: AwsGatewayProps, kms_key_arn: str) -> GatewayNetwork:
        aws, runtime, metrics = props.aws, props.aws.create_runtime, props.aws.metrics
        database = DATABASE_STORES[aws.database.source].access(aws.database)
        cache = CACHE_STORES[aws.cache.source].access(aws.cache)
        lb_config = aws.load_balancer
        return GatewayNetwork(
            scope,
            "network",
            GatewayNetworkProps(
                naming=props.naming,
                config=aws.network,
                zones=aws.availability_zones,
                account_id=aws.account_id,
                region=aws.region,
                kms_key_arn=kms_key_arn,
                # Dependencies-only mode: the runtime identities' groups (gateway, backend), no ALB, no UI.
                ports=PORTS if runtime else {name: PORTS[name] for name in ("gateway", "backend")},
                alb_ingress_cidrs=lb_config.ingress_cidrs,
                alb_ports=[443, 80] if lb_config.certificate_arn else [80],
                managed_database=database.managed,
                managed_cache=cache.managed,
                external_database=database.egress,
                external_cache=cache.egress,
                metrics_port=metrics.port if metrics.enabled and runtime else None,
                metrics_scrape_cidrs=metrics.scrape_cidrs,
                tasks_in_public_subnets=aws.network.tasks_in_public_subnets,
                load_balancer=runtime,
                production=props.production,
            ),
        )

    def _outputs(self, props: AwsGatewayProps, bucket: SecureBucket) -> dict[str, GatewayOutput]:
        """The outputs every mode has, besides the stores' and the runtime's."""
        credentials = self.credentials
        return {
            "master_key_secret_arn": GatewayOutput(credentials.master_key.arn),
            "ui_password_secret_arn": GatewayOutput(credentials.ui_password.arn),
            "provider_key_secret_arns": GatewayOutput(
                {name: secret.arn for name, secret in credentials.provider_keys.items()},
                "Put each value in out of band: aws secretsmanager put-secret-value --secret-id <arn> "
                "--secret-string file://<file> --version-stages AWSCURRENT v<version>",
            ),
            "s3_bucket": GatewayOutput(bucket.name),
        }
