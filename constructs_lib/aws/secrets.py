"""Secrets Manager secrets of the gateway, encrypted with the gateway's key, referenced by containers by ARN.

    master = GatewaySecret(self, "master-key", GatewaySecretProps(name=..., env_var="LITELLM_MASTER_KEY",
        kms_key_arn=key.arn, recovery_window_days=30,
        write_only=WriteOnlyValue(value="sk-${ephemeral.random_password.master_key.result}", version=1)))
    master.value_from   # what an ECS container definition's `secrets[].valueFrom` pins

Three kinds of value, as on GCP (constructs_lib/gcp/secrets.py):
- write-only (`secret_string_wo` + `secret_string_wo_version`): an ephemeral `random_password`, so the value is
  in neither plan nor state; bumping the version in config writes a new secret version;
- from state (`secret_string`): a value some resource keeps in state anyway (the Redis AUTH token, which
  ElastiCache takes only as a plain argument);
- out of band (no version resource): provider keys. The operator writes each version with the staging label
  `v<version>` (`aws secretsmanager put-secret-value ... --version-stages AWSCURRENT v2`); Terraform knows the name
  and the label the gateway runs on.

`value_from` pins the version, so a rotation is a change of the task definition: ECS rolls the service onto a
new revision while running tasks keep the old value. Versions Terraform writes are pinned by version id: replacing
the version resource removes its `v<n>` label (hashicorp/terraform-provider-aws internal/service/secretsmanager/
secret_version.go, resourceSecretVersionDelete: every stage but AWSCURRENT), and a rollback to a revision pinned to
that label would fail to start; by id, the old version stays readable as long as Secrets Manager keeps it. Versions
put in out of band are pinned by the `v<n>` label the operator gives them (Terraform never removes it).
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import ITerraformDependable, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
from cdktf_cdktf_provider_aws.secretsmanager_secret_version import SecretsmanagerSecretVersion
from constructs import Construct


@dataclass(frozen=True)
class WriteOnlyValue:
    # An ephemeral expression (never a literal); reaches Secrets Manager through `secret_string_wo` only.
    value: str
    # Bump to write a new version: Terraform never compares write-only values.
    version: int


@dataclass(frozen=True)
class GatewaySecretProps:
    name: str
    description: str
    # The environment variable the containers read it as.
    env_var: str
    kms_key_arn: str
    recovery_window_days: int
    # At most one of these; neither means the value is put in out of band.
    write_only: WriteOnlyValue | None = None
    state_value: str | None = None
    # The version the containers run on (label `v<n>`) when the value is not write-only: the config's version of
    # an out-of-band secret, or of a state value (bump it together with what regenerates the value).
    version: int = 1


class GatewaySecret(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: GatewaySecretProps) -> None:
        super().__init__(scope, construct_id)
        if props.write_only is not None and props.state_value is not None:
            raise ValueError(f"secret {props.name}: give write_only or state_value, not both")
        if not 7 <= props.recovery_window_days <= 30:
            raise ValueError(f"secret {props.name}: recovery_window_days must be 7..30")
        self.env_var = props.env_var
        self.secret = SecretsmanagerSecret(
            self,
            "secret",
            name=props.name,
            description=props.description,
            kms_key_id=props.kms_key_arn,
            recovery_window_in_days=props.recovery_window_days,
        )
        version = props.write_only.version if props.write_only else props.version
        # The staging label of the version the containers run on: `<arn>:<json-key>:<version-stage>:<version-id>`.
        self.label = f"v{version}"
        self.value_from = f"{self.secret.arn}::{self.label}:"
        self.version_resource: SecretsmanagerSecretVersion | None = None
        if props.write_only is not None or props.state_value is not None:
            self.version_resource = SecretsmanagerSecretVersion(
                self,
                "version",
                secret_id=self.secret.id,
                secret_string=props.state_value,
                secret_string_wo=props.write_only.value if props.write_only else None,
                secret_string_wo_version=props.write_only.version if props.write_only else None,
                version_stages=["AWSCURRENT", self.label],
                # The new version (and its label) exists before the task definitions move to it; the old one
                # loses its label only afterwards and stays readable as AWSPREVIOUS.
                lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
            )
            self.value_from = f"{self.secret.arn}:::{self.version_resource.version_id}"

    @property
    def written(self) -> list[ITerraformDependable]:
        """What a task definition naming `value_from` must wait for (nothing for out-of-band values)."""
        return [self.version_resource] if self.version_resource is not None else []

    @property
    def arn(self) -> str:
        return self.secret.arn
