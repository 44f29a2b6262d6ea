"""Load the jsii-generated bindings without their Python-side type checks, which the jsii kernel repeats.

Every method of a jsii-generated module (``cdktf``, ``constructs``, the prebuilt providers) starts with an ``if
__debug__:`` block that runs typeguard over its arguments, after ``typing.get_type_hints`` on a stub: about a
quarter of the CPU of a synth. The kernel deserializes every argument against the assembly's types anyway, so
those blocks never catch anything the kernel would not (the kernel's error names the offending key, e.g. ``Key
'cidrBlock': ... Value is not a string``); unknown and missing keyword arguments still fail in Python, at the
call. ``python -O`` would strip the blocks too, but also every ``assert`` of every other library.

So only the modules of ``JSII_BINDING_PACKAGES`` are compiled with ``optimize=1``. The code objects are cached
as standard PEP 552 checked-hash pycs (validated against a hash of the source, so a reinstalled or upgraded
package is recompiled, whichever venv or path it lives in) under ``$XDG_CACHE_HOME/llm-gateway-cdktf/
bytecode``: a project cache beside the jsii package cache, outside every source tree, so it is written even
under ``PYTHONDONTWRITEBYTECODE``. The first run after an install compiles the ~100 modules a synth uses (a
few seconds, once). ``LLMGW_BYTECODE_CACHE=<dir>`` moves the cache, ``LLMGW_BYTECODE_CACHE=off`` (or ``0``) turns
this step off (jsii's Python checks run again, with their more detailed messages). When the cache directory cannot
be written, the step stays off rather than compile on every run.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import marshal
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import CodeType, ModuleType

from synth_speed.user_cache import project_cache_dir

JSII_BINDING_PACKAGES: tuple[str, ...] = (
    "cdktf",
    "constructs",
    "cdktf_cdktf_provider_aws",
    "cdktf_cdktf_provider_google",
    "cdktf_cdktf_provider_random",
)
CACHE_ENV = "LLMGW_BYTECODE_CACHE"
_OFF = frozenset({"off", "0", "false", "no"})
_ON = frozenset({"", "on", "1", "true", "yes"})

# PEP 552 header: magic, flags (bit 0: hash-based, bit 1: check the source), 8-byte source hash.
_CHECKED_HASH_FLAGS = (0b11).to_bytes(4, "little")
_HEADER_SIZE = 16


def default_cache_dir() -> Path:
    return project_cache_dir("bytecode")


def _pyc_header(source: bytes) -> bytes:
    return importlib.util.MAGIC_NUMBER + _CHECKED_HASH_FLAGS + importlib.util.source_hash(source)


class _OptimizedSourceLoader(importlib.machinery.SourceFileLoader):
    """A source loader whose code is compiled with ``optimize=1`` and cached in a checked-hash pyc."""

    def __init__(self, fullname: str, path: str, cache_file: Path) -> None:
        super().__init__(fullname, path)
        self.cache_file = cache_file

    def get_code(self, fullname: str) -> CodeType:
        source = self.get_data(self.path)
        header = _pyc_header(source)
        try:
            cached = self.cache_file.read_bytes()
            if cached[:_HEADER_SIZE] == header:
                # What the import system does with any pyc; the cache is the user's own, like __pycache__.
                code = marshal.loads(memoryview(cached)[_HEADER_SIZE:])  # noqa: S302
                if isinstance(code, CodeType):
                    return code
        except (OSError, EOFError, ValueError, TypeError):
            pass  # missing, unreadable or corrupt: compile again
        code = compile(source, self.path, "exec", dont_inherit=True, optimize=1)
        self._write_cache(header + marshal.dumps(code))
        return code

    def _write_cache(self, data: bytes) -> None:
        # A unique temporary name and an atomic rename: the per-cloud children may compile the same module at once.
        temporary = self.cache_file.with_name(f"{self.cache_file.name}.{os.getpid()}.tmp")
        try:
            self.cache_file.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_bytes(data)
            os.replace(temporary, self.cache_file)
        except OSError:
            temporary.unlink(missing_ok=True)


class OptimizedBindingFinder(importlib.abc.MetaPathFinder):
    """Finds modules of the given packages as the standard path finder does, with the optimized loader."""

    def __init__(self, packages: Iterable[str], cache_dir: Path) -> None:
        self.packages = frozenset(packages)
        self.cache_dir = cache_dir / sys.implementation.cache_tag

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname.partition(".")[0] not in self.packages:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is None or type(spec.loader) is not importlib.machinery.SourceFileLoader or not spec.origin:
            return spec
        cache_file = self.cache_dir / f"{fullname}.opt-1.pyc"
        spec.loader = _OptimizedSourceLoader(fullname, spec.origin, cache_file)
        spec.cached = str(cache_file)
        return spec


def _writable(directory: Path) -> bool:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(directory, os.W_OK | os.X_OK)


def install(packages: Iterable[str] = JSII_BINDING_PACKAGES) -> bool:
    """Put the optimized finder first on ``sys.meta_path``; returns False when turned off or not writable.

    Modules imported before this call keep their code, so it must run before the first ``import cdktf``
    (``synth_speed.enable()`` does). Calling it again is a no-op.
    """
    setting = os.environ.get(CACHE_ENV, "").strip()
    if setting.lower() in _OFF:
        return False
    cache_dir = default_cache_dir() if setting.lower() in _ON else Path(setting).absolute()
    if not _writable(cache_dir / sys.implementation.cache_tag):
        return False
    if not any(isinstance(finder, OptimizedBindingFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, OptimizedBindingFinder(packages, cache_dir))
    return True
