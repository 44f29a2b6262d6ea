"""SLS: one project, the ALB's access log of every request, and LiteLLM's request log (agent, model, tokens,
latency, cost) collected by Logtail from the gateway instances.

* `gateway-requests`: the ALB's access log (constructs_lib/alicloud/load_balancer.py).
* `llm-requests`: one JSON line per LiteLLM request, written by the release's logger
  (assets/llmgw_request_log.py) under /var/log/llmgw; a Logtail config (`json_log` file input, the form of
  `website/docs/r/logtail_config.html.markdown` at provider v1.289.0) applied to a machine group of custom
  identifier REQUEST_LOG_IDENTITY, which the runtime writes to /etc/ilogtail/user_defined_id on each instance
  (the file named in https://www.alibabacloud.com/help/en/sls/user-guide/introduction). The logstore's index has a
  field for each of the logger's FIELDS, with its type, so SQL on agent, model, tokens, latency and cost works.

Retention from config; encrypted at rest; shards split automatically under load.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from pathlib import Path

from constructs import Construct

from constructs_lib._common.naming import Naming
from constructs_lib.config.alicloud import AlicloudLogsConfig
from imports.alicloud.log_machine_group import LogMachineGroup
from imports.alicloud.log_project import LogProject
from imports.alicloud.log_store import LogStore, LogStoreEncryptConf
from imports.alicloud.log_store_index import LogStoreIndex, LogStoreIndexFieldSearch, LogStoreIndexFullText
from imports.alicloud.logtail_attachment import LogtailAttachment
from imports.alicloud.logtail_config import LogtailConfig

REQUEST_LOGGER = Path(__file__).resolve().parent / "assets" / "llmgw_request_log.py"
# Where the logger writes (the unit's LogsDirectory) and the files it names (requests.<UTC day>.log).
REQUEST_LOG_DIR, REQUEST_LOG_FILES = "/var/log/llmgw", "requests.*.log"
# The LiteLLM callback the Alibaba config names: module llmgw_request_log (next to config.yaml), object request_log.
REQUEST_LOG_CALLBACK = "llmgw_request_log.request_log"


def request_log_fields() -> dict[str, str]:
    """The logger's FIELDS (field -> SLS index type), read from its source (it imports litellm; synth does not)."""
    tree = ast.parse(REQUEST_LOGGER.read_text())
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == "FIELDS":
            return ast.literal_eval(node.value)  # type: ignore[arg-type]
    raise RuntimeError(f"{REQUEST_LOGGER}: no FIELDS table")


@dataclass(frozen=True)
class GatewayLogsProps:
    naming: Naming
    config: AlicloudLogsConfig


class GatewayLogs(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: GatewayLogsProps) -> None:
        super().__init__(scope, construct_id)
        config = props.config
        self.project = LogProject(
            self,
            "project",
            project_name=props.naming.name("llm-gateway"),
            description="LLM gateway request logs: forensics, cost attribution, audit evidence",
        )
        self.store = self._store("requests", "gateway-requests", config)
        self.llm_store = self._store("llm-requests", "llm-requests", config)
        LogStoreIndex(
            self,
            "llm-requests-index",
            project=self.project.project_name,
            logstore=self.llm_store.logstore_name,
            full_text=LogStoreIndexFullText(case_sensitive=False),  # SLS's default delimiters
            field_search=[
                LogStoreIndexFieldSearch(name=name, type=index_type, enable_analytics=True)
                for name, index_type in request_log_fields().items()
            ],
        )
        # One identity for every gateway instance: a new instance joins by writing it (the runtime does).
        self.identity = props.naming.name("llm-gateway")
        group = LogMachineGroup(
            self,
            "gateway-machines",
            project=self.project.project_name,
            name="llm-gateway-instances",
            identify_type="userdefined",
            identify_list=[self.identity],
        )
        collection = LogtailConfig(
            self,
            "llm-requests-collection",
            project=self.project.project_name,
            logstore=self.llm_store.logstore_name,
            name="llm-requests",
            input_type="file",
            output_type="LogService",
            input_detail=json.dumps(
                {
                    "logType": "json_log",
                    "logPath": REQUEST_LOG_DIR,
                    "filePattern": REQUEST_LOG_FILES,
                    "maxDepth": 0,
                    "discardUnmatch": False,
                    "enableRawLog": False,
                },
                sort_keys=True,
            ),
        )
        LogtailAttachment(
            self,
            "llm-requests-machines",
            project=self.project.project_name,
            logtail_config_name=collection.name,
            machine_group_name=group.name,
        )

    def _store(self, construct_id: str, name: str, config: AlicloudLogsConfig) -> LogStore:
        return LogStore(
            self,
            construct_id,
            project_name=self.project.project_name,
            logstore_name=name,
            retention_period=config.retention_days,
            shard_count=config.shard_count,
            auto_split=True,
            max_split_shard_count=64,
            append_meta=True,
            encrypt_conf=LogStoreEncryptConf(enable=True, encrypt_type="default"),
        )
