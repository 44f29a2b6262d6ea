"""`litellm_team` as provider 0.4.0 drives LiteLLM: the same HTTP calls, bodies and read-back, on a real proxy.

Mirrors `BerriAI/terraform-provider-litellm` at tag v0.4.0, `litellm/resource_team.go` (line numbers below), with
`MakeRequest` from `litellm/utils.go:64-86` (JSON body, `Content-Type: application/json`, the master key in
`x-api-key`). Terraform state is a dict of the resource's attributes; the stand-in provider's `litellm_team`
behaviour (tools/standin_provider/behaviours/litellm.py) hands its planned/prior values here.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any

TIMEOUT_SECONDS = 60
# resource_team.go:15-20
TEAM_NEW, TEAM_INFO, TEAM_UPDATE, TEAM_DELETE = "/team/new", "/team/info", "/team/update", "/team/delete"
TEAM_PERMISSIONS_LIST = "/team/permissions_list"
TEAM_PERMISSIONS_UPDATE = "/team/permissions_update"
# buildTeamData, resource_team.go:241: the optional attributes sent when set (`d.GetOk`: zero values are not).
OPTIONAL_ATTRIBUTES = (
    "organization_id",
    "metadata",
    "tpm_limit",
    "rpm_limit",
    "max_budget",
    "budget_duration",
    "models",
    "blocked",
    "team_member_permissions",
)


class TeamApiError(Exception):
    def __init__(self, summary: str, detail: str) -> None:
        super().__init__(f"{summary}: {detail}")
        self.summary, self.detail = summary, detail


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: Any
    api_key_header: str | None


def _is_set(value: Any) -> bool:
    """terraform-plugin-sdk's `GetOk`: false for null and for the type's zero value (0, "", false, [], {})."""
    return value not in (None, 0, 0.0, "", False) and value != [] and value != {}


def _as_go_json(value: Any) -> Any:
    """Go's encoding/json writes a float64 with no fraction as an integer (`10`, not `10.0`): numbers reach the
    provider as float64 (schema TypeFloat for `number`)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def build_team_data(attributes: dict[str, Any], team_id: str) -> dict[str, Any]:
    """resource_team.go:237-250."""
    data: dict[str, Any] = {"team_id": team_id, "team_alias": attributes.get("team_alias") or ""}
    for key in OPTIONAL_ATTRIBUTES:
        if _is_set(attributes.get(key)):
            data[key] = _as_go_json(attributes[key])
    return data


@dataclass
class TeamApi:
    api_base: str
    api_key: str
    requests: list[Request] = field(default_factory=list)

    def _call(self, method: str, path: str, body: Any = None) -> tuple[int, str]:
        """MakeRequest, utils.go:64-86."""
        self.requests.append(Request(method, path, body, self.api_key and "x-api-key"))
        request = urllib.request.Request(  # noqa: S310 - the provider's configured api_base
            self.api_base.rstrip("/") + path,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "x-api-key": self.api_key},
            method=method,
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                return response.status, response.read().decode(errors="replace")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")
        except urllib.error.URLError as error:
            raise TeamApiError("error reaching LiteLLM", str(error.reason)) from None

    @staticmethod
    def _check(status: int, text: str, action: str) -> None:
        """handleResponse, resource_team.go:252-258: anything but 200 is an error naming the action."""
        if status != 200:
            raise TeamApiError(f"error {action}", f"HTTP {status} - {text[:1000]}")

    def create(self, planned: dict[str, Any]) -> dict[str, Any]:
        """resourceLiteLLMTeamCreate, resource_team.go:79-101: a fresh UUID as team_id, POST /team/new, then Read."""
        team_id = str(uuid.uuid4())
        self._check(*self._call("POST", TEAM_NEW, build_team_data(planned, team_id)), "creating team")
        state = self.read({**planned, "id": team_id})
        if state is None:
            raise TeamApiError("error creating team", f"team {team_id} not found right after /team/new")
        return state

    def read(self, state: dict[str, Any]) -> dict[str, Any] | None:
        """resourceLiteLLMTeamRead, resource_team.go:103-174.

        The response of /team/info is decoded into `TeamResponse` (types.go:37-49) at its top level, where LiteLLM
        puts only `team_id` (the team itself is under `team_info`): so every attribute falls back to the value
        already in state (`GetStringValue(..., d.Get(...))`, or left as is when the pointer is nil). A team changed
        outside Terraform therefore shows no drift; this mirrors provider 0.4.0 as it is."""
        status, text = self._call("GET", f"{TEAM_INFO}?team_id={state['id']}")
        if status == 404:
            return None  # resource_team.go:114-118: gone, removed from state
        try:
            response = json.loads(text)
        except ValueError as error:
            raise TeamApiError("error decoding team info response", str(error)) from None
        new_state = dict(state)
        top = response if isinstance(response, dict) else {}
        for name in ("team_alias", "organization_id", "budget_duration"):
            if top.get(name):
                new_state[name] = top[name]
        for name in ("metadata", "models", "tpm_limit", "rpm_limit", "max_budget"):
            if top.get(name) is not None:
                new_state[name] = top[name]
        if top.get("blocked"):
            new_state["blocked"] = True
        permissions_status, permissions_text = self._call("GET", f"{TEAM_PERMISSIONS_LIST}?team_id={state['id']}")
        if permissions_status == 200:
            permissions = json.loads(permissions_text).get("team_member_permissions")
            # terraform-plugin-sdk v2 keeps an unset optional list unset when Read sets it empty
            # (helper/schema/grpc_provider.go, normalizeNullValues): no diff against a configuration without it.
            if permissions or state.get("team_member_permissions") is not None:
                new_state["team_member_permissions"] = permissions
        elif top.get("team_member_permissions"):
            new_state["team_member_permissions"] = top["team_member_permissions"]
        return new_state

    def update(self, prior: dict[str, Any], planned: dict[str, Any]) -> dict[str, Any]:
        """resourceLiteLLMTeamUpdate, resource_team.go:176-211: POST /team/update with every set attribute,
        /team/permissions_update when team_member_permissions changed, then Read."""
        team_id = prior["id"]
        self._check(*self._call("POST", TEAM_UPDATE, build_team_data(planned, team_id)), "updating team")
        if planned.get("team_member_permissions") != prior.get("team_member_permissions") and (
            planned.get("team_member_permissions") is not None
        ):
            body = {"team_id": team_id, "team_member_permissions": list(planned["team_member_permissions"])}
            self._check(*self._call("POST", TEAM_PERMISSIONS_UPDATE, body), "updating team permissions")
        state = self.read({**planned, "id": team_id})
        if state is None:
            raise TeamApiError("error updating team", f"team {team_id} not found after /team/update")
        return state

    def delete(self, state: dict[str, Any]) -> None:
        """resourceLiteLLMTeamDelete, resource_team.go:213-235. LiteLLM's /team/delete also deletes the team's
        keys (litellm/proxy/management_endpoints/team_endpoints.py:4468, `delete_data(..., table_name="key")`)."""
        self._check(*self._call("POST", TEAM_DELETE, {"team_ids": [state["id"]]}), "deleting team")
