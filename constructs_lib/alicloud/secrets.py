"""KMS Secrets Manager: one customer-managed key and one secret per credential the gateway reads.

Two kinds of secret:

* **Out of band** (provider keys): `ExternalSecret`, a name Terraform knows and nothing else. No
  `alicloud_kms_secret` exists for them: its Read calls GetSecretValue and stores `SecretData` in state
  (resource_alicloud_kms_secret.go:265-270 at v1.289.0), so after a real key is put in, the next refresh would copy it
  into state whatever `ignore_changes` says. The operator creates each secret and each new version with
  `tools/alicloud_secret.py` (value read from a file, never an argument), and the gateway reads `v<version>`.
* **Generated** (LiteLLM master key, database and Redis passwords): their value must reach RDS/Redis through
  Terraform anyway, so a `random_password` (keepers: the config version) makes it and an `alicloud_kms_secret`
  stores it as version `v<version>`. Those values are in the encrypted, access-controlled OSS state, and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import Fn
from cdktf_cdktf_provider_random.password import Password
from constructs import Construct

from constructs_lib._common.errors import PropsError
from constructs_lib._common.naming import Naming
from imports.alicloud.kms_alias import KmsAlias
from imports.alicloud.kms_key import KmsKey
from imports.alicloud.kms_secret import KmsSecret


def version_id(version: int) -> str:
    return f"v{version}"


@dataclass(frozen=True)
class GatewayKeyProps:
    naming: Naming
    # The KMS instance the key lives in: a secret must be encrypted by a key of the same instance (CreateSecret).
    kms_instance_id: str | None
    rotation_interval_days: int = 365
    production: bool = False

    def __post_init__(self) -> None:
        if not self.kms_instance_id:
            raise PropsError("clouds.alicloud.secrets.kms_instance_id", "secrets need a key inside a KMS instance")


class GatewayKey(Construct):
    """The customer-managed key of every gateway secret (and of the release bucket and RDS disks)."""

    def __init__(self, scope: Construct, construct_id: str, props: GatewayKeyProps) -> None:
        super().__init__(scope, construct_id)
        self.key = KmsKey(
            self,
            "key",
            description=f"LLM gateway {props.naming.prefix}: secrets, release artifacts, database disks",
            dkms_instance_id=props.kms_instance_id,
            key_spec="Aliyun_AES_256",
            key_usage="ENCRYPT/DECRYPT",
            protection_level="SOFTWARE",
            automatic_rotation="Enabled",
            rotation_interval=f"{props.rotation_interval_days}d",
            pending_window_in_days=30,
            deletion_protection="Enabled" if props.production else "Disabled",
        )
        KmsAlias(self, "alias", alias_name=f"alias/{props.naming.name('gateway')}", key_id=self.key.id)

    @property
    def id(self) -> str:
        return self.key.id

    @property
    def arn(self) -> str:
        return self.key.arn


@dataclass(frozen=True)
class ExternalSecret:
    """A provider-key secret known by name only; created and versioned out of band (tools/alicloud_secret.py)."""

    name: str
    env_var: str
    version: int
    region: str
    account_id: str

    def __post_init__(self) -> None:
        if self.version < 1:
            raise PropsError("version", f"{self.name}: versions start at 1")

    @property
    def secret_name(self) -> str:
        return self.name

    @property
    def version_id(self) -> str:
        return version_id(self.version)

    @property
    def arn(self) -> str:
        return f"acs:kms:{self.region}:{self.account_id}:secret/{self.name}"


@dataclass(frozen=True)
class GatewaySecretProps:
    name: str
    description: str
    env_var: str
    version: int
    key_id: str
    recovery_window_days: int
    rotation_interval_days: int
    # The generated password's length.
    generated_length: int
    generated_prefix: str = ""

    def __post_init__(self) -> None:
        if self.version < 1:
            raise PropsError("version", f"{self.name}: versions start at 1")
        if not 7 <= self.recovery_window_days <= 30:
            raise PropsError("clouds.alicloud.secrets.recovery_window_days", "KMS allows 7 to 30 days")
        if self.generated_length < 24:
            raise PropsError("generated_length", f"{self.name}: generated secrets are at least 24 characters")


class GatewaySecret(Construct):
    """A generated credential: a random password stored in KMS as version `v<version>`."""

    def __init__(self, scope: Construct, construct_id: str, props: GatewaySecretProps) -> None:
        super().__init__(scope, construct_id)
        self.env_var, self.version, self.secret_name = props.env_var, props.version, props.name
        self.version_id = version_id(props.version)
        self.generated = Password(
            self,
            "value",
            length=props.generated_length,
            special=False,
            min_numeric=4,
            keepers={"version": str(props.version)},
        )
        value = self.generated.result
        if props.generated_prefix:  # an expression, not a literal around a reference
            value = Fn.join("", [props.generated_prefix, value])
        self.secret = KmsSecret(
            self,
            "secret",
            secret_name=props.name,
            description=props.description,
            secret_data=value,
            version_id=self.version_id,
            encryption_key_id=props.key_id,
            # Generic secrets are rotated by the runbook (a new version, then a config bump), not by KMS.
            enable_automatic_rotation=False,
            rotation_interval=f"{props.rotation_interval_days}d",
            recovery_window_in_days=props.recovery_window_days,
            force_delete_without_recovery=False,
        )

    @property
    def arn(self) -> str:
        return self.secret.arn

    @property
    def value(self) -> str:
        """The generated value (a reference to sensitive state), for the one resource that must set it."""
        return self.generated.result
