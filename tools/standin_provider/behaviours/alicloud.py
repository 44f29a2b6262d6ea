"""aliyun/alicloud 1.289.0: KMS secrets. Source: aliyun/terraform-provider-alicloud at tag v1.289.0
(fetched mirror), alicloud/resource_alicloud_kms_secret.go, lines cited."""

from __future__ import annotations

from typing import Any

from tools.offline_apply.secret_store import SecretStoreError
from tools.standin_provider.behaviours import Behaviour, BehaviourError, Context, behaviour


@behaviour("alicloud_kms_secret")
class KmsSecret(Behaviour):
    """- schema (lines 27-143): ForceNew secret_name, secret_type, encryption_key_id, dkms_instance_id,
      extended_config; the Default of secret_data_type is text;
    - Create (lines 145-223) sends SecretData and VersionId (lines 153-154) with CreateSecret, the id is the
      secret name (line 220), then runs Update;
    - Read (lines 225-288) sets **`secret_data` from GetSecretValue** (line 270), with `version_id` and
      `version_stages` of the current version (lines 271-277): a value put out of band shows as a change;
    - Update (lines 290-355): a change of secret_data, version_id, secret_data_type or version_stages is one
      PutSecretValue with the new VersionId (the new version becomes ACSCurrent);
    - Delete (lines 483-523): DeleteSecret (the stand-in forgets the secret; recovery windows are not modelled).
    """

    requires_replace = ("secret_name", "secret_type", "encryption_key_id", "dkms_instance_id", "extended_config")
    defaults = {"secret_data_type": "text"}  # pragma: allowlist secret (the data type's default, no secret)

    def _current(self, ctx: Context, planned: dict[str, Any], name: str) -> dict[str, Any]:
        described = ctx.store("alicloud").describe(name) or {}
        return ctx.fill(planned, id=name, version_stages=described.get("stages", []))

    def create(self, ctx: Context, planned: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
        name = planned["secret_name"]
        store = ctx.store("alicloud")
        stages = planned.get("version_stages")
        try:
            store.create_secret(name)
            store.put(
                name,
                planned["secret_data"],
                version=planned["version_id"],
                stages=stages if isinstance(stages, list) else None,
            )
        except SecretStoreError as error:
            raise BehaviourError(f"CreateSecret {name} failed", str(error)) from None
        return self._current(ctx, planned, name)

    def read(self, ctx: Context, state: dict[str, Any]) -> dict[str, Any] | None:
        store = ctx.store("alicloud")
        name = state["id"]
        described = store.describe(name)
        if described is None:
            return None
        return {
            **state,
            "secret_data": store.get(name),
            "version_id": described["id"],
            "version_stages": described["stages"],
            "secret_data_type": state.get("secret_data_type") or "text",
        }

    def update(
        self, ctx: Context, prior: dict[str, Any], planned: dict[str, Any], config: dict[str, Any]
    ) -> dict[str, Any]:
        name = prior["id"]
        changed = any(planned.get(key) != prior.get(key) for key in ("secret_data", "version_id", "secret_data_type"))
        if changed:
            try:
                ctx.store("alicloud").put(name, planned["secret_data"], version=planned["version_id"])
            except SecretStoreError as error:
                raise BehaviourError(f"PutSecretValue {name} failed", str(error)) from None
        return self._current(ctx, planned, name)

    def delete(self, ctx: Context, state: dict[str, Any]) -> None:
        ctx.store("alicloud").delete_secret(state["id"])
