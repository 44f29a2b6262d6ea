"""Google Cloud section of an environment file (`clouds.gcp`)."""

from __future__ import annotations

from pydantic import Field

from constructs_lib.config.base import Cidr, StrictModel
from constructs_lib.config.state import GcpStateConfig


class GcpNetworkConfig(StrictModel):
    subnet_cidr: Cidr = "10.20.0.0/20"
    private_services_cidr: Cidr = Field(
        default="10.21.0.0/16", description="Range reserved for Private Services Access (Cloud SQL, Memorystore)."
    )
    connector_cidr: Cidr = Field(default="10.22.0.0/28", description="Serverless VPC Access connector range (/28).")


class GcpConfig(StrictModel):
    enabled: bool = True
    project: str = Field(pattern=r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
    region: str = Field(pattern=r"^[a-z]+-[a-z]+\d$")
    network: GcpNetworkConfig = Field(default_factory=GcpNetworkConfig)
    state: GcpStateConfig
