"""Python names for Terraform names, following the prebuilt cdktf bindings' conventions."""

from __future__ import annotations

import keyword

# Names a generated resource/data source cannot use for an argument or a property, because
# cdktf.TerraformResource / TerraformDataSource already define them (meta-arguments included).
RESERVED_MEMBERS = frozenset(
    {
        "add_move_target",
        "add_override",
        "cdktf_stack",
        "connection",
        "count",
        "depends_on",
        "for_each",
        "fqn",
        "friendly_unique_id",
        "get_any_map_attribute",
        "get_boolean_attribute",
        "get_boolean_map_attribute",
        "get_list_attribute",
        "get_number_attribute",
        "get_number_list_attribute",
        "get_number_map_attribute",
        "get_string_attribute",
        "get_string_map_attribute",
        "has_resource_move",
        "import_from",
        "interpolation_for_attribute",
        "is_construct",
        "is_terraform_data_source",
        "is_terraform_element",
        "is_terraform_resource",
        "lifecycle",
        "move_from_id",
        "move_to",
        "move_to_id",
        "node",
        "override_logical_id",
        "provider",
        "provisioners",
        "reset_override_logical_id",
        "terraform_generator_metadata",
        "terraform_meta_arguments",
        "terraform_resource_type",
        "to_hcl_terraform",
        "to_metadata",
        "to_string",
        "to_terraform",
        "with_",
        "scope",
        "id_",
        "alias",
        "meta_attributes",
        "terraform_provider_source",
    }
)


def camel(name: str) -> str:
    """``zone_mappings`` -> ``ZoneMappings``."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part)


def field_name(tf_name: str) -> str:
    """Python name of an attribute inside a nested block (only keywords need escaping)."""
    return tf_name + "_" if keyword.iskeyword(tf_name) or keyword.issoftkeyword(tf_name) else tf_name


def member_name(tf_name: str) -> str:
    """Python name of a top-level argument/property, kept clear of cdktf's own members."""
    name = field_name(tf_name)
    return name + "_attribute" if name in RESERVED_MEMBERS else name


def module_and_class(provider: str, type_name: str, *, data_source: bool) -> tuple[str, str]:
    """``alicloud_vpc`` -> (``vpc``, ``Vpc``); data source ``alicloud_zones`` -> ``data_alicloud_zones``."""
    if data_source:
        module = f"data_{type_name}"
        return module, camel(module)
    short = type_name.removeprefix(f"{provider}_")
    module = field_name(short)
    return module, camel(short)
