"""AWS section of an environment file (`clouds.aws`)."""

from __future__ import annotations

from pydantic import Field, model_validator

from constructs_lib.config.base import Cidr, StrictModel, cidr_within, cidrs_overlap
from constructs_lib.config.state import AwsStateConfig


class AwsNetworkConfig(StrictModel):
    vpc_cidr: Cidr = "10.10.0.0/16"
    public_subnet_cidrs: list[Cidr] = Field(default_factory=lambda: ["10.10.0.0/22", "10.10.4.0/22"])
    private_subnet_cidrs: list[Cidr] = Field(default_factory=lambda: ["10.10.16.0/20", "10.10.32.0/20"])
    nat_gateway_per_az: bool = Field(default=False, description="One NAT gateway per AZ instead of one shared.")
    flow_log_retention_days: int = Field(default=90, gt=0)

    @model_validator(mode="after")
    def _subnets_inside_vpc(self) -> AwsNetworkConfig:
        subnets = [*self.public_subnet_cidrs, *self.private_subnet_cidrs]
        for cidr in subnets:
            if not cidr_within(cidr, self.vpc_cidr):
                raise ValueError(f"subnet {cidr} is not inside vpc_cidr {self.vpc_cidr}")
        for index, first in enumerate(subnets):
            for second in subnets[index + 1 :]:
                if cidrs_overlap(first, second):
                    raise ValueError(f"subnets {first} and {second} overlap")
        return self


class AwsConfig(StrictModel):
    enabled: bool = True
    account_id: str = Field(pattern=r"^\d{12}$", description="The only account this stack may touch.")
    region: str = Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    availability_zones: list[str] = Field(description="At least two AZs of `region`.")
    network: AwsNetworkConfig = Field(default_factory=AwsNetworkConfig)
    state: AwsStateConfig

    @model_validator(mode="after")
    def _zones_match_region_and_subnets(self) -> AwsConfig:
        if len(self.availability_zones) < 2:
            count = len(self.availability_zones)
            raise ValueError(f"availability_zones: need at least two AZs for a highly available gateway, got {count}")
        if len(set(self.availability_zones)) != len(self.availability_zones):
            raise ValueError("availability_zones: an AZ is listed twice")
        for zone in self.availability_zones:
            if not zone.startswith(self.region):
                raise ValueError(f"availability_zones: {zone!r} is not in region {self.region!r}")
        for field in ("public_subnet_cidrs", "private_subnet_cidrs"):
            count = len(getattr(self.network, field))
            if count != len(self.availability_zones):
                zones = len(self.availability_zones)
                raise ValueError(f"network.{field}: {count} subnets for {zones} availability zones (need one per AZ)")
        return self
