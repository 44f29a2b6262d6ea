"""`GcpGateway`: everything the LiteLLM gateway on Google Cloud is, composed from one construct per concern.

    gateway = GcpGateway(stack, GcpGatewayProps(config=..., naming=..., project=stack.project, region=stack.region))
    gateway.gateway_url, gateway.outputs  # the stack writes each output as a TerraformOutput

The store modes (`clouds.gcp.database.source`, `clouds.gcp.cache.source`) and the runtime
(`clouds.gcp.create_runtime`) are objects picked once here (database_stores.py, cache_stores.py, runtime.py);
nothing below branches on them.

Every resource is defined directly in the stack's scope, not under a `gateway` node: construct ids are a contract
(cdktf derives each resource's Terraform address and `//` metadata path from its construct path), so a namespace
node here would rename every resource of every deployed stack.
"""

from __future__ import annotations

from cdktf import ITerraformDependable
from constructs import Construct

from constructs_lib._common.ci_identity import gcp_ci_member
from constructs_lib._common.litellm_config import CONFIG_SHA_ENV, ProxyRuntime, render_proxy_config
from constructs_lib._common.outputs import GatewayOutput
from constructs_lib.config.gcp import GcpConfig
from constructs_lib.gcp.apis import GatewayApis
from constructs_lib.gcp.bucket import GatewayBucket, GatewayBucketProps
from constructs_lib.gcp.gateway.cache_stores import CACHE_STORES, NoCache
from constructs_lib.gcp.gateway.credentials import GatewayCredentials, SecretFactory
from constructs_lib.gcp.gateway.database_stores import DATABASE_STORES, NoDatabase
from constructs_lib.gcp.gateway.props import GcpGatewayProps
from constructs_lib.gcp.gateway.runtime import CloudRunRuntime, DependenciesOnly, GatewayRuntime, RuntimeScope
from constructs_lib.gcp.gateway.stores import StoreScope
from constructs_lib.gcp.network import GatewayNetwork, GatewayNetworkProps
from constructs_lib.gcp.proxy_config import GatewayProxyConfig, GatewayProxyConfigProps
from constructs_lib.gcp.secrets import GatewaySecret
from constructs_lib.gcp.service_accounts import GatewayServiceAccounts

_PUT_IN_OUT_OF_BAND = "Put each value in out of band: gcloud secrets versions add <id> --data-file=-"


def proxy_runtime(gcp: GcpConfig) -> ProxyRuntime:
    """What the LiteLLM document must say for these options: the same Redis, database and metrics as the env."""
    return ProxyRuntime(
        redis=CACHE_STORES[gcp.cache.source].proxy_redis(gcp.cache),
        database=DATABASE_STORES[gcp.database.source].in_proxy_config,
        metrics=gcp.metrics.enabled,
    )


def _apis(scope: Construct, gcp: GcpConfig) -> tuple[GatewayApis, tuple[str, ...]]:
    """The project's APIs the gateway uses, and those of them the network waits for."""
    network_apis = ("compute.googleapis.com", "servicenetworking.googleapis.com")
    network_apis += ("vpcaccess.googleapis.com",) if gcp.network.egress == "connector" and gcp.create_runtime else ()
    extra_apis = (*network_apis, *(("cloudkms.googleapis.com",) if gcp.database.cmek_key else ()))
    extra_apis += ("monitoring.googleapis.com",) if gcp.metrics.enabled else ()
    return GatewayApis(scope, "apis", extra_apis=extra_apis), network_apis


def _bucket(
    scope: Construct, props: GcpGatewayProps, apis: GatewayApis, accounts: GatewayServiceAccounts
) -> GatewayBucket:
    """The gateway's GCS bucket; the gateway and the backend use its objects."""
    return GatewayBucket(
        scope,
        "bucket",
        GatewayBucketProps(
            name=props.naming.name(f"litellm-{props.gcp.project}", "google_storage_bucket"),
            location=props.region.upper(),
            production=props.production,
            object_users=[(component, accounts.member(component)) for component in ("gateway", "backend")],
            depends_on=apis.of("storage.googleapis.com"),
        ),
    )


def _identities(
    scope: Construct, props: GcpGatewayProps, apis: GatewayApis, *, migrates: bool
) -> tuple[tuple[str, ...], GatewayServiceAccounts]:
    """The components with a service account of their own, and the accounts."""
    # Dependencies-only mode: no UI runs here, so no UI identity; no migrations identity without a database.
    identities = (
        ("gateway", "backend", "ui", "migrations") if props.gcp.create_runtime else ("gateway", "backend", "migrations")
    )
    if not migrates:
        identities = tuple(component for component in identities if component != "migrations")
    # The stage's CI apply identity may act as exactly the accounts a Cloud Run service or job here runs as.
    accounts = GatewayServiceAccounts(
        scope,
        "identities",
        props.naming,
        depends_on=apis.of("iam.googleapis.com"),
        components=identities,
        deployer=gcp_ci_member(props.naming.prefix, "apply", props.gcp.state.project),
        attached=identities if props.gcp.create_runtime else (),
    )
    return identities, accounts


class GcpGateway:
    """The gateway's APIs, network, identities, secrets, stores, bucket, proxy config and runtime, in `scope`."""

    def __init__(self, scope: Construct, props: GcpGatewayProps) -> None:
        props.validate()
        gcp, naming, production = props.gcp, props.naming, props.production
        database_store, cache_store = DATABASE_STORES[gcp.database.source], CACHE_STORES[gcp.cache.source]
        apis, network_apis = _apis(scope, gcp)
        network = GatewayNetwork(
            scope,
            "network",
            GatewayNetworkProps(
                naming=naming,
                region=props.region,
                config=gcp.network,
                depends_on=apis.of(*network_apis),
                private_services_needed=database_store.managed or cache_store.managed,
                cloud_run=gcp.create_runtime,
            ),
        )
        identities, accounts = _identities(scope, props, apis, migrates=database_store.migrates)
        secret_apis = apis.of("secretmanager.googleapis.com")
        secret = SecretFactory(scope, naming, production, gcp.secrets.version_pin == "pinned", secret_apis)
        self.credentials = GatewayCredentials(scope, secret, gcp.secrets, props.config.provider_keys)
        stores = StoreScope(
            scope=scope,
            naming=naming,
            gcp=gcp,
            region=props.region,
            production=production,
            apis=apis,
            network=network,
            secret=secret,
        )
        database, cache = database_store(stores), cache_store(stores)
        bucket = _bucket(scope, props, apis, accounts)
        # LiteLLM's reviewed config.yaml (model list, cache, database), loaded by the gateway and the backend only
        # (constructs_lib/gcp/proxy_config.py explains the mechanism); the UI and the migrations never read it.
        self.proxy_config = GatewayProxyConfig(
            scope,
            "proxy-config",
            GatewayProxyConfigProps(
                secret_id=naming.name("proxy-config"),
                proxy_config=render_proxy_config(props.config, proxy_runtime(gcp)),
                readers={component: accounts.member(component) for component in ("gateway", "backend")},
                production=production,
                depends_on=secret_apis,
            ),
        )
        readers = self._readers(database, cache)
        runtime_kind = CloudRunRuntime if gcp.create_runtime else DependenciesOnly
        self.runtime: GatewayRuntime = runtime_kind(
            RuntimeScope(
                scope=scope,
                naming=naming,
                gcp=gcp,
                project=props.project,
                region=props.region,
                production=production,
                apis=apis,
                network=network,
                accounts=accounts,
                identities=identities,
                readers=readers,
                grants=self._grants(scope, props, readers, accounts, database),
                database=database,
                cache=cache,
                bucket=bucket,
                proxy_config=self.proxy_config,
            )
        )
        # Read by the quotas stack (cross-stack reference).
        self.gateway_url = self.runtime.gateway_url
        self.outputs = self._outputs() | database.outputs() | cache.outputs() | self.runtime.outputs()

    def _readers(self, database: NoDatabase, cache: NoCache) -> dict[str, list[GatewaySecret]]:
        """Per component, the secrets its container references (each identity reads exactly these)."""
        credentials = self.credentials
        ca_secrets = [cache.ca] if cache.ca else []
        common = [credentials.master_key, *credentials.salt_readers, *database.secrets, *cache.secrets, *ca_secrets]
        readers = {"gateway": [*common, *credentials.ready_provider_keys], "backend": list(common)}
        if database.migrates:
            readers["migrations"] = list(database.secrets)
        return readers

    def _grants(
        self,
        scope: Construct,
        props: GcpGatewayProps,
        readers: dict[str, list[GatewaySecret]],
        accounts: GatewayServiceAccounts,
        database: NoDatabase,
    ) -> dict[str, list[ITerraformDependable]]:
        """Per-secret grants, the deployer's, the proxy config's (and its hooks') to the components that load it,
        and what each needs to connect to the database."""
        project = props.project
        grants: dict[str, list[ITerraformDependable]] = {
            component: [item.grant_read(accounts.member(component), component) for item in secrets]
            for component, secrets in readers.items()
        }
        for component in grants:
            grants[component].extend(accounts.deployer_grants(component))
        for component, grant in self.proxy_config.grants.items():
            grants[component].append(grant)
            grants[component].extend(self.proxy_config.hook_grants.get(component, []))
        for component in readers:
            grants[component] += database.client_grants(scope, project, component, accounts.member(component))
        return grants

    def _outputs(self) -> dict[str, GatewayOutput]:
        """The outputs every mode has, besides the stores' and the runtime's."""
        credentials, proxy_config = self.credentials, self.proxy_config
        return {
            "master_key_secret_id": GatewayOutput(credentials.master_key.id),
            "salt_key_secret_id": GatewayOutput(
                credentials.salt_key.id,
                "LITELLM_SALT_KEY; out_of_band: its version 1 is a copy of the current master key (README)",
            ),
            "proxy_config_secret": GatewayOutput(
                {"id": proxy_config.secret.id, "version": proxy_config.secret.version},
                "LiteLLM's config.yaml (env references only); gateway and backend mount this version "
                f"(its SHA-256 is their {CONFIG_SHA_ENV})",
            ),
            "provider_key_secret_ids": GatewayOutput(
                {name: item.id for name, item in credentials.provider_keys.items()}, _PUT_IN_OUT_OF_BAND
            ),
        }
