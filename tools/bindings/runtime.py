"""Shared runtime of the generated bindings: argument checks and Terraform JSON conversion.

Copied verbatim to ``imports/_runtime.py`` by ``python -m tools.bindings`` so that ``imports/`` is
self-contained. Checks are plain Python (no jsii round trip) on the happy path; only a value whose
Python type does not match the schema is asked whether it is an unresolved cdktf token.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import cdktf

# A cty type in the JSON form of ``terraform providers schema -json``.
CtyType = str | list[Any]


@dataclasses.dataclass(frozen=True)
class Arg:
    """One attribute argument: Python name, Terraform name, cty type, required or not."""

    py_name: str
    tf_name: str
    cty: CtyType
    required: bool = False


@dataclasses.dataclass(frozen=True)
class BlockArg:
    """One nested-block argument; ``nesting`` is "list", "set" or "single"."""

    py_name: str
    tf_name: str
    block_class: type
    nesting: str
    min_items: int = 0
    max_items: int = 0


@dataclasses.dataclass(frozen=True)
class Spec:
    """Everything the runtime needs to check and convert one resource, data source or block."""

    owner: str
    args: tuple[Arg | BlockArg, ...]


def _type_name(cty: CtyType) -> str:
    if isinstance(cty, str):
        return cty
    if cty[0] == "object":
        return "object"
    return f"{cty[0]}({_type_name(cty[1])})"


def is_token(value: object) -> bool:
    """True for cdktf tokens: references, ``Fn`` results and encoded token strings/lists/numbers."""
    if hasattr(value, "resolve") and not isinstance(value, str | bytes | Mapping | Sequence):
        return True
    if isinstance(value, str | int | float | list):
        return bool(cdktf.Token.is_unresolved(value))
    return False


def _fail(owner: str, arg: str, cty: CtyType, value: object) -> TypeError:
    shown = repr(value)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return TypeError(f"{owner}: argument {arg!r} expects {_type_name(cty)}, got {type(value).__name__} {shown}")


def convert_value(owner: str, arg: str, cty: CtyType, value: object) -> object:
    """Check ``value`` against a cty type and return its Terraform JSON form (tokens pass as-is)."""
    if isinstance(cty, str):
        ok = (
            (cty == "string" and isinstance(value, str))
            or (cty == "number" and isinstance(value, int | float) and not isinstance(value, bool))
            or (cty == "bool" and isinstance(value, bool))
            or cty == "dynamic"
        )
        if ok or is_token(value):
            return value
        raise _fail(owner, arg, cty, value)
    kind, inner = cty[0], cty[1]
    if kind in ("list", "set"):
        if isinstance(value, set | frozenset):
            value = sorted(value, key=repr)  # a Python set has no stable order; JSON output must
        if isinstance(value, list | tuple):
            return [convert_value(owner, f"{arg}[{i}]", inner, item) for i, item in enumerate(value)]
    elif kind == "map":
        if isinstance(value, Mapping) and all(isinstance(key, str) for key in value):
            return {key: convert_value(owner, f"{arg}[{key!r}]", inner, value[key]) for key in sorted(value)}
    elif kind == "object" and isinstance(value, Mapping):
        return dict(value)
    if is_token(value):
        return value
    raise _fail(owner, arg, cty, value)


def _convert_block(owner: str, arg: BlockArg, value: object) -> object:
    expected = arg.block_class.__name__
    if arg.nesting == "single":
        if isinstance(value, arg.block_class):
            return to_terraform(value)
        if is_token(value):
            return value
        msg = f"{owner}: argument {arg.py_name!r} expects {expected}, got {type(value).__name__}"
        raise TypeError(msg)
    if isinstance(value, arg.block_class) and arg.max_items == 1:
        value = [value]
    if isinstance(value, list | tuple):
        count = len(value)
        if count < arg.min_items or (arg.max_items and count > arg.max_items):
            bounds = f"at least {arg.min_items}" if not arg.max_items else f"{arg.min_items}..{arg.max_items}"
            msg = f"{owner}: argument {arg.py_name!r} takes {bounds} {expected} item(s), got {count}"
            raise ValueError(msg)
        items = []
        for i, item in enumerate(value):
            if isinstance(item, arg.block_class):
                items.append(to_terraform(item))
            elif is_token(item):
                items.append(item)
            else:
                msg = f"{owner}: argument {arg.py_name!r}[{i}] expects {expected}, got {type(item).__name__}"
                raise TypeError(msg)
        return items
    if is_token(value):
        return value
    msg = f"{owner}: argument {arg.py_name!r} expects a sequence of {expected}, got {type(value).__name__}"
    raise TypeError(msg)


def collect(spec: Spec, values: Mapping[str, object]) -> dict[str, object]:
    """Check every argument and return the Terraform JSON attributes (nulls omitted, keys sorted)."""
    out: dict[str, object] = {}
    for arg in spec.args:
        value = values.get(arg.py_name)
        if value is None:
            if isinstance(arg, Arg) and arg.required:
                msg = f"{spec.owner}: argument {arg.py_name!r} is required"
                raise TypeError(msg)
            if isinstance(arg, BlockArg) and arg.min_items:
                msg = f"{spec.owner}: argument {arg.py_name!r} is required (at least {arg.min_items} item(s))"
                raise TypeError(msg)
            continue
        if isinstance(arg, Arg):
            out[arg.tf_name] = convert_value(spec.owner, arg.py_name, arg.cty, value)
        else:
            out[arg.tf_name] = _convert_block(spec.owner, arg, value)
    return dict(sorted(out.items()))


def to_terraform(block: object) -> dict[str, object]:
    """Terraform JSON of a nested-block dataclass (checked again: cheap, and catches replace())."""
    spec: Spec = type(block).TF_SPEC  # type: ignore[attr-defined]
    return collect(spec, {f.name: getattr(block, f.name) for f in dataclasses.fields(block)})  # type: ignore[arg-type]
