"""Recover a provider schema (`terraform providers schema -json` format) from a prebuilt cdktf provider.

The prebuilt packages (cdktf-cdktf-provider-aws, -google, -random) ship a jsii assembly tarball whose
compiled modules embed their TypeScript source in source maps. That generated source carries what the
schema said and the `.jsii` type JSON drops: every attribute's `computed/optional/required` flags (as
a comment), list vs set vs single nesting of blocks (`synthesizeHclAttributes`), the cty type of each
argument (`storageClassType`) and of each computed attribute (its getter), and max-one blocks (an
OutputReference instead of a List). Fidelity limits are listed in docs/OFFLINE_PLAN.md.

    python -m tools.schemas_from_jsii aws google random

writes ~/.cache/llm-gateway-cdktf/schemas/<digest>/<name>@<version>.json (see ensure_schema).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import importlib.util
import json
import os
import re
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synth_speed.user_cache import project_cache_dir

# Outside the checkout, so a clean clone (every CI run) reuses what an earlier run recovered (~15 s of CPU for
# aws + google); one subdirectory per input digest, so checkouts with different generators or packages coexist.
DEFAULT_OUT = project_cache_dir("schemas")
# bump when the output of this generator changes for the same input
GENERATOR_VERSION = "1"

# Ephemeral resources are not in cdktf 0.21 (hashicorp/terraform-cdk#3886), so the assemblies have none.
# HAND-WRITTEN, from the documented schema of hashicorp/random's `random_password` ephemeral resource
# (docs/ephemeral-resources/password.md, random >= 3.7; the bindings pin 3.7.2). Optional arguments
# have provider defaults, hence optional + computed.
_RANDOM_EPHEMERAL = {
    "random_password": {
        "version": 0,
        "block": {
            "attributes": {
                "length": {"type": "number", "required": True},
                **{
                    name: {"type": cty, "optional": True, "computed": True}
                    for name, cty in (
                        ("lower", "bool"),
                        ("min_lower", "number"),
                        ("min_numeric", "number"),
                        ("min_special", "number"),
                        ("min_upper", "number"),
                        ("numeric", "bool"),
                        ("special", "bool"),
                        ("upper", "bool"),
                    )
                },
                "override_special": {"type": "string", "optional": True},
                "bcrypt_hash": {"type": "string", "computed": True, "sensitive": True},
                "result": {"type": "string", "computed": True, "sensitive": True},
            }
        },
    }
}
HAND_WRITTEN_EPHEMERAL: dict[str, dict[str, Any]] = {"random": _RANDOM_EPHEMERAL}

_SOURCE_MAP = re.compile(r"sourceMappingURL=data:application/json;base64,(\S+)")
_CLASS = re.compile(r"^export class (\w+) extends cdktf\.(\w+) \{\n(.*?)^\}", re.M | re.S)
_HCL_FUNCTION = re.compile(r"^export function (\w+)ToHclTerraform\(struct\?: [^)]*\): any \{\n(.*?)^\}", re.M | re.S)
_INTERFACE = re.compile(r"^export interface (\w+)(?: extends [\w.]+)? \{\n(.*?)^\}", re.M | re.S)
_INTERFACE_PROP = re.compile(r"^\s+readonly (\w+)(\??):", re.M)
_HCL_ENTRY = re.compile(
    r'^\s+"?(\w+)"?: \{\n\s+value: (.+),\n\s+isBlock: (true|false),\n\s+type: "(\w+)",\n'
    r'\s+storageClassType: "(\w+)",\n\s+\},?$',
    re.M,
)
_MEMBER = re.compile(
    r"^  // (\w+) - computed: (true|false), optional: (true|false), required: (true|false)\n"
    r"(.*?)(?=^  // \w+ - computed:|\Z)",
    re.M | re.S,
)
_NEW_COMPLEX = re.compile(r'private _\w+ = new ([\w.]+)\(this, "\w+"(?:, (true|false))?\);')
_GETTER = re.compile(r"return (.*)\('\w+'\)\)*;")
_TF_TYPE = re.compile(r'public static readonly tfResourceType = "(\w+)";')
_PROVIDER_VERSION = re.compile(r"providerVersion: '([\w.\-]+)'")
_HCL_FN_REF = re.compile(r"(\w+)ToHclTerraform")
_ITEM_REF = re.compile(r"get\((?:index: number|key: string)\): (\w+)OutputReference")

_GETTER_TYPES: dict[str, Any] = {
    "this.getStringAttribute": "string",
    "this.getNumberAttribute": "number",
    "this.getBooleanAttribute": "bool",
    "this.getStringMapAttribute": ["map", "string"],
    "this.getNumberMapAttribute": ["map", "number"],
    "this.getBooleanMapAttribute": ["map", "bool"],
    "this.getListAttribute": ["list", "string"],
    "cdktf.Fn.tolist(this.getListAttribute": ["set", "string"],
    "this.getNumberListAttribute": ["list", "number"],
    "cdktf.Token.asNumberList(cdktf.Fn.tolist(this.getNumberListAttribute": ["set", "number"],
    "this.interpolationForAttribute": "dynamic",
    "cdktf.Token.asAny(cdktf.Fn.tolist(this.interpolationForAttribute": "dynamic",
}
_MAP_CLASSES: dict[str, Any] = {
    "cdktf.StringMap": ["map", "string"],
    "cdktf.NumberMap": ["map", "number"],
    "cdktf.BooleanMap": ["map", "bool"],
    "cdktf.AnyMap": ["map", "dynamic"],
}
_PRIMITIVES = {"string": "string", "number": "number", "boolean": "bool", "any": "dynamic"}


@dataclass
class Member:
    """One attribute or block of a generated class, as its `// name - computed: ...` comment says."""

    name: str
    computed: bool
    optional: bool
    required: bool
    body: str


@dataclass
class Module:
    """The parsed declarations of every module of one provider package."""

    classes: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (base, body)
    hcl: dict[str, dict[str, tuple[str, bool, str, str]]] = field(default_factory=dict)  # struct -> HCL entries
    interfaces: dict[str, dict[str, bool]] = field(default_factory=dict)  # struct -> camel -> optional
    version: str = ""


def _upper_first(name: str) -> str:
    """Struct name from its mapper's name: `instanceCpuOptionsToHclTerraform` maps `InstanceCpuOptions`."""
    return name[0].upper() + name[1:]


def _hcl_entries(body: str) -> dict[str, tuple[str, bool, str, str]]:
    return {
        name: (value, is_block == "true", kind, storage)
        for name, value, is_block, kind, storage in _HCL_ENTRY.findall(body)
    }


def parse_sources(sources: list[str]) -> Module:
    module = Module()
    for source in sources:
        for name, base, body in _CLASS.findall(source):
            module.classes[name] = (base, body)
        for fn_prefix, body in _HCL_FUNCTION.findall(source):
            module.hcl[_upper_first(fn_prefix)] = _hcl_entries(body)
        for name, body in _INTERFACE.findall(source):
            module.interfaces[name] = {prop: optional == "?" for prop, optional in _INTERFACE_PROP.findall(body)}
        if not module.version and (match := _PROVIDER_VERSION.search(source)):
            module.version = match.group(1)
    return module


def _members(body: str) -> dict[str, Member]:
    return {
        name: Member(name, computed == "true", optional == "true", required == "true", text)
        for name, computed, optional, required, text in _MEMBER.findall(body)
    }


def _storage_type(kind: str, storage: str) -> Any:
    """cty type of an argument from its HCL `type` and `storageClassType` (e.g. set + stringListList)."""
    match = re.fullmatch(r"(string|number|boolean|any)((?:List|Map)*)", storage)
    if match is None:
        raise ValueError(f"unexpected storageClassType {storage!r}")
    cty: Any = _PRIMITIVES[match.group(1)]
    wrappers = re.findall(r"List|Map", match.group(2))
    for i, wrapper in enumerate(wrappers):
        outer = i == len(wrappers) - 1
        cty = [kind if outer else wrapper.lower(), cty]
    return cty


def _has_dynamic_attribute(block: dict[str, Any]) -> bool:
    return any(_contains_dynamic(attr["type"]) for attr in block.get("attributes", {}).values())


def _contains_dynamic(cty: Any) -> bool:
    if isinstance(cty, str):
        return cty == "dynamic"
    if cty[0] == "object":
        return any(_contains_dynamic(inner) for inner in cty[1].values())
    if cty[0] == "tuple":
        return any(_contains_dynamic(inner) for inner in cty[1])
    return _contains_dynamic(cty[1])


class SchemaBuilder:
    """Turns the parsed generated classes of one provider into schema blocks."""

    def __init__(self, module: Module) -> None:
        self.module = module
        self._object_types: dict[str, Any] = {}

    def _item_struct(self, class_name: str) -> str:
        """Struct name behind a List/Map/OutputReference class."""
        if class_name.endswith("OutputReference"):
            return class_name.removesuffix("OutputReference")
        base, body = self.module.classes[class_name]
        match = _ITEM_REF.search(body)
        if match is None:
            raise ValueError(f"{class_name} ({base}) has no item accessor")
        return match.group(1)

    def _complex_type(self, class_name: str, wraps_set: str) -> Any:
        """cty type of a computed attribute held by a generated complex class."""
        if class_name in _MAP_CLASSES:
            return _MAP_CLASSES[class_name]
        if class_name in ("cdktf.StringMapList", "cdktf.NumberMapList", "cdktf.BooleanMapList", "cdktf.AnyMapList"):
            element = _MAP_CLASSES[class_name.removesuffix("List")]
            return ["set" if wraps_set == "true" else "list", element]
        if class_name.startswith("cdktf."):
            raise ValueError(f"unexpected cdktf class {class_name}")
        obj = self._object_type(self._item_struct(class_name))
        base = self.module.classes[class_name][0]
        if base == "ComplexList":
            return ["set" if wraps_set == "true" else "list", obj]
        if base == "ComplexMap":
            return ["map", obj]
        return obj

    def _object_type(self, struct: str) -> Any:
        """The object type of a struct used as a (computed) attribute value."""
        if struct not in self._object_types:
            self._object_types[struct] = ["object", {}]  # placeholder against self-references
            attrs = {}
            for member in _members(self.module.classes[f"{struct}OutputReference"][1]).values():
                attrs[member.name] = self._member_type(member, None)
            self._object_types[struct] = ["object", attrs]
        return self._object_types[struct]

    def _member_type(self, member: Member | None, hcl: tuple[str, bool, str, str] | None) -> Any:
        if hcl is not None:
            return _storage_type(hcl[2], hcl[3])
        assert member is not None
        if match := _NEW_COMPLEX.search(member.body):
            return self._complex_type(match.group(1), match.group(2) or "false")
        if match := _GETTER.search(member.body):
            getter = match.group(1)
            if getter in _GETTER_TYPES:
                return _GETTER_TYPES[getter]
        raise ValueError(f"cannot tell the type of {member.name!r}:\n{member.body[:300]}")

    def block(
        self, members: dict[str, Member], hcl: dict[str, tuple[str, bool, str, str]], optional_props: dict[str, bool]
    ) -> dict[str, Any]:
        """A schema block from a class's members, its HCL mapping and its config interface."""
        attributes: dict[str, Any] = {}
        block_types: dict[str, Any] = {}
        for name in list(members) + [name for name in hcl if name not in members]:
            member = members.get(name)
            entry = hcl.get(name)
            if member is not None:
                computed, optional, required = member.computed, member.optional, member.required
            else:
                assert entry is not None
                camel = re.search(r"(?:struct!\.|this\._)(\w+)", entry[0])
                optional = optional_props.get(camel.group(1), True) if camel else True
                computed, required = False, not optional
            if entry is not None and entry[1]:
                block_types[name] = self._nested_block(name, entry, required)
                continue
            spec: dict[str, Any] = {"type": self._member_type(member, entry)}
            if required:
                spec["required"] = True
            elif optional:
                spec["optional"] = True
            if computed:
                spec["computed"] = True
            # HashiCorp's convention for write-only arguments (Terraform >= 1.11): `<name>_wo`
            if name.endswith("_wo") and not computed:
                spec["write_only"] = True
            attributes[name] = spec
        out: dict[str, Any] = {}
        if attributes:
            out["attributes"] = attributes
        if block_types:
            out["block_types"] = block_types
        return out

    def _nested_block(self, name: str, entry: tuple[str, bool, str, str], required: bool) -> dict[str, Any]:
        value, _is_block, kind, _storage = entry
        fn = _HCL_FN_REF.search(value)
        if fn is None:
            raise ValueError(f"block {name!r} has no struct mapper: {value}")
        struct = self._struct_of_function(fn.group(1))
        spec: dict[str, Any] = {"block": self.struct_block(struct)}
        if kind == "struct":
            spec["nesting_mode"] = "single"
        elif kind == "map":
            spec["nesting_mode"] = "map"
        else:
            spec["nesting_mode"] = kind
            if "MapperHcl(" not in value:
                spec["max_items"] = 1  # rendered as one OutputReference, not a List
        if spec["nesting_mode"] == "set" and _has_dynamic_attribute(spec["block"]):
            # Terraform rejects set-nested blocks with `dynamic` attributes (cdktf's "any" for deep nesting)
            spec["nesting_mode"] = "list"
        if required and spec["nesting_mode"] in ("list", "set"):
            spec["min_items"] = 1
        return spec

    def _struct_of_function(self, fn_prefix: str) -> str:
        struct = _upper_first(fn_prefix)
        if struct not in self.module.hcl:
            raise ValueError(f"no HCL mapper for struct {struct}")
        return struct

    def struct_block(self, struct: str) -> dict[str, Any]:
        reference = self.module.classes.get(f"{struct}OutputReference")
        members = _members(reference[1]) if reference else {}
        return self.block(members, self.module.hcl[struct], self.module.interfaces.get(struct, {}))

    def top_level(self, class_name: str, body: str, skip: tuple[str, ...] = ()) -> dict[str, Any]:
        members = {name: m for name, m in _members(body).items() if name not in skip}
        hcl = {name: e for name, e in _hcl_entries(body).items() if name not in skip}
        return {"version": 0, "block": self.block(members, hcl, self.module.interfaces.get(f"{class_name}Config", {}))}


def read_package_sources(tarball: Path) -> list[str]:
    """The TypeScript source of every module in a jsii assembly tarball, from its source maps."""
    sources = []
    with tarfile.open(tarball) as archive:
        for info in archive:
            # big modules keep their structs in lib/<module>/index-structs/structsN.js
            if not (info.name.startswith("package/lib/") and info.name.endswith(".js")):
                continue
            handle = archive.extractfile(info)
            assert handle is not None
            match = _SOURCE_MAP.search(handle.read().decode())
            if match:
                sources.extend(json.loads(base64.b64decode(match.group(1)))["sourcesContent"])
    return sources


def provider_schema(name: str, module: Module) -> dict[str, Any]:
    """The provider's schema entry (provider, resources, data sources, ephemeral resources)."""
    builder = SchemaBuilder(module)
    entry: dict[str, Any] = {"resource_schemas": {}, "data_source_schemas": {}}
    for class_name, (base, body) in sorted(module.classes.items()):
        tf_type = _TF_TYPE.search(body)
        if tf_type is None:
            continue
        if base == "TerraformProvider":
            entry["provider"] = builder.top_level(class_name, body, skip=("alias",))
        elif base == "TerraformResource":
            entry["resource_schemas"][tf_type.group(1)] = builder.top_level(class_name, body)
        elif base == "TerraformDataSource":
            entry["data_source_schemas"][tf_type.group(1)] = builder.top_level(class_name, body)
    if name in HAND_WRITTEN_EPHEMERAL:
        entry["ephemeral_resource_schemas"] = HAND_WRITTEN_EPHEMERAL[name]
    return entry


def package_tarball(name: str) -> Path:
    """The jsii tarball of cdktf-cdktf-provider-<name>, located without importing the package."""
    spec = importlib.util.find_spec(f"cdktf_cdktf_provider_{name}")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"cdktf-cdktf-provider-{name} is not installed")
    package_dir = Path(next(iter(spec.submodule_search_locations)))
    tarballs = sorted((package_dir / "_jsii").glob("*.jsii.tgz"))
    if len(tarballs) != 1:
        raise FileNotFoundError(f"expected one jsii tarball in {package_dir / '_jsii'}, found {tarballs}")
    return tarballs[0]


def _input_digest(tarball: Path) -> str:
    digest = hashlib.sha256(GENERATOR_VERSION.encode())
    digest.update(Path(__file__).read_bytes())
    with tarball.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def ensure_schema(name: str, out_dir: Path = DEFAULT_OUT) -> Path:
    """``<out_dir>/<input digest>/<name>@<version>.json``, generated unless it exists; return its path.

    The digest covers this generator and the package's tarball, so an upgraded package or a changed generator
    gets a directory of its own; a file appears only complete (written to a temporary name, then renamed).
    """
    tarball = package_tarball(name)
    entry = out_dir / _input_digest(tarball)[:32]
    existing = sorted(entry.glob(f"{name}@*.json"))
    if len(existing) == 1:
        return existing[0]
    module = parse_sources(read_package_sources(tarball))
    if not module.version:
        raise ValueError(f"{tarball} names no provider version")
    document = {
        "format_version": "1.0",
        "provider_schemas": {f"registry.terraform.io/hashicorp/{name}": provider_schema(name, module)},
    }
    entry.mkdir(parents=True, exist_ok=True)
    path = entry / f"{name}@{module.version}.json"
    fd, tmp = tempfile.mkstemp(dir=entry, prefix=".tmp-")
    with os.fdopen(fd, "w") as handle:
        handle.write(json.dumps(document, indent=1, sort_keys=True))
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.schemas_from_jsii", description=__doc__.split("\n\n")[0])
    parser.add_argument("providers", nargs="+", help="provider names, e.g. aws google random")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    for name in args.providers:
        path = ensure_schema(name, args.out)
        entry = json.loads(path.read_text())["provider_schemas"][f"registry.terraform.io/hashicorp/{name}"]
        print(
            f"{path}: {len(entry['resource_schemas'])} resources, {len(entry['data_source_schemas'])} data sources, "
            f"{len(entry.get('ephemeral_resource_schemas', {}))} ephemeral resources"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
