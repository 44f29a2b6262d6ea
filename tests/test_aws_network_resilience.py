"""Production's network survives the loss of one AZ: a NAT gateway per AZ, each private subnet routed through its own
AZ's, and private endpoints for every AWS API a task needs to start (secrets, image pull, logs, KMS, STS, S3).

Service names: https://docs.aws.amazon.com/vpc/latest/privatelink/aws-services-privatelink-support.html; ECR pulls
need `ecr.api`, `ecr.dkr` and the S3 gateway endpoint (layers are served from S3):
https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html.
"""

from __future__ import annotations

from tests.test_aws_gateway import resources
from tests.test_aws_stack_options import DEV, PROD, _load, _synth

INTERFACE = {"secretsmanager", "ecr.api", "ecr.dkr", "logs", "kms", "sts"}


def _ref(resource_id: str, attribute: str = "id") -> str:
    return f"${{{resource_id}.{attribute}}}"


def test_production_has_a_nat_gateway_per_az_and_each_private_subnet_uses_its_own(tmp_path):
    stack = _synth(_load(tmp_path, {}, base=PROD))
    subnets = resources(stack, "aws_subnet")
    nats = resources(stack, "aws_nat_gateway")
    zones = {body["availability_zone"] for body in subnets.values()}
    assert len(nats) == len(zones) >= 2
    zone_of_subnet = {_ref(f"aws_subnet.{name}"): body["availability_zone"] for name, body in subnets.items()}
    zone_of_nat = {_ref(f"aws_nat_gateway.{name}"): zone_of_subnet[body["subnet_id"]] for name, body in nats.items()}
    routes = resources(stack, "aws_route")
    associations = resources(stack, "aws_route_table_association").values()
    for association in associations:
        zone = zone_of_subnet[association["subnet_id"]]
        table = association["route_table_id"]
        for route in routes.values():
            if route["route_table_id"] == table and "nat_gateway_id" in route:
                assert zone_of_nat[route["nat_gateway_id"]] == zone, f"private subnet in {zone} egresses elsewhere"


def test_production_reaches_every_aws_api_it_starts_with_through_private_endpoints(tmp_path):
    config = _load(tmp_path, {}, base=PROD)
    stack = _synth(config)
    region = config.cloud("aws").region
    endpoints = resources(stack, "aws_vpc_endpoint").values()
    by_service = {body["service_name"].removeprefix(f"com.amazonaws.{region}."): body for body in endpoints}
    assert set(by_service) == INTERFACE | {"s3"}
    private_subnets = sorted(
        _ref(f"aws_subnet.{name}")
        for name, body in resources(stack, "aws_subnet").items()
        if body["tags"]["tier"] == "private"
    )
    for service in INTERFACE:
        endpoint = by_service[service]
        assert endpoint["vpc_endpoint_type"] == "Interface" and endpoint["private_dns_enabled"] is True
        assert sorted(endpoint["subnet_ids"]) == private_subnets
    s3 = by_service["s3"]
    assert s3["vpc_endpoint_type"] == "Gateway"
    private_tables = {
        association["route_table_id"]
        for association in resources(stack, "aws_route_table_association").values()
        if association["subnet_id"] in private_subnets
    }
    assert set(s3["route_table_ids"]) == private_tables
    # The endpoints' group admits HTTPS from the VPC and nothing else.
    (group_ref,) = {ref for service in INTERFACE for ref in by_service[service]["security_group_ids"]}
    rules = [
        body
        for body in resources(stack, "aws_vpc_security_group_ingress_rule").values()
        if body["security_group_id"] == group_ref
    ]
    assert [(rule["from_port"], rule["to_port"], rule["cidr_ipv4"]) for rule in rules] == [
        (443, 443, config.cloud("aws").network.vpc_cidr)
    ]


def test_other_environments_keep_the_cheaper_network_unless_asked(tmp_path):
    for name in ("plain", "asked"):
        (tmp_path / name).mkdir()
    dev = _synth(_load(tmp_path / "plain", {}, base=DEV))
    assert len(resources(dev, "aws_nat_gateway")) == 1 and not resources(dev, "aws_vpc_endpoint")
    asked = _synth(
        _load(tmp_path / "asked", {"network": {"nat_gateway_per_az": True, "vpc_endpoints": True}}, base=DEV)
    )
    assert len(resources(asked, "aws_nat_gateway")) == 2 and len(resources(asked, "aws_vpc_endpoint")) == 7
