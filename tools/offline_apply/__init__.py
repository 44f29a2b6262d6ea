"""Offline apply: real `terraform apply` / `plan` / `destroy` sequences against the stand-in providers.

    with OfflineApply(out_dir=Path("cdktf.out")) as h:
        h.apply("aws-dev-quotas").check()
        assert h.plan("aws-dev-quotas").empty

See harness.py, docs/OFFLINE_PLAN.md ("Offline apply") and HARNESS_CONTRACT.md. The harness is imported on first
use, so the stand-in provider can use `tools.offline_apply.secret_store` without loading it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Changes", "OfflineApply", "OfflineApplyError", "Result"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from tools.offline_apply import harness

        return getattr(harness, name)
    raise AttributeError(name)
