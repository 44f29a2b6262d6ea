"""terraform-plugin-sdk's lowering of ``schema.Resource`` to the JSON Terraform prints.

This mirrors ``helper/schema/core_schema.go`` (SDK v1 and v2) and Terraform's ``jsonprovider``
output, so a block derived here is what ``terraform providers schema -json`` shows:

* an attribute for primitives, for collections of ``*schema.Schema`` / ``ValueType``, for
  computed-only collections of ``*schema.Resource`` (typed as lists/sets of objects) and for
  ``TypeMap`` whatever its ``Elem`` (a ``Resource`` elem becomes ``map(string)``);
* a nested block (list or set nesting) for configurable collections of ``*schema.Resource``,
  with ``min_items`` forced to 1 when required, dropped when optional, and both limits dropped
  when computed-only;
* the implicit optional+computed ``id`` and a single-nested ``timeouts`` block at the top level;
* ``Required`` with a ``DefaultFunc`` that yields a value (env var unset: ``nil`` keeps it
  required) turns optional, exactly as the SDK decides when Terraform asks for the schema with no
  provider environment variables set;
* SDK v2 only: ``deprecated``/``write_only`` attribute flags and the resource description.
"""

from __future__ import annotations

from typing import Any

from tools.provider_schema.evaluate import EvalError, ExternalCall, Qualified, Struct

JsonType = str | list[Any]
Block = dict[str, Any]

_PRIMITIVES = {"TypeString": "string", "TypeBool": "bool", "TypeInt": "number", "TypeFloat": "number"}
_COLLECTIONS = {"TypeList": "list", "TypeSet": "set", "TypeMap": "map"}
_TIMEOUT_FIELDS = (
    ("Create", "create"),
    ("Read", "read"),
    ("Update", "update"),
    ("Delete", "delete"),
    ("Default", "default"),
)


def _sdk_name(value: object, where: str) -> str:
    if isinstance(value, Qualified) and value.name.startswith("schema."):
        return value.name.removeprefix("schema.")
    msg = f"{where}: expected a schema.* constant, got {value!r}"
    raise EvalError(msg)


def _flag(s: Struct, name: str, where: str) -> bool:
    value = s.get(name, False)
    if not isinstance(value, bool):
        msg = f"{where}: {name} is not a literal bool ({value!r})"
        raise EvalError(msg)
    return value


def _int(s: Struct, name: str, where: str) -> int:
    value = s.get(name, 0)
    if not isinstance(value, int) or isinstance(value, bool):
        msg = f"{where}: {name} is not a literal int ({value!r})"
        raise EvalError(msg)
    return value


def _text(s: Struct, name: str, where: str) -> str:
    value = s.get(name, "")
    if not isinstance(value, str):
        msg = f"{where}: {name} is not a constant string ({value!r})"
        raise EvalError(msg)
    return value


def _as_struct(value: object, type_name: str, where: str) -> Struct:
    if isinstance(value, Struct) and value.type_name in (type_name, ""):
        return value
    msg = f"{where}: expected a {type_name} literal, got {value!r}"
    raise EvalError(msg)


def _schema_map(resource: Struct, where: str) -> dict[str, Struct]:
    raw = resource.get("Schema", {})
    if not isinstance(raw, dict):
        msg = f"{where}: Schema is not a map literal"
        raise EvalError(msg)
    return {name: _as_struct(thunk.value(), "schema.Schema", f"{where}.{name}") for name, thunk in raw.items()}


def _default_func_yields_value(s: Struct, where: str) -> bool:
    """Whether ``DefaultFunc()`` returns non-nil with no environment variables set."""
    func = s.get("DefaultFunc")
    if isinstance(func, ExternalCall) and func.name in ("schema.EnvDefaultFunc", "schema.MultiEnvDefaultFunc"):
        return func.args[1].value() is not None
    msg = f"{where}: required attribute with a DefaultFunc this reader cannot evaluate ({func!r})"
    raise EvalError(msg)


class Lowering:
    """Lowers evaluated SDK structs to Terraform's schema JSON for one SDK major version."""

    def __init__(self, sdk_major: int) -> None:
        if sdk_major not in (1, 2):
            msg = f"unsupported terraform-plugin-sdk major version {sdk_major}"
            raise ValueError(msg)
        self.sdk_major = sdk_major

    # -- types --------------------------------------------------------------------------------

    def _type(self, s: Struct, where: str) -> JsonType:
        return self._type_of(_sdk_name(s.get("Type"), f"{where}.Type"), s.get("Elem"), where)

    def _type_of(self, kind: str, elem: object, where: str) -> JsonType:
        if kind in _PRIMITIVES:
            return _PRIMITIVES[kind]
        if kind not in _COLLECTIONS:
            msg = f"{where}: unsupported Type schema.{kind}"
            raise EvalError(msg)
        elem_type: JsonType
        if elem is None:
            elem_type = "string"  # the SDK's compatibility default for an untyped collection
        elif isinstance(elem, Qualified):  # a bare ValueType, which the SDK shims
            elem_type = self._type_of(_sdk_name(elem, f"{where}.Elem"), None, f"{where}.Elem")
        elif isinstance(elem, Struct) and elem.type_name == "schema.Resource":
            elem_type = implied_type(self.block(elem, f"{where}.Elem"))
        elif isinstance(elem, Struct):
            elem_type = self._type(elem, f"{where}.Elem")
        else:
            msg = f"{where}: unsupported Elem {elem!r}"
            raise EvalError(msg)
        return [_COLLECTIONS[kind], elem_type]

    # -- attributes and blocks ----------------------------------------------------------------

    def attribute(self, s: Struct, where: str, *, override_type: JsonType | None = None) -> dict[str, Any]:
        required = _flag(s, "Required", where)
        optional = _flag(s, "Optional", where)
        if required and s.has("DefaultFunc") and _default_func_yields_value(s, where):
            required, optional = False, True
        out: dict[str, Any] = {
            "type": override_type if override_type is not None else self._type(s, where),
            "description_kind": "plain",
        }
        description = _text(s, "Description", where)
        if description:
            out["description"] = description
        flags = {
            "required": required,
            "optional": optional,
            "computed": _flag(s, "Computed", where),
            "sensitive": _flag(s, "Sensitive", where),
        }
        if self.sdk_major >= 2:
            flags["deprecated"] = bool(_text(s, "Deprecated", where))
            flags["write_only"] = _flag(s, "WriteOnly", where)
        out.update({name: True for name, on in flags.items() if on})
        return out

    def nested_block(self, s: Struct, where: str) -> dict[str, Any]:
        kind = _sdk_name(s.get("Type"), f"{where}.Type")
        if kind not in ("TypeList", "TypeSet"):
            msg = f"{where}: a nested block needs TypeList or TypeSet, got schema.{kind}"
            raise EvalError(msg)
        resource = _as_struct(s.get("Elem"), "schema.Resource", f"{where}.Elem")
        min_items = _int(s, "MinItems", where)
        max_items = _int(s, "MaxItems", where)
        required = _flag(s, "Required", where)
        optional = _flag(s, "Optional", where)
        if required and min_items == 0:
            min_items = 1
        if optional and min_items > 0:
            min_items = 0
        if _flag(s, "Computed", where) and not optional:
            min_items = max_items = 0
        out: dict[str, Any] = {"nesting_mode": _COLLECTIONS[kind], "block": self.block(resource, where)}
        if min_items:
            out["min_items"] = min_items
        if max_items:
            out["max_items"] = max_items
        return out

    def block(self, resource: Struct, where: str) -> Block:
        """The block of a (nested) ``schema.Resource``, without the top-level additions."""
        attributes: dict[str, Any] = {}
        block_types: dict[str, Any] = {}
        for name, s in _schema_map(resource, where).items():
            here = f"{where}.{name}"
            try:
                self._lower_member(name, s, here, attributes, block_types)
            except EvalError as exc:
                if exc.args and str(exc.args[0]).startswith(where):
                    raise
                raise EvalError(f"{here}: {exc}") from exc
        out: Block = {"description_kind": "plain"}
        if attributes:
            out["attributes"] = attributes
        if block_types:
            out["block_types"] = block_types
        return out

    def _lower_member(
        self, name: str, s: Struct, here: str, attributes: dict[str, Any], block_types: dict[str, Any]
    ) -> None:
        """Add one schema member to the block as an attribute or a nested block, as the SDK does."""
        elem = s.get("Elem")
        kind = _sdk_name(s.get("Type"), f"{here}.Type")
        is_resource = isinstance(elem, Struct) and elem.type_name == "schema.Resource"
        if elem is None or (kind == "TypeMap" and is_resource):
            override = ["map", "string"] if kind == "TypeMap" and is_resource else None
            attributes[name] = self.attribute(s, here, override_type=override)
            return
        mode = s.get("ConfigMode")
        mode_name = _sdk_name(mode, f"{here}.ConfigMode") if mode is not None else "SchemaConfigModeAuto"
        if mode_name == "SchemaConfigModeAttr":
            attributes[name] = self.attribute(s, here)
        elif mode_name == "SchemaConfigModeBlock":
            block_types[name] = self.nested_block(s, here)
        elif _flag(s, "Computed", here) and not _flag(s, "Optional", here):
            attributes[name] = self.attribute(s, here)
        elif is_resource:
            block_types[name] = self.nested_block(s, here)
        else:
            attributes[name] = self.attribute(s, here)

    def top_level(self, resource: Struct, where: str) -> dict[str, Any]:
        """``{"version": N, "block": {...}}`` for a resource or data source, as Terraform prints it."""
        block = self.block(resource, where)
        attributes = block.setdefault("attributes", {})
        attributes.setdefault("id", {"type": "string", "description_kind": "plain", "optional": True, "computed": True})
        timeouts = resource.get("Timeouts")
        has_timeouts_name = "timeouts" in attributes or "timeouts" in block.get("block_types", {})
        if timeouts is not None and not has_timeouts_name:
            timeouts_struct = _as_struct(timeouts, "schema.ResourceTimeout", f"{where}.Timeouts")
            timeout_attrs = {
                key: {"type": "string", "description_kind": "plain", "optional": True}
                for field_name, key in _TIMEOUT_FIELDS
                if timeouts_struct.get(field_name) is not None
            }
            timeouts_block: Block = {"description_kind": "plain"}
            if timeout_attrs:
                timeouts_block["attributes"] = timeout_attrs
            block.setdefault("block_types", {})["timeouts"] = {"nesting_mode": "single", "block": timeouts_block}
        if self.sdk_major >= 2:
            description = _text(resource, "Description", where)
            if description:
                block["description"] = description
            if _text(resource, "DeprecationMessage", where):
                block["deprecated"] = True
        version = _int(resource, "SchemaVersion", where)
        return {"version": version, "block": block}

    def provider(self, provider: Struct, where: str) -> dict[str, Any]:
        """The provider configuration block (no implicit ``id``)."""
        return {"version": 0, "block": self.block(provider, where)}


def implied_type(block: Block) -> JsonType:
    """The cty type of a block's value (Terraform's ``Block.ImpliedType``) in JSON form."""
    members: dict[str, JsonType] = {name: attr["type"] for name, attr in block.get("attributes", {}).items()}
    for name, nested in block.get("block_types", {}).items():
        inner = implied_type(nested["block"])
        mode = nested["nesting_mode"]
        members[name] = inner if mode in ("single", "group") else [mode, inner]
    return ["object", members]
