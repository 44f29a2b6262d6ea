"""Synth-speed machinery: how the jsii bindings and kernel load and run, never what a stack synthesizes.

Not a construct and not imported by ``constructs_lib`` or ``stacks``: a program that synthesizes (``main.py``,
the test suite's ``conftest.py``) calls ``enable()`` once, first thing, before anything imports ``jsii``,
``cdktf``, ``constructs`` or a provider binding. Without that call every stack synthesizes the same bytes, more
slowly (docs/DESIGN.md, "Synth speed"; ``make bench`` measures both paths). The steps:

- ``lean_imports``: prebuilt provider packages load one submodule at a time, in Python and (through
  ``lazy_provider_index.js``) in the kernel's Node process;
- ``binding_bytecode``: the bindings' Python-side type checks compiled out (the kernel repeats them);
- ``kernel_channel``: Python talks to the jsii kernel without jsii's relay process, and the kernels it starts
  use the project's package cache (``packed_packages``, ``build_runtime_index.js``);
- ``user_cache``: where these caches live.

``LLMGW_NAIVE_PROVIDER_IMPORTS=1`` turns them all off (the benchmark's baseline); ``LLMGW_BYTECODE_CACHE=off``,
``LLMGW_DIRECT_KERNEL=0`` and ``LLMGW_PACKAGE_CACHE=off`` turn off one step each.
"""

from __future__ import annotations

import sys

# Imported before enable(), any of these would keep its slow path (the kernel reads NODE_OPTIONS once, at its start;
# a module already imported keeps its code): enable() refuses rather than switch on half of the steps.
_JSII_PACKAGES = frozenset({"jsii", "cdktf", "constructs"})
_PROVIDER_PACKAGE_PREFIX = "cdktf_cdktf_provider_"
_enabled: bool | None = None  # None: enable() has not run in this process


def enable() -> bool:
    """Switch the synth-speed steps on; returns False on the naive path. A second call is a no-op.

    Raises RuntimeError when jsii, cdktf, constructs or a provider binding is already imported.
    """
    global _enabled
    if _enabled is not None:
        return _enabled
    early = sorted(
        name
        for name in sys.modules
        if name.partition(".")[0] in _JSII_PACKAGES or name.startswith(_PROVIDER_PACKAGE_PREFIX)
    )
    if early:
        raise RuntimeError(f"synth_speed.enable() must run before these are imported: {', '.join(early[:5])}")
    # Imported here, not at the top: `import synth_speed` alone (e.g. for user_cache) switches nothing on.
    from synth_speed import binding_bytecode, kernel_channel, lean_imports

    _enabled = lean_imports.install()  # False on the naive path (LLMGW_NAIVE_PROVIDER_IMPORTS=1): all stay off
    if _enabled:
        binding_bytecode.install()
        kernel_channel.install()
    return _enabled


def is_enabled() -> bool:
    """True once ``enable()`` has switched the steps on in this process."""
    return bool(_enabled)


def prefetch_provider_packages(python_packages: tuple[str, ...]) -> None:
    """Start preparing the jsii package cache entries of these prebuilt provider packages in the background,
    so that it overlaps the kernel's start-up; a no-op where that step is off (docs/DESIGN.md, step 10)."""
    from synth_speed import kernel_channel

    kernel_channel.prefetch(python_packages)
