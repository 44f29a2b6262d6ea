"""Terraform values on the wire (cty msgpack) and the stand-in's answers built from them.

Values are decoded to plain Python (dict/list/str/int/float/bool/None) with `UNKNOWN` for unknown
values; values of a `dynamic` type stay in their wire form `[type_json, value]` and are passed on
untouched. The schema walked here is the protocol's `Schema.Block` message.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Final

import msgpack


class _Unknown:
    """A value Terraform (or the stand-in) does not know yet: "(known after apply)"."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final = _Unknown()
# cty encodes an unknown value as msgpack extension 0 (refined unknowns use other extension codes)
_UNKNOWN_EXT: Final = msgpack.ExtType(0, b"\x00")
# how many elements a placeholder list/set/map gets: enough for slice(names, 0, 3) style expressions
PLACEHOLDER_ITEMS: Final = 3

NESTING_SINGLE, NESTING_LIST, NESTING_SET, NESTING_MAP, NESTING_GROUP = 1, 2, 3, 4, 5


def decode(data: bytes) -> Any:
    """Decode a DynamicValue's msgpack bytes; every extension value is an unknown (as in cty)."""
    if not data:
        return None
    return msgpack.unpackb(data, raw=False, strict_map_key=False, ext_hook=lambda _code, _data: UNKNOWN)


def _default(value: object) -> object:
    if value is UNKNOWN:
        return _UNKNOWN_EXT
    raise TypeError(f"cannot encode {value!r} as a Terraform value")


def encode(value: Any) -> bytes:
    return msgpack.packb(value, use_bin_type=True, default=_default)


def _nested_blocks(block: Any) -> Any:
    """Nested blocks of a Schema.Block; a nested attribute type (Schema.Object) has none."""
    return getattr(block, "block_types", ())


def plan_object(block: Any, proposed: Any, creating: bool) -> Any:
    """Planned state from Terraform's proposed new state (config merged with prior state).

    Config values stay as given; a computed attribute that is still null becomes unknown when the
    object is being created (on update the prior value Terraform merged in is kept); write-only
    attributes are null, as Terraform requires of every plan. `block` is a Schema.Block or the
    Schema.Object of a nested attribute type.
    """
    if not isinstance(proposed, dict):
        return proposed
    out = dict(proposed)
    for attr in block.attributes:
        value = proposed.get(attr.name)
        if attr.write_only:
            out[attr.name] = None
        elif value is None:
            if attr.computed and creating:
                out[attr.name] = UNKNOWN
        elif attr.HasField("nested_type"):
            out[attr.name] = _map_nested(attr.nested_type.nesting, value, plan_object, attr.nested_type, creating)
    for nested in _nested_blocks(block):
        value = proposed.get(nested.type_name)
        if value is not None:
            out[nested.type_name] = _map_nested(nested.nesting, value, plan_object, nested.block, creating)
    return out


def _map_nested(nesting: int, value: Any, fn: Callable[[Any, Any, bool], Any], schema: Any, flag: bool) -> Any:
    """fn(schema, item, flag) for each object of a nested block/attribute value, whatever its nesting."""
    if value is UNKNOWN or value is None:
        return value
    if nesting in (NESTING_LIST, NESTING_SET):
        return [fn(schema, item, flag) for item in value]
    if nesting == NESTING_MAP:
        return {key: fn(schema, item, flag) for key, item in value.items()}
    return fn(schema, value, flag)


def fill_object(block: Any, config: Any, fill_optional: bool) -> Any:
    """A data source / ephemeral result: config as given, unset computed attributes as placeholders.

    The placeholders are well typed and known, so that plans depending on the result go through.
    With fill_optional (data sources), unset optional arguments are filled too: providers commonly
    report the value they used (google_project.project_id from the provider's project), and Terraform
    accepts that of a data source but not of an ephemeral resource.
    """
    if not isinstance(config, dict):
        return config
    out = dict(config)
    for attr in block.attributes:
        value = config.get(attr.name)
        if value is None:
            if attr.computed or (fill_optional and not attr.write_only):
                out[attr.name] = placeholder(attribute_type(attr), attr.name)
        elif attr.HasField("nested_type"):
            out[attr.name] = _map_nested(attr.nested_type.nesting, value, fill_object, attr.nested_type, fill_optional)
    for nested in _nested_blocks(block):
        value = config.get(nested.type_name)
        if value is not None:
            out[nested.type_name] = _map_nested(nested.nesting, value, fill_object, nested.block, fill_optional)
    return out


def attribute_type(attr: Any) -> Any:
    """The cty type (as decoded JSON) of an attribute, also for nested attribute types."""
    if not attr.HasField("nested_type"):
        return json.loads(attr.type)
    obj = ["object", {inner.name: attribute_type(inner) for inner in attr.nested_type.attributes}]
    nesting = attr.nested_type.nesting
    if nesting == NESTING_LIST:
        return ["list", obj]
    if nesting == NESTING_SET:
        return ["set", obj]
    if nesting == NESTING_MAP:
        return ["map", obj]
    return obj


def _placeholder_string(name: str, index: int | None) -> str:
    if name == "json" or name.endswith("_json") or name == "policy":
        return "{}"
    if name.endswith("cidr_block") or name.endswith("cidr"):
        return f"10.{index or 0}.0.0/16"
    return f"standin-{name}" if index is None else f"standin-{name}-{index}"


def build_value(
    cty_type: Any, leaf: Callable[[str, tuple[Any, ...]], Any], path: tuple[Any, ...], items: int, map_items: int
) -> Any:
    """A known value of cty_type: `leaf(type, path)` for each string, number and bool (`dynamic` is null),
    `items` elements in each list or set, `map_items` in each map (keys `standin-<i>`); `path` grows by attribute
    names and element indexes."""
    if isinstance(cty_type, str):
        return None if cty_type == "dynamic" else leaf(cty_type, path)
    kind, inner = cty_type[0], cty_type[1]
    if kind in ("list", "set"):
        return [build_value(inner, leaf, (*path, i), items, map_items) for i in range(items)]
    if kind == "map":
        return {f"standin-{i}": build_value(inner, leaf, (*path, i), items, map_items) for i in range(map_items)}
    if kind == "object":
        return {key: build_value(attr, leaf, (*path, key), items, map_items) for key, attr in inner.items()}
    if kind == "tuple":
        return [build_value(item, leaf, (*path, i), items, map_items) for i, item in enumerate(inner)]
    raise ValueError(f"unsupported cty type {cty_type!r} at {'.'.join(map(str, path))}")


def _placeholder_leaf(kind: str, path: tuple[Any, ...]) -> Any:
    name = next(step for step in reversed(path) if isinstance(step, str))
    index = next((step for step in reversed(path) if isinstance(step, int)), None)
    if kind == "string":
        return _placeholder_string(name, index)
    return 1 + (index or 0) if kind == "number" else False


def placeholder(cty_type: Any, name: str) -> Any:
    """A known value of cty_type: strings "standin-<name>[-<index>]", numbers 1 (+ index), collections of a few."""
    return build_value(cty_type, _placeholder_leaf, (name,), PLACEHOLDER_ITEMS, PLACEHOLDER_ITEMS)


def null_object(block: Any) -> dict[str, Any]:
    """An object of the block's type with every attribute null and no nested blocks (as Terraform expects)."""
    out: dict[str, Any] = {attr.name: None for attr in block.attributes}
    for nested in _nested_blocks(block):
        if nested.nesting in (NESTING_LIST, NESTING_SET):
            out[nested.type_name] = []
        elif nested.nesting == NESTING_MAP:
            out[nested.type_name] = {}
        else:
            out[nested.type_name] = None
    return out
