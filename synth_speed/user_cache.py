"""Where the project keeps its caches on this machine: one directory per kind, outside every checkout."""

from __future__ import annotations

import os
from pathlib import Path


def project_cache_dir(kind: str) -> Path:
    """``$XDG_CACHE_HOME/llm-gateway-cdktf/<kind>`` (``~/.cache`` without XDG_CACHE_HOME), beside jsii's own."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "llm-gateway-cdktf" / kind
