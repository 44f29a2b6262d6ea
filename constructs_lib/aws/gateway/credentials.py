"""The gateway's own secrets in Secrets Manager, encrypted with its key: the generated master key, salt key and UI
password (write-only, never in state), and one container per provider key whose value goes in out of band.

    secret = SecretFactory(scope, naming, key_arn, recovery_window_days=7)
    credentials = GatewayCredentials(scope, secret, aws.secrets, config.provider_keys)
    credentials.master_key.value_from, credentials.ready_provider_keys, ...
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from constructs import Construct

from constructs_lib._common.ephemeral import ephemeral_random_password
from constructs_lib._common.litellm_config import MASTER_KEY_ENV
from constructs_lib._common.naming import Naming
from constructs_lib.aws.secrets import GatewaySecret, GatewaySecretProps, WriteOnlyValue
from constructs_lib.config.aws import AwsSecretsConfig
from constructs_lib.config.llm import ProviderKey


@dataclass(frozen=True)
class SecretFactory:
    """Defines a `GatewaySecret` in `scope`, named `<prefix>-<construct id>` unless `name` is given."""

    scope: Construct
    naming: Naming
    kms_key_arn: str
    recovery_window_days: int

    def __call__(
        self,
        construct_id: str,
        env_var: str,
        description: str,
        *,
        name: str | None = None,
        write_only: WriteOnlyValue | None = None,
        state_value: str | None = None,
        version: int = 1,
    ) -> GatewaySecret:
        return GatewaySecret(
            self.scope,
            construct_id,
            GatewaySecretProps(
                name=name or self.naming.name(construct_id),
                description=description,
                env_var=env_var,
                kms_key_arn=self.kms_key_arn,
                recovery_window_days=self.recovery_window_days,
                write_only=write_only,
                state_value=state_value,
                version=version,
            ),
        )


class GatewayCredentials:
    """Master key, salt key, UI password and the provider keys."""

    def __init__(
        self,
        scope: Construct,
        secret: SecretFactory,
        versions: AwsSecretsConfig,
        provider_keys: Sequence[ProviderKey],
    ) -> None:
        self.master_key = secret(
            "master-key",
            MASTER_KEY_ENV,
            "LiteLLM master key (generated; never in code or state)",
            write_only=WriteOnlyValue(
                value=f"sk-{ephemeral_random_password(scope, 'master_key', length=48)}",
                version=versions.master_key_version,
            ),
        )
        # LiteLLM encrypts the credentials it stores in the database with LITELLM_SALT_KEY (the master key when
        # unset): a key of its own lets the master key rotate without making stored credentials unreadable.
        self.salt_key = secret(
            "salt-key",
            "LITELLM_SALT_KEY",
            "LiteLLM salt key for credentials stored in the database; never rotated (generated, never in state)",
            write_only=WriteOnlyValue(value=f"sk-{ephemeral_random_password(scope, 'salt_key', length=48)}", version=1),
        )
        self.ui_password = secret(
            "ui-password",
            "UI_PASSWORD",
            "LiteLLM UI admin password (generated; never in code or state)",
            write_only=WriteOnlyValue(
                value=ephemeral_random_password(scope, "ui_password", length=32), version=versions.ui_password_version
            ),
        )
        self.provider_keys = {
            item.name: secret(
                f"provider-{item.name}",
                item.env_var,
                f"{item.description or item.name}: put in out of band with staging label v<version>",
                version=item.version,
            )
            for item in provider_keys
        }
        # A key being added (version 0) is created but referenced by nothing until its first value is in.
        self.ready_provider_keys = [self.provider_keys[item.name] for item in provider_keys if item.ready]
