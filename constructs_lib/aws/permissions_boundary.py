"""Every IAM role of a stage's stacks carries the stage's permissions boundary.

The stage's apply role may create a role, or give one permissions, only when the role has the boundary
`<tenant>-<env>-ci-boundary` (constructs_lib/aws/ci_trust.py); an aspect sets it on every `aws_iam_role` of the
gateway and quotas stacks, so no construct can forget it and no apply fails on a role without it.
"""

from __future__ import annotations

import jsii
from cdktf import IAspect
from constructs import IConstruct


@jsii.implements(IAspect)
class PermissionsBoundary:
    """Sets `permissions_boundary` on every `aws_iam_role` below the scope it is added to."""

    def __init__(self, boundary_arn: str) -> None:
        self._boundary_arn = boundary_arn

    def visit(self, node: IConstruct) -> None:
        if getattr(type(node), "TF_RESOURCE_TYPE", None) == "aws_iam_role":
            node.add_override("permissions_boundary", self._boundary_arn)
