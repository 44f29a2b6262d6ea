"""LiteLLM request log for SLS: one JSON line per request (agent, model, tokens, latency, cost), never a key or text.

Shipped in the Alibaba Cloud release next to config.yaml; the config names it as
`litellm_settings.callbacks: [llmgw_request_log.request_log]`, and LiteLLM loads a callback module from the config
file's own directory (`litellm/proxy/types_utils/utils.py:39-50`, litellm 1.106.12). Logtail collects the files
(`constructs_lib/alicloud/logs.py`) into the `llm-requests` logstore, whose index has exactly the fields below.

The fields come from LiteLLM's `StandardLoggingPayload` (`litellm/types/utils.py:3668-3713`), built by LiteLLM for
every success and failure. `agent` is the `agent` entry of the virtual key's metadata (registered by
`constructs_lib/_common/assets/litellm_agent_key.py` from `constructs_lib/_common/quotas.py`), which the proxy puts
in `metadata.user_api_key_auth_metadata` (`litellm/proxy/litellm_pre_call_utils.py:1711-1735`). Messages,
responses, the key hash and the requester's headers are never written.

One file per UTC day under LLMGW_REQUEST_LOG_DIR (systemd's LogsDirectory, /var/log/llmgw); files older than
LLMGW_REQUEST_LOG_KEEP_DAYS are removed when a new day starts (SLS keeps the history). Each line is one
O_APPEND write, so the proxy's worker processes never interleave within a line.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
from typing import Any

from litellm.integrations.custom_logger import CustomLogger

LOG_DIR_ENV, KEEP_DAYS_ENV = "LLMGW_REQUEST_LOG_DIR", "LLMGW_REQUEST_LOG_KEEP_DAYS"
FILE_PREFIX, FILE_SUFFIX = "requests.", ".log"
# The logstore index (constructs_lib/alicloud/logs.py) is built from this table: field -> SLS index type.
FIELDS: dict[str, str] = {
    "request_id": "text",
    "status": "text",
    "agent": "text",
    "key_alias": "text",
    "team_alias": "text",
    "model": "text",
    "provider_model": "text",
    "provider": "text",
    "prompt_tokens": "long",
    "completion_tokens": "long",
    "total_tokens": "long",
    "latency_ms": "long",
    "time_to_first_token_ms": "long",
    "cost_usd": "double",
    "cache_hit": "text",
    "stream": "text",
    "error_class": "text",
    "error_code": "text",
}


def _milliseconds(start: float | None, end: float | None) -> int | None:
    if start is None or end is None:
        return None
    return max(0, round((end - start) * 1000))


def request_record(payload: dict[str, Any]) -> dict[str, Any]:
    """The logged line of one `StandardLoggingPayload`: only the FIELDS, each from a named payload field."""
    metadata = payload.get("metadata") or {}
    key_metadata = metadata.get("user_api_key_auth_metadata") or {}
    error = payload.get("error_information") or {}
    record = {
        "request_id": payload.get("id"),
        "status": payload.get("status"),
        "agent": key_metadata.get("agent") if isinstance(key_metadata, dict) else None,
        "key_alias": metadata.get("user_api_key_alias"),
        "team_alias": metadata.get("user_api_key_team_alias"),
        # The name the agent asked for (the config's model_name); `model` is the provider's own model id.
        "model": payload.get("model_group") or payload.get("model"),
        "provider_model": payload.get("model"),
        "provider": payload.get("custom_llm_provider"),
        "prompt_tokens": payload.get("prompt_tokens"),
        "completion_tokens": payload.get("completion_tokens"),
        "total_tokens": payload.get("total_tokens"),
        "latency_ms": _milliseconds(payload.get("startTime"), payload.get("endTime")),
        "time_to_first_token_ms": _milliseconds(payload.get("startTime"), payload.get("completionStartTime")),
        "cost_usd": payload.get("response_cost"),
        "cache_hit": str(bool(payload.get("cache_hit"))).lower(),
        "stream": str(bool(payload.get("stream"))).lower(),
        "error_class": error.get("error_class") or None,
        "error_code": str(error["error_code"]) if error.get("error_code") not in (None, "") else None,
    }
    assert record.keys() == FIELDS.keys()
    start = payload.get("startTime")
    when = datetime.datetime.fromtimestamp(start, datetime.UTC) if start else datetime.datetime.now(datetime.UTC)
    return {"time": when.isoformat(timespec="milliseconds"), **record}


class RequestLog(CustomLogger):
    def __init__(self, directory: str | None = None, keep_days: int | None = None) -> None:
        super().__init__()
        self.directory = directory or os.environ.get(LOG_DIR_ENV, "/var/log/llmgw")
        self.keep_days = keep_days or int(os.environ.get(KEEP_DAYS_ENV, "3"))
        self._day: str | None = None

    def _path(self, day: str) -> str:
        return os.path.join(self.directory, f"{FILE_PREFIX}{day}{FILE_SUFFIX}")

    def _prune(self, today: datetime.date) -> None:
        oldest = today - datetime.timedelta(days=self.keep_days - 1)
        for name in os.listdir(self.directory):
            if not (name.startswith(FILE_PREFIX) and name.endswith(FILE_SUFFIX)):
                continue
            try:
                day = datetime.date.fromisoformat(name[len(FILE_PREFIX) : -len(FILE_SUFFIX)])
            except ValueError:
                continue
            if day < oldest:
                with contextlib.suppress(FileNotFoundError):  # another worker removed it first
                    os.remove(os.path.join(self.directory, name))

    def write(self, payload: dict[str, Any] | None) -> None:
        if not payload:
            return
        today = datetime.datetime.now(datetime.UTC).date()
        day = today.isoformat()
        if day != self._day:
            os.makedirs(self.directory, exist_ok=True)
            self._prune(today)
            self._day = day
        line = json.dumps(request_record(payload), separators=(",", ":"), sort_keys=False) + "\n"
        descriptor = os.open(self._path(day), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(descriptor, line.encode("utf-8"))
        finally:
            os.close(descriptor)

    # LiteLLM sets kwargs["standard_logging_object"] before calling these (litellm_logging.py, success and failure
    # handlers); the proxy's completions are async.
    def log_success_event(self, kwargs, response_obj, start_time, end_time):
        self.write(kwargs.get("standard_logging_object"))

    def log_failure_event(self, kwargs, response_obj, start_time, end_time):
        self.write(kwargs.get("standard_logging_object"))

    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
        self.write(kwargs.get("standard_logging_object"))

    async def async_log_failure_event(self, kwargs, response_obj, start_time, end_time):
        self.write(kwargs.get("standard_logging_object"))


request_log = RequestLog()
