"""`gcp-<env>`: the LiteLLM gateway on Google Cloud.

gateway (4000), backend (4001) and ui (3000) run on Cloud Run behind a global external HTTPS load balancer that
routes the shared path list; Cloud SQL PostgreSQL, Memorystore Redis and a GCS bucket sit on the private
network; Secret Manager holds every credential; a Cloud Run job applies the Prisma migrations before the
services start. The gateway and backend load LiteLLM's rendered config.yaml from a pinned Secret Manager version
(constructs_lib/gcp/proxy_config.py). One construct per concern in constructs_lib/gcp/.

Options (clouds.gcp, all off by default): bring-your-own PostgreSQL/Redis (`database.source`/`cache.source`
`external`, URL in Secret Manager) or none at all (`none`), dependencies-only mode (`create_runtime: false`),
Prometheus metrics and spend-collector sidecars, the gateway's PgBouncer (`database.connection_pool`) and
plaintext Redis (`cache.transit_encryption: false` with `allow_plaintext`). docs/DESIGN.md explains each.
"""

from __future__ import annotations

from collections.abc import Mapping

from cdktf import ITerraformDependable, TerraformOutput, Token
from cdktf_cdktf_provider_random.provider import RandomProvider
from constructs import Construct

from constructs_lib._common.ci_identity import gcp_ci_member
from constructs_lib._common.ephemeral import ephemeral_random_password
from constructs_lib._common.errors import PropsError
from constructs_lib._common.litellm_config import CONFIG_SHA_ENV, ProxyRuntime, render_proxy_config
from constructs_lib.config.environment import EnvironmentConfig
from constructs_lib.config.gcp import IMAGE_COMPONENTS, IMAGE_PATTERN, GcpConfig
from constructs_lib.gcp.apis import GatewayApis
from constructs_lib.gcp.bucket import GatewayBucket, GatewayBucketProps
from constructs_lib.gcp.cache import GatewayCache, GatewayCacheProps, redis_tls_client_env
from constructs_lib.gcp.ci_grants import CiPlanRefreshReads
from constructs_lib.gcp.cloud_run import (
    LITELLM_PROBES,
    UI_PROBES,
    GatewayService,
    GatewayServiceProps,
    SecretFile,
    Sidecar,
)
from constructs_lib.gcp.cloud_sql_connection import (
    CloudSqlConnection,
    database_url,
    grant_cloud_sql_client,
    instance_tls,
)
from constructs_lib.gcp.database import GatewayDatabase, GatewayDatabaseProps
from constructs_lib.gcp.image_mirror import image_mirror
from constructs_lib.gcp.load_balancer import GatewayLoadBalancer, GatewayLoadBalancerProps
from constructs_lib.gcp.metrics import GatewayMetrics, GatewayMetricsProps
from constructs_lib.gcp.migrations import MigrationsJob, MigrationsJobProps
from constructs_lib.gcp.network import GatewayNetwork, GatewayNetworkProps
from constructs_lib.gcp.proxy_config import GatewayProxyConfig, GatewayProxyConfigProps
from constructs_lib.gcp.secrets import GatewaySecret, GatewaySecretProps, WriteOnlyValue
from constructs_lib.gcp.service_accounts import GatewayServiceAccounts
from constructs_lib.gcp.url_map_paths import shared_url_map_rules
from stacks.context import StackContext
from stacks.gcp.base import GcpStack

PORTS = {"gateway": 4000, "backend": 4001, "ui": 3000}
MIGRATIONS_ENTRYPOINT = "python3 /app/run.py"
# The Memorystore CA certificates, mounted from Secret Manager; REDIS_SSL_CA_CERTS points at them.
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
    if gcp.metrics.enabled and "@sha256:" not in gcp.metrics.collector_image:
        raise PropsError(
            "clouds.gcp.metrics.collector_image",
            f"{gcp.metrics.collector_image!r}: production environments need images pinned by digest",
        )


def _check_environment(config: EnvironmentConfig, gcp: GcpConfig) -> None:
    """Refusals that need more than the `clouds.gcp` section (production, the quotas stack)."""
    if config.production and gcp.cache.source == "managed" and not gcp.cache.transit_encryption:
        raise PropsError(
            "clouds.gcp.cache.transit_encryption",
            "production environments keep Redis TLS; allow_plaintext is for trials",
        )
    if not (config.quotas.enabled and config.agents):
        return
    if gcp.database.source == "none":
        raise PropsError(
            "clouds.gcp.database.source",
            "`none`, but the quotas stack registers every agent's key in LiteLLM's database; keep a database, "
            "or set quotas.enabled: false",
        )
    if not gcp.create_runtime and gcp.external_gateway_url is None:
        raise PropsError(
            "clouds.gcp.external_gateway_url",
            "dependencies-only mode has no load balancer whose URL the quotas stack could read; set the URL of the "
            "gateway you run, or set quotas.enabled: false",
        )


def proxy_runtime(gcp: GcpConfig) -> ProxyRuntime:
    """What the LiteLLM document must say for these options: the same Redis, database and metrics as the env."""
    cache = gcp.cache
    if cache.source == "none":
        redis = "none"
    elif cache.source == "external":
        redis = "url"
    else:
        redis = "tls" if cache.transit_encryption else "plaintext"
    return ProxyRuntime(redis=redis, database=gcp.database.source != "none", metrics=gcp.metrics.enabled)


def _startup_command(
    start: str,
    *,
    build_database_url: bool,
    replica: bool,
    check_config: str | None = None,
    url_params: Mapping[str, int] | None = None,
) -> list[str]:
    """Refuse a proxy config other than the deployed one, build DATABASE_URL from the discrete env vars (the
    password comes from Secret Manager), then start.

    An external database arrives as a ready DATABASE_URL secret, and without a database there is nothing to
    build. `$NAME` without braces: `${...}` would be read as a Terraform interpolation.
    """
    steps = [check_config] if check_config else []
    if build_database_url:
        steps.append(f'export DATABASE_URL="{database_url("$DATABASE_HOST", url_params)}"')
        if replica:
            replica_url = database_url("$DATABASE_HOST_READ_REPLICA", url_params)
            steps.append(
                f'if [ -n "$DATABASE_HOST_READ_REPLICA" ]; then export DATABASE_URL_READ_REPLICA="{replica_url}"; fi'
            )
    steps.append(f"exec {start}")
    return ["sh", "-c", " && ".join(steps)]


def _uvicorn(module: str, port: int, workers: int) -> str:
    return f"uvicorn {module}:app --host 0.0.0.0 --port {port} --workers {workers}"


class GcpGatewayStack(GcpStack):
    def __init__(self, scope: Construct, context: StackContext) -> None:
        super().__init__(scope, context)
        config, naming = context.config, context.naming
        gcp = config.cloud("gcp")
        assert isinstance(gcp, GcpConfig)
        production = config.production
        if production:
            _require_digests_in_production(gcp)
        _check_environment(config, gcp)
        managed_db, managed_cache = gcp.database.source == "managed", gcp.cache.source == "managed"
        has_db, runtime = gcp.database.source != "none", gcp.create_runtime
        redis_tls = managed_cache and gcp.cache.transit_encryption
        # Ephemeral random_password (master key, DB password) comes from hashicorp/random.
        RandomProvider(self, "random")

        network_apis = ("compute.googleapis.com", "servicenetworking.googleapis.com")
        network_apis += ("vpcaccess.googleapis.com",) if gcp.network.egress == "connector" and runtime else ()
        extra_apis = (*network_apis, *(("cloudkms.googleapis.com",) if gcp.database.cmek_key else ()))
        extra_apis += ("monitoring.googleapis.com",) if gcp.metrics.enabled else ()
        apis = GatewayApis(self, "apis", extra_apis=extra_apis)
        network = GatewayNetwork(
            self,
            "network",
            GatewayNetworkProps(
                naming=naming,
                region=self.region,
                config=gcp.network,
                depends_on=apis.of(*network_apis),
                private_services_needed=managed_db or managed_cache,
                cloud_run=runtime,
            ),
        )
        # Dependencies-only mode: no UI runs here, so no UI identity.
        identities = ("gateway", "backend", "ui", "migrations") if runtime else ("gateway", "backend", "migrations")
        if not has_db:
            identities = tuple(component for component in identities if component != "migrations")
        # The stage's CI apply identity may act as exactly the accounts a Cloud Run service or job here runs as.
        accounts = GatewayServiceAccounts(
            self,
            "identities",
            naming,
            depends_on=apis.of("iam.googleapis.com"),
            components=identities,
            deployer=gcp_ci_member(naming.prefix, "apply", gcp.state.project),
            attached=identities if runtime else (),
        )

        secret_apis = apis.of("secretmanager.googleapis.com")
        pin = gcp.secrets.version_pin == "pinned"

        def secret(construct_id: str, env_var: str, secret_id: str | None = None, **kwargs: object) -> GatewaySecret:
            return GatewaySecret(
                self,
                construct_id,
                GatewaySecretProps(
                    secret_id=secret_id or naming.name(construct_id),
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
        # LITELLM_SALT_KEY: what LiteLLM encrypts stored credentials with instead of the master key, so the master key
        # can rotate. Read only once a version exists (salt_key_version >= 1); README "Salt key" has the migration.
        salt = gcp.secrets
        salt_key = secret(
            "salt-key",
            "LITELLM_SALT_KEY",
            write_only=WriteOnlyValue(
                value=f"sk-{ephemeral_random_password(self, 'salt_key', length=48)}", version=salt.salt_key_version
            )
            if salt.salt_key == "generated"
            else None,
            out_of_band_version=salt.salt_key_version,
        )
        salt_readers = [salt_key] if salt.salt_key_version >= 1 else []
        # Data store credentials: the managed stores' from this stack, an external store's URL put in out of band.
        db_secrets: list[GatewaySecret] = []
        database: GatewayDatabase | None = None
        db_password: GatewaySecret | None = None
        if managed_db:
            # One ephemeral value, written to the SQL user and to its secret in the same apply.
            database_password = WriteOnlyValue(
                value=ephemeral_random_password(self, "database_password", length=32),
                version=gcp.secrets.database_password_version,
            )
            db_password = secret("db-password", "DATABASE_PASSWORD", write_only=database_password)
            db_secrets.append(db_password)
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
                    max_connections=gcp.database_max_connections(production),
                    # Cloud Run reaches it through its Cloud SQL connection only (cloud_sql_connection.py).
                    **instance_tls(runtime, gcp.database.allow_private_ip_clients),
                    depends_on=[*apis.of("sqladmin.googleapis.com"), *network.private_services],
                ),
            )
        elif gcp.database.source == "external":
            db_secrets.append(
                secret(
                    "database-url",
                    "DATABASE_URL",
                    gcp.database.url_secret,
                    out_of_band_version=gcp.database.url_secret_version,
                )
            )
        cache: GatewayCache | None = None
        redis_secrets: list[GatewaySecret] = []
        redis_ca: GatewaySecret | None = None
        if managed_cache:
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
            redis_secrets.append(secret("redis-auth", "REDIS_PASSWORD", state_value=cache.auth_string))
            if redis_tls:
                redis_ca = secret("redis-ca", "", state_value=cache.ca_bundle)
        elif gcp.cache.source == "external":
            redis_secrets.append(
                secret("redis-url", "REDIS_URL", gcp.cache.url_secret, out_of_band_version=gcp.cache.url_secret_version)
            )
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

        # LiteLLM's reviewed config.yaml (model list, cache, database), loaded by the gateway and the backend only
        # (constructs_lib/gcp/proxy_config.py explains the mechanism); the UI and the migrations never read it.
        proxy_config = GatewayProxyConfig(
            self,
            "proxy-config",
            GatewayProxyConfigProps(
                secret_id=naming.name("proxy-config"),
                proxy_config=render_proxy_config(config, proxy_runtime(gcp)),
                readers={component: accounts.member(component) for component in ("gateway", "backend")},
                production=production,
                depends_on=secret_apis,
            ),
        )

        # Per-secret grants: each identity reads exactly the secrets its container references.
        ca_secrets = [redis_ca] if redis_ca else []
        # A key being added (version 0) is created but referenced by nothing until its first value is in.
        ready_keys = [secret for key, secret in zip(config.provider_keys, provider_keys, strict=True) if key.ready]
        readers = {
            "gateway": [master_key, *salt_readers, *db_secrets, *redis_secrets, *ca_secrets, *ready_keys],
            "backend": [master_key, *salt_readers, *db_secrets, *redis_secrets, *ca_secrets],
        }
        if has_db:
            readers["migrations"] = list(db_secrets)
        grants: dict[str, list[ITerraformDependable]] = {
            component: [item.grant_read(accounts.member(component), component) for item in secrets]
            for component, secrets in readers.items()
        }
        for component in grants:
            grants[component].extend(accounts.deployer_grants(component))
        for component, grant in proxy_config.grants.items():
            grants[component].append(grant)
            grants[component].extend(proxy_config.hook_grants.get(component, []))

        database_env: dict[str, str] = {}
        if database is not None:
            database_env = {
                "DATABASE_HOST": database.private_ip,
                "DATABASE_PORT": "5432",
                "DATABASE_USER": database.user.name,
                "DATABASE_NAME": database.database.name,
            }
        if database is not None and runtime:
            database_env |= CloudSqlConnection(database.connection_name).env
            for component in readers:
                grants[component].append(
                    grant_cloud_sql_client(
                        self,
                        f"sql-client-{component}",
                        self.project,
                        accounts.member(component),
                        database.instance_names,
                    )
                )

        if not runtime:
            migration_command = self._dependencies_outputs(gcp, database, cache, redis_ca, accounts, identities)
        else:
            migration_command = self._runtime(
                context,
                gcp,
                apis=apis,
                network=network,
                accounts=accounts,
                grants=grants,
                readers=readers,
                database=database,
                database_env=database_env,
                db_secrets=db_secrets,
                cache=cache,
                redis_ca=redis_ca,
                bucket=bucket,
                proxy_config=proxy_config,
            )

        TerraformOutput(self, "master_key_secret_id", value=master_key.id)
        TerraformOutput(
            self,
            "salt_key_secret_id",
            value=salt_key.id,
            description="LITELLM_SALT_KEY; out_of_band: its version 1 is a copy of the current master key (README)",
        )
        TerraformOutput(
            self,
            "proxy_config_secret",
            value={"id": proxy_config.secret.id, "version": proxy_config.secret.version},
            description="LiteLLM's config.yaml (env references only); gateway and backend mount this version "
            f"(its SHA-256 is their {CONFIG_SHA_ENV})",
        )
        TerraformOutput(
            self, "database_password_secret_id", value=db_password.id if db_password else Token.null_value()
        )
        TerraformOutput(
            self,
            "redis_auth_secret_id",
            value=redis_secrets[0].id if managed_cache else Token.null_value(),
        )
        for store, source, secrets in (("database", gcp.database, db_secrets), ("redis", gcp.cache, redis_secrets)):
            if source.source == "external":
                TerraformOutput(
                    self,
                    f"{store}_url_secret_id",
                    value=secrets[0].id,
                    description="Put the URL in out of band: gcloud secrets versions add <id> --data-file=-",
                )
        TerraformOutput(
            self,
            "provider_key_secret_ids",
            value={key.name: item.id for key, item in zip(config.provider_keys, provider_keys, strict=True)},
            description="Put each value in out of band: gcloud secrets versions add <id> --data-file=-",
        )
        TerraformOutput(self, "migration_command", value=migration_command or Token.null_value())
        # Last: grants the stage's CI plan identity what refreshing the resources above reads.
        CiPlanRefreshReads(self, "ci-plan-refresh", gcp_ci_member(naming.prefix, "plan", gcp.state.project))

    def _dependencies_outputs(
        self,
        gcp: GcpConfig,
        database: GatewayDatabase | None,
        cache: GatewayCache | None,
        redis_ca: GatewaySecret | None,
        accounts: GatewayServiceAccounts,
        identities: tuple[str, ...],
    ) -> None:
        """Dependencies-only mode: what a runtime elsewhere needs; the runtime outputs exist, as null (the
        migration command too: migrations run wherever LiteLLM runs)."""
        # Read by the quotas stack: the gateway you run yourself (None without quotas; refused otherwise).
        self.gateway_url = gcp.external_gateway_url
        null = Token.null_value()
        for name in ("lb_ip", "gateway_url", "gateway_service_url", "backend_service_url", "ui_service_url"):
            TerraformOutput(self, name, value=null)
        TerraformOutput(
            self,
            "runtime_service_accounts",
            value={component: accounts.email(component) for component in identities},
            description="Bind these to your runtime (GKE Workload Identity); each holds its secret grants",
        )
        TerraformOutput(self, "database_host", value=database.private_ip if database else null)
        TerraformOutput(
            self,
            "database_connection_name",
            value=database.connection_name if database else null,
            description="For the Cloud SQL Auth Proxy, which verifies the server (the private IP has no name in its "
            "certificate)",
        )
        TerraformOutput(
            self,
            "database_read_replica_host",
            value=database.replica_private_ip if database and database.replica_private_ip else null,
        )
        TerraformOutput(self, "redis_host", value=cache.host if cache else null)
        TerraformOutput(self, "redis_port", value=cache.port if cache else null)
        TerraformOutput(
            self,
            "redis_ca_secret_id",
            value=redis_ca.id if redis_ca else null,
            description="Memorystore's CA certificates (one PEM file): mount it as REDIS_SSL_CA_CERTS and set "
            "REDIS_SSL_CHECK_HOSTNAME=false (its certificate names the IP only in its CN)",
        )

    def _runtime(
        self,
        context: StackContext,
        gcp: GcpConfig,
        *,
        apis: GatewayApis,
        network: GatewayNetwork,
        accounts: GatewayServiceAccounts,
        grants: dict[str, list[ITerraformDependable]],
        readers: dict[str, list[GatewaySecret]],
        database: GatewayDatabase | None,
        database_env: dict[str, str],
        db_secrets: list[GatewaySecret],
        cache: GatewayCache | None,
        redis_ca: GatewaySecret | None,
        bucket: GatewayBucket,
        proxy_config: GatewayProxyConfig,
    ) -> str | None:
        """Cloud Run services and job, the load balancer, and their outputs; returns the migration command."""
        naming, production = context.naming, context.config.production
        has_db = gcp.database.source != "none"
        run_apis = apis.of("run.googleapis.com")
        # The remote repository image_registry points at (when it is one of this project) and the Cloud Run service
        # agent's read on it: no revision or job is created before its images can be pulled.
        mirror = image_mirror(
            self,
            "image-mirror",
            gcp.image_registry,
            self.project,
            depends_on=apis.of("artifactregistry.googleapis.com"),
        )
        run_apis = [*run_apis, *(mirror.ready if mirror else [])]
        services_wait_for: list[ITerraformDependable] = []
        migration_command: str | None = None
        connection = (
            CloudSqlConnection(database.connection_name, database.replica_connection_name) if database else None
        )
        cloud_sql = connection.instances if connection else []
        if has_db:
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
                    secrets=db_secrets,
                    # The image's entrypoint (python3 /app/run.py, BerriAI/litellm migrations/Dockerfile) after the
                    # socket URL; a brought database's URL arrives whole.
                    command=_startup_command(MIGRATIONS_ENTRYPOINT, build_database_url=True, replica=False)
                    if database
                    else None,
                    cloud_sql_instances=cloud_sql[:1],  # the writer: migrations never read the replica
                    depends_on=[
                        *run_apis,
                        *grants["migrations"],
                        *((database.user, database.database) if database else ()),
                    ],
                ),
            )
            services_wait_for.append(migrations.done)
            migration_command = migrations.command

        secret_files: list[SecretFile] = []
        runtime_env = dict(database_env)
        if cache is not None:
            runtime_env |= {"REDIS_HOST": cache.host, "REDIS_PORT": cache.port}
        if redis_ca is not None:
            ca_file = SecretFile(secret=redis_ca, volume="redis-ca", mount_dir=REDIS_CA_DIR, file_name=REDIS_CA_FILE)
            secret_files.append(ca_file)
            runtime_env |= redis_tls_client_env(ca_file.path)
        runtime_env["GCS_BUCKET_NAME"] = bucket.name
        runtime_env |= connection.reader_env if connection else {}

        def startup(start: str, *, loads_config: bool = False) -> list[str]:
            return _startup_command(
                start,
                build_database_url=database is not None,
                replica="DATABASE_HOST_READ_REPLICA" in runtime_env,
                check_config=proxy_config.check if loads_config else None,
                # Each instance's Prisma pools, sized against max_connections (constructs_lib/config/db_connections.py).
                url_params=gcp.database_pool_params(production),
            )

        gateway_config = gcp.components.gateway
        gateway_env: dict[str, str] = {}
        gateway_start = _uvicorn("gateway.main", PORTS["gateway"], gateway_config.processes)
        pool = gcp.database.connection_pool
        if pool.enabled:
            # gateway.launch starts PgBouncer once, then forks the uvicorn workers onto it.
            gateway_start = (
                f"python -m gateway.launch --host 0.0.0.0 --port {PORTS['gateway']} "
                f"--workers {gateway_config.processes}"
            )
            gateway_env |= {
                "LITELLM_PGBOUNCER_ENABLED": "true",
                "LITELLM_PGBOUNCER_MAX_DB_CONNECTIONS": str(pool.max_db_connections),
                "LITELLM_PGBOUNCER_MAX_CLIENT_CONN": str(pool.max_client_conn),
            }
        sidecars: list[Sidecar] = []
        memory_dirs = []
        gateway_grants = list(grants["gateway"])
        if gcp.metrics.enabled:
            metrics = GatewayMetrics(
                self,
                "metrics",
                GatewayMetricsProps(
                    naming=naming,
                    project=self.project,
                    config=gcp.metrics,
                    gateway_image=gcp.image("gateway"),
                    gateway_member=accounts.member("gateway"),
                    production=production,
                    pin_version=gcp.secrets.version_pin == "pinned",
                    depends_on=apis.of("secretmanager.googleapis.com"),
                ),
            )
            gateway_env |= metrics.gateway_env
            memory_dirs.append(metrics.multiproc_dir)
            sidecars += metrics.sidecars
            gateway_grants += metrics.grants
        collector = gcp.spend_collector
        if collector.enabled:
            collector_env = {
                "LITELLM_COLLECTOR_ENABLED": "true",
                "LITELLM_COLLECTOR_ADDRESS": f"tcp://127.0.0.1:{collector.port}",
                "LITELLM_COLLECTOR_BUFFER_SIZE": str(collector.buffer_size),
                "LITELLM_COLLECTOR_ON_UNAVAILABLE": collector.on_unavailable,
                "LITELLM_COLLECTOR_DRAIN_TIMEOUT_SECONDS": str(collector.drain_timeout_seconds),
            }
            gateway_env |= collector_env
            # The collector writes spend to the database and reads Redis like the gateway; no provider keys.
            sidecars.append(
                Sidecar(
                    name="spend-collector",
                    image=gcp.image("gateway"),
                    command=startup("python -m litellm.proxy.collector"),
                    cpu=collector.cpu,
                    memory=collector.memory,
                    env={**runtime_env, **collector_env, "LITELLM_JOB_ROLE": "collector"},
                    secrets=[item for item in readers["backend"] if item is not redis_ca],
                    secret_files=secret_files,
                    cloud_sql=True,
                )
            )
        container_cpu, container_memory = gcp.gateway_container_limits() if sidecars else (None, None)

        services: dict[str, GatewayService] = {}
        # No STORE_MODEL_IN_DB env: the document's general_settings.store_model_in_db (on with a database) is the
        # one place; LiteLLM would OR the env var onto it at start.
        for component, start, extra_env in (
            ("gateway", gateway_start, gateway_env),
            ("backend", _uvicorn("backend.main", PORTS["backend"], gcp.components.backend.processes), {}),
        ):
            component_config = getattr(gcp.components, component)
            gateway = component == "gateway"
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
                    env={**runtime_env, **extra_env, **proxy_config.env},
                    secrets=[item for item in readers[component] if item is not redis_ca],
                    secret_files=[*secret_files, *proxy_config.files],
                    command=startup(start, loads_config=True),
                    container_cpu=container_cpu if gateway else None,
                    container_memory=container_memory if gateway else None,
                    memory_dirs=memory_dirs if gateway else (),
                    sidecars=sidecars if gateway else (),
                    cloud_sql_instances=cloud_sql,
                    depends_on=[*run_apis, *(gateway_grants if gateway else grants[component]), *services_wait_for],
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
                depends_on=[*run_apis, *accounts.deployer_grants("ui")],
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
        return migration_command
