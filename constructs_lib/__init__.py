"""Construct library for the LLM gateway: cloud-neutral pieces in ``_common``, one package per cloud.

Constructs here never create providers or backends; stacks (``stacks/``) do. Importing this package
installs the fast path first (docs/DESIGN.md, "Synth speed"): every provider class is imported from its
submodule, the jsii bindings load without their Python-side type checks (the jsii kernel repeats them), and
Python talks to the jsii kernel without jsii's relay process.
"""

from synth_speed import binding_bytecode as _binding_bytecode
from synth_speed import kernel_channel as _kernel_channel
from synth_speed import lean_imports as _lean_imports

if _lean_imports.install():  # False on the naive path (LLMGW_NAIVE_PROVIDER_IMPORTS=1): the baseline keeps all off
    _binding_bytecode.install()
    _kernel_channel.install()


def prefetch_provider_packages(python_packages: tuple[str, ...]) -> None:
    """Start preparing the jsii package cache entries of these prebuilt provider packages in the background,
    so that it overlaps the kernel's start-up; a no-op where that step is off (docs/DESIGN.md, step 10)."""
    _kernel_channel.prefetch(python_packages)
