"""Import prebuilt provider bindings one submodule at a time.

Each prebuilt package (``cdktf_cdktf_provider_aws``, ``_google``, ``_random``) runs an ``__init__`` that
imports all of its ~2,200 submodules (hashicorp/terraform-cdk#3753): ~25 s before the first resource.
Every submodule only needs the package's ``_jsii`` module (which loads the jsii assembly), so we register
each package as a bare namespace-like module whose ``__init__`` never runs; ``from
cdktf_cdktf_provider_aws.vpc import Vpc`` then costs one submodule plus the assembly load.

The output is identical to the slow path (tests/test_lean_imports.py synthesizes both ways and compares).
Set ``LLMGW_NAIVE_PROVIDER_IMPORTS=1`` to disable this (the benchmark's baseline does).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys
import types

PREBUILT_PROVIDER_PACKAGES: tuple[str, ...] = (
    "cdktf_cdktf_provider_aws",
    "cdktf_cdktf_provider_google",
    "cdktf_cdktf_provider_random",
)


def _register_bare_package(name: str) -> None:
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"prebuilt provider package {name!r} is not installed; run `make venv`")
    module = types.ModuleType(name, f"{name} (lean: submodules load on demand)")
    module.__path__ = list(spec.submodule_search_locations)
    module.__file__ = spec.origin
    module.__package__ = name
    module.__spec__ = importlib.machinery.ModuleSpec(name, spec.loader, origin=spec.origin, is_package=True)
    module.__spec__.submodule_search_locations = module.__path__
    sys.modules[name] = module


def install() -> bool:
    """Register the lean packages; returns False when disabled by the environment."""
    if os.environ.get("LLMGW_NAIVE_PROVIDER_IMPORTS") == "1":
        return False
    for name in PREBUILT_PROVIDER_PACKAGES:
        _register_bare_package(name)
    return True
