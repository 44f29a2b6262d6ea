"""The gateway's network: a VPC with public and private subnets in every AZ, NAT egress and flow logs, or a
brought VPC; and the security groups that let only the intended hops through.

    network = GatewayNetwork(self, "network", GatewayNetworkProps(naming=..., config=aws.network, zones=[...], ...))
    network.private_subnet_ids, network.groups.tasks["gateway"], network.groups.database, ...

Security groups: the ALB admits its listener ports from the configured CIDRs only; each component's tasks admit
their container port from the ALB only; Postgres 5432 and Redis 6379 admit the tasks (and the one-off jobs) only.
The VPC's default security group is emptied, so nothing lands in it by accident. Store groups exist only for the
stores this stack creates; brought stores get egress rules to their CIDRs and port; the gateway's metrics port
admits the configured scrapers only. With `tasks_in_public_subnets` there is no NAT gateway (nor EIP); without a
load balancer (dependencies-only mode) there is no ALB group.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
)
from cdktf_cdktf_provider_aws.data_aws_vpc import DataAwsVpc
from cdktf_cdktf_provider_aws.default_security_group import DefaultSecurityGroup
from cdktf_cdktf_provider_aws.eip import Eip
from cdktf_cdktf_provider_aws.flow_log import FlowLog
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.internet_gateway import InternetGateway
from cdktf_cdktf_provider_aws.nat_gateway import NatGateway
from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.route_table import RouteTable
from cdktf_cdktf_provider_aws.route_table_association import RouteTableAssociation
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.subnet import Subnet
from cdktf_cdktf_provider_aws.vpc import Vpc
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from constructs_lib._common.errors import PropsError
from constructs_lib._common.naming import Naming
from constructs_lib.aws.iam import service_trust
from constructs_lib.aws.vpc_endpoints import VpcEndpoints, VpcEndpointsProps
from constructs_lib.config.aws import AwsNetworkConfig

POSTGRES_PORT, REDIS_PORT, HTTPS_PORT, HTTP_PORT = 5432, 6379, 443, 80


@dataclass(frozen=True)
class GatewayNetworkProps:
    naming: Naming
    config: AwsNetworkConfig
    zones: Sequence[str]
    account_id: str
    region: str
    kms_key_arn: str
    # Container port of every service component, e.g. {"gateway": 4000, ...}.
    ports: Mapping[str, int]
    # Who may reach the ALB listeners (empty: the VPC's CIDR), and on which ports.
    alb_ingress_cidrs: Sequence[str]
    alb_ports: Sequence[int]
    # Which data stores this stack creates (their security groups exist only then).
    managed_database: bool = True
    managed_cache: bool = True
    # Brought stores: (CIDRs, port) the gateway/backend/jobs may reach them at.
    external_database: tuple[Sequence[str], int] | None = None
    external_cache: tuple[Sequence[str], int] | None = None
    # The gateway tasks' metrics sidecar port and who may scrape it (never the ALB).
    metrics_port: int | None = None
    metrics_scrape_cidrs: Sequence[str] = ()
    # Tasks on public subnets with public IPs: no NAT gateway, no EIP.
    tasks_in_public_subnets: bool = False
    # False (dependencies-only mode): no ALB security group; the task groups have no ingress from it.
    load_balancer: bool = True
    # Production defaults of the created VPC: a NAT gateway per AZ and the AWS API endpoints (config overrides).
    production: bool = False


class GatewayNetwork(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: GatewayNetworkProps) -> None:
        super().__init__(scope, construct_id)
        if len(props.zones) < 2:
            raise PropsError("clouds.aws.availability_zones", f"need at least two AZs, got {len(props.zones)}")
        self._props = props
        config = props.config
        if config.existing_vpc_id is not None:
            self.vpc_id = config.existing_vpc_id
            self.private_subnet_ids = list(config.existing_private_subnet_ids)
            self.public_subnet_ids = list(config.existing_public_subnet_ids)
            # The brought VPC's own range (the internal ALB's default audience), not the config's default.
            self.vpc_cidr = DataAwsVpc(self, "existing-vpc", id=config.existing_vpc_id).cidr_block
            self.egress_routes = []
        else:
            self._create_vpc(props)
        self._security_groups(props)

    def _create_vpc(self, props: GatewayNetworkProps) -> None:
        config, naming = props.config, props.naming
        vpc = Vpc(
            self,
            "vpc",
            cidr_block=config.vpc_cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={"Name": naming.name("vpc")},
        )
        self.vpc_id, self.vpc_cidr = vpc.id, config.vpc_cidr
        self.egress_routes: list[Route] = []
        DefaultSecurityGroup(self, "default-sg", vpc_id=vpc.id, ingress=[], egress=[])
        gateway = InternetGateway(self, "igw", vpc_id=vpc.id, tags={"Name": naming.name("igw")})
        public_routes = RouteTable(self, "public-routes", vpc_id=vpc.id, tags={"Name": naming.name("public")})
        Route(
            self,
            "public-default",
            route_table_id=public_routes.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=gateway.id,
        )
        public = []
        for index, (zone, cidr) in enumerate(zip(props.zones, config.public_subnet_cidrs, strict=True)):
            subnet = Subnet(
                self,
                f"public-{index}",
                vpc_id=vpc.id,
                availability_zone=zone,
                cidr_block=cidr,
                map_public_ip_on_launch=False,
                tags={"Name": naming.name(f"public-{zone}"), "tier": "public"},
            )
            RouteTableAssociation(self, f"public-{index}-routes", subnet_id=subnet.id, route_table_id=public_routes.id)
            public.append(subnet)
        nats = self._nat_gateways(props, public, gateway)
        private, private_routes = self._private_subnets(props, vpc.id, nats)
        self.public_subnet_ids = [subnet.id for subnet in public]
        self.private_subnet_ids = [subnet.id for subnet in private]
        if props.production if config.vpc_endpoints is None else config.vpc_endpoints:
            VpcEndpoints(
                self,
                "endpoints",
                VpcEndpointsProps(
                    naming=naming,
                    region=props.region,
                    vpc_id=vpc.id,
                    vpc_cidr=config.vpc_cidr,
                    subnet_ids=self.private_subnet_ids,
                    route_table_ids=[routes.id for routes in private_routes],
                ),
            )
        self._flow_logs(props, vpc.id)

    def _nat_gateways(
        self, props: GatewayNetworkProps, public: list[Subnet], gateway: InternetGateway
    ) -> list[NatGateway]:
        """One NAT gateway (per AZ where configured), none for tasks in the public subnets."""
        config, naming = props.config, props.naming
        nats: list[NatGateway] = []
        # Tasks on the public subnets reach the internet through the internet gateway: no NAT, no EIP.
        per_az = props.production if config.nat_gateway_per_az is None else config.nat_gateway_per_az
        nat_count = 0 if props.tasks_in_public_subnets else (len(props.zones) if per_az else 1)
        for index in range(nat_count):
            address = Eip(self, f"nat-{index}-ip", domain="vpc", tags={"Name": naming.name(f"nat-{index}")})
            nats.append(
                NatGateway(
                    self,
                    f"nat-{index}",
                    allocation_id=address.id,
                    subnet_id=public[index].id,
                    tags={"Name": naming.name(f"nat-{index}")},
                    depends_on=[gateway],
                )
            )
        return nats

    def _private_subnets(
        self, props: GatewayNetworkProps, vpc_id: str, nats: list[NatGateway]
    ) -> tuple[list[Subnet], list[RouteTable]]:
        """A private subnet per AZ with its route table, defaulting to a NAT gateway when there is one."""
        config, naming = props.config, props.naming
        private: list[Subnet] = []
        private_routes: list[RouteTable] = []
        for index, (zone, cidr) in enumerate(zip(props.zones, config.private_subnet_cidrs, strict=True)):
            subnet = Subnet(
                self,
                f"private-{index}",
                vpc_id=vpc_id,
                availability_zone=zone,
                cidr_block=cidr,
                tags={"Name": naming.name(f"private-{zone}"), "tier": "private"},
            )
            routes = RouteTable(
                self, f"private-{index}-routes", vpc_id=vpc_id, tags={"Name": naming.name(f"private-{zone}")}
            )
            if nats:
                route = Route(
                    self,
                    f"private-{index}-default",
                    route_table_id=routes.id,
                    destination_cidr_block="0.0.0.0/0",
                    nat_gateway_id=nats[index % len(nats)].id,
                )
                self.egress_routes.append(route)
            RouteTableAssociation(self, f"private-{index}-association", subnet_id=subnet.id, route_table_id=routes.id)
            private.append(subnet)
            private_routes.append(routes)
        return private, private_routes

    def _flow_logs(self, props: GatewayNetworkProps, vpc_id: str) -> None:
        naming = props.naming
        group = CloudwatchLogGroup(
            self,
            "flow-logs",
            name=f"/{naming.prefix}/vpc-flow-logs",
            retention_in_days=props.config.flow_log_retention_days,
            kms_key_id=props.kms_key_arn,
        )
        trust = service_trust(self, "flow-logs-trust", "vpc-flow-logs.amazonaws.com", props.account_id)
        role = IamRole(
            self,
            "flow-logs-role",
            name=naming.name("vpc-flow-logs", "aws_iam_role"),
            assume_role_policy=trust.json,
        )
        write = DataAwsIamPolicyDocument(
            self,
            "flow-logs-write",
            statement=[
                DataAwsIamPolicyDocumentStatement(
                    actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                    resources=[group.arn, f"{group.arn}:*"],
                )
            ],
        )
        IamRolePolicy(self, "flow-logs-policy", name="write-flow-logs", role=role.id, policy=write.json)
        FlowLog(
            self,
            "flow-log",
            vpc_id=vpc_id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
        )

    def _group(self, name: str, description: str) -> SecurityGroup:
        return SecurityGroup(
            self,
            f"{name}-sg",
            name=self._props.naming.name(name),
            description=description,
            vpc_id=self.vpc_id,
            revoke_rules_on_delete=True,
        )

    def _rule(self, direction: type, construct_id: str, group: SecurityGroup, port: int, description: str, **peer: str):
        """One TCP port, to or from one peer (`cidr_ipv4` or `referenced_security_group_id`)."""
        direction(
            self,
            construct_id,
            security_group_id=group.id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            description=description,
            **peer,
        )

    def _ingress(self, construct_id: str, group: SecurityGroup, port: int, description: str, **source: str) -> None:
        self._rule(VpcSecurityGroupIngressRule, construct_id, group, port, description, **source)

    def _egress(self, construct_id: str, group: SecurityGroup, port: int, description: str, **target: str) -> None:
        self._rule(VpcSecurityGroupEgressRule, construct_id, group, port, description, **target)

    def _store_groups(self, props: GatewayNetworkProps) -> None:
        """The managed stores' groups (admitting their clients only), and egress to the brought stores."""
        self.database: SecurityGroup | None = None
        self.cache: SecurityGroup | None = None
        database_clients = {"gateway": self.tasks["gateway"], "backend": self.tasks["backend"], "jobs": self.jobs}
        if props.managed_database:
            self.database = self._group("database", "LiteLLM Aurora: 5432 from the gateway tasks only")
            for client, group in database_clients.items():
                self._ingress(
                    f"database-from-{client}",
                    self.database,
                    POSTGRES_PORT,
                    f"Postgres from {client}",
                    referenced_security_group_id=group.id,
                )
                self._egress(
                    f"{client}-to-database",
                    group,
                    POSTGRES_PORT,
                    "Postgres",
                    referenced_security_group_id=self.database.id,
                )
        if props.managed_cache:
            self.cache = self._group("cache", "LiteLLM Redis: 6379 from the gateway tasks only")
            for client in ("gateway", "backend"):
                group = self.tasks[client]
                self._ingress(
                    f"cache-from-{client}",
                    self.cache,
                    REDIS_PORT,
                    f"Redis from {client}",
                    referenced_security_group_id=group.id,
                )
                self._egress(
                    f"{client}-to-cache", group, REDIS_PORT, "Redis", referenced_security_group_id=self.cache.id
                )
        external = {"database": (props.external_database, database_clients), "cache": (props.external_cache, None)}
        for store, (target, clients) in external.items():
            if target is None:
                continue
            cidrs, port = target
            groups = clients or {"gateway": self.tasks["gateway"], "backend": self.tasks["backend"]}
            for client, group in groups.items():
                for index, cidr in enumerate(cidrs):
                    self._egress(
                        f"{client}-to-external-{store}-{index}", group, port, f"External {store}", cidr_ipv4=cidr
                    )

    def _security_groups(self, props: GatewayNetworkProps) -> None:
        self.alb: SecurityGroup | None = None
        if props.load_balancer:
            self.alb = self._group("alb", "LiteLLM ALB: listener ports from the configured CIDRs only")
            for cidr_index, cidr in enumerate(props.alb_ingress_cidrs or [self.vpc_cidr]):
                for port in props.alb_ports:
                    description = f"Listener {port} from " + (cidr if props.alb_ingress_cidrs else "the VPC")
                    self._ingress(f"alb-in-{port}-{cidr_index}", self.alb, port, description, cidr_ipv4=cidr)
        self.tasks: dict[str, SecurityGroup] = {}
        for component, port in props.ports.items():
            if self.alb is None:
                group = self._group(f"{component}-tasks", f"LiteLLM {component} runtime: no ingress")
            else:
                group = self._group(f"{component}-tasks", f"LiteLLM {component} tasks: port {port} from the ALB only")
                self._ingress(
                    f"{component}-from-alb",
                    group,
                    port,
                    f"{component} from the ALB",
                    referenced_security_group_id=self.alb.id,
                )
                self._egress(
                    f"alb-to-{component}", self.alb, port, f"ALB to {component}", referenced_security_group_id=group.id
                )
            # HTTPS out: LLM providers, Secrets Manager, S3, ECR, CloudWatch Logs (through the NAT).
            self._egress(
                f"{component}-https-out",
                group,
                HTTPS_PORT,
                "HTTPS to AWS APIs and LLM providers",
                cidr_ipv4="0.0.0.0/0",
            )
            self.tasks[component] = group
        # The one-off jobs (database user bootstrap, Prisma migrations): no ingress at all.
        self.jobs = self._group("jobs", "LiteLLM one-off jobs (DB bootstrap, migrations): no ingress")
        self._egress(
            "jobs-https-out", self.jobs, HTTPS_PORT, "HTTPS to AWS APIs and the image registry", cidr_ipv4="0.0.0.0/0"
        )
        self._store_groups(props)
        if props.metrics_port is not None:
            for index, cidr in enumerate(props.metrics_scrape_cidrs):
                self._ingress(
                    f"gateway-metrics-from-{index}",
                    self.tasks["gateway"],
                    props.metrics_port,
                    f"Prometheus scrape from {cidr}",
                    cidr_ipv4=cidr,
                )
