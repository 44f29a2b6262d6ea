"""The `litellm_team` stand-in (tools/litellm_live/team_api.py) against the real LiteLLM: provider 0.4.0's requests.

Expected requests are read off `BerriAI/terraform-provider-litellm` v0.4.0, litellm/resource_team.go: Create
(79-101) POSTs /team/new with buildTeamData (237-250) and a client-made UUID, then Reads (103-174): GET /team/info
and GET /team/permissions_list; Update (176-211) POSTs /team/update then Reads; Delete (213-235) POSTs
/team/delete {"team_ids": [id]}. MakeRequest (utils.go:64-86) sends the master key in `x-api-key`.
"""

from __future__ import annotations

import secrets
import uuid

from tools.litellm_live.team_api import Request, TeamApi, TeamApiError

PLANNED = {
    "team_alias": "standin-team",
    "rpm_limit": 2,
    "tpm_limit": 0,  # zero: not sent (GetOk)
    "max_budget": 10.0,
    "budget_duration": "1d",
    "models": ["gpt-4o"],
    "metadata": {"agent": "standin"},
    "blocked": False,
    "organization_id": None,
    "team_member_permissions": None,
}


def _paths(requests: list[Request]) -> list[tuple[str, str]]:
    return [(request.method, request.path) for request in requests]


def test_team_lifecycle_sends_the_providers_requests_and_limits_apply(litellm_live):
    api = TeamApi(litellm_live.base_url, litellm_live.master_key)
    state = api.create(PLANNED)
    team_id = state["id"]
    assert uuid.UUID(team_id).version == 4
    create, info, permissions = api.requests
    assert (create.method, create.path, create.api_key_header) == ("POST", "/team/new", "x-api-key")
    assert create.body == {
        "team_id": team_id,
        "team_alias": "standin-team",
        "rpm_limit": 2,
        "max_budget": 10.0,
        "budget_duration": "1d",
        "models": ["gpt-4o"],
        "metadata": {"agent": "standin"},
    }
    assert _paths([info, permissions]) == [
        ("GET", f"/team/info?team_id={team_id}"),
        ("GET", f"/team/permissions_list?team_id={team_id}"),
    ]
    assert state["team_alias"] == "standin-team" and state["rpm_limit"] == 2

    # The team exists in the LiteLLM the keys are registered with: a key under it gets its limits.
    key = "sk-" + secrets.token_hex(24)
    assert litellm_live.call("POST", "/key/generate", {"key": key, "team_id": team_id}).status == 200
    assert [litellm_live.chat(key, "gpt-4o").status for _ in range(3)] == [200, 200, 429]
    assert litellm_live.chat(key, "qwen-max").status in (401, 403), "the team's model list applies"

    api.requests.clear()
    updated = api.update(state, {**PLANNED, "models": ["gpt-4o", "qwen-max"], "id": team_id})
    assert _paths(api.requests) == [
        ("POST", "/team/update"),
        ("GET", f"/team/info?team_id={team_id}"),
        ("GET", f"/team/permissions_list?team_id={team_id}"),
    ]
    assert api.requests[0].body["models"] == ["gpt-4o", "qwen-max"] and api.requests[0].body["team_id"] == team_id
    assert updated["models"] == ["gpt-4o", "qwen-max"]
    team = litellm_live.call("GET", f"/team/info?team_id={team_id}").body["team_info"]
    assert team["models"] == ["gpt-4o", "qwen-max"] and team["rpm_limit"] == 2

    api.requests.clear()
    api.delete(updated)
    assert [(r.method, r.path, r.body) for r in api.requests] == [("POST", "/team/delete", {"team_ids": [team_id]})]
    assert api.read(updated) is None, "resource_team.go:114: a 404 from /team/info removes it from state"
    # LiteLLM deletes the team's keys with the team (team_endpoints.py:4468): a removed agent's key is refused
    # even though deleting its config block drops the registration's destroy-time provisioner (issue 25, 8).
    assert litellm_live.chat(key, "gpt-4o").status == 401


def test_read_keeps_state_values_as_provider_0_4_0_does(litellm_live):
    """resource_team.go:120-152 decodes /team/info's top level, where LiteLLM has only `team_id`: a change made
    outside Terraform is not read back (the provider's own behaviour, mirrored, not corrected)."""
    api = TeamApi(litellm_live.base_url, litellm_live.master_key)
    state = api.create({**PLANNED, "team_alias": "standin-drift"})
    changed = litellm_live.call("POST", "/team/update", {"team_id": state["id"], "rpm_limit": 99})
    assert changed.status == 200
    assert api.read(state)["rpm_limit"] == 2


def test_errors_name_the_action_and_status(litellm_live):
    api = TeamApi(litellm_live.base_url, "sk-not-the-master-key")
    try:
        api.create(PLANNED)
    except TeamApiError as error:
        assert error.summary == "error creating team" and error.detail.startswith("HTTP 401")
    else:
        raise AssertionError("a wrong master key must fail the create")
