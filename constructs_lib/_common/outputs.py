"""An output a gateway construct hands to its stack: the stack writes each as a `TerraformOutput` of that name."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GatewayOutput:
    # None: the output exists in every mode, null where this mode has no such thing.
    value: object | None
    description: str | None = None
