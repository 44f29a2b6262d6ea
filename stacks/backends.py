"""Remote state for every gateway and quotas stack: one state object per stack, in the cloud's store.

The store itself (bucket, lock table) is created by the cloud's bootstrap stack, which keeps local state.
"""

from __future__ import annotations

from cdktf import GcsBackend, LocalBackend, OssBackend, S3Backend, TerraformStack

from constructs_lib._common.ci_identity import stage_lock_table
from constructs_lib.config.state import AlicloudStateConfig, AwsStateConfig, GcpStateConfig

STATE_FILE = "terraform.tfstate"
# Every gateway stack writes secrets through write-only `*_wo` arguments (Terraform 1.11) and generates agent
# keys as ephemeral resources (1.10); `terraform init` refuses an older binary with this constraint.
REQUIRED_TERRAFORM_VERSION = ">= 1.11.0"


def require_terraform_version(stack: TerraformStack) -> None:
    stack.add_override("terraform.required_version", REQUIRED_TERRAFORM_VERSION)


def aws_s3_backend(stack: TerraformStack, state: AwsStateConfig, stack_name: str) -> S3Backend:
    backend = S3Backend(
        stack,
        bucket=state.bucket,
        key=f"{stack_name}/{STATE_FILE}",
        region=state.region,
        encrypt=True,
        dynamodb_table=state.dynamodb_table if state.locking == "dynamodb" else None,
    )
    if state.locking == "lockfile":
        # cdktf 0.21's S3BackendConfig predates S3-native locking (Terraform >= 1.10): set it directly.
        stack.add_override("terraform.backend.s3.use_lockfile", True)
    return backend


def gcp_gcs_backend(stack: TerraformStack, state: GcpStateConfig, stack_name: str) -> GcsBackend:
    # GCS locks natively; objects are encrypted at rest (Google-managed or the bucket's CMEK).
    return GcsBackend(stack, bucket=state.bucket, prefix=stack_name)


def alicloud_oss_backend(stack: TerraformStack, state: AlicloudStateConfig, stack_name: str, env: str) -> OssBackend:
    return OssBackend(
        stack,
        bucket=state.bucket,
        prefix=stack_name,
        key=STATE_FILE,
        region=state.region,
        encrypt=True,
        acl="private",
        tablestore_endpoint=state.tablestore_endpoint,
        # Each stage locks in its own table, so its CI roles write no other stage's lock rows (docs/CI.md).
        tablestore_table=stage_lock_table(state.tablestore_table, env),
    )


def bootstrap_local_backend(stack: TerraformStack, stack_name: str) -> LocalBackend:
    """Local state for the bootstrap stacks, kept in the project root, outside `cdktf.out`.

    Terraform runs in `cdktf.out/stacks/<stack>/`, so the path climbs three levels. cdktf's default would be
    an absolute path (machine-specific output), and a path inside `cdktf.out` would be deleted by the next synth.
    """
    return LocalBackend(stack, path=f"../../../terraform.{stack_name}.tfstate")
