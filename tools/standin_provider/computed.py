"""Deterministic values for what a plan left unknown ("known after apply"), when the stand-in applies.

Each value is derived from a seed (the resource's stack and address when the harness told the provider, else the
resource type and its known planned values) and the attribute's path, so the same resource gets the same ids,
ARNs, names and addresses on every apply, and two resources of one type get different ones. The shapes follow
the clouds' own formats where a stack or a workload parses them (an ARN has six `:`-separated parts, an IP
address is dotted, a URL has a scheme); everything else is `standin-<attribute>-<hash>`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from tools.standin_provider import values
from tools.standin_provider.values import NESTING_LIST, NESTING_MAP, NESTING_SET, UNKNOWN


def digest(*parts: object) -> str:
    return hashlib.sha256("\x00".join(str(part) for part in parts).encode()).hexdigest()


def has_unknown(value: Any) -> bool:
    if value is UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(has_unknown(item) for item in value.values())
    return isinstance(value, list) and any(has_unknown(item) for item in value)


def known_fingerprint(value: Any) -> str:
    """A canonical text of the known parts of a value (unknowns and nulls dropped)."""

    def strip(item: Any) -> Any:
        if item is UNKNOWN:
            return "<unknown>"
        if isinstance(item, dict):
            return {key: strip(inner) for key, inner in sorted(item.items()) if inner is not None}
        if isinstance(item, list):
            return [strip(inner) for inner in item]
        return item

    return json.dumps(strip(value), sort_keys=True, default=str)


def _service(type_name: str) -> str:
    """aws_secretsmanager_secret -> secretsmanager (the ARN's service part, close enough for a stand-in)."""
    parts = type_name.split("_")
    return parts[1] if len(parts) > 1 else parts[0]


# AWS's documentation account id: used when the provider block does not pin one (allowed_account_ids)
DEFAULT_AWS_ACCOUNT = "123456789012"


def provider_conventions(type_name: str, provider_config: dict[str, Any]) -> dict[str, str]:
    """Region, account and project of the provider block, for ARNs and resource names."""
    conventions: dict[str, str] = {}
    for key in ("region", "project"):
        if isinstance(provider_config.get(key), str):
            conventions[key] = provider_config[key]
    if type_name.startswith("aws_"):
        accounts = provider_config.get("allowed_account_ids") or []
        conventions["account_id"] = sorted(accounts)[0] if accounts else DEFAULT_AWS_ACCOUNT
    return conventions


def string_value(type_name: str, path: str, seed: str, conventions: dict[str, str]) -> str:
    """A well-formed string for a computed attribute (`path` is dotted, e.g. `ip_configuration.0.ipv4`)."""
    name = next((step for step in reversed(path.split(".")) if not step.isdigit()), path)
    short = digest(seed, path)
    provider = type_name.split("_", 1)[0]
    if name == "json" or name.endswith("_json") or name == "policy":
        return "{}"
    if name.endswith("cidr_block") or name.endswith("cidr"):
        return f"10.{int(short[:2], 16) % 250}.0.0/16"
    if name in ("ip_address", "private_ip", "public_ip", "ip") or name.endswith(("_ip", "_ip_address")):
        return f"10.{int(short[:2], 16)}.{int(short[2:4], 16)}.{1 + int(short[4:6], 16) % 250}"
    if name in ("uri", "url") or name.endswith(("_uri", "_url")):
        return f"https://{short[:12]}.standin.invalid"
    if name in ("dns_name", "endpoint", "address") or name.endswith(("_dns_name", "_endpoint", "_address")):
        return f"{short[:12]}.standin.invalid"
    if provider == "aws" and (name == "arn" or name.endswith("_arn")):
        region = conventions.get("region", "us-east-1")
        account = conventions.get("account_id", DEFAULT_AWS_ACCOUNT)
        return f"arn:aws:{_service(type_name)}:{region}:{account}:{type_name.removeprefix('aws_')}/{short[:17]}"
    if name in ("create_time", "update_time", "creation_time", "created_at", "updated_at", "create_date"):
        return "2026-01-01T00:00:00Z"
    if name == "id" and provider == "aws":
        return f"{type_name.removeprefix('aws_').replace('_', '-')[:12]}-{short[:17]}"
    return f"standin-{name}-{short[:12]}"


def value_for(cty_type: Any, type_name: str, path: str, seed: str, conventions: dict[str, str]) -> Any:
    """A known value of cty_type for an unknown at `path`: one element in lists and sets, so `x[0]` works, and
    empty maps."""

    def leaf(kind: str, steps: tuple[Any, ...]) -> Any:
        here = ".".join(str(step) for step in steps)
        if kind == "string":
            return string_value(type_name, here, seed, conventions)
        return 1 + int(digest(seed, here)[:4], 16) % 1000 if kind == "number" else False

    return values.build_value(cty_type, leaf, tuple(path.split(".")), items=1, map_items=0)


def fill_unknowns(
    block: Any, planned: Any, type_name: str, seed: str, conventions: dict[str, str], path: str = ""
) -> Any:
    """The planned object with every unknown replaced by a deterministic known value; write-only attributes null."""
    if planned is UNKNOWN:
        raise ValueError(f"{type_name}: a whole nested object at {path or '<root>'} is unknown")
    if not isinstance(planned, dict):
        return planned
    out = dict(planned)
    for attr in block.attributes:
        here = f"{path}.{attr.name}" if path else attr.name
        value = planned.get(attr.name)
        if attr.write_only:
            out[attr.name] = None
        elif value is UNKNOWN:
            out[attr.name] = value_for(values.attribute_type(attr), type_name, here, seed, conventions)
        elif value is not None:
            out[attr.name] = _fill_inner(values.attribute_type(attr), value, type_name, here, seed, conventions)
    for nested in getattr(block, "block_types", ()):
        value = planned.get(nested.type_name)
        if value is None:
            continue
        here = f"{path}.{nested.type_name}" if path else nested.type_name
        if value is UNKNOWN:
            out[nested.type_name] = [] if nested.nesting in (NESTING_LIST, NESTING_SET) else None
        elif nested.nesting in (NESTING_LIST, NESTING_SET):
            out[nested.type_name] = [
                fill_unknowns(nested.block, item, type_name, seed, conventions, f"{here}.{i}")
                for i, item in enumerate(value)
            ]
        elif nested.nesting == NESTING_MAP:
            out[nested.type_name] = {
                key: fill_unknowns(nested.block, item, type_name, seed, conventions, f"{here}.{key}")
                for key, item in value.items()
            }
        else:
            out[nested.type_name] = fill_unknowns(nested.block, value, type_name, seed, conventions, here)
    return out


def _fill_inner(cty_type: Any, value: Any, type_name: str, path: str, seed: str, conventions: dict[str, str]) -> Any:
    """Unknowns inside a known collection or object value (e.g. an unknown element of a list)."""
    if value is UNKNOWN:
        return value_for(cty_type, type_name, path, seed, conventions)
    if value is None or isinstance(cty_type, str):
        return value
    kind, inner = cty_type[0], cty_type[1]
    if kind in ("list", "set") and isinstance(value, list):
        return [_fill_inner(inner, item, type_name, f"{path}.{i}", seed, conventions) for i, item in enumerate(value)]
    if kind == "map" and isinstance(value, dict):
        return {
            key: _fill_inner(inner, item, type_name, f"{path}.{key}", seed, conventions) for key, item in value.items()
        }
    if kind == "object" and isinstance(value, dict):
        return {
            key: _fill_inner(inner.get(key, "dynamic"), item, type_name, f"{path}.{key}", seed, conventions)
            for key, item in value.items()
        }
    if kind == "tuple" and isinstance(value, list):
        return [
            _fill_inner(t, item, type_name, f"{path}.{i}", seed, conventions)
            for i, (t, item) in enumerate(zip(inner, value, strict=False))
        ]
    return value
