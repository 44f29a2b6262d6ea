"""An agent's key on GCP: its own Secret Manager secret and a service account that can read that secret only."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformResource
from cdktf_cdktf_provider_google.secret_manager_secret import (
    SecretManagerSecret,
    SecretManagerSecretReplication,
    SecretManagerSecretReplicationAuto,
)
from cdktf_cdktf_provider_google.secret_manager_secret_iam_member import SecretManagerSecretIamMember
from cdktf_cdktf_provider_google.secret_manager_secret_version import SecretManagerSecretVersion
from cdktf_cdktf_provider_google.service_account import ServiceAccount
from constructs import Construct

from constructs_lib._common.lifecycle import replaced_with
from constructs_lib._common.naming import Naming


@dataclass(frozen=True)
class GcpAgentAccessProps:
    naming: Naming
    agent: str
    # Ephemeral key material: reaches Secret Manager through the write-only argument only.
    key_material: str
    key_version: int
    registration: TerraformResource


class GcpAgentAccess(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: GcpAgentAccessProps) -> None:
        super().__init__(scope, construct_id)
        self.service_account = ServiceAccount(
            self,
            "identity",
            account_id=props.naming.name(f"ag-{props.agent}", "google_service_account"),
            display_name=f"Agent {props.agent} (reads its own LiteLLM key only)",
        )
        self.secret = SecretManagerSecret(
            self,
            "secret",
            secret_id=props.naming.name(f"agent-{props.agent}-litellm-key"),
            replication=SecretManagerSecretReplication(auto=SecretManagerSecretReplicationAuto()),
        )
        SecretManagerSecretVersion(
            self,
            "version",
            secret=self.secret.id,
            secret_data_wo=props.key_material,
            secret_data_wo_version=props.key_version,
            depends_on=[props.registration],
            lifecycle=replaced_with(props.registration),
        )
        # Granted on this one secret, never at project level.
        SecretManagerSecretIamMember(
            self,
            "reader",
            secret_id=self.secret.secret_id,
            role="roles/secretmanager.secretAccessor",
            member=f"serviceAccount:{self.service_account.email}",
        )
