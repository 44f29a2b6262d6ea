"""Alerting: CloudMonitor alarms on the gateway's ALB to one contact group, and LiteLLM's per-agent budget alerts.

* CloudMonitor (`alicloud_cms_alarm`): the ALB's own metrics in namespace `acs_alb`, dimension `loadBalancerId`,
  statistic `Value`, period a multiple of 60 s, metric names from the table of
  https://www.alibabacloud.com/help/en/slb/application-load-balancer/alb-monitoring-metrics:
  `LoadBalancerHTTPCode5XX` ("the number of 5XX status codes that are returned by the ALB instance per second"),
  `LoadBalancerHTTPCodeUpstream5XX` ("... returned by backend servers to the ALB instance per second") and
  `LoadBalancerUnHealthyHostCount` ("backend servers that are in the abnormal state based on the health check").
  Each notifies the one contact group
  (`alicloud_cms_alarm_contact_group`) of the configured contacts (`alicloud_cms_alarm_contact`, e-mail channel).
  No CloudMonitor webhook: its URL would sit in config and state, and the provider documents http only
  (website/docs/r/cms_alarm.html.markdown at v1.289.0).
* Budget alerts: LiteLLM's `webhook` alerting (constructs_lib/_common/litellm_config.py, ProxyRuntime.budget_webhook)
  posts each budget event of a key (an agent) to WEBHOOK_URL. The URL is a secret (chat webhooks carry their token):
  it lives only in the KMS secret `<prefix>-alert-webhook`, created out of band like a provider key (names only here,
  never an alicloud_kms_secret, so never in state), and the runtime reads it into the gateway's memory at the
  configured version like every other secret.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import Fn
from constructs import Construct

from constructs_lib._common.litellm_config import WEBHOOK_URL_ENV
from constructs_lib._common.naming import Naming
from constructs_lib.alicloud.secrets import ExternalSecret
from constructs_lib.config.alicloud import AlicloudAlertingConfig
from imports.alicloud.cms_alarm import CmsAlarm, CmsAlarmEscalationsCritical
from imports.alicloud.cms_alarm_contact import CmsAlarmContact
from imports.alicloud.cms_alarm_contact_group import CmsAlarmContactGroup

# The ALB metrics page (module docstring): namespace, the one statistic its metrics have, their period.
ALB_NAMESPACE, ALB_STATISTIC, ALB_PERIOD_SECONDS = "acs_alb", "Value", 60


@dataclass(frozen=True)
class AlbAlarm:
    construct_id: str
    metric: str
    comparison_operator: str
    threshold: float


def alb_alarms(config: AlicloudAlertingConfig) -> list[AlbAlarm]:
    """Each alarm on the ALB, with its threshold from config."""
    return [
        AlbAlarm("gateway-5xx", "LoadBalancerHTTPCode5XX", ">", config.gateway_5xx_per_second),
        AlbAlarm("instance-5xx", "LoadBalancerHTTPCodeUpstream5XX", ">", config.gateway_5xx_per_second),
        AlbAlarm("unhealthy-instances", "LoadBalancerUnHealthyHostCount", ">=", config.unhealthy_backends),
    ]


def budget_webhook_secret(
    naming: Naming, config: AlicloudAlertingConfig | None, region: str, account_id: str
) -> ExternalSecret | None:
    """The KMS secret holding the budget alerts' webhook URL, when budget alerts are on."""
    if config is None or config.budget_webhook_secret_version is None:
        return None
    return ExternalSecret(
        name=naming.name("alert-webhook"),
        env_var=WEBHOOK_URL_ENV,
        version=config.budget_webhook_secret_version,
        region=region,
        account_id=account_id,
    )


@dataclass(frozen=True)
class GatewayAlarmsProps:
    naming: Naming
    config: AlicloudAlertingConfig
    load_balancer_id: str


class GatewayAlarms(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: GatewayAlarmsProps) -> None:
        super().__init__(scope, construct_id)
        naming = props.naming
        contacts = [
            CmsAlarmContact(
                self,
                f"contact-{contact.name}",
                alarm_contact_name=naming.name(contact.name),
                describe=f"LLM gateway ({naming.env}) on-call",
                channels_mail=contact.email,
                lang="en",
            )
            for contact in props.config.contacts
        ]
        self.contact_group = CmsAlarmContactGroup(
            self,
            "contact-group",
            alarm_contact_group_name=naming.name("llm-gateway-oncall"),
            describe="Everyone the LLM gateway's alarms notify",
            contacts=[contact.alarm_contact_name for contact in contacts],
        )
        dimensions = Fn.jsonencode([{"loadBalancerId": props.load_balancer_id}])
        self.alarms = [
            CmsAlarm(
                self,
                alarm.construct_id,
                name=naming.name(f"llm-gateway-{alarm.construct_id}"),
                project=ALB_NAMESPACE,
                metric=alarm.metric,
                metric_dimensions=dimensions,
                period=ALB_PERIOD_SECONDS,
                contact_groups=[self.contact_group.alarm_contact_group_name],
                escalations_critical=CmsAlarmEscalationsCritical(
                    statistics=ALB_STATISTIC,
                    comparison_operator=alarm.comparison_operator,
                    threshold=f"{alarm.threshold:g}",
                    times=props.config.consecutive_periods,
                ),
                enabled=True,
            )
            for alarm in alb_alarms(props.config)
        ]
