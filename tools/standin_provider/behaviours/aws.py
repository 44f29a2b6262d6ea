"""hashicorp/aws 6.25.0: `tags_all` for every resource, and Secrets Manager secrets and their versions.

Provider source cited from hashicorp/terraform-provider-aws (stored version 0042e8ea of
internal/service/secretsmanager/secret_version.go; the schema flags cited are the ones the pinned 6.25.0 schema
shows for these attributes).
"""

from __future__ import annotations

from typing import Any

from tools.offline_apply.secret_store import SecretStoreError
from tools.standin_provider import computed
from tools.standin_provider.behaviours import Behaviour, BehaviourError, Context, behaviour, provider_default


def default_tags(provider_config: dict[str, Any]) -> dict[str, str]:
    blocks = provider_config.get("default_tags") or []
    tags: dict[str, str] = {}
    for block in blocks:
        tags.update((block or {}).get("tags") or {})
    return tags


@provider_default("aws")
class AwsResource(Behaviour):
    """Generic, except `tags_all`: the provider's `default_tags` with the resource's `tags` over them, planned (the
    provider's `SetTagsDiff` computes it at plan time whenever the tags are known; seen in the provider's
    internal/verify/diff.go of earlier majors, 6.25.0's tagging code not checked here), so it follows changes."""

    def plan(self, ctx: Context, prior: dict[str, Any] | None, planned: dict[str, Any]) -> dict[str, Any]:
        if "tags_all" in planned and not computed.has_unknown(planned.get("tags")):
            return {**planned, "tags_all": {**default_tags(ctx.provider_config), **(planned.get("tags") or {})}}
        return planned


def _secret_arn(ctx: Context, name: str, planned: dict[str, Any]) -> str:
    # Secrets Manager appends a hyphen and six random characters to the name in the ARN
    suffix = computed.digest(ctx.seed(planned), "arn")[:6]
    region = ctx.conventions.get("region", "us-east-1")
    account = ctx.conventions.get("account_id", computed.DEFAULT_AWS_ACCOUNT)
    return f"arn:aws:secretsmanager:{region}:{account}:secret:{name}-{suffix}"


@behaviour("aws_secretsmanager_secret")
class SecretsManagerSecret(AwsResource):
    """The secret exists in the stand-in store from create to delete; `id` is its ARN (as the provider's).
    In internal/service/secretsmanager/secret.go (stored version 00c21ced) resourceSecretDelete deletes at once
    (ForceDeleteWithoutRecovery) when `recovery_window_in_days` is 0, else schedules the deletion (schema
    Default 30), and findSecretByID treats a secret with a DeletedDate as not found; CreateSecret of a name
    scheduled for deletion fails (InvalidRequestException: "The secret is scheduled for deletion",
    https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html, Errors)."""

    requires_replace = ("name", "name_prefix")
    defaults = {"recovery_window_in_days": 30}

    def create(self, ctx: Context, planned: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
        name = planned.get("name")
        if not isinstance(name, str):
            prefix = planned.get("name_prefix") if isinstance(planned.get("name_prefix"), str) else "terraform-"
            name = f"{prefix}{computed.digest(ctx.seed(planned), 'name')[:26]}"
        arn = _secret_arn(ctx, name, planned)
        try:
            ctx.store("aws").create_secret(name, aliases=[arn])
        except SecretStoreError as error:
            raise BehaviourError(f"creating Secrets Manager Secret ({name})", str(error)) from None
        return ctx.fill(planned, name=name, arn=arn, id=arn)

    def read(self, ctx: Context, state: dict[str, Any]) -> dict[str, Any] | None:
        return state if ctx.store("aws").exists(state["arn"]) else None

    def delete(self, ctx: Context, state: dict[str, Any]) -> None:
        days = state.get("recovery_window_in_days")
        ctx.store("aws").delete_secret(state["arn"], recovery_window_days=30 if days is None else int(days))


@behaviour("aws_secretsmanager_secret_version")
class SecretsManagerSecretVersion(AwsResource):
    """secret_version.go (stored version 0042e8ea): Create puts the value, `secret_string_wo` winning over
    `secret_string` (lines 130-138), with the configured `version_stages` or none, so AWSCURRENT moves to it (lines
    140-144), and sets the id `<secret_id>|<version_id>` (line 151); Read sets `version_stages` from the version
    (line 190) and nulls `secret_string` when it is write-only (lines 192-207), and the version is gone with its
    secret; Update moves stages (lines 212-297); Delete removes every stage but AWSCURRENT (lines 308-314).
    ForceNew: secret_id, secret_binary, secret_string, secret_string_wo_version (schema, lines 60-93)."""

    requires_replace = ("secret_id", "secret_binary", "secret_string", "secret_string_wo_version")

    def create(self, ctx: Context, planned: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
        secret_id = planned["secret_id"]
        write_only = config.get("secret_string_wo")
        value = write_only if write_only else planned.get("secret_string")
        stages = planned.get("version_stages")
        store = ctx.store("aws")
        try:
            version_id = store.put(secret_id, value or "", stages=stages if isinstance(stages, list) else None)
        except SecretStoreError as error:
            raise BehaviourError(f"putting Secrets Manager Secret ({secret_id}) value", str(error)) from None
        described = store.describe(secret_id, version_id) or {}
        return ctx.fill(
            planned,
            id=f"{secret_id}|{version_id}",
            arn=secret_id if secret_id.startswith("arn:") else None,
            version_id=version_id,
            version_stages=described.get("stages", []),
            has_secret_string_wo=bool(write_only),
        )

    def read(self, ctx: Context, state: dict[str, Any]) -> dict[str, Any] | None:
        described = ctx.store("aws").describe(state["secret_id"], state["version_id"])
        if described is None:
            return None
        return {**state, "version_stages": described["stages"]}

    def update(
        self, ctx: Context, prior: dict[str, Any], planned: dict[str, Any], config: dict[str, Any]
    ) -> dict[str, Any]:
        return {**ctx.fill(planned), "version_stages": planned.get("version_stages") or prior["version_stages"]}

    def delete(self, ctx: Context, state: dict[str, Any]) -> None:
        store = ctx.store("aws")
        for stage in state.get("version_stages") or []:
            if stage != "AWSCURRENT":  # "You can only move staging label AWSCURRENT" (secret_version.go:310)
                store.remove_stage(state["secret_id"], state["version_id"], stage)
