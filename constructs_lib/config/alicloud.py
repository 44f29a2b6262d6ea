"""Alibaba Cloud section of an environment file (`clouds.alicloud`)."""

from __future__ import annotations

from pydantic import Field, model_validator

from constructs_lib.config.base import Cidr, StrictModel, cidr_within, cidrs_overlap
from constructs_lib.config.state import AlicloudStateConfig


class AlicloudNetworkConfig(StrictModel):
    vpc_cidr: Cidr = "10.30.0.0/16"
    vswitch_cidrs: list[Cidr] = Field(default_factory=lambda: ["10.30.0.0/20", "10.30.16.0/20"])

    @model_validator(mode="after")
    def _vswitches_inside_vpc(self) -> AlicloudNetworkConfig:
        for cidr in self.vswitch_cidrs:
            if not cidr_within(cidr, self.vpc_cidr):
                raise ValueError(f"vswitch {cidr} is not inside vpc_cidr {self.vpc_cidr}")
        for index, first in enumerate(self.vswitch_cidrs):
            for second in self.vswitch_cidrs[index + 1 :]:
                if cidrs_overlap(first, second):
                    raise ValueError(f"vswitches {first} and {second} overlap")
        return self


class AlicloudConfig(StrictModel):
    enabled: bool = True
    region: str = Field(pattern=r"^[a-z]{2}(-[a-z0-9]+)+$")
    zones: list[str] = Field(description="At least two zones of `region`.")
    network: AlicloudNetworkConfig = Field(default_factory=AlicloudNetworkConfig)
    state: AlicloudStateConfig

    @model_validator(mode="after")
    def _two_zones_one_vswitch_each(self) -> AlicloudConfig:
        if len(self.zones) < 2:
            raise ValueError(f"zones: need at least two zones for a highly available gateway, got {len(self.zones)}")
        if len(set(self.zones)) != len(self.zones):
            raise ValueError("zones: a zone is listed twice")
        for zone in self.zones:
            if not zone.startswith(self.region):
                raise ValueError(f"zones: {zone!r} is not in region {self.region!r}")
        if len(self.network.vswitch_cidrs) != len(self.zones):
            count = len(self.network.vswitch_cidrs)
            zones = len(self.zones)
            raise ValueError(f"network.vswitch_cidrs: {count} vswitches for {zones} zones (need one per zone)")
        return self
