"""The gateway's own secrets in Secret Manager: the generated master key (write-only, never in state), the salt key
(generated, or put in out of band), and one secret per provider key whose value goes in out of band.

    secret = SecretFactory(scope, naming, production=True, pin_version=True, depends_on=secret_apis)
    credentials = GatewayCredentials(scope, secret, gcp.secrets, config.provider_keys)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf import ITerraformDependable
from constructs import Construct

from constructs_lib._common.ephemeral import ephemeral_random_password
from constructs_lib._common.naming import Naming
from constructs_lib.config.gcp import GcpSecretsConfig
from constructs_lib.config.llm import ProviderKey
from constructs_lib.gcp.secrets import GatewaySecret, GatewaySecretProps, WriteOnlyValue


@dataclass(frozen=True)
class SecretFactory:
    """Defines a `GatewaySecret` in `scope`, with secret id `<prefix>-<construct id>` unless `secret_id` is given."""

    scope: Construct
    naming: Naming
    production: bool
    # False: containers read `latest` (clouds.gcp.secrets.version_pin).
    pin_version: bool
    depends_on: Sequence[ITerraformDependable]

    def __call__(
        self,
        construct_id: str,
        env_var: str,
        secret_id: str | None = None,
        *,
        write_only: WriteOnlyValue | None = None,
        state_value: str | None = None,
        out_of_band_version: int = 1,
    ) -> GatewaySecret:
        return GatewaySecret(
            self.scope,
            construct_id,
            GatewaySecretProps(
                secret_id=secret_id or self.naming.name(construct_id),
                env_var=env_var,
                production=self.production,
                pin_version=self.pin_version,
                depends_on=self.depends_on,
                write_only=write_only,
                state_value=state_value,
                out_of_band_version=out_of_band_version,
            ),
        )


class GatewayCredentials:
    """Master key, salt key and the provider keys."""

    def __init__(
        self,
        scope: Construct,
        secret: SecretFactory,
        versions: GcpSecretsConfig,
        provider_keys: Sequence[ProviderKey],
    ) -> None:
        self.master_key = secret(
            "master-key",
            "LITELLM_MASTER_KEY",
            write_only=WriteOnlyValue(
                value=f"sk-{ephemeral_random_password(scope, 'master_key', length=48)}",
                version=versions.master_key_version,
            ),
        )
        # LITELLM_SALT_KEY: what LiteLLM encrypts stored credentials with instead of the master key, so the master key
        # can rotate. Read only once a version exists (salt_key_version >= 1); README "Salt key" has the migration.
        self.salt_key = secret(
            "salt-key",
            "LITELLM_SALT_KEY",
            write_only=WriteOnlyValue(
                value=f"sk-{ephemeral_random_password(scope, 'salt_key', length=48)}",
                version=versions.salt_key_version,
            )
            if versions.salt_key == "generated"
            else None,
            out_of_band_version=versions.salt_key_version,
        )
        self.salt_readers = [self.salt_key] if versions.salt_key_version >= 1 else []
        self.provider_keys = {
            key.name: secret(f"provider-{key.name}", key.env_var, out_of_band_version=key.version)
            for key in provider_keys
        }
        # A key being added (version 0) is created but referenced by nothing until its first value is in.
        self.ready_provider_keys = [self.provider_keys[key.name] for key in provider_keys if key.ready]
