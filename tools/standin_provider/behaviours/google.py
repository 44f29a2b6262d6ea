"""hashicorp/google 6.50.0: `project`/labels for every resource, service accounts, Secret Manager secrets and
versions. Source: hashicorp/terraform-provider-google at tag v6.50.0 (fetched mirror), file and line cited."""

from __future__ import annotations

import base64
from typing import Any

from tools.offline_apply.secret_store import SecretStoreError
from tools.standin_provider import computed
from tools.standin_provider.behaviours import Behaviour, BehaviourError, Context, behaviour, provider_default


@provider_default("google")
class GoogleResource(Behaviour):
    """Generic, except `project` (the provider's, when the resource leaves it unset) and the label sets, planned
    as the provider's CustomizeDiff `SetLabelsDiff` does (google/tpgresource/labels.go:101-145 at v6.50.0):
    `terraform_labels` = provider `default_labels` + `labels`; `effective_labels` = the prior ones with the new
    terraform labels set and the dropped ones removed. (The attribution label, added only when the provider block
    enables `add_terraform_attribution_label`, is not modelled.)"""

    def plan(self, ctx: Context, prior: dict[str, Any] | None, planned: dict[str, Any]) -> dict[str, Any]:
        if "terraform_labels" not in planned or computed.has_unknown(planned.get("labels")):
            return planned
        labels = {**(ctx.provider_config.get("default_labels") or {}), **(planned.get("labels") or {})}
        before = (prior or {}).get("terraform_labels") or {}
        effective = {k: v for k, v in ((prior or {}).get("effective_labels") or {}).items() if k not in before}
        return {**planned, "terraform_labels": labels, "effective_labels": {**effective, **labels}}

    def _fill(self, ctx: Context, planned: dict[str, Any], **known: Any) -> dict[str, Any]:
        if ctx.provider_config.get("project") is not None:
            known.setdefault("project", ctx.provider_config["project"])
        return ctx.fill(planned, **known)

    def _project(self, ctx: Context, planned: dict[str, Any]) -> str:
        project = planned.get("project")
        if isinstance(project, str):
            return project
        return ctx.provider_config.get("project") or "standin-project"

    def create(self, ctx: Context, planned: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
        return self._fill(ctx, planned)

    def update(
        self, ctx: Context, prior: dict[str, Any], planned: dict[str, Any], config: dict[str, Any]
    ) -> dict[str, Any]:
        return self._fill(ctx, planned)


@behaviour("google_service_account")
class ServiceAccount(GoogleResource):
    """email `<account_id>@<project>.iam.gserviceaccount.com`, member `serviceAccount:<email>`, name and id
    `projects/<project>/serviceAccounts/<email>` (resource_google_service_account.go: Create sets the id from the
    returned name; Read sets email, member = "serviceAccount:" + email)."""

    requires_replace = ("account_id", "project")

    def create(self, ctx: Context, planned: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
        project = self._project(ctx, planned)
        email = f"{planned['account_id']}@{project}.iam.gserviceaccount.com"
        name = f"projects/{project}/serviceAccounts/{email}"
        unique_id = str(int(computed.digest(ctx.seed(planned), "unique_id")[:15], 16))
        return self._fill(
            ctx, planned, email=email, member=f"serviceAccount:{email}", name=name, id=name, unique_id=unique_id
        )


@behaviour("google_secret_manager_secret")
class SecretManagerSecret(GoogleResource):
    """The secret exists in the stand-in store from create to delete; name and id `projects/<p>/secrets/<id>`."""

    requires_replace = ("secret_id", "project", "replication")

    def create(self, ctx: Context, planned: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
        name = f"projects/{self._project(ctx, planned)}/secrets/{planned['secret_id']}"
        try:
            ctx.store("gcp").create_secret(name, aliases=[planned["secret_id"]])
        except SecretStoreError as error:
            raise BehaviourError(f"Error creating Secret: {name}", str(error)) from None
        return self._fill(ctx, planned, name=name, id=name)

    def read(self, ctx: Context, state: dict[str, Any]) -> dict[str, Any] | None:
        return state if ctx.store("gcp").exists(state["name"]) else None

    def delete(self, ctx: Context, state: dict[str, Any]) -> None:
        ctx.store("gcp").delete_secret(state["name"])


@behaviour("google_secret_manager_secret_version")
class SecretManagerSecretVersion(GoogleResource):
    """resource_secret_manager_secret_version.go at v6.50.0:

    - schema (lines 93-170): ForceNew secret_data_wo_version, secret_data, secret, is_secret_data_base64;
      Defaults secret_data_wo_version 0, enabled true, deletion_policy "DELETE", is_secret_data_base64 false;
    - create sends `secret_data_wo` (from the configuration) or `secret_data`, base64-encoded unless
      is_secret_data_base64 (expand*, lines 528-565); the version number comes from the returned name;
    - Read (lines 256-345): a DESTROYED version is gone (decoder, lines 567-572); `enabled` from the state;
      the payload is **skipped when `secret_data_wo_version` is set** (flattenSecretManagerSecretVersionPayload,
      line 478), else `secret_data` is set from `:access` (lines 486-520);
    - Delete (lines 357-407): deletion_policy ABANDON does nothing, DISABLE disables, else destroys.
    """

    requires_replace = ("secret", "secret_data", "secret_data_wo_version", "is_secret_data_base64")
    defaults = {
        "secret_data_wo_version": 0,
        "enabled": True,
        "deletion_policy": "DELETE",
        "is_secret_data_base64": False,
    }

    def create(self, ctx: Context, planned: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
        secret = planned["secret"]
        value = config.get("secret_data_wo") or planned.get("secret_data") or ""
        if planned.get("is_secret_data_base64"):
            value = base64.b64decode(value).decode(errors="replace")
        store = ctx.store("gcp")
        try:
            version = store.put(secret, value)
            if planned.get("enabled") is False:
                store.set_state(secret, version, "DISABLED")
        except SecretStoreError as error:
            raise BehaviourError(f"Error creating SecretVersion: {secret}", str(error)) from None
        name = f"{self._secret_name(store, secret)}/versions/{version}"
        return self._fill(ctx, planned, name=name, id=name, version=version, destroy_time=None)

    @staticmethod
    def _secret_name(store: Any, secret: str) -> str:
        return (
            secret
            if secret.startswith("projects/")
            else next((name for name in store.names() if name.endswith(f"/secrets/{secret}")), secret)
        )

    def read(self, ctx: Context, state: dict[str, Any]) -> dict[str, Any] | None:
        store = ctx.store("gcp")
        described = store.describe(state["secret"], state["version"])
        if described is None or described["state"] == "DESTROYED":
            return None
        new_state = {**state, "enabled": described["state"] == "ENABLED"}
        if state.get("secret_data_wo_version") is None and new_state["enabled"]:  # line 478
            new_state["secret_data"] = store.get(state["secret"], state["version"])
        return new_state

    def update(
        self, ctx: Context, prior: dict[str, Any], planned: dict[str, Any], config: dict[str, Any]
    ) -> dict[str, Any]:
        if planned.get("enabled") != prior.get("enabled"):  # setEnabled (lines 41-73)
            ctx.store("gcp").set_state(
                prior["secret"], prior["version"], "ENABLED" if planned["enabled"] else "DISABLED"
            )
        return self._fill(ctx, planned)

    def delete(self, ctx: Context, state: dict[str, Any]) -> None:
        policy = state.get("deletion_policy") or "DELETE"
        if policy == "ABANDON":
            return
        store = ctx.store("gcp")
        if store.describe(state["secret"], state["version"]) is None:
            return  # HandleNotFoundError: already gone with its secret
        store.set_state(state["secret"], state["version"], "DISABLED" if policy == "DISABLE" else "DESTROYED")


@behaviour("google_sql_user")
class SqlUser(GoogleResource):
    """The user's password, kept in the `gcp-sql-users` store under `projects/<p>/instances/<i>/users/<name>` so a
    test can compare it with the secret the gateway reads. google/services/sql/resource_sql_user.go at v6.50.0:
    Create sets `password`, else `password_wo` from the configuration (lines 281-283); Update sets it again when
    password or password_wo_version changes (lines 491-503); ForceNew host, instance, name, type, project."""

    requires_replace = ("host", "instance", "name", "type", "project")

    def _key(self, ctx: Context, planned: dict[str, Any]) -> str:
        return f"projects/{self._project(ctx, planned)}/instances/{planned['instance']}/users/{planned['name']}"

    @staticmethod
    def _password(planned: dict[str, Any], config: dict[str, Any]) -> str | None:
        return planned.get("password") or config.get("password_wo")

    def create(self, ctx: Context, planned: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
        store = ctx.store("gcp-sql-users")
        key = self._key(ctx, planned)
        if store.exists(key):
            raise BehaviourError(f"Error, failed to insert user {planned['name']} into instance {planned['instance']}")
        store.create_secret(key)
        password = self._password(planned, config)
        if password is not None:
            store.put(key, password)
        return self._fill(ctx, planned)

    def update(
        self, ctx: Context, prior: dict[str, Any], planned: dict[str, Any], config: dict[str, Any]
    ) -> dict[str, Any]:
        password = self._password(planned, config)
        changed = any(planned.get(key) != prior.get(key) for key in ("password", "password_wo_version"))
        if changed and password is not None:
            ctx.store("gcp-sql-users").put(self._key(ctx, prior), password)
        return self._fill(ctx, planned)

    def delete(self, ctx: Context, state: dict[str, Any]) -> None:
        ctx.store("gcp-sql-users").delete_secret(self._key(ctx, state))
