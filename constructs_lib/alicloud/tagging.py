"""Alibaba Cloud has no provider-level default tags: an aspect stamps the identity on each taggable resource."""

from __future__ import annotations

import json
from pathlib import Path

import jsii
from cdktf import IAspect, TerraformResource
from constructs import IConstruct

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "imports" / "schemas" / "alicloud@1.289.0.json"


def _taggable_resource_types() -> frozenset[str]:
    """Resource types whose pinned schema has a `tags` map: the provider's own definition of taggable."""
    schemas = json.loads(SCHEMA_FILE.read_text())["provider_schemas"]
    (provider,) = schemas.values()
    return frozenset(
        name
        for name, schema in provider["resource_schemas"].items()
        if schema["block"].get("attributes", {}).get("tags", {}).get("type") == ["map", "string"]
    )


TAGGABLE_RESOURCE_TYPES = _taggable_resource_types()


@jsii.implements(IAspect)
class AlicloudTags:
    """Merges `tags` into every taggable alicloud resource; tags a construct set itself are kept."""

    def __init__(self, tags: dict[str, str]) -> None:
        self._tags = dict(tags)

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, TerraformResource) and node.terraform_resource_type in TAGGABLE_RESOURCE_TYPES:
            for key, value in self._tags.items():
                # A per-key override merges into whatever the resource already has.
                node.add_override(f"tags.{key}", value)
