"""`terraform_data`, Terraform's built-in resource, without a `terraform version` run per instance.

cdktf's `DataResource` adds a validation to every instance that runs `terraform version` in a child process
at synth (to check Terraform >= 1.4): ~60 ms each, over a second per cloud for the registrations and
migration steps of every agent and environment, and a synth that fails on a machine without Terraform. This
class writes the same JSON; the version requirement is instead declared once per stack as
`terraform.required_version` (`stacks/context.py`), where Terraform itself enforces it at `init`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cdktf import (
    ITerraformDependable,
    TerraformProviderGeneratorMetadata,
    TerraformResource,
    TerraformResourceLifecycle,
)
from constructs import Construct

_BUILTIN = TerraformProviderGeneratorMetadata(provider_name="terraform")


class TerraformData(TerraformResource):
    """A `terraform_data` resource: `input` is stored in state, a change of `triggers_replace` replaces it."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        input: Mapping[str, str] | None = None,  # Terraform's own argument name
        triggers_replace: Mapping[str, str] | None = None,
        depends_on: Sequence[ITerraformDependable] | None = None,
        provisioners: Sequence[Any] | None = None,
        lifecycle: TerraformResourceLifecycle | None = None,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            terraform_resource_type="terraform_data",
            terraform_generator_metadata=_BUILTIN,
            depends_on=list(depends_on) if depends_on is not None else None,
            provisioners=list(provisioners) if provisioners is not None else None,
            lifecycle=lifecycle,
        )
        self._attributes = {
            name: dict(value)
            for name, value in (("input", input), ("triggers_replace", triggers_replace))
            if value is not None
        }

    @property
    def id(self) -> str:
        """Reference to the resource's `id` (a token resolved by Terraform)."""
        return self.get_string_attribute("id")

    def _synthesize_attributes(self) -> dict[str, Any]:
        return dict(self._attributes)

    def _synthesize_hcl_attributes(self) -> dict[str, Any]:
        return dict(self._attributes)
