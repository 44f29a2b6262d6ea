"""`gcp-<env>`: the LiteLLM gateway on Google Cloud.

gateway (4000), backend (4001) and ui (3000) run on Cloud Run behind a global external HTTPS load balancer that
routes the shared path list; Cloud SQL PostgreSQL, Memorystore Redis and a GCS bucket sit on the private
network; Secret Manager holds every credential; a Cloud Run job applies the Prisma migrations before the
services start. One construct per concern in constructs_lib/gcp/.
"""

from __future__ import annotations

from cdktf import TerraformOutput
from cdktf_cdktf_provider_random.provider import RandomProvider
from constructs import Construct

from constructs_lib._common.ephemeral import ephemeral_random_password
from constructs_lib._common.errors import PropsError
from constructs_lib.config.gcp import IMAGE_COMPONENTS, IMAGE_PATTERN, GcpConfig
from constructs_lib.gcp.apis import GatewayApis
from constructs_lib.gcp.bucket import GatewayBucket, GatewayBucketProps
from constructs_lib.gcp.cache import GatewayCache, GatewayCacheProps
from constructs_lib.gcp.cloud_run import LITELLM_PROBES, UI_PROBES, GatewayService, GatewayServiceProps, SecretFile
from constructs_lib.gcp.database import GatewayDatabase, GatewayDatabaseProps
from constructs_lib.gcp.load_balancer import GatewayLoadBalancer, GatewayLoadBalancerProps
from constructs_lib.gcp.migrations import MigrationsJob, MigrationsJobProps
from constructs_lib.gcp.network import GatewayNetwork, GatewayNetworkProps
from constructs_lib.gcp.secrets import GatewaySecret, GatewaySecretProps, WriteOnlyValue
from constructs_lib.gcp.service_accounts import GatewayServiceAccounts
from constructs_lib.gcp.url_map_paths import shared_url_map_rules
from stacks.context import StackContext
from stacks.gcp.base import GcpStack

PORTS = {"gateway": 4000, "backend": 4001, "ui": 3000}
# The Memorystore CA certificate, mounted from Secret Manager; REDIS_SSL_CA_CERTS points at it.
REDIS_CA_DIR, REDIS_CA_FILE = "/etc/litellm/redis-ca", "ca.pem"


def _require_digests_in_production(gcp: GcpConfig) -> None:
    """Production runs exactly the bytes that were reviewed: every image pinned by digest."""
    for component in IMAGE_COMPONENTS:
        image = gcp.image(component)
        parsed = IMAGE_PATTERN.match(image)
        if parsed is None or not parsed["digest"]:
            raise PropsError(
                gcp.image_config_path(component),
                f"{image!r}: production environments need images pinned by digest (`...@sha256:<64 hex>`)",
            )


def _uvicorn_command(module: str, port: int, workers: int) -> list[str]:
    """Build DATABASE_URL from the discrete env vars (the password comes from Secret Manager), then start.

    `$NAME` without braces: `${...}` would be read as a Terraform interpolation.
    """
    url = "postgresql://$DATABASE_USER:$DATABASE_PASSWORD@{host}:$DATABASE_PORT/$DATABASE_NAME?sslmode=require"
    script = f'export DATABASE_URL="{url.format(host="$DATABASE_HOST")}"'
    replica_url = url.format(host="$DATABASE_HOST_READ_REPLICA")
    script += f' && if [ -n "$DATABASE_HOST_READ_REPLICA" ]; then export DATABASE_URL_READ_REPLICA="{replica_url}"; fi'
    script += f" && exec uvicorn {module}:app --host 0.0.0.0 --port {port} --workers {workers}"
    return ["sh", "-c", script]


class GcpGatewayStack(GcpStack):
    def __init__(self, scope: Construct, context: StackContext) -> None:
        super().__init__(scope, context)
        config, naming = context.config, context.naming
        gcp = config.cloud("gcp")
        assert isinstance(gcp, GcpConfig)
        production = config.production
        if production:
            _require_digests_in_production(gcp)
        # Ephemeral random_password (master key, DB password) comes from hashicorp/random.
        RandomProvider(self, "random")

        network_apis = ("compute.googleapis.com", "servicenetworking.googleapis.com")
        network_apis += ("vpcaccess.googleapis.com",) if gcp.network.egress == "connector" else ()
        apis = GatewayApis(
            self, "apis", extra_apis=(*network_apis, *(("cloudkms.googleapis.com",) if gcp.database.cmek_key else ()))
        )
        network = GatewayNetwork(
            self,
            "network",
            GatewayNetworkProps(
                naming=naming,
                region=self.region,
                config=gcp.network,
                depends_on=apis.of(*network_apis),
            ),
        )
        accounts = GatewayServiceAccounts(self, "identities", naming, depends_on=apis.of("iam.googleapis.com"))

        secret_apis = apis.of("secretmanager.googleapis.com")
        pin = gcp.secrets.version_pin == "pinned"

        def secret(construct_id: str, env_var: str, **kwargs: object) -> GatewaySecret:
            return GatewaySecret(
                self,
                construct_id,
                GatewaySecretProps(
                    secret_id=naming.name(construct_id),
                    env_var=env_var,
                    production=production,
                    pin_version=pin,
                    depends_on=secret_apis,
                    **kwargs,  # type: ignore[arg-type]
                ),
            )

        master_key = secret(
            "master-key",
            "LITELLM_MASTER_KEY",
            write_only=WriteOnlyValue(
                value=f"sk-{ephemeral_random_password(self, 'master_key', length=48)}",
                version=gcp.secrets.master_key_version,
            ),
        )
        # One ephemeral value, written to the SQL user and to its secret in the same apply.
        database_password = WriteOnlyValue(
            value=ephemeral_random_password(self, "database_password", length=32),
            version=gcp.secrets.database_password_version,
        )
        db_password = secret("db-password", "DATABASE_PASSWORD", write_only=database_password)
        database = GatewayDatabase(
            self,
            "database",
            GatewayDatabaseProps(
                naming=naming,
                region=self.region,
                network_id=network.network_id,
                config=gcp.database,
                production=production,
                password=database_password,
                depends_on=[*apis.of("sqladmin.googleapis.com"), *network.private_services],
            ),
        )
        cache = GatewayCache(
            self,
            "cache",
            GatewayCacheProps(
                naming=naming,
                region=self.region,
                network_id=network.network_id,
                config=gcp.cache,
                production=production,
                depends_on=[*apis.of("redis.googleapis.com"), *network.private_services],
            ),
        )
        redis_password = secret("redis-auth", "REDIS_PASSWORD", state_value=cache.auth_string)
        redis_ca = secret("redis-ca", "", state_value=cache.ca_certificate)
        provider_keys = [
            secret(f"provider-{key.name}", key.env_var, out_of_band_version=key.version) for key in config.provider_keys
        ]

        bucket = GatewayBucket(
            self,
            "bucket",
            GatewayBucketProps(
                name=naming.name(f"litellm-{gcp.project}", "google_storage_bucket"),
                location=self.region.upper(),
                production=production,
                object_users=[(component, accounts.member(component)) for component in ("gateway", "backend")],
                depends_on=apis.of("storage.googleapis.com"),
            ),
        )

        # Per-secret grants: each identity reads exactly the secrets its container references.
        readers = {
            "gateway": [master_key, db_password, redis_password, redis_ca, *provider_keys],
            "backend": [master_key, db_password, redis_password, redis_ca],
            "migrations": [db_password],
        }
        grants = {
            component: [item.grant_read(accounts.member(component), component) for item in secrets]
            for component, secrets in readers.items()
        }

        database_env = {
            "DATABASE_HOST": database.private_ip,
            "DATABASE_PORT": "5432",
            "DATABASE_USER": database.user.name,
            "DATABASE_NAME": database.database.name,
        }
        migrations = MigrationsJob(
            self,
            "migrations",
            MigrationsJobProps(
                name=naming.name("migrations", "google_cloud_run_v2_service"),
                project=self.project,
                region=self.region,
                image=gcp.image("migrations"),
                service_account_email=accounts.email("migrations"),
                config=gcp.migrations,
                egress=network.egress,
                production=production,
                env=database_env,
                secrets=[db_password],
                depends_on=[*apis.of("run.googleapis.com"), *grants["migrations"], database.user, database.database],
            ),
        )

        ca_file = SecretFile(secret=redis_ca, volume="redis-ca", mount_dir=REDIS_CA_DIR, file_name=REDIS_CA_FILE)
        runtime_env = {
            **database_env,
            "REDIS_HOST": cache.host,
            "REDIS_PORT": cache.port,
            "REDIS_SSL": "true",
            "REDIS_SSL_CA_CERTS": ca_file.path,
            "GCS_BUCKET_NAME": bucket.name,
        }
        if database.replica_private_ip:
            runtime_env |= {"DATABASE_HOST_READ_REPLICA": database.replica_private_ip}
        services: dict[str, GatewayService] = {}
        for component, module, extra_env in (
            ("gateway", "gateway.main", {}),
            ("backend", "backend.main", {"STORE_MODEL_IN_DB": "true"}),
        ):
            component_config = getattr(gcp.components, component)
            services[component] = GatewayService(
                self,
                f"{component}-service",
                GatewayServiceProps(
                    name=naming.name(component, "google_cloud_run_v2_service"),
                    region=self.region,
                    image=gcp.image(component),
                    port=PORTS[component],
                    service_account_email=accounts.email(component),
                    config=component_config,
                    probes=LITELLM_PROBES,
                    production=production,
                    egress=network.egress,
                    env={**runtime_env, **extra_env},
                    secrets=[item for item in readers[component] if item is not redis_ca],
                    secret_files=[ca_file],
                    # One uvicorn worker per vCPU.
                    command=_uvicorn_command(module, PORTS[component], int(component_config.cpu)),
                    depends_on=[*apis.of("run.googleapis.com"), *grants[component], migrations.done],
                ),
            )
        services["ui"] = GatewayService(
            self,
            "ui-service",
            GatewayServiceProps(
                name=naming.name("ui", "google_cloud_run_v2_service"),
                region=self.region,
                image=gcp.image("ui"),
                port=PORTS["ui"],
                service_account_email=accounts.email("ui"),
                config=gcp.components.ui,
                probes=UI_PROBES,
                production=production,
                always_on_cpu=False,
                depends_on=apis.of("run.googleapis.com"),
            ),
        )

        lb = GatewayLoadBalancer(
            self,
            "lb",
            GatewayLoadBalancerProps(
                naming=naming,
                region=self.region,
                config=gcp.load_balancer,
                services={component: service.name for component, service in services.items()},
                default_component="backend",
                rules=shared_url_map_rules(),
            ),
        )
        # Read by the quotas stack (cross-stack reference).
        self.gateway_url = lb.url

        TerraformOutput(self, "lb_ip", value=lb.address.address, description="Point lb_domains' DNS records here")
        TerraformOutput(self, "gateway_url", value=lb.url)
        for component, service in services.items():
            TerraformOutput(
                self,
                f"{component}_service_url",
                value=service.uri,
                description="Cloud Run URL; ingress admits only the load balancer",
            )
        TerraformOutput(self, "master_key_secret_id", value=master_key.id)
        TerraformOutput(self, "database_password_secret_id", value=db_password.id)
        TerraformOutput(self, "redis_auth_secret_id", value=redis_password.id)
        TerraformOutput(
            self,
            "provider_key_secret_ids",
            value={key.name: item.id for key, item in zip(config.provider_keys, provider_keys, strict=True)},
            description="Put each value in out of band: gcloud secrets versions add <id> --data-file=-",
        )
        TerraformOutput(self, "migration_command", value=migrations.command)
