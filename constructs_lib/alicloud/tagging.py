"""Alibaba Cloud has no provider-level default tags: an aspect stamps the identity on each taggable resource."""

from __future__ import annotations

import json
from pathlib import Path

import jsii
from cdktf import IAspect
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
        # Every alicloud resource is a generated binding, whose class names its type: no jsii round trip for
        # the hundreds of constructs that are not taggable resources.
        if getattr(type(node), "TF_RESOURCE_TYPE", None) in TAGGABLE_RESOURCE_TYPES:
            # An override of a map merges into whatever the resource already has, key by key.
            node.add_override("tags", dict(self._tags))
