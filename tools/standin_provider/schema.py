"""Provider schemas: from `terraform providers schema -json` format to the protocol's messages.

Encoding the AWS schema (thousands of blocks) takes seconds, and Terraform starts a provider
several times per stack, so the encoded GetProviderSchema response is cached on disk, keyed by the
schema file's hash, the provider address and the .proto files.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from tools.standin_provider import protos

_BLOCK_NESTING = {"single": 1, "list": 2, "set": 3, "map": 4, "group": 5}
_OBJECT_NESTING = {"single": 1, "list": 2, "set": 3, "map": 4}
_STRING_KIND = {"plain": 0, "markdown": 1}


def _attribute(pb: Any, name: str, spec: dict[str, Any]) -> Any:
    attr = pb.Schema.Attribute(
        name=name,
        description=spec.get("description", ""),
        description_kind=_STRING_KIND.get(spec.get("description_kind", "plain"), 0),
        required=bool(spec.get("required")),
        optional=bool(spec.get("optional")),
        computed=bool(spec.get("computed")),
        sensitive=bool(spec.get("sensitive")),
        deprecated=bool(spec.get("deprecated")),
        write_only=bool(spec.get("write_only")),
    )
    if "nested_type" in spec:
        nested = spec["nested_type"]
        attr.nested_type.nesting = _OBJECT_NESTING[nested["nesting_mode"]]
        attr.nested_type.attributes.extend(
            _attribute(pb, inner, inner_spec) for inner, inner_spec in sorted(nested["attributes"].items())
        )
    else:
        attr.type = json.dumps(spec["type"], separators=(",", ":")).encode()
    return attr


def _block(pb: Any, spec: dict[str, Any]) -> Any:
    block = pb.Schema.Block(
        description=spec.get("description", ""),
        description_kind=_STRING_KIND.get(spec.get("description_kind", "plain"), 0),
        deprecated=bool(spec.get("deprecated")),
    )
    block.attributes.extend(_attribute(pb, name, attr) for name, attr in sorted(spec.get("attributes", {}).items()))
    for name, nested in sorted(spec.get("block_types", {}).items()):
        block.block_types.append(
            pb.Schema.NestedBlock(
                type_name=name,
                block=_block(pb, nested["block"]),
                nesting=_BLOCK_NESTING[nested["nesting_mode"]],
                min_items=nested.get("min_items", 0),
                max_items=nested.get("max_items", 0),
            )
        )
    return block


def _schema(pb: Any, spec: dict[str, Any]) -> Any:
    return pb.Schema(version=spec.get("version", 0), block=_block(pb, spec.get("block", {})))


def provider_entry(document: dict[str, Any], address: str) -> dict[str, Any]:
    """The schema of one provider (e.g. registry.terraform.io/hashicorp/aws) from a schema document."""
    schemas = document.get("provider_schemas", {})
    if address in schemas:
        return schemas[address]
    short = address.removeprefix("registry.terraform.io/")
    for key, value in schemas.items():
        if key.removeprefix("registry.terraform.io/").lower() == short.lower():
            return value
    raise KeyError(f"schema document has no provider {address} (it has: {', '.join(sorted(schemas))})")


# The schema kinds a configuration names types of, as `terraform providers schema -json` keys them.
SCHEMA_KINDS = ("resource_schemas", "data_source_schemas", "ephemeral_resource_schemas")


def served_entry(entry: dict[str, Any], served: dict[str, list[str]] | None) -> dict[str, Any]:
    """The entry with only the resource, data source and ephemeral types `served` names (None: all of them).

    Terraform decodes the whole GetProviderSchema response in every run (the AWS one in about a third of a
    second) but looks up only the types its configuration names; a type the configuration names that is not
    served fails the run as an unsupported type, so leaving the others out cannot make a run pass."""
    if served is None:
        return entry
    kept = {kind: set(served.get(kind, ())) for kind in SCHEMA_KINDS}
    return {
        key: ({name: spec for name, spec in value.items() if name in kept[key]} if key in kept else value)
        for key, value in entry.items()
    }


def build_response(pb: Any, entry: dict[str, Any]) -> Any:
    """GetProviderSchema.Response for one provider's schema entry."""
    response = pb.GetProviderSchema.Response(provider=_schema(pb, entry.get("provider", {})))
    response.server_capabilities.plan_destroy = True
    response.server_capabilities.get_provider_schema_optional = True
    for key in SCHEMA_KINDS:
        field = getattr(response, key)
        for name, spec in entry.get(key, {}).items():
            field[name].CopyFrom(_schema(pb, spec))
    return response


def cached_response_bytes(
    schema_file: Path, address: str, cache_dir: Path, served: dict[str, list[str]] | None = None
) -> bytes:
    """The serialized GetProviderSchema.Response, built once per schema file content (and served types)."""
    digest = hashlib.sha256()
    digest.update(schema_file.read_bytes())
    digest.update(address.encode())
    digest.update(protos.proto_digest().encode())
    if served is not None:
        digest.update(json.dumps({kind: sorted(served.get(kind, ())) for kind in SCHEMA_KINDS}).encode())
    path = cache_dir / "schemas" / f"{digest.hexdigest()[:24]}.pb"
    if path.exists():
        return path.read_bytes()
    pb, _ = protos.load(cache_dir)
    entry = served_entry(provider_entry(json.loads(schema_file.read_text()), address), served)
    data = build_response(pb, entry).SerializeToString(deterministic=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".schema-")
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(tmp, path)
    return data
