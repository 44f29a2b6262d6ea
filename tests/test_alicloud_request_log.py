"""Alibaba Cloud request log (issue 26 item 13): the LiteLLM logger against the real LiteLLM, and its SLS index.

The logger (constructs_lib/alicloud/assets/llmgw_request_log.py) runs in the pinned LiteLLM (.venv-litellm), which
builds the StandardLoggingPayload of a real success and a real failure (tests/request_log_driver.py).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from constructs_lib._common.litellm_config import DAILY_CAP_HOOK
from tests.litellm_check import LITELLM_PYTHON

REPO = Path(__file__).resolve().parent.parent
LOGGER = REPO / "constructs_lib" / "alicloud" / "assets" / "llmgw_request_log.py"
DRIVER = REPO / "tests" / "request_log_driver.py"
MARKERS = ("MARKER-PROMPT-TEXT", "MARKER-ANSWER-TEXT", "sk-MARKER-PROVIDER-KEY")  # pragma: allowlist secret


def _fields() -> dict[str, str]:
    """The logger's FIELDS table, read without importing litellm (the test venv has none)."""
    namespace: dict = {}
    source = LOGGER.read_text()
    start = source.index("FIELDS: dict[str, str] = {")
    exec(source[start : source.index("}\n", start) + 2], namespace)  # noqa: S102 (our own literal)
    return namespace["FIELDS"]


@pytest.fixture(scope="module")
def logged(tmp_path_factory) -> tuple[Path, list[dict], str]:
    directory = tmp_path_factory.mktemp("requests")
    stale = directory / "requests.2020-01-01.log"
    stale.write_text("{}\n")
    (directory / "other.log").write_text("kept\n")
    result = _run_driver(str(LOGGER), str(directory))
    assert result.returncode == 0, result.stderr[-3000:]
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    text = (directory / f"requests.{today}.log").read_text()
    return directory, [json.loads(line) for line in text.splitlines()], text


def test_one_line_per_request_with_agent_model_tokens_latency_cost(logged):
    _, lines, _ = logged
    assert [line["status"] for line in lines] == ["success", "failure"]
    success, failure = lines
    assert set(success) == {"time", *_fields()}
    assert success["agent"] == "research-agent"
    assert success["key_alias"] == "dev-research-agent"
    assert (success["model"], success["provider"]) == ("gpt-4o", "openai")
    assert success["total_tokens"] == success["prompt_tokens"] + success["completion_tokens"] > 0
    assert success["cost_usd"] > 0  # LiteLLM's price map for openai/gpt-4o
    assert isinstance(success["latency_ms"], int) and success["latency_ms"] >= 0
    assert success["error_class"] is None
    assert failure["agent"] == "research-agent"
    assert failure["error_class"] and failure["cost_usd"] == 0


def test_no_prompt_answer_or_key_in_the_log(logged):
    _, _, text = logged
    for marker in MARKERS:
        assert marker not in text


def test_days_older_than_keep_days_removed_other_files_kept(logged):
    directory, _, _ = logged
    assert not (directory / "requests.2020-01-01.log").exists()
    assert (directory / "other.log").read_text() == "kept\n"


def _run_driver(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LITELLM_PYTHON), str(DRIVER), *arguments],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"},  # the bundled price map: no network
    )


def _release_object(stack: dict, suffix: str) -> dict:
    objects = stack["resource"]["alicloud_oss_bucket_object"].values()
    return next(item for item in objects if item["key"].endswith(suffix))


def test_the_release_config_loads_the_shipped_logger_through_the_proxy_loader(synthesized, tmp_path):
    """What the instance has in /etc/llmgw (config.yaml and the logger, both from the release) is what the real
    proxy's callback loader turns into a RequestLog."""
    stack = synthesized["alicloud-dev"]
    (tmp_path / "config.yaml").write_text(_release_object(stack, "/config.yaml")["content"])
    (tmp_path / "llmgw_request_log.py").write_text(_release_object(stack, "/llmgw_request_log.py")["content"])
    # The daily token cap hook ships beside them (constructs_lib/_common/litellm_config.py DAILY_CAP_HOOK).
    (tmp_path / DAILY_CAP_HOOK.name).write_text(_release_object(stack, f"/{DAILY_CAP_HOOK.name}")["content"])
    result = _run_driver("load", str(tmp_path / "config.yaml"))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "llmgw_request_log.RequestLog" in result.stdout.split()


def test_the_runtime_document_installs_the_logger_and_the_logtail_identity(synthesized):
    stack = synthesized["alicloud-dev"]
    logger = _release_object(stack, "/llmgw_request_log.py")
    assert logger["content"] == LOGGER.read_text()
    groups = list(stack["resource"]["alicloud_log_machine_group"].values())
    assert [(group["identify_type"], group["identify_list"]) for group in groups] == [
        ("userdefined", ["acme-dev-llm-gateway"])
    ]
    digest = hashlib.sha256(logger["content"].encode()).hexdigest()
    # The document is a Terraform expression (jsonencode of an object: constructs_lib/alicloud/migrations.py).
    for invocation in stack["resource"]["alicloud_ecs_invocation"].values():
        document = invocation["parameters"]["runtime"]
        section = document[document.index('"request_log" = {') :]
        section = section[: section.index("}")]
        assert f'"key" = "{logger["key"]}"' in section and f'"sha256" = "{digest}"' in section
        assert '"logtail_identity" = "acme-dev-llm-gateway"' in section
        # Logtail's installer on the region's internal OSS endpoint: the URL of Alibaba's Cloud Assistant template
        # (aliyun/oos-templates CloudProductActions/ECS/YAML/ACS::ECS::InstallLogtail.yml), over HTTPS.
        installer = "https://logtail-release-cn-shanghai.oss-cn-shanghai-internal.aliyuncs.com/linux64/logtail.sh"
        assert f'"logtail_installer" = "{installer}"' in section
    # Same-account ECS: Logtail needs no RAM permission (constructs_lib/alicloud/logs.py), so the role has no log:*.
    for policy in stack["resource"]["alicloud_ram_policy"].values():
        assert '"log:' not in policy["policy_document"]


def test_logtail_collects_the_logger_files_into_the_indexed_logstore(synthesized):
    stack = synthesized["alicloud-dev"]
    resource = stack["resource"]
    (collection,) = resource["alicloud_logtail_config"].values()
    detail = json.loads(collection["input_detail"])
    # The json_log form of website/docs/r/logtail_config.html.markdown at v1.289.0; input/output types from
    # resource_alicloud_logtail_config.go:37 and :61 (StringInSlice file/plugin, LogService).
    assert (collection["input_type"], collection["output_type"], detail["logType"]) == (
        "file",
        "LogService",
        "json_log",
    )
    assert (detail["logPath"], detail["filePattern"]) == ("/var/log/llmgw", "requests.*.log")
    (store_key,) = [
        key for key, store in resource["alicloud_log_store"].items() if store["logstore_name"] == "llm-requests"
    ]
    assert collection["logstore"] == f"${{alicloud_log_store.{store_key}.logstore_name}}"
    (attachment,) = resource["alicloud_logtail_attachment"].values()
    (group_key,) = resource["alicloud_log_machine_group"]
    assert attachment["machine_group_name"] == f"${{alicloud_log_machine_group.{group_key}.name}}"
    (index,) = resource["alicloud_log_store_index"].values()
    assert index["logstore"] == collection["logstore"]
    unit = next(iter(resource["alicloud_ecs_command"].values()))["command_content"]
    assert "\nLogsDirectory=llmgw\n" in base64.b64decode(unit).decode()


# The article's promises for the request log (seed 000: "every request, latency, token count, model, and agent";
# "which agent is burning my budget"): it prints no literal query, so these are the queries README's Alibaba Cloud
# section gives. Each field they use must be indexed, numeric ones as long/double so SQL can sum and average them.
ARTICLE_QUERIES = {
    "cost by agent": "* | SELECT agent, sum(cost_usd) AS cost, sum(total_tokens) AS tokens "
    "GROUP BY agent ORDER BY cost DESC",
    "latency by model": "* | SELECT model, avg(latency_ms) AS avg_ms, approx_percentile(latency_ms, 0.99) AS p99_ms, "
    "count(*) AS requests GROUP BY model",
    "one agent's failures": "agent: research-agent and status: failure | SELECT request_id, model, error_class, "
    "error_code, latency_ms",
}
NUMERIC = {"cost_usd": "double", "total_tokens": "long", "latency_ms": "long"}


def test_the_index_serves_the_article_queries(synthesized):
    readme = (REPO / "README.md").read_text()
    assert all(query in readme for query in ARTICLE_QUERIES.values())
    (index,) = synthesized["alicloud-dev"]["resource"]["alicloud_log_store_index"].values()
    indexed = {field["name"]: field["type"] for field in index["field_search"] if field["enable_analytics"]}
    assert indexed == _fields()
    words = {word for query in ARTICLE_QUERIES.values() for word in re.findall(r"[a-z_]+", query)}
    used = words & set(_fields())
    assert {"agent", "model", "status", "request_id", "error_class", "cost_usd", "total_tokens", "latency_ms"} <= used
    for name, index_type in NUMERIC.items():
        assert indexed[name] == index_type
