"""How a resource type gets the stack identity tags, read from the bindings themselves (not a hand list)."""

from __future__ import annotations

import importlib
import inspect
from functools import cache

PREBUILT = {
    "aws_": ("cdktf_cdktf_provider_aws", "tags_input"),
    "google_": ("cdktf_cdktf_provider_google", "labels_input"),
}


@cache
def resource_tags_mechanism(resource_type: str) -> str | None:
    """`provider-default` (AWS default_tags / GCP default_labels), `resource` (tags on the resource), or None."""
    for prefix, (package, tag_property) in PREBUILT.items():
        if resource_type.startswith(prefix):
            module = importlib.import_module(f"{package}.{resource_type.removeprefix(prefix)}")
            resource_class = next(
                cls
                for _, cls in inspect.getmembers(module, inspect.isclass)
                if getattr(cls, "TF_RESOURCE_TYPE", None) == resource_type
            )
            return "provider-default" if hasattr(resource_class, tag_property) else None
    if resource_type.startswith("alicloud_"):
        from constructs_lib.alicloud.tagging import TAGGABLE_RESOURCE_TYPES

        return "resource" if resource_type in TAGGABLE_RESOURCE_TYPES else None
    return None
