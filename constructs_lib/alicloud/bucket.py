"""A private OSS bucket: versioned, SSE-KMS with a customer key, private ACL, public access blocked."""

from __future__ import annotations

from cdktf import TerraformResourceLifecycle
from constructs import Construct

from imports.alicloud.oss_bucket import OssBucket, OssBucketServerSideEncryptionRule, OssBucketVersioning
from imports.alicloud.oss_bucket_acl import OssBucketAcl
from imports.alicloud.oss_bucket_public_access_block import OssBucketPublicAccessBlock


def private_bucket(
    scope: Construct,
    name: str,
    kms_key_id: str,
    *,
    lifecycle: TerraformResourceLifecycle | None = None,
    force_destroy: bool | None = None,
) -> OssBucket:
    """`bucket`, `acl` and `public-access` in `scope`.

    Versioning and default encryption inline (not the separate resources): one owner per setting, and the way
    security scanners read a bucket. SSE-KMS with the given key even if a client forgets to ask for it.
    """
    bucket = OssBucket(
        scope,
        "bucket",
        bucket=name,
        versioning=OssBucketVersioning(status="Enabled"),
        server_side_encryption_rule=OssBucketServerSideEncryptionRule(
            sse_algorithm="KMS", kms_master_key_id=kms_key_id
        ),
        force_destroy=force_destroy,
        lifecycle=lifecycle,
    )
    OssBucketAcl(scope, "acl", bucket=bucket.bucket, acl="private")
    OssBucketPublicAccessBlock(scope, "public-access", bucket=bucket.bucket, block_public_access=True)
    return bucket
