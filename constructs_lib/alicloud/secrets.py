"""KMS Secrets Manager: one customer-managed key and one secret per credential the gateway reads.

Two kinds of secret, one construct:

* **Out of band** (provider keys). `alicloud_kms_secret` requires `secret_data` and `version_id` at 1.289.0 and
  has no write-only argument, so a value given to Terraform would sit in state. Terraform therefore creates the
  secret with a fixed, non-secret placeholder as version `v0` and ignores `secret_data`/`version_id` afterwards;
  the real value is put in as version `v<version>` with `aliyun kms PutSecretValue` (README runbook), and the
  gateway reads exactly that version. No sensitive variable exists: there is no path by which a key value
  becomes a Terraform input.
* **Generated** (LiteLLM master key, database and Redis passwords). Their value must reach RDS/Redis through
  Terraform anyway, so a `random_password` (keepers: the config version) makes it and the secret stores it as
  version `v<version>`. Those values are in the encrypted, access-controlled OSS state, and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import Fn, TerraformResourceLifecycle
from cdktf_cdktf_provider_random.password import Password
from constructs import Construct

from constructs_lib._common.errors import PropsError
from constructs_lib._common.naming import Naming
from imports.alicloud.kms_alias import KmsAlias
from imports.alicloud.kms_key import KmsKey
from imports.alicloud.kms_secret import KmsSecret

PLACEHOLDER = "placeholder: put the value in out of band with `aliyun kms PutSecretValue` (see README)"
PLACEHOLDER_VERSION = "v0"


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
class GatewaySecretProps:
    name: str
    description: str
    env_var: str
    version: int
    key_id: str
    recovery_window_days: int
    rotation_interval_days: int
    # Generated secrets: the password length. None: the value is put in out of band.
    generated_length: int | None = None
    generated_prefix: str = ""

    def __post_init__(self) -> None:
        if self.version < 1:
            raise PropsError("version", f"{self.name}: versions start at 1")
        if not 7 <= self.recovery_window_days <= 30:
            raise PropsError("clouds.alicloud.secrets.recovery_window_days", "KMS allows 7 to 30 days")
        if self.generated_length is not None and self.generated_length < 24:
            raise PropsError("generated_length", f"{self.name}: generated secrets are at least 24 characters")


class GatewaySecret(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: GatewaySecretProps) -> None:
        super().__init__(scope, construct_id)
        self.env_var, self.version, self.secret_name = props.env_var, props.version, props.name
        self.version_id = version_id(props.version)
        self.generated: Password | None = None
        if props.generated_length is None:
            data, stored_version = PLACEHOLDER, PLACEHOLDER_VERSION
            lifecycle = TerraformResourceLifecycle(ignore_changes=["secret_data", "version_id"])
        else:
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
            data, stored_version, lifecycle = value, self.version_id, None
        self.secret = KmsSecret(
            self,
            "secret",
            secret_name=props.name,
            description=props.description,
            secret_data=data,
            version_id=stored_version,
            encryption_key_id=props.key_id,
            # Generic secrets are rotated by the runbook (a new version, then a config bump), not by KMS.
            enable_automatic_rotation=False,
            rotation_interval=f"{props.rotation_interval_days}d",
            recovery_window_in_days=props.recovery_window_days,
            force_delete_without_recovery=False,
            lifecycle=lifecycle,
        )

    @property
    def arn(self) -> str:
        return self.secret.arn

    @property
    def value(self) -> str:
        """The generated value (a reference to sensitive state), for the one resource that must set it."""
        if self.generated is None:
            raise PropsError(self.node.id, "an out-of-band secret has no value Terraform knows")
        return self.generated.result
