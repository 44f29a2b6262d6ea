"""What every data store of the gateway answers, whatever its `source` (`managed`: created here; `external`:
brought, Terraform creates the empty URL secret and its value goes in out of band with label v<version>; `none`).
One class per source implements it: database_stores.py (`clouds.aws.database`), cache_stores.py
(`clouds.aws.cache`). The gateway asks the store instead of branching on the source.

    database_store = DATABASE_STORES[aws.database.source]
    network = GatewayNetwork(..., managed_database=database_store.access(aws.database).managed, ...)
    database = database_store(StoreScope(scope=..., aws=aws, network=network, ...))
    database.task_env, database.url_secrets, database.grants, database.outputs(), ...
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol

from cdktf import ITerraformDependable
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import DataAwsIamPolicyDocumentStatement
from constructs import Construct

from constructs_lib._common.naming import Naming
from constructs_lib._common.outputs import GatewayOutput
from constructs_lib.aws.ecs_service import ContainerSpec
from constructs_lib.aws.gateway.credentials import SecretFactory
from constructs_lib.aws.network import GatewayNetwork
from constructs_lib.aws.secrets import GatewaySecret
from constructs_lib.config.aws import AwsConfig


@dataclass(frozen=True)
class StoreAccess:
    """What the network opens for a store: its own security group (managed), or egress to (CIDRs, port)."""

    managed: bool = False
    egress: tuple[Sequence[str], int] | None = None


@dataclass(frozen=True)
class StoreScope:
    """What a store is defined with: the stack scope, the network it sits on, the gateway's key and secrets."""

    scope: Construct
    naming: Naming
    aws: AwsConfig
    production: bool
    kms_key_arn: str
    network: GatewayNetwork
    secret: SecretFactory


class DataStore(Protocol):
    """A store of the gateway in the mode its `source` chose."""

    # Whether LiteLLM's config names the store (ProxyRuntime): brought ones too, not absent ones.
    in_proxy_config: ClassVar[bool]
    # What the gateway and backend read: generated credentials (Redis AUTH), and the URLs of brought stores.
    auth_secrets: Sequence[GatewaySecret]
    url_secrets: Sequence[GatewaySecret]

    def runtime_env(self) -> dict[str, str]: ...

    def outputs(self) -> dict[str, GatewayOutput]: ...


class Database(DataStore, Protocol):
    """PostgreSQL: LiteLLM's keys, spend and settings; the one-off jobs prepare it before the services start."""

    # Whether the migrations job runs, and whether a bootstrap job creates the application user first (each a task
    # family of its own).
    migrates: ClassVar[bool]
    bootstraps: ClassVar[bool]
    # The environment every container that connects reads (the migrations job's too).
    task_env: dict[str, str]
    # The CA bundle the tasks verify the server against, or None.
    ca_pem: str | None
    # IAM statements of the task roles that connect, by family (gateway, backend, migrations).
    grants: dict[str, list[DataAwsIamPolicyDocumentStatement]]
    # What a client connecting as its own login role adds to task_env, by client (backend, collector).
    client_env: dict[str, dict[str, str]]
    # The secrets the bootstrap job reads (Aurora's master secret).
    bootstrap_secret_arns: Sequence[str]
    # Re-run triggers of the one-off jobs, and what they wait for.
    one_off_triggers: dict[str, str]
    one_off_depends_on: Sequence[ITerraformDependable]

    def bootstrap_container(self, image: str, log_group: str, region: str) -> ContainerSpec | None: ...


def url_secret_output(secret: GatewaySecret) -> GatewayOutput:
    """The output naming a brought store's URL secret, where its value goes in."""
    return GatewayOutput(secret.arn, "Put the URL in out of band as v<version>")
