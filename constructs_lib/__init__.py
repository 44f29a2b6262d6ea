"""Construct library for the LLM gateway: cloud-neutral pieces in ``_common``, one package per cloud.

Constructs here never create providers or backends; stacks (``stacks/``) do. Importing this package
installs the lean provider-import path first, so every provider class is imported from its submodule.
"""

from constructs_lib._common import lean_imports as _lean_imports

_lean_imports.install()
