"""SLS: one project and one logstore for the gateway's request logs (the ALB's access log of every request).

Retention from config; encrypted at rest; shards split automatically under load.
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from constructs_lib._common.naming import Naming
from constructs_lib.config.alicloud import AlicloudLogsConfig
from imports.alicloud.log_project import LogProject
from imports.alicloud.log_store import LogStore, LogStoreEncryptConf


@dataclass(frozen=True)
class GatewayLogsProps:
    naming: Naming
    config: AlicloudLogsConfig


class GatewayLogs(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: GatewayLogsProps) -> None:
        super().__init__(scope, construct_id)
        self.project = LogProject(
            self,
            "project",
            project_name=props.naming.name("llm-gateway"),
            description="LLM gateway request logs: forensics, cost attribution, audit evidence",
        )
        self.store = LogStore(
            self,
            "requests",
            project_name=self.project.project_name,
            logstore_name="gateway-requests",
            retention_period=props.config.retention_days,
            shard_count=props.config.shard_count,
            auto_split=True,
            max_split_shard_count=64,
            append_meta=True,
            encrypt_conf=LogStoreEncryptConf(enable=True, encrypt_type="default"),
        )
