"""The ALB in front of the gateway instances: intranet unless explicitly opted out, HTTPS whenever it can be.

* `Intranet` by default; `Internet` only with `internet_facing: true`, which the config accepts only together
  with a certificate (and never with plain HTTP).
* Zone mappings in two (or more) zones, on the ALB's own vSwitches: the gateway port admits only those ranges.
* One server group: the instances on port 4000, health-checked on LiteLLM's unauthenticated
  `/health/liveliness` (the bare `/health` calls every model with the master key, so it cannot be a probe).
* An HTTPS listener on 443 when a certificate is set; plain HTTP on 80 only by `allow_plaintext: true`.
* Access logs (every request) into the gateway's SLS logstore; deletion protection in production.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf import ITerraformDependable
from constructs import Construct

from constructs_lib._common.errors import PropsError
from constructs_lib._common.naming import Naming
from constructs_lib.config.alicloud import AlicloudLoadBalancerConfig
from imports.alicloud.alb_listener import (
    AlbListener,
    AlbListenerCertificates,
    AlbListenerDefaultActions,
    AlbListenerDefaultActionsForwardGroupConfig,
    AlbListenerDefaultActionsForwardGroupConfigServerGroupTuples,
    AlbListenerXForwardedForConfig,
)
from imports.alicloud.alb_load_balancer import (
    AlbLoadBalancer,
    AlbLoadBalancerAccessLogConfig,
    AlbLoadBalancerDeletionProtectionConfig,
    AlbLoadBalancerLoadBalancerBillingConfig,
    AlbLoadBalancerZoneMappings,
)
from imports.alicloud.alb_server_group import (
    AlbServerGroup,
    AlbServerGroupHealthCheckConfig,
    AlbServerGroupServers,
    AlbServerGroupStickySessionConfig,
)

HEALTH_PATH = "/health/liveliness"


@dataclass(frozen=True)
class GatewayLoadBalancerProps:
    naming: Naming
    config: AlicloudLoadBalancerConfig
    vpc_id: str
    zones: Sequence[str]
    vswitch_ids: Sequence[str]
    instance_ids: Sequence[str]
    log_project: str
    log_store: str
    port: int = 4000
    production: bool = False
    # The servers join the group only after these (the release is installed, migrated and started).
    servers_after: Sequence[ITerraformDependable] = ()

    def __post_init__(self) -> None:
        if len(self.zones) < 2 or len(self.zones) != len(self.vswitch_ids):
            raise PropsError("clouds.alicloud.zones", "the ALB needs one vSwitch in each of at least two zones")
        if len(self.instance_ids) < 2:
            raise PropsError("clouds.alicloud.gateway.instances_per_zone", "the ALB needs at least two instances")
        if self.config.internet_facing and self.config.certificate_id is None:
            raise PropsError("clouds.alicloud.load_balancer.certificate_id", "an internet-facing ALB needs HTTPS")
        if self.config.certificate_id is None and not self.config.allow_plaintext:
            raise PropsError("clouds.alicloud.load_balancer.allow_plaintext", "no certificate and no plaintext opt-in")


class GatewayLoadBalancer(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: GatewayLoadBalancerProps) -> None:
        super().__init__(scope, construct_id)
        config, naming = props.config, props.naming
        self._domain_name = config.domain_name
        self.alb = AlbLoadBalancer(
            self,
            "alb",
            load_balancer_name=naming.name("gateway"),
            vpc_id=props.vpc_id,
            address_type="Internet" if config.internet_facing else "Intranet",
            address_allocated_mode="Fixed",
            load_balancer_edition=config.edition,
            load_balancer_billing_config=AlbLoadBalancerLoadBalancerBillingConfig(pay_type="PayAsYouGo"),
            zone_mappings=[
                AlbLoadBalancerZoneMappings(zone_id=zone, vswitch_id=vswitch)
                for zone, vswitch in zip(props.zones, props.vswitch_ids, strict=True)
            ],
            access_log_config=AlbLoadBalancerAccessLogConfig(log_project=props.log_project, log_store=props.log_store),
            deletion_protection_config=AlbLoadBalancerDeletionProtectionConfig(enabled=props.production),
        )
        self.server_group = self._server_group(props)
        forward = [
            AlbListenerDefaultActions(
                type="ForwardGroup",
                forward_group_config=AlbListenerDefaultActionsForwardGroupConfig(
                    server_group_tuples=[
                        AlbListenerDefaultActionsForwardGroupConfigServerGroupTuples(
                            server_group_id=self.server_group.id
                        )
                    ]
                ),
            )
        ]
        forwarded = AlbListenerXForwardedForConfig(x_forwarded_for_enabled=True, x_forwarded_for_proto_enabled=True)
        if config.certificate_id is not None:
            self.scheme, self.port = "https", 443
            tls = {
                "certificates": [AlbListenerCertificates(certificate_id=config.certificate_id)],
                "security_policy_id": config.security_policy_id,
                "http2_enabled": True,
            }
        else:
            self.scheme, self.port, tls = "http", 80, {}
        self.listener = AlbListener(
            self,
            self.scheme,
            load_balancer_id=self.alb.id,
            listener_protocol=self.scheme.upper(),
            listener_port=self.port,
            listener_description="LLM gateway (TLS)"
            if tls
            else "LLM gateway (plain HTTP inside the VPC: allow_plaintext)",
            request_timeout=600,
            idle_timeout=60,
            default_actions=forward,
            x_forwarded_for_config=forwarded,
            **tls,
        )

    def _server_group(self, props: GatewayLoadBalancerProps) -> AlbServerGroup:
        """The gateway instances on their port, health-checked on the gateway's health path."""
        naming = props.naming
        return AlbServerGroup(
            self,
            "servers",
            server_group_name=naming.name("gateway"),
            server_group_type="Instance",
            vpc_id=props.vpc_id,
            protocol="HTTP",
            scheduler="Wrr",
            health_check_config=AlbServerGroupHealthCheckConfig(
                health_check_enabled=True,
                health_check_protocol="HTTP",
                health_check_method="GET",
                health_check_path=HEALTH_PATH,
                health_check_connect_port=props.port,
                health_check_codes=["http_2xx"],
                health_check_interval=5,
                health_check_timeout=5,
                healthy_threshold=2,
                unhealthy_threshold=3,
            ),
            sticky_session_config=AlbServerGroupStickySessionConfig(sticky_session_enabled=False),
            servers=[
                AlbServerGroupServers(server_id=instance, server_type="Ecs", port=props.port, weight=100)
                for instance in props.instance_ids
            ],
            depends_on=list(props.servers_after),
        )

    @property
    def url(self) -> str:
        """Base URL of the gateway: the certificate's domain over HTTPS, else the ALB's DNS name over plain HTTP."""
        return f"{self.scheme}://{self._domain_name or self.alb.dns_name}"
