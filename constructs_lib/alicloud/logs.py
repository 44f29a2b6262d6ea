"""SLS: one project, the ALB's access log of every request, and LiteLLM's request log (agent, model, tokens,
latency, cost) collected by Logtail from the gateway instances.

* `gateway-requests`: the ALB's access log (constructs_lib/alicloud/load_balancer.py).
* `llm-requests`: one JSON line per LiteLLM request, written by the release's logger
  (assets/llmgw_request_log.py) under /var/log/llmgw; a Logtail config (`json_log` file input, the form of
  `website/docs/r/logtail_config.html.markdown` at provider v1.289.0) applied to a machine group of custom
  identifier REQUEST_LOG_IDENTITY, which the runtime writes to /etc/ilogtail/user_defined_id on each instance
  (the file named in https://www.alibabacloud.com/help/en/sls/user-guide/introduction). The logstore's index has a
  field for each of the logger's FIELDS, with its type, so SQL on agent, model, tokens, latency and cost works.
* Logtail itself: the runtime installs it on each instance (assets/llmgw_runtime.py `install_logtail`) as Alibaba's
  own Cloud Assistant template does (aliyun/oos-templates CloudProductActions/ECS/YAML/ACS::ECS::InstallLogtail.yml,
  https://www.alibabacloud.com/help/en/oos/user-guide/acs-ecs-installlogtail): download linux64/logtail.sh from the
  region's `logtail-release-<region>` bucket on the internal OSS endpoint (`logtail_installer_url`), run
  `logtail.sh install <region>` (the internal-network install), then write the custom identifier to
  /etc/ilogtail/user_defined_id. The installer overwrites (Alibaba's "Install Logtail (Linux)" page: a present Logtail
  is uninstalled and /usr/local/ilogtail deleted first; the install starts Logtail and registers it at boot), so the
  runtime runs it only when /usr/local/ilogtail/ilogtail_config.json does not already name the region's internal
  endpoint (`config_server_address`, e.g. http://logtail.cn-hangzhou-intranet.log.aliyuncs.com:
  https://www.alibabacloud.com/help/en/sls/user-guide/logtail-configuration-files-and-record-files), and checks it
  after an install, then that `/etc/init.d/ilogtaild status` says "ilogtail is running". Not pinnable: Alibaba
  publishes one unversioned installer per region, which fetches the current agent; no digest or signature is
  published, so the runtime checks only that a script came (over HTTPS) and logs its SHA-256 and the installed
  `logtail_version` (/usr/local/ilogtail/app_info.json). A failed download, install or check stops the deploy.
* Permissions: an ECS instance of the same account needs no user identifier (/etc/ilogtail/users) and no RAM
  permission for Logtail: it authenticates as an instance of the account that owns the project
  (https://www.alibabacloud.com/help/en/sls/user-guide/machine-group-overview/, step 1:
  "If your ECS instance and Simple Log Service belong to the same Alibaba Cloud account, skip this step"), so the
  gateway role gets no `log:*` action.

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


def logtail_installer_url(region: str) -> str:
    """Logtail's installer on the region's internal OSS endpoint: the URL of Alibaba's Cloud Assistant template
    (aliyun/oos-templates CloudProductActions/ECS/YAML/ACS::ECS::InstallLogtail.yml, commit 01801a3c) and of the
    "Alibaba Cloud internal network (classic network, VPC)" commands on the "Install Logtail (Linux)" page, over
    HTTPS (the template says http://; OSS serves both, and the release objects already come over HTTPS)."""
    return f"https://logtail-release-{region}.oss-{region}-internal.aliyuncs.com/linux64/logtail.sh"


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
    region: str


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
        self.installer_url = logtail_installer_url(props.region)
        group = LogMachineGroup(
            self,
            "gateway-machines",
            project=self.project.project_name,
            name="llm-gateway-instances",
            # "userdefined": sls.MachineIDTypeUserDefined, one of the two values resource_alicloud_log_machine_group.go
            # accepts at v1.289.0 (line 39; aliyun-log-go-sdk machine_group.go); the instances write identify_list.
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
