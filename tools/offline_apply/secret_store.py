"""The stand-in secret stores of an offline-apply session: `<LLMGW_OFFLINE_DIR>/secrets/<cloud>.json`.

What a workload would read from the cloud's secret service after an offline apply: the stand-in provider writes
here when it applies a secret resource (write-only values included, which never reach Terraform's state), a test
reads a value back, or puts one "out of band" as an operator would. One file per cloud, changed under an
exclusive `flock` and replaced atomically, so the provider processes and the test process can share it.

Version semantics, per cloud (the API behaviour each provider's resource relies on):

- **aws** (Secrets Manager): versions have ids and staging labels. PutSecretValue without `VersionStages` moves
  `AWSCURRENT` to the new version, and the label `AWSPREVIOUS` to the version `AWSCURRENT` was removed from;
  a label given explicitly is moved from whichever version held it. A read without version returns `AWSCURRENT`.
  (Secrets Manager API reference, https://docs.aws.amazon.com/secretsmanager/latest/apireference/:
  PutSecretValue's `VersionStages` and GetSecretValue's `VersionStage` parameters.)
- **alicloud** (KMS secrets): the same model with the labels `ACSCurrent` / `ACSPrevious`; version ids are the
  caller's (`PutSecretValue.VersionId` is required; https://www.alibabacloud.com/help/en/kms/key-management-service/
  developer-reference/api-kms-2016-01-20-putsecretvalue).
- **gcp** (Secret Manager): versions are numbered 1, 2, ... in creation order; a version is ENABLED, DISABLED or
  DESTROYED; `latest` is the newest ENABLED version
  (https://cloud.google.com/secret-manager/docs/reference/rest/v1/projects.secrets.versions/access).

Secrets are keyed by their full name in the cloud (aws: the secret name; gcp: `projects/<p>/secrets/<id>`;
alicloud: the secret name); `aliases` (an ARN, a short id) find the same secret.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CLOUDS = ("aws", "gcp", "alicloud")
# Credentials a resource sets on a service rather than in a secret service, kept the same way so a test can compare
# them with the secret a workload reads: `gcp-sql-users` (Cloud SQL user passwords; numbered like gcp versions).
CREDENTIAL_STORES = ("gcp-sql-users",)
_LABELS = {"aws": ("AWSCURRENT", "AWSPREVIOUS"), "alicloud": ("ACSCurrent", "ACSPrevious")}


class SecretStoreError(Exception):
    """An operation the cloud's API would refuse (unknown secret, destroyed version, ...)."""


class SecretStore:
    """The stand-in secret service of one cloud, backed by `<offline_dir>/secrets/<cloud>.json`."""

    def __init__(self, offline_dir: Path, cloud: str) -> None:
        if cloud not in CLOUDS + CREDENTIAL_STORES:
            raise ValueError(f"unknown store {cloud!r}; expected one of {', '.join(CLOUDS + CREDENTIAL_STORES)}")
        self.cloud = cloud
        self.path = Path(offline_dir) / "secrets" / f"{cloud}.json"

    # --- file access ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self, write: bool) -> Iterator[dict[str, Any]]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            data = json.loads(self.path.read_text()) if self.path.exists() else {"secrets": {}}
            yield data
            if write:
                fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.cloud}-")
                with os.fdopen(fd, "w") as out:
                    json.dump(data, out, indent=2, sort_keys=True)
                os.replace(tmp, self.path)

    @staticmethod
    def _find(data: dict[str, Any], name: str, include_deleted: bool = False) -> str | None:
        secrets = {
            key: secret for key, secret in data["secrets"].items() if include_deleted or not secret.get("deleted")
        }
        if name in secrets:
            return name
        matches = [key for key, secret in secrets.items() if name in secret.get("aliases", [])]
        return matches[0] if len(matches) == 1 else None

    def _secret(self, data: dict[str, Any], name: str) -> dict[str, Any]:
        key = self._find(data, name)
        if key is None:
            raise SecretStoreError(f"{self.cloud}: no secret {name!r}")
        return data["secrets"][key]

    # --- secrets ----------------------------------------------------------------------------------

    def create_secret(self, name: str, aliases: list[str] | None = None) -> None:
        with self._locked(write=True) as data:
            existing = self._find(data, name, include_deleted=True)
            if existing is not None and data["secrets"][existing].get("deleted"):
                # aws: InvalidRequestException, "The secret is scheduled for deletion" (CreateSecret, Errors)
                raise SecretStoreError(f"{self.cloud}: a secret named {name!r} is scheduled for deletion")
            if existing is not None:
                raise SecretStoreError(f"{self.cloud}: secret {name!r} already exists")
            data["secrets"][name] = {"aliases": sorted(set(aliases or [])), "versions": []}

    def delete_secret(self, name: str, recovery_window_days: int = 0) -> None:
        """Delete at once, or (aws, with a recovery window) schedule the deletion: the secret is gone for reads
        and writes, and its name stays taken until the window ends (which a session never reaches)."""
        with self._locked(write=True) as data:
            key = self._find(data, name)
            if key is None:
                return
            if recovery_window_days > 0:
                data["secrets"][key]["deleted"] = True
            else:
                del data["secrets"][key]

    def exists(self, name: str) -> bool:
        with self._locked(write=False) as data:
            return self._find(data, name) is not None

    def names(self) -> list[str]:
        with self._locked(write=False) as data:
            return sorted(data["secrets"])

    # --- versions ---------------------------------------------------------------------------------

    def put(self, name: str, value: str, version: str | None = None, stages: list[str] | None = None) -> str:
        """Store a new version (PutSecretValue / AddSecretVersion); returns its version id."""
        with self._locked(write=True) as data:
            secret = self._secret(data, name)
            versions = secret["versions"]
            if self.cloud.startswith("gcp"):
                version_id = str(len(versions) + 1)
                versions.append({"id": version_id, "value": value, "state": "ENABLED", "stages": []})
                return version_id
            current, previous = _LABELS[self.cloud]
            version_id = version or str(uuid.uuid5(uuid.NAMESPACE_URL, f"{name}#{len(versions) + 1}"))
            if any(item["id"] == version_id for item in versions):
                raise SecretStoreError(f"{self.cloud}: secret {name!r} already has a version {version_id!r}")
            labels = list(stages) if stages else [current]
            for label in labels:
                for item in versions:
                    if label in item["stages"]:
                        item["stages"].remove(label)
                        if label == current:  # the version losing the current label becomes the previous one
                            for other in versions:
                                if previous in other["stages"]:
                                    other["stages"].remove(previous)
                            item["stages"].append(previous)
            versions.append({"id": version_id, "value": value, "state": "ENABLED", "stages": sorted(labels)})
            return version_id

    def _version(self, secret: dict[str, Any], version: str | None) -> dict[str, Any] | None:
        versions = secret["versions"]
        if self.cloud.startswith("gcp"):
            if version in (None, "latest"):
                enabled = [item for item in versions if item["state"] == "ENABLED"]
                return enabled[-1] if enabled else None
            return next((item for item in versions if item["id"] == str(version)), None)
        wanted = version or _LABELS[self.cloud][0]
        return next((item for item in versions if item["id"] == wanted or wanted in item["stages"]), None)

    def get(self, name: str, version: str | None = None) -> str | None:
        """The value a workload reads (GetSecretValue / AccessSecretVersion); None if there is no such version."""
        found = self.read(name, version)
        return None if found is None else found["value"]

    def read(self, name: str, version: str | None = None) -> dict[str, Any] | None:
        """What the cloud's read API returns for a version (the stand-in CLIs answer from it): the secret's name and
        aliases, and the version's id, stages and value; None where the API has nothing to return (no such secret or
        version, or a version not ENABLED, as `get` reads)."""
        with self._locked(write=False) as data:
            key = self._find(data, name)
            if key is None:
                return None
            found = self._version(data["secrets"][key], version)
            if found is None or found["state"] != "ENABLED":
                return None
            return {"name": key, "aliases": data["secrets"][key].get("aliases", []), **found}

    def describe(self, name: str, version: str | None = None) -> dict[str, Any] | None:
        """A version's metadata (id, stages, state) without its value; None if absent."""
        with self._locked(write=False) as data:
            key = self._find(data, name)
            if key is None:
                return None
            found = self._version(data["secrets"][key], version)
            return None if found is None else {k: v for k, v in found.items() if k != "value"}

    def set_state(self, name: str, version: str, state: str) -> None:
        """gcp: enable, disable or destroy a version (DESTROYED drops its payload, as the API does)."""
        with self._locked(write=True) as data:
            found = self._version(self._secret(data, name), version)
            if found is None:
                raise SecretStoreError(f"{self.cloud}: secret {name!r} has no version {version!r}")
            found["state"] = state
            if state == "DESTROYED":
                found["value"] = None

    def remove_stage(self, name: str, version: str, stage: str) -> None:
        """aws/alicloud: UpdateSecretVersionStage with RemoveFromVersionId."""
        with self._locked(write=True) as data:
            found = self._version(self._secret(data, name), version)
            if found is not None and stage in found["stages"]:
                found["stages"].remove(stage)
