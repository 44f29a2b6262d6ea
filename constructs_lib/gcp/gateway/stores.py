"""What every data store of the gateway answers, whatever its `source` (`managed`: created here; `external`:
brought, its URL put in Secret Manager out of band; `none`). One class per source implements it:
database_stores.py (`clouds.gcp.database`), cache_stores.py (`clouds.gcp.cache`). The gateway asks the store
instead of branching on the source.

    database = DATABASE_STORES[gcp.database.source](StoreScope(scope=..., gcp=gcp, network=network, ...))
    database.secrets, database.env, database.outputs(), ...
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol

from constructs import Construct

from constructs_lib._common.naming import Naming
from constructs_lib._common.outputs import GatewayOutput
from constructs_lib.config.gcp import GcpConfig
from constructs_lib.config.stores import StoreSourceConfig
from constructs_lib.gcp.apis import GatewayApis
from constructs_lib.gcp.gateway.credentials import SecretFactory
from constructs_lib.gcp.network import GatewayNetwork
from constructs_lib.gcp.secrets import GatewaySecret


@dataclass(frozen=True, kw_only=True)
class StoreScope:
    """What a store is defined with: the stack scope, the network it sits on, the project's APIs, the secrets."""

    scope: Construct
    naming: Naming
    gcp: GcpConfig
    region: str
    production: bool
    apis: GatewayApis
    network: GatewayNetwork
    secret: SecretFactory


class DataStore(Protocol):
    """A store of the gateway in the mode its `source` chose."""

    # Whether this stack creates it (and so needs Private Services Access on the network).
    managed: ClassVar[bool]
    # The secrets the gateway and backend read as env: a managed store's credential or a brought store's URL.
    secrets: Sequence[GatewaySecret]

    def outputs(self) -> dict[str, GatewayOutput]: ...

    def elsewhere_outputs(self) -> dict[str, GatewayOutput]:
        """What a runtime outside this stack (dependencies-only mode) needs to reach the store."""
        ...


def brought_url_secret(at: StoreScope, construct_id: str, env_var: str, section: StoreSourceConfig) -> GatewaySecret:
    """The secret a brought store's URL goes into (out of band, at the configured version)."""
    return at.secret(construct_id, env_var, section.url_secret, out_of_band_version=section.url_secret_version)


def url_secret_output(secret: GatewaySecret) -> GatewayOutput:
    """The output naming a brought store's URL secret, where its value goes in."""
    return GatewayOutput(secret.id, "Put the URL in out of band: gcloud secrets versions add <id> --data-file=-")
