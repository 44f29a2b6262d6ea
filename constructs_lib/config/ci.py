"""The `ci:` section: how the bootstrap stacks set up OIDC trust for GitHub Actions."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from constructs_lib.config.base import StrictModel

# GitHub's published thumbprints of its OIDC issuer's certificate chain (GitHub changelog, 2023-06-27).
GITHUB_OIDC_THUMBPRINTS = [
    "6938fd4d98bab03faadb97b34396831e3780aea1",  # pragma: allowlist secret (public certificate thumbprint)
    "1c58a3a8518e8759bf075b76b750d4f2df264fcd",  # pragma: allowlist secret (public certificate thumbprint)
]


class CiConfig(StrictModel):
    aws_bootstrap_role_name: str = Field(
        default="OrganizationAccountAccessRole",
        pattern=r"^[\w+=,.@-]{1,64}$",
        description=(
            "Role the AWS bootstrap stack assumes in each environment's account to create that account's CI "
            "roles (AWS Organizations creates `OrganizationAccountAccessRole` in member accounts)."
        ),
    )
    alicloud_oidc_fingerprints: list[Annotated[str, Field(pattern=r"^[0-9a-fA-F]{40}$")]] = Field(
        default_factory=lambda: list(GITHUB_OIDC_THUMBPRINTS),
        min_length=1,
        description="SHA-1 thumbprints of GitHub's OIDC certificate chain for the Alibaba Cloud OIDC provider.",
    )
