"""Lifecycle settings that cdktf 0.21 renders wrongly.

cdktf writes a construct passed to `replace_triggered_by` as `"${terraform_data.x}"`, which Terraform's JSON
syntax rejects ("Invalid character"): the argument takes bare references, like `depends_on`. Found by the
offline plan (`make plan-offline`); `tests/test_plan_offline.py` keeps every stack planning.
"""

from __future__ import annotations

from cdktf import TerraformResource, TerraformResourceLifecycle


def address(resource: TerraformResource) -> str:
    """`<type>.<name>`: the resource's address as Terraform's references and `-replace` name it."""
    return f"{resource.terraform_resource_type}.{resource.friendly_unique_id}"


def replaced_with(*resources: TerraformResource) -> TerraformResourceLifecycle:
    """A lifecycle that replaces the resource whenever one of `resources` is replaced."""
    return TerraformResourceLifecycle(replace_triggered_by=[address(resource) for resource in resources])
