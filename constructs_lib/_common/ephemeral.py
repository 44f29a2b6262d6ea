"""Ephemeral resources (Terraform >= 1.10), which cdktf 0.21 cannot express (hashicorp/terraform-cdk#3886).

They are written as a stack-level escape-hatch override under the top-level `ephemeral` key, and referenced by
plain `${ephemeral.<type>.<name>.<attr>}` expressions. An ephemeral value is never stored in plan or state; it can
feed only write-only arguments, provider blocks and provisioners (Terraform refuses anything else).
"""

from __future__ import annotations

import re

from cdktf import TerraformStack
from constructs import Construct

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def ephemeral_random_password(scope: Construct, name: str, *, length: int = 48, special: bool = False) -> str:
    """Declare `ephemeral "random_password" "<name>"` in the scope's stack; returns the `result` reference.

    The stack must configure the hashicorp/random provider (>= 3.7, which has the ephemeral resource).
    """
    if not _NAME.match(name):
        raise ValueError(f"ephemeral resource name {name!r} must match {_NAME.pattern}")
    stack = TerraformStack.of(scope)
    stack.add_override(f"ephemeral.random_password.{name}", {"length": length, "special": special, "min_numeric": 4})
    return f"${{ephemeral.random_password.{name}.result}}"
