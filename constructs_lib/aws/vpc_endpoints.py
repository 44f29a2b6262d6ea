"""Private endpoints for the AWS APIs the tasks need to start and run, so losing a NAT gateway's AZ (or the NAT
altogether) does not stop secrets, image pulls, logs, the proxy config or the IAM database tokens.

    VpcEndpoints(self, "endpoints", VpcEndpointsProps(naming=..., region=..., vpc_id=..., vpc_cidr=...,
        subnet_ids=private_subnet_ids, route_table_ids=private_route_table_ids))

Interface endpoints with private DNS (the SDKs' default hostnames resolve to them) in every private subnet, behind
one security group that admits HTTPS from the VPC only; S3 is a gateway endpoint on the private route tables (ECR
serves image layers from S3, and the proxy config object lives there). Service names:
https://docs.aws.amazon.com/vpc/latest/privatelink/aws-services-privatelink-support.html (`com.amazonaws.<region>.
<service>`); ECR needs `ecr.api`, `ecr.dkr` and S3 (https://docs.aws.amazon.com/AmazonECR/latest/userguide/
vpc-endpoints.html).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_endpoint import VpcEndpoint
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from constructs_lib._common.naming import Naming

# Secrets (ECS resolves `secrets` at start), image pulls, log delivery, KMS (secrets, logs, S3 objects are under the
# gateway key), STS (the SDKs' regional credential calls).
INTERFACE_SERVICES = ("secretsmanager", "ecr.api", "ecr.dkr", "logs", "kms", "sts")
GATEWAY_SERVICES = ("s3",)


@dataclass(frozen=True)
class VpcEndpointsProps:
    naming: Naming
    region: str
    vpc_id: str
    vpc_cidr: str
    subnet_ids: Sequence[str]
    route_table_ids: Sequence[str]


class VpcEndpoints(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: VpcEndpointsProps) -> None:
        super().__init__(scope, construct_id)
        group = SecurityGroup(
            self,
            "sg",
            name=props.naming.name("vpc-endpoints"),
            description="AWS API endpoints: HTTPS from the VPC only",
            vpc_id=props.vpc_id,
            revoke_rules_on_delete=True,
        )
        VpcSecurityGroupIngressRule(
            self,
            "https-from-vpc",
            security_group_id=group.id,
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4=props.vpc_cidr,
            description="HTTPS from the VPC",
        )
        self.endpoints = {
            service: VpcEndpoint(
                self,
                service.replace(".", "-"),
                vpc_id=props.vpc_id,
                service_name=f"com.amazonaws.{props.region}.{service}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=list(props.subnet_ids),
                security_group_ids=[group.id],
                tags={"Name": props.naming.name(f"{service.replace('.', '-')}-endpoint")},
            )
            for service in INTERFACE_SERVICES
        }
        for service in GATEWAY_SERVICES:
            self.endpoints[service] = VpcEndpoint(
                self,
                service,
                vpc_id=props.vpc_id,
                service_name=f"com.amazonaws.{props.region}.{service}",
                vpc_endpoint_type="Gateway",
                route_table_ids=list(props.route_table_ids),
                tags={"Name": props.naming.name(f"{service}-endpoint")},
            )
