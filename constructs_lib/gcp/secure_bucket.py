"""A GCS bucket with every control on: uniform access, public access prevented, versioned, kept on destroy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf import ITerraformDependable, TerraformResourceLifecycle
from cdktf_cdktf_provider_google.storage_bucket import (
    StorageBucket,
    StorageBucketEncryption,
    StorageBucketLifecycleRule,
    StorageBucketLifecycleRuleAction,
    StorageBucketLifecycleRuleCondition,
    StorageBucketVersioning,
)
from constructs import Construct


@dataclass(frozen=True)
class SecureGcsBucketProps:
    name: str
    location: str
    # Optional customer-managed key (`projects/.../cryptoKeys/...`); Google-managed encryption otherwise.
    kms_key_name: str | None = None
    noncurrent_versions_kept: int = 20
    prevent_destroy: bool = True
    # E.g. the `storage.googleapis.com` project service (a construct-level add_dependency emits nothing).
    depends_on: Sequence[ITerraformDependable] = ()


class SecureGcsBucket(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: SecureGcsBucketProps) -> None:
        super().__init__(scope, construct_id)
        self.bucket = StorageBucket(
            self,
            "bucket",
            name=props.name,
            location=props.location,
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            force_destroy=False,
            versioning=StorageBucketVersioning(enabled=True),
            encryption=StorageBucketEncryption(default_kms_key_name=props.kms_key_name) if props.kms_key_name else None,
            lifecycle_rule=[
                StorageBucketLifecycleRule(
                    action=StorageBucketLifecycleRuleAction(type="Delete"),
                    condition=StorageBucketLifecycleRuleCondition(
                        num_newer_versions=props.noncurrent_versions_kept, with_state="ARCHIVED"
                    ),
                )
            ],
            lifecycle=TerraformResourceLifecycle(prevent_destroy=props.prevent_destroy),
            depends_on=list(props.depends_on) or None,
        )

    @property
    def name(self) -> str:
        return self.bucket.name
