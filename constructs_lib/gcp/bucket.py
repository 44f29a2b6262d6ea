"""The gateway's GCS bucket (SecureGcsBucket), with object access for the runtime identities on this bucket only.

bucket = GatewayBucket(self, "bucket", GatewayBucketProps(name=..., location=region, production=True,
    object_users=[("gateway", accounts.member("gateway"))]))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf import ITerraformDependable
from cdktf_cdktf_provider_google.storage_bucket_iam_member import StorageBucketIamMember
from constructs import Construct

from constructs_lib.gcp.secure_bucket import SecureGcsBucket, SecureGcsBucketProps

# Read, create, overwrite and delete objects; no bucket-level permission (IAM, settings).
OBJECT_ROLE = "roles/storage.objectUser"


@dataclass(frozen=True)
class GatewayBucketProps:
    name: str
    location: str
    production: bool
    # (grantee label, IAM member) pairs that get OBJECT_ROLE on this bucket.
    object_users: Sequence[tuple[str, str]]
    depends_on: Sequence[ITerraformDependable] = ()


class GatewayBucket(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: GatewayBucketProps) -> None:
        super().__init__(scope, construct_id)
        # Kept on destroy in production (prevent_destroy); force_destroy is off everywhere (SecureGcsBucket).
        self.secure = SecureGcsBucket(
            self,
            "bucket",
            SecureGcsBucketProps(
                name=props.name,
                location=props.location,
                prevent_destroy=props.production,
                depends_on=props.depends_on,
            ),
        )
        for grantee, member in props.object_users:
            StorageBucketIamMember(
                self, f"objects-{grantee}", bucket=self.secure.bucket.name, role=OBJECT_ROLE, member=member
            )

    @property
    def name(self) -> str:
        return self.secure.name
