"""Python message classes for the plugin protocol, compiled from the .proto files next to this module.

The generated modules are build output, not source: they are compiled with grpc_tools into a cache
directory keyed by the .proto contents, so editing a .proto regenerates them and nothing generated is
committed.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import sys
import tempfile
from pathlib import Path
from types import ModuleType

PROTO_DIR = Path(__file__).resolve().parent
PROTO_FILES = ("tfplugin6.proto", "plugin.proto")


def proto_digest() -> str:
    digest = hashlib.sha256()
    for name in PROTO_FILES:
        digest.update(name.encode())
        digest.update((PROTO_DIR / name).read_bytes())
    return digest.hexdigest()[:16]


def _compile(out_dir: Path) -> None:
    """Run protoc (from grpc_tools) into a temporary dir, then move it into place atomically."""
    from grpc_tools import protoc  # imported lazily: only needed on a cache miss

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=".protoc-"))
    include = Path(protoc.__file__).resolve().parent / "_proto"
    args = ["protoc", f"-I{PROTO_DIR}", f"-I{include}", f"--python_out={tmp}"]
    if protoc.main([*args, *(str(PROTO_DIR / name) for name in PROTO_FILES)]) != 0:
        raise RuntimeError(f"protoc failed for {PROTO_FILES} in {PROTO_DIR}")
    try:
        os.replace(tmp, out_dir)
    except OSError:
        # another process compiled the same digest first; its output is identical
        for child in tmp.iterdir():
            child.unlink()
        tmp.rmdir()


def load(cache_dir: Path) -> tuple[ModuleType, ModuleType]:
    """Return the (tfplugin6_pb2, plugin_pb2) modules, compiling them on first use."""
    out_dir = cache_dir / "protos" / proto_digest()
    if not (out_dir / "tfplugin6_pb2.py").exists():
        _compile(out_dir)
    sys.path.insert(0, str(out_dir))
    try:
        return importlib.import_module("tfplugin6_pb2"), importlib.import_module("plugin_pb2")
    finally:
        sys.path.remove(str(out_dir))
