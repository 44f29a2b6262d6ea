"""Build one provider's schema document and its provenance record from the package source."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Any, Protocol

from tools.provider_schema import golang
from tools.provider_schema.evaluate import EvalError, Evaluator, Source, Struct, Thunk
from tools.provider_schema.sdk import Lowering

if TYPE_CHECKING:
    from tools.provider_schema.pins import ProviderPin

PROVIDER_FUNCTION = "Provider"


class BlobSource(Source, Protocol):
    """A package source that can also name the git blob of each file (for provenance)."""

    commit: str
    blobs: dict[str, str]


def _registered(provider: Struct, field: str) -> dict[str, Thunk]:
    value = provider.get(field, {})
    if not isinstance(value, dict):
        msg = f"{PROVIDER_FUNCTION}().{field} is not a map literal"
        raise EvalError(msg)
    return value


def _select(registered: dict[str, Thunk], wanted: tuple[str, ...] | None, kind: str) -> list[str]:
    if wanted is None:
        return sorted(registered)
    missing = [name for name in wanted if name not in registered]
    if missing:
        hints = {name: difflib.get_close_matches(name, registered, n=3) for name in missing}
        msg = f"{kind} not registered by the provider at this tag: {hints}"
        raise EvalError(msg)
    return sorted(wanted)


def _function_name(thunk: Thunk) -> str:
    node = thunk.node
    if isinstance(node, golang.Call) and isinstance(node.func, golang.Ident):
        return node.func.name
    msg = f"{thunk.path}:{node.line}: registration is not a plain function call"
    raise EvalError(msg)


def extract(pin: ProviderPin, source: BlobSource) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return (``terraform providers schema -json`` document, provenance) for ``pin``."""
    evaluator = Evaluator(source)
    lowering = Lowering(pin.sdk_major)
    provider = evaluator.call_function(PROVIDER_FUNCTION)
    if not isinstance(provider, Struct):
        msg = f"{PROVIDER_FUNCTION}() does not return a schema.Provider literal"
        raise EvalError(msg)
    registration_files = sorted(evaluator.touched)

    def files(paths: set[str]) -> list[dict[str, str]]:
        return [{"path": path, "blob": source.blobs[path]} for path in sorted(paths)]

    evaluator.touched = set()
    provider_block = lowering.provider(provider, "provider")
    provenance: dict[str, Any] = {
        "provider": pin.registry_source,
        "version": pin.version,
        "repository": f"https://github.com/{pin.repo}",
        "tag": pin.tag,
        "commit": source.commit,
        "sdk": f"terraform-plugin-sdk v{pin.sdk_major}",
        "generated_by": "python -m tools.provider_schema",
        "registration": files(set(registration_files)),
        "provider_block": {"function": PROVIDER_FUNCTION, "files": files(evaluator.touched)},
    }
    document: dict[str, Any] = {"provider": provider_block}
    for field, key in (("ResourcesMap", "resource_schemas"), ("DataSourcesMap", "data_source_schemas")):
        registered = _registered(provider, field)
        wanted = pin.resources if field == "ResourcesMap" else pin.data_sources
        schemas: dict[str, Any] = {}
        origins: dict[str, Any] = {}
        for name in _select(registered, wanted, key):
            evaluator.touched = set()
            resource = registered[name].value()
            if not isinstance(resource, Struct) or resource.type_name != "schema.Resource":
                msg = f"{name}: the registered function does not return a schema.Resource literal"
                raise EvalError(msg)
            schemas[name] = lowering.top_level(resource, name)
            origins[name] = {"function": _function_name(registered[name]), "files": files(evaluator.touched)}
        document[key] = schemas
        provenance[key] = origins
    schema_doc = {"format_version": "1.0", "provider_schemas": {pin.provider_address: document}}
    return schema_doc, provenance
