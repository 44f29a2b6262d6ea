"""The gateway's private network: a custom-mode VPC and subnet (or a BYO pair), Private Services Access for
Cloud SQL and Memorystore, and the way Cloud Run reaches it (Direct VPC egress or a Serverless VPC Access
connector). A Cloud Router + NAT exists only when all egress is routed through the VPC.

    network = GatewayNetwork(self, "network", GatewayNetworkProps(naming=..., region=..., config=gcp.network))
    network.egress  # what every Cloud Run service/job puts in its `vpc_access`
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from cdktf import ITerraformDependable
from cdktf_cdktf_provider_google.compute_firewall import ComputeFirewall, ComputeFirewallDeny, ComputeFirewallLogConfig
from cdktf_cdktf_provider_google.compute_global_address import ComputeGlobalAddress
from cdktf_cdktf_provider_google.compute_network import ComputeNetwork
from cdktf_cdktf_provider_google.compute_router import ComputeRouter
from cdktf_cdktf_provider_google.compute_router_nat import ComputeRouterNat, ComputeRouterNatLogConfig
from cdktf_cdktf_provider_google.compute_subnetwork import ComputeSubnetwork, ComputeSubnetworkLogConfig
from cdktf_cdktf_provider_google.service_networking_connection import ServiceNetworkingConnection
from cdktf_cdktf_provider_google.vpc_access_connector import VpcAccessConnector
from constructs import Construct

from constructs_lib._common.naming import Naming
from constructs_lib.config.gcp import GcpNetworkConfig


@dataclass(frozen=True)
class VpcEgress:
    """Cloud-Run-neutral description of `vpc_access` (services and jobs use different struct classes)."""

    egress: str  # PRIVATE_RANGES_ONLY | ALL_TRAFFIC
    connector: str | None = None
    network: str | None = None
    subnetwork: str | None = None


@dataclass(frozen=True)
class GatewayNetworkProps:
    naming: Naming
    region: str
    config: GcpNetworkConfig
    # Resources that must wait for the Compute / Service Networking / VPC Access APIs.
    depends_on: Sequence[ITerraformDependable] = ()
    # False when no managed store (Cloud SQL, Memorystore) takes an address from the peered range.
    private_services_needed: bool = True
    # False in dependencies-only mode: nothing runs on Cloud Run, so no connector is created.
    cloud_run: bool = True


class GatewayNetwork(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: GatewayNetworkProps) -> None:
        super().__init__(scope, construct_id)
        config, naming = props.config, props.naming
        depends_on = list(props.depends_on)
        if config.existing_network is not None and config.existing_subnetwork is not None:
            self.network_id: str = config.existing_network
            self.subnetwork_id: str = config.existing_subnetwork
        else:
            self.network_id, self.subnetwork_id = self._create_network(props, depends_on)

        self.private_services = self._private_services_access(props, depends_on)

        egress = "ALL_TRAFFIC" if config.route_all_egress else "PRIVATE_RANGES_ONLY"
        if config.egress == "connector" and props.cloud_run:
            connector = VpcAccessConnector(
                self,
                "connector",
                name=naming.name("conn", "google_vpc_access_connector"),
                region=props.region,
                network=self.network_id,
                ip_cidr_range=config.connector_cidr,
                min_instances=2,
                max_instances=3,
                machine_type="e2-micro",
                depends_on=depends_on,
            )
            self.egress = VpcEgress(egress=egress, connector=connector.id)
        else:
            self.egress = VpcEgress(egress=egress, network=self.network_id, subnetwork=self.subnetwork_id)

        if config.route_all_egress:
            router = ComputeRouter(
                self,
                "router",
                name=naming.name("router", "google_compute"),
                region=props.region,
                network=self.network_id,
            )
            ComputeRouterNat(
                self,
                "nat",
                name=naming.name("nat", "google_compute"),
                router=router.name,
                region=props.region,
                nat_ip_allocate_option="AUTO_ONLY",
                source_subnetwork_ip_ranges_to_nat="ALL_SUBNETWORKS_ALL_IP_RANGES",
                log_config=ComputeRouterNatLogConfig(enable=True, filter="ERRORS_ONLY"),
            )

    def _create_network(self, props: GatewayNetworkProps, depends_on: list[ITerraformDependable]) -> tuple[str, str]:
        """The VPC, its subnet (flow logs on) and a logged default-deny ingress rule: (network id, subnetwork id)."""
        config, naming = props.config, props.naming
        network = ComputeNetwork(
            self,
            "vpc",
            name=naming.name("vpc", "google_compute"),
            auto_create_subnetworks=False,
            routing_mode="REGIONAL",
            depends_on=depends_on,
        )
        subnet = ComputeSubnetwork(
            self,
            "subnet",
            name=naming.name(props.region, "google_compute"),
            network=network.id,
            region=props.region,
            ip_cidr_range=config.subnet_cidr,
            private_ip_google_access=True,
            log_config=ComputeSubnetworkLogConfig(
                aggregation_interval="INTERVAL_5_SEC", flow_sampling=0.5, metadata="INCLUDE_ALL_METADATA"
            ),
        )
        # Explicit, logged default-deny for ingress: nothing reaches the VPC unless a rule says so (Cloud Run
        # egress, Cloud SQL and Memorystore peering are not governed by VPC ingress rules).
        ComputeFirewall(
            self,
            "deny-all-ingress",
            name=naming.name("deny-all-ingress", "google_compute"),
            network=network.id,
            direction="INGRESS",
            priority=65534,
            source_ranges=["0.0.0.0/0"],
            deny=[ComputeFirewallDeny(protocol="all")],
            log_config=ComputeFirewallLogConfig(metadata="INCLUDE_ALL_METADATA"),
        )
        return network.id, subnet.id

    def _private_services_access(
        self, props: GatewayNetworkProps, depends_on: list[ITerraformDependable]
    ) -> list[ITerraformDependable]:
        """The reserved peering range and its Service Networking connection, when a managed store needs them."""
        config, naming = props.config, props.naming
        # Cloud SQL and Memorystore wait on this (their private IPs come from the peered range).
        private_services: list[ITerraformDependable] = []
        if config.create_private_services_access and props.private_services_needed:
            psa_range = ipaddress.ip_network(config.private_services_cidr)
            reserved = ComputeGlobalAddress(
                self,
                "psa-range",
                name=naming.name("psa", "google_compute"),
                purpose="VPC_PEERING",
                address_type="INTERNAL",
                address=str(psa_range.network_address),
                prefix_length=psa_range.prefixlen,
                network=self.network_id,
                depends_on=depends_on,
            )
            private_services.append(
                ServiceNetworkingConnection(
                    self,
                    "psa",
                    network=self.network_id,
                    service="servicenetworking.googleapis.com",
                    reserved_peering_ranges=[reserved.name],
                    # Destroying the peering fails while Cloud SQL still holds addresses in it; the peering
                    # goes away with the VPC.
                    deletion_policy="ABANDON",
                )
            )
        return private_services
