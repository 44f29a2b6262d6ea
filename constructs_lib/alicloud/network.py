"""The gateway's network: VPC, a private and an ALB vSwitch per zone, NAT egress, and the gateway security group.

Bring your own VPC instead (`network.existing`): the stack then creates no VPC or vSwitch (and the NAT egress
only with `create_nat`), and the security-group rules use the configured ranges of those vSwitches.

The gateway security group is the only one: RDS and Redis admit it by ID (their whitelists hold the group and
`127.0.0.1`, nothing else), so "database and Redis only from the gateway" is one rule each, not a CIDR guess.
Its rules are a whitelist in both directions: the LiteLLM port from the ALB vSwitches only; out to the LLM
providers on 443 (through the NAT gateway), to PostgreSQL and Redis in the private vSwitches, and to the
Alibaba Cloud internal services (metadata, DNS, NTP, mirrors, KMS/OSS VPC endpoints); then a drop-all.
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from constructs_lib._common.errors import PropsError
from constructs_lib._common.naming import Naming
from constructs_lib.config.alicloud import AlicloudNetworkConfig
from imports.alicloud.eip_address import EipAddress
from imports.alicloud.eip_association import EipAssociation
from imports.alicloud.nat_gateway import NatGateway
from imports.alicloud.security_group import SecurityGroup
from imports.alicloud.security_group_rule import SecurityGroupRule
from imports.alicloud.snat_entry import SnatEntry
from imports.alicloud.vpc import Vpc
from imports.alicloud.vswitch import Vswitch

# Alibaba Cloud's internal service ranges: 100.100.0.0/16 holds the metadata service (100.100.100.200), DNS
# (100.100.2.136/138), NTP and the package mirrors; the KMS and OSS VPC endpoints sit in 100.64.0.0/10.
INTERNAL_SERVICES = "100.64.0.0/10"
POSTGRES_PORT, REDIS_PORT = 5432, 6379


@dataclass(frozen=True)
class GatewayNetworkProps:
    naming: Naming
    zones: tuple[str, ...]
    config: AlicloudNetworkConfig
    gateway_port: int = 4000
    production: bool = False

    def __post_init__(self) -> None:
        for field in ("vswitch_cidrs", "alb_vswitch_cidrs"):
            if len(getattr(self.config, field)) != len(self.zones):
                raise PropsError(f"clouds.alicloud.network.{field}", "need exactly one vswitch per zone")
        if len(self.zones) < 2:
            raise PropsError("clouds.alicloud.zones", "need at least two zones")


class GatewayNetwork(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: GatewayNetworkProps) -> None:
        super().__init__(scope, construct_id)
        naming, config = props.naming, props.config
        self._props = props
        existing = config.existing
        if existing is None:
            vpc = Vpc(self, "vpc", vpc_name=naming.name("vpc"), cidr_block=config.vpc_cidr, description="LLM gateway")
            self.vpc_id: str = vpc.id
            self.private_vswitch_ids = self._vswitches("private", config.vswitch_cidrs)
            self.alb_vswitch_ids = self._vswitches("alb", config.alb_vswitch_cidrs)
        else:
            self.vpc_id = existing.vpc_id
            self.private_vswitch_ids = list(existing.vswitch_ids)
            self.alb_vswitch_ids = list(existing.alb_vswitch_ids)
        if existing is None or existing.create_nat:
            self._nat_egress()

        self.gateway_sg = SecurityGroup(
            self,
            "gateway-sg",
            security_group_name=naming.name("gateway"),
            vpc_id=self.vpc_id,
            security_group_type="normal",
            inner_access_policy="Drop",
            description="LLM gateway instances: port 4000 from the ALB only; egress whitelisted",
        )
        self.rules: list[SecurityGroupRule] = []
        port = f"{props.gateway_port}/{props.gateway_port}"
        for index, cidr in enumerate(config.alb_vswitch_cidrs):
            self._rule(f"in-alb-{index}", "ingress", "tcp", port, cidr, "LiteLLM port from the ALB vSwitch")
        for index, cidr in enumerate(config.egress_cidrs):
            self._rule(f"out-https-{index}", "egress", "tcp", "443/443", cidr, "HTTPS to the LLM providers")
        for index, cidr in enumerate(config.vswitch_cidrs):
            self._rule(f"out-postgres-{index}", "egress", "tcp", f"{POSTGRES_PORT}/{POSTGRES_PORT}", cidr, "RDS")
            self._rule(f"out-redis-{index}", "egress", "tcp", f"{REDIS_PORT}/{REDIS_PORT}", cidr, "Redis")
        self._rule("out-internal-https", "egress", "tcp", "443/443", INTERNAL_SERVICES, "KMS, OSS, Cloud Assistant")
        self._rule("out-internal-http", "egress", "tcp", "80/80", INTERNAL_SERVICES, "Metadata service, mirrors")
        self._rule("out-internal-dns", "egress", "udp", "53/53", INTERNAL_SERVICES, "VPC DNS")
        self._rule("out-internal-ntp", "egress", "udp", "123/123", INTERNAL_SERVICES, "NTP")
        self._rule("out-deny-all", "egress", "all", "-1/-1", "0.0.0.0/0", "Nothing else", policy="drop", priority=100)

    def _vswitches(self, tier: str, cidrs: list[str]) -> list[str]:
        props = self._props
        return [
            Vswitch(
                self,
                f"{tier}-{index}",
                vswitch_name=props.naming.name(f"{tier}-{zone}"),
                vpc_id=self.vpc_id,
                cidr_block=cidr,
                zone_id=zone,
                description=f"LLM gateway {tier} tier in {zone}",
            ).id
            for index, (zone, cidr) in enumerate(zip(props.zones, cidrs, strict=True))
        ]

    def _nat_egress(self) -> None:
        """Egress to the LLM providers: one enhanced NAT gateway, one EIP, one SNAT entry per private vSwitch."""
        props = self._props
        naming, production = props.naming, props.production
        self.nat = NatGateway(
            self,
            "nat",
            nat_gateway_name=naming.name("nat"),
            vpc_id=self.vpc_id,
            vswitch_id=self.private_vswitch_ids[0],
            nat_type="Enhanced",
            network_type="internet",
            payment_type="PayAsYouGo",
            deletion_protection=production,
            description="Egress of the LLM gateway to the model providers",
        )
        self.eip = EipAddress(
            self,
            "nat-eip",
            address_name=naming.name("nat-eip"),
            bandwidth=str(props.config.nat_bandwidth_mbps),
            internet_charge_type="PayByTraffic",
            payment_type="PayAsYouGo",
            deletion_protection=production,
            description="Source address of the gateway's calls to LLM providers",
        )
        association = EipAssociation(
            self, "nat-eip-association", allocation_id=self.eip.id, instance_id=self.nat.id, instance_type="Nat"
        )
        for index, vswitch_id in enumerate(self.private_vswitch_ids):
            SnatEntry(
                self,
                f"snat-{index}",
                snat_table_id=self.nat.snat_table_ids,
                source_vswitch_id=vswitch_id,
                snat_ip=self.eip.ip_address,
                snat_entry_name=naming.name(f"snat-{props.zones[index]}"),
                depends_on=[association],
            )

    def _rule(
        self,
        construct_id: str,
        direction: str,
        protocol: str,
        port_range: str,
        cidr: str,
        description: str,
        *,
        policy: str = "accept",
        priority: int = 1,
    ) -> None:
        self.rules.append(
            SecurityGroupRule(
                self,
                construct_id,
                security_group_id=self.gateway_sg.id,
                type=direction,
                ip_protocol=protocol,
                port_range=port_range,
                cidr_ip=cidr,
                nic_type="intranet",
                policy=policy,
                priority=priority,
                description=description,
            )
        )
