"""The path-routing Application Load Balancer in front of the three ECS services.

    lb = GatewayLoadBalancer(self, "lb", GatewayLoadBalancerProps(naming=..., config=aws.load_balancer, ...))
    lb.target_groups["gateway"], lb.url, lb.listeners

Internal unless configured internet-facing; HTTPS with a TLS 1.3 policy and HTTP only redirecting, or plain HTTP
only by the explicit `allow_plaintext` opt-in. The shared routing table (constructs_lib/_common/routes.py) becomes
listener rules of at most 5 path patterns each, with the priorities it assigns; the backend (management API) is the
default action. Invalid header fields are dropped, access logs go to an SSE-S3 bucket (ALB log delivery supports
no KMS key).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.data_aws_elb_service_account import DataAwsElbServiceAccount
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.lb import Lb, LbAccessLogs
from cdktf_cdktf_provider_aws.lb_listener import (
    LbListener,
    LbListenerDefaultAction,
    LbListenerDefaultActionRedirect,
)
from cdktf_cdktf_provider_aws.lb_listener_rule import (
    LbListenerRule,
    LbListenerRuleAction,
    LbListenerRuleCondition,
    LbListenerRuleConditionPathPattern,
)
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup, LbTargetGroupHealthCheck
from constructs import Construct

from constructs_lib._common.errors import PropsError
from constructs_lib._common.naming import Naming
from constructs_lib._common.routes import ALB_MAX_CONDITION_VALUES, PathRule
from constructs_lib.aws.secure_bucket import SecureBucket, SecureBucketProps
from constructs_lib.config.aws import AwsLoadBalancerConfig

LOG_PREFIX = "alb"


@dataclass(frozen=True)
class TargetSpec:
    port: int
    health_path: str


@dataclass(frozen=True)
class GatewayLoadBalancerProps:
    naming: Naming
    config: AwsLoadBalancerConfig
    account_id: str
    production: bool
    vpc_id: str
    subnet_ids: Sequence[str]
    security_group_id: str
    targets: Mapping[str, TargetSpec]
    default_target: str
    rules: Sequence[PathRule]


class GatewayLoadBalancer(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: GatewayLoadBalancerProps) -> None:
        super().__init__(scope, construct_id)
        config, naming = props.config, props.naming
        self._validate(props)
        self.tls = config.certificate_arn is not None
        self.logs = self._log_bucket(props)
        self.lb = Lb(
            self,
            "alb",
            name=naming.name("litellm", "aws_lb"),
            load_balancer_type="application",
            internal=not config.internet_facing,
            subnets=list(props.subnet_ids),
            security_groups=[props.security_group_id],
            drop_invalid_header_fields=True,
            desync_mitigation_mode="strictest",
            enable_deletion_protection=config.deletion_protection,
            idle_timeout=config.idle_timeout_seconds,
            access_logs=LbAccessLogs(bucket=self.logs.name, prefix=LOG_PREFIX, enabled=True),
            # ELB checks that it may write the logs when the load balancer is created.
            depends_on=[self.logs.policy],
        )
        self.target_groups = self._target_groups(props)
        scheme = self._listeners(props)
        self.rules = [
            LbListenerRule(
                self,
                f"route-{rule.target}-{rule.priority}",
                listener_arn=self.listener.arn,
                priority=rule.priority,
                action=[LbListenerRuleAction(type="forward", target_group_arn=self.target_groups[rule.target].arn)],
                condition=[
                    LbListenerRuleCondition(path_pattern=LbListenerRuleConditionPathPattern(values=list(rule.patterns)))
                ],
            )
            for rule in props.rules
        ]
        self.url = f"{scheme}://{config.domain_name or self.lb.dns_name}"

    def _target_groups(self, props: GatewayLoadBalancerProps) -> dict[str, LbTargetGroup]:
        """One IP target group per component, health-checked on its own path."""
        naming = props.naming
        return {
            component: LbTargetGroup(
                self,
                f"{component}-targets",
                name=naming.name(component, "aws_lb_target_group"),
                port=target.port,
                protocol="HTTP",
                target_type="ip",
                vpc_id=props.vpc_id,
                deregistration_delay="30",
                health_check=LbTargetGroupHealthCheck(
                    enabled=True,
                    path=target.health_path,
                    matcher="200-299",
                    interval=30,
                    timeout=10,
                    healthy_threshold=2,
                    unhealthy_threshold=3,
                ),
            )
            for component, target in props.targets.items()
        }

    def _listeners(self, props: GatewayLoadBalancerProps) -> str:
        """HTTPS (and HTTP redirecting to it) with a certificate, else plain HTTP; returns the URL scheme."""
        config = props.config
        forward_default = [
            LbListenerDefaultAction(type="forward", target_group_arn=self.target_groups[props.default_target].arn)
        ]
        if self.tls:
            self.listener = LbListener(
                self,
                "https",
                load_balancer_arn=self.lb.arn,
                port=443,
                protocol="HTTPS",
                ssl_policy=config.ssl_policy,
                certificate_arn=config.certificate_arn,
                default_action=forward_default,
            )
            redirect = LbListener(
                self,
                "http-redirect",
                load_balancer_arn=self.lb.arn,
                port=80,
                protocol="HTTP",
                default_action=[
                    LbListenerDefaultAction(
                        type="redirect",
                        redirect=LbListenerDefaultActionRedirect(port="443", protocol="HTTPS", status_code="HTTP_301"),
                    )
                ],
            )
            self.listeners = [self.listener, redirect]
            self.ports = [443, 80]
        else:
            self.listener = LbListener(
                self, "http", load_balancer_arn=self.lb.arn, port=80, protocol="HTTP", default_action=forward_default
            )
            self.listeners = [self.listener]
            self.ports = [80]
        return "https" if self.tls else "http"

    @staticmethod
    def _validate(props: GatewayLoadBalancerProps) -> None:
        config = props.config
        if config.certificate_arn is None and not config.allow_plaintext:
            raise PropsError(
                "clouds.aws.load_balancer.certificate_arn",
                "no certificate and allow_plaintext is off: set an ACM certificate ARN (or opt in to plain HTTP)",
            )
        if config.internet_facing and config.certificate_arn is None:
            raise PropsError("clouds.aws.load_balancer.certificate_arn", "an internet-facing ALB needs a certificate")
        if props.production and not config.deletion_protection:
            raise PropsError(
                "clouds.aws.load_balancer.deletion_protection", "must stay true in production environments"
            )
        if len(props.subnet_ids) < 2:
            raise PropsError("clouds.aws.network", "an ALB needs subnets in at least two AZs")
        priorities = [rule.priority for rule in props.rules]
        if len(set(priorities)) != len(priorities):
            raise PropsError("routes", f"listener rule priorities collide: {sorted(priorities)}")
        for rule in props.rules:
            if not 1 <= len(rule.patterns) <= ALB_MAX_CONDITION_VALUES or rule.target not in props.targets:
                raise PropsError("routes", f"rule {rule.priority}: {len(rule.patterns)} patterns for {rule.target!r}")

    def _log_bucket(self, props: GatewayLoadBalancerProps) -> SecureBucket:
        naming = props.naming
        name = naming.name(f"alb-logs-{props.account_id}")
        elb = DataAwsElbServiceAccount(self, "elb-account")
        delivery = DataAwsIamPolicyDocumentStatement(
            sid="AlbLogDelivery",
            effect="Allow",
            actions=["s3:PutObject"],
            principals=[
                DataAwsIamPolicyDocumentStatementPrincipals(type="AWS", identifiers=[elb.arn]),
                DataAwsIamPolicyDocumentStatementPrincipals(
                    type="Service", identifiers=["logdelivery.elasticloadbalancing.amazonaws.com"]
                ),
            ],
            resources=[f"arn:aws:s3:::{name}/{LOG_PREFIX}/AWSLogs/{props.account_id}/*"],
        )
        return SecureBucket(
            self,
            "access-logs",
            SecureBucketProps(
                bucket_name=name,
                kms_key_arn=None,
                noncurrent_version_days=7,
                expiration_days=props.config.access_log_retention_days,
                prevent_destroy=False,
                extra_policy_statements=(delivery,),
            ),
        )
