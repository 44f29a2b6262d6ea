"""Alibaba Cloud alerting (issue 26 item 14): CloudMonitor alarms on the ALB, and per-agent budget alerts.

The alarms' metric names, namespace, dimension and statistic come from Alibaba's ALB metrics table
(https://www.alibabacloud.com/help/en/slb/application-load-balancer/alb-monitoring-metrics); their arguments from
website/docs/r/cms_alarm.html.markdown and resource_alicloud_cms_alarm.go at provider v1.289.0. The budget alerts
run in the real LiteLLM (tools/litellm_live): a key over its budget makes LiteLLM POST to a loopback webhook.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from constructs_lib._common.litellm_config import WEBHOOK_URL_ENV, ProxyRuntime, proxy_config_document
from constructs_lib.config import load_environment
from constructs_lib.config.loader import ConfigError
from tests.conftest import CONFIG_DIR
from tools.litellm_live import LiveLiteLLM

# The ALB metrics page: namespace `acs_alb`, dimension `loadBalancerId`, statistic `Value`, period a multiple of 60 s;
# LoadBalancerHTTPCode5XX ("5XX status codes from an instance per second"), LoadBalancerHTTPCodeUpstream5XX ("Backend
# 5XX status codes for an instance per second"), LoadBalancerUnHealthyHostCount ("Unhealthy servers of an instance").
ALB_METRICS = {"LoadBalancerHTTPCode5XX", "LoadBalancerHTTPCodeUpstream5XX", "LoadBalancerUnHealthyHostCount"}
# resource_alicloud_cms_alarm.go:99-103 at v1.289.0: the comparison operators escalations_critical accepts.
CMS_OPERATORS = {">", ">=", "<", "<=", "!=", "=="}


@pytest.fixture(scope="module")
def stack():
    from tests.test_alicloud_runtime import _example_stack

    return _example_stack("dev")


def test_alarms_watch_the_albs_documented_5xx_and_health_metrics(stack):
    resource = stack["resource"]
    (alb_key,) = resource["alicloud_alb_load_balancer"]
    alarms = resource["alicloud_cms_alarm"].values()
    assert {alarm["metric"] for alarm in alarms} == ALB_METRICS
    (group_key,) = resource["alicloud_cms_alarm_contact_group"]
    for alarm in alarms:
        assert alarm["project"] == "acs_alb" and alarm["period"] % 60 == 0
        assert (
            alarm["metric_dimensions"]
            == f'${{jsonencode([{{"loadBalancerId" = alicloud_alb_load_balancer.{alb_key}.id}}])}}'
        )
        (critical,) = alarm["escalations_critical"]  # MaxItems 1 (resource_alicloud_cms_alarm.go:92)
        assert critical["statistics"] == "Value" and critical["comparison_operator"] in CMS_OPERATORS
        assert float(critical["threshold"]) > 0 and critical["times"] == 3
        # One contact group for every alarm.
        assert alarm["contact_groups"] == [
            f"${{alicloud_cms_alarm_contact_group.{group_key}.alarm_contact_group_name}}"
        ]
    thresholds = {alarm["metric"]: float(alarm["escalations_critical"][0]["threshold"]) for alarm in alarms}
    assert thresholds == {  # config/dev.yaml clouds.alicloud.alerting
        "LoadBalancerHTTPCode5XX": 5.0,
        "LoadBalancerHTTPCodeUpstream5XX": 5.0,
        "LoadBalancerUnHealthyHostCount": 1.0,
    }
    (contact_key, contact) = next(iter(resource["alicloud_cms_alarm_contact"].items()))
    assert contact["channels_mail"] == "llm-gateway-oncall@acme.example"
    (group,) = resource["alicloud_cms_alarm_contact_group"].values()
    assert group["contacts"] == [f"${{alicloud_cms_alarm_contact.{contact_key}.alarm_contact_name}}"]


def _alerting_error(tmp_path: Path, alerting: str) -> str:
    text = (CONFIG_DIR / "dev.yaml").read_text()
    anchor = text.index("    alerting:\n")
    end = text.index("    state:\n", anchor)
    path = tmp_path / "dev.yaml"
    path.write_text(text[:anchor] + alerting + text[end:])
    for name in ("apsaradb-redis-ca.pem",):
        (tmp_path / name).write_text((CONFIG_DIR / name).read_text())
    with pytest.raises(ConfigError) as raised:
        load_environment(path)
    return str(raised.value)


@pytest.mark.parametrize(
    ("alerting", "expected"),
    [
        ("    alerting:\n      contacts: []\n", "clouds.alicloud.alerting.contacts"),
        (
            "    alerting:\n      contacts:\n        - {name: oncall, email: not-an-address}\n",
            "clouds.alicloud.alerting.contacts[0].email: must be an e-mail address",
        ),
        (
            "    alerting:\n      contacts:\n        - {name: oncall, email: a@acme.example}\n"
            "        - {name: oncall, email: b@acme.example}\n",
            "contacts[1].name: 'oncall' is listed twice",
        ),
        (
            "    alerting:\n      contacts:\n        - {name: oncall, email: a@acme.example}\n"
            "      budget_webhook_secret_version: 0\n",
            "clouds.alicloud.alerting.budget_webhook_secret_version",
        ),
    ],
    ids=["no-contact", "bad-email", "duplicate-contact", "version-zero"],
)
def test_bad_alerting_config_is_one_error_naming_file_line_and_field(tmp_path, alerting, expected):
    message = _alerting_error(tmp_path, alerting)
    assert f"{tmp_path / 'dev.yaml'}:" in message and expected in message, message


def _runtime_secrets(stack) -> str:
    deploy = next(body for body in stack["resource"]["alicloud_ecs_invocation"].values() if "deploy" in str(body))
    return deploy["parameters"]["runtime"]


def test_the_budget_webhook_url_is_read_from_kms_at_boot_and_never_in_config_or_state(stack):
    # The instance reads WEBHOOK_URL from the secret at the configured version, like every other secret.
    assert '"WEBHOOK_URL" = {' in _runtime_secrets(stack)
    section = _runtime_secrets(stack).split('"WEBHOOK_URL" = {', 1)[1].split("}", 1)[0]
    assert '"name" = "acme-dev-alert-webhook"' in section and '"version" = "v1"' in section
    # Created out of band: no alicloud_kms_secret holds it (its Read would put the value in state).
    names = [body["secret_name"] for body in stack["resource"].get("alicloud_kms_secret", {}).values()]
    assert "acme-dev-alert-webhook" not in names
    policies = " ".join(body["policy_document"] for body in stack["resource"]["alicloud_ram_policy"].values())
    assert "secret/acme-dev-alert-webhook" in policies
    assert stack["output"]["alert_webhook_secret_name"]["value"] == "acme-dev-alert-webhook"
    # LiteLLM's config turns the webhook alerting on and names no URL (LiteLLM reads WEBHOOK_URL itself).
    config = next(
        body["content"]
        for body in stack["resource"]["alicloud_oss_bucket_object"].values()
        if body["key"].endswith("/config.yaml")
    )
    general = yaml.safe_load(config)["general_settings"]
    assert general["alerting"] == ["webhook"] and general["alert_types"] == ["budget_alerts"]
    assert "http" not in json.dumps(general)


class _Receiver(BaseHTTPRequestHandler):
    posts: list[dict] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        type(self).posts.append({"path": self.path, "body": json.loads(body)})
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        return


def test_a_key_over_its_budget_makes_the_real_litellm_post_to_the_webhook(tmp_path):
    """The shipped config with budget alerts on (config/dev.yaml), the real LiteLLM 1.106.12, WEBHOOK_URL set as the
    runtime sets it from KMS: an agent key whose spend reached its max_budget is refused, and LiteLLM POSTs the
    budget event (virtual_key_max_budget_check, litellm/proxy/auth/auth_checks.py:5853-5903; send_webhook_alert,
    litellm/integrations/SlackAlerting/slack_alerting.py:1198-1224) to the webhook."""
    config = load_environment(CONFIG_DIR / "dev.yaml")
    runtime = ProxyRuntime(redis="plaintext", budget_webhook=config.clouds.alicloud.alerting is not None)
    receiver = type("Receiver", (_Receiver,), {"posts": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    webhook = f"http://127.0.0.1:{server.server_address[1]}/budget"
    from constructs_lib._common.litellm_config import render_proxy_config

    hooks = {hook.name: hook.text for hook in render_proxy_config(config, runtime).hooks}
    try:
        with LiveLiteLLM(
            tmp_path, proxy_config_document(config, runtime), hooks, extra_env={WEBHOOK_URL_ENV: webhook}
        ) as live:
            model = config.models[0].name
            generated = live.call(
                "POST",
                "/key/generate",
                {"key_alias": "research-agent", "models": [model], "max_budget": 1.0, "spend": 2.0},
            )
            assert generated.status == 200, generated.text
            refused = live.chat(generated.body["key"], model)
            assert refused.status == 422 and "Budget has been exceeded" in refused.text, refused.text
            deadline = time.monotonic() + 30
            while not receiver.posts and time.monotonic() < deadline:
                time.sleep(0.2)
            assert receiver.posts, "LiteLLM posted no budget alert:\n" + live.log_tail()
    finally:
        server.shutdown()
        server.server_close()
    (post,) = receiver.posts
    event = post["body"]
    assert post["path"] == "/budget"
    assert (event["event"], event["event_group"], event["key_alias"]) == ("budget_crossed", "key", "research-agent")
    assert (event["spend"], event["max_budget"]) == (2.0, 1.0)
    assert generated.body["key"] not in json.dumps(event)  # the key itself never leaves (its hash may)
