"""The gateway's sidecars as every cloud's `metrics` and `spend_collector` sections describe them.

    class AwsSpendCollectorConfig(SpendCollectorConfig): cpu: int = 512; memory: int = 2048

A cloud's subclass adds the sizes in its own units (Fargate CPU units and MiB, Cloud Run CPU and memory strings)
and, in `RESERVED_PORTS`, any port of its own a sidecar must not take.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from constructs_lib.config.base import StrictModel

# The gateway container's port (constructs_lib/_common/routes.py GATEWAY_PORT; the config layer imports nothing
# above it).
GATEWAY_CONTAINER_PORT = 4000


class GatewaySidecarConfig(StrictModel):
    """A container beside the gateway, on a port of its own."""

    # Port -> what it is: ports of the gateway instance a sidecar must leave alone.
    RESERVED_PORTS: ClassVar[dict[int, str]] = {GATEWAY_CONTAINER_PORT: "the gateway port"}

    enabled: bool = False
    port: int

    @model_validator(mode="after")
    def _port_free(self) -> GatewaySidecarConfig:
        if self.port in self.RESERVED_PORTS:
            raise ValueError(f"port: {self.port} is {self.RESERVED_PORTS[self.port]}")
        return self


class SpendCollectorConfig(GatewaySidecarConfig):
    """LiteLLM's spend collector as a sidecar: workers hand spend events to it over loopback instead of writing
    spend logs themselves."""

    port: int = Field(default=4100, ge=1, le=65535, description="Loopback TCP port; distinct from metrics.port.")
    buffer_size: int = Field(default=1000, ge=1, le=1000000, description="Events a worker queues for the sidecar.")
    on_unavailable: Literal["fallback", "drop"] = Field(
        default="fallback",
        description="Sidecar unreachable or buffer full: `fallback` writes spend in the worker (nothing lost); "
        "`drop` counts and discards the event.",
    )
    drain_timeout_seconds: int = Field(default=10, ge=1, le=60, description="Flush window on shutdown.")
