"""Remote-state settings per cloud. Every environment of a cloud must point at the same state store."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from constructs_lib.config.base import StrictModel

BucketName = str


class AwsStateConfig(StrictModel):
    bucket: BucketName = Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", description="S3 bucket for state.")
    region: str = Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    locking: Literal["lockfile", "dynamodb"] = Field(
        default="lockfile", description="`lockfile` (S3 native, Terraform >= 1.10) or a `dynamodb` table."
    )
    dynamodb_table: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]{3,255}$")

    @model_validator(mode="after")
    def _table_iff_dynamodb(self) -> AwsStateConfig:
        if self.locking == "dynamodb" and not self.dynamodb_table:
            raise ValueError("locking 'dynamodb' needs dynamodb_table")
        if self.locking == "lockfile" and self.dynamodb_table:
            raise ValueError("dynamodb_table is only used with locking 'dynamodb'")
        return self


class GcpStateConfig(StrictModel):
    bucket: BucketName = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{1,61}[a-z0-9]$", description="GCS bucket for state.")
    project: str = Field(pattern=r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$", description="Project that owns the bucket.")
    location: str = Field(default="US", pattern=r"^[A-Za-z0-9-]+$")


class AlicloudStateConfig(StrictModel):
    bucket: BucketName = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", description="OSS bucket for state.")
    region: str = Field(pattern=r"^[a-z]{2}(-[a-z0-9]+)+$")
    tablestore_instance: str = Field(
        pattern=r"^[a-zA-Z][a-zA-Z0-9-]{1,14}[a-zA-Z0-9]$", description="Tablestore instance holding the lock table."
    )
    tablestore_table: str = Field(default="terraform_lock", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")

    @property
    def tablestore_endpoint(self) -> str:
        return f"https://{self.tablestore_instance}.{self.region}.ots.aliyuncs.com"
