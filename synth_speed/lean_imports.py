"""Load prebuilt provider bindings one submodule at a time, in Python and in the jsii kernel's Node process.

Python: each prebuilt package (``cdktf_cdktf_provider_aws``, ``_google``, ``_random``) runs an ``__init__``
that imports all of its ~2,200 submodules (hashicorp/terraform-cdk#3753): ~25 s before the first resource.
Every submodule only needs the package's ``_jsii`` module (which loads the jsii assembly), so we register
each package as a bare namespace-like module whose ``__init__`` never runs; ``from
cdktf_cdktf_provider_aws.vpc import Vpc`` then costs one submodule plus the assembly load.

Node: loading the assembly makes the kernel require the package's eager ``lib/index.js`` (all submodules
again, ~3 s and ~500 MB for AWS). ``lazy_provider_index.js``, preloaded through ``NODE_OPTIONS`` into the
kernel that jsii starts at the first ``import cdktf``, resolves it to the package's own ``lib/lazy-index.js``.

The output is identical to the slow path (tests/test_lean_imports.py synthesizes both ways and compares).
Set ``LLMGW_NAIVE_PROVIDER_IMPORTS=1`` to disable both (the benchmark's baseline does).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys
import types
from pathlib import Path

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


LAZY_INDEX_HOOK = Path(__file__).with_name("lazy_provider_index.js")
# Quoted: NODE_OPTIONS splits on spaces outside double quotes.
LAZY_INDEX_NODE_OPTION = f'--require "{LAZY_INDEX_HOOK}"'


def _set_lazy_index_hook(enabled: bool) -> None:
    """Add (or, on the naive path, remove an inherited) preload of the hook; other NODE_OPTIONS are kept."""
    others = os.environ.get("NODE_OPTIONS", "").replace(LAZY_INDEX_NODE_OPTION, " ").strip()
    options = f"{others} {LAZY_INDEX_NODE_OPTION}".strip() if enabled else others
    if options:
        os.environ["NODE_OPTIONS"] = options
    else:
        os.environ.pop("NODE_OPTIONS", None)


def install() -> bool:
    """Register the lean packages and the Node hook; returns False when disabled by the environment.

    Must run before the jsii kernel starts (the first ``import cdktf``/``constructs``): the kernel reads
    NODE_OPTIONS once, when it starts. ``synth_speed.enable()`` calls this first.
    """
    naive = os.environ.get("LLMGW_NAIVE_PROVIDER_IMPORTS") == "1"
    _set_lazy_index_hook(not naive)
    if naive:
        return False
    for name in PREBUILT_PROVIDER_PACKAGES:
        _register_bare_package(name)
    return True
