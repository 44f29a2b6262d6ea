"""Per-agent quotas: limits, one-agent-change isolation, scoping, deletion, and the registration script."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import cdktf
import pytest
from cdktf import App

from constructs_lib._common.agent_key import SCRIPT
from constructs_lib.config import load_environment
from stacks.context import StackContext
from tests.conftest import CONFIG_DIR

GATEWAY_URL = "https://gateway.internal.test"
CLOUDS = ("aws", "gcp", "alicloud")


def _quotas_stack(cloud: str, config) -> dict:
    from stacks.catalog import stack_class, stack_name

    context = StackContext(stack_name(cloud, "quotas", config.env), cloud, "quotas", CONFIG_DIR / "dev.yaml", config)
    stack = stack_class(cloud, "quotas")(App(), context, gateway_url=GATEWAY_URL)
    return json.loads(cdktf.Testing.synth(stack))


@pytest.fixture(scope="module")
def dev_config():
    return load_environment(CONFIG_DIR / "dev.yaml")


@pytest.fixture(scope="module")
def quotas_json(dev_config) -> dict[str, dict]:
    return {cloud: _quotas_stack(cloud, dev_config) for cloud in CLOUDS}


def _by_agent(resources: dict, key: str) -> dict[str, dict]:
    return {body[key]: body for body in resources.values()}


@pytest.mark.parametrize("cloud", CLOUDS)
def test_one_team_registration_secret_and_identity_per_agent(cloud, quotas_json, dev_config):
    stack = quotas_json[cloud]["resource"]
    agents = sorted(agent.name for agent in dev_config.agents)
    assert sorted(team["team_alias"] for team in stack["litellm_team"].values()) == [f"dev-{a}" for a in agents]
    registrations = [data for data in stack["terraform_data"].values() if "alias" in data.get("input", {})]
    # One alias per key version, so a rotation's old and new keys can coexist during the overlap.
    assert sorted(data["input"]["alias"] for data in registrations) == [f"dev-{a}-v1-m1" for a in agents]
    assert len(stack["terraform_data"]) == 2 * len(agents), "a registration and a model-limits update per agent"
    secret_type, identity_type = {
        "aws": ("aws_secretsmanager_secret", "aws_iam_role"),
        "gcp": ("google_secret_manager_secret", "google_service_account"),
        "alicloud": ("alicloud_kms_secret", "alicloud_ram_role"),
    }[cloud]
    assert len(stack[secret_type]) == len(agents)
    assert len(stack[identity_type]) == len(agents)


@pytest.mark.parametrize("cloud", CLOUDS)
def test_team_limits_follow_the_config(cloud, quotas_json, dev_config):
    teams = _by_agent(quotas_json[cloud]["resource"]["litellm_team"], "team_alias")
    for agent in dev_config.agents:
        team = teams[f"dev-{agent.name}"]
        assert team["rpm_limit"] == agent.requests_per_minute
        assert "tpm_limit" not in team, "no per-minute share of the day (issue 25, defect 9)"
        assert team["metadata"]["tokens_per_day"] == str(agent.tokens_per_day), "read by the daily token cap hook"
        assert team["max_budget"] == float(agent.daily_budget)
        assert team["budget_duration"] == "1d"
        assert team["models"] == agent.models
        assert team["metadata"]["agent"] == agent.name and team["metadata"]["owner"] == agent.owner


def test_seed_agents_get_the_documented_limits(quotas_json):
    teams = _by_agent(quotas_json["aws"]["resource"]["litellm_team"], "team_alias")
    limits = {alias: (t["rpm_limit"], t["metadata"]["tokens_per_day"], t["max_budget"]) for alias, t in teams.items()}
    assert limits == {
        "dev-research": (120, "2000000", 800.0),
        "dev-code": (60, "1000000", 500.0),
        "dev-support": (300, "3000000", 600.0),
        "dev-schedule": (10, "100000", 40.0),
    }


@pytest.mark.parametrize("cloud", CLOUDS)
def test_changing_one_agents_quota_changes_only_that_agents_team(cloud, dev_config, quotas_json):
    agents = [
        agent.model_copy(update={"requests_per_minute": 999}) if agent.name == "code" else agent
        for agent in dev_config.agents
    ]
    changed = _quotas_stack(cloud, dev_config.model_copy(update={"agents": agents}))
    before, after = quotas_json[cloud]["resource"], changed["resource"]
    assert before.keys() == after.keys()
    differing = [
        (resource_type, name)
        for resource_type in before
        for name in before[resource_type].keys() | after[resource_type].keys()
        if before[resource_type].get(name) != after[resource_type].get(name)
    ]
    assert len(differing) == 1, differing
    resource_type, name = differing[0]
    assert resource_type == "litellm_team" and after[resource_type][name]["team_alias"] == "dev-code"


@pytest.mark.parametrize("cloud", CLOUDS)
def test_removing_an_agent_removes_its_key_secret_and_identity(cloud, dev_config, quotas_json):
    remaining = [agent for agent in dev_config.agents if agent.name != "support"]
    after = json.dumps(_quotas_stack(cloud, dev_config.model_copy(update={"agents": remaining})))
    assert "support" not in after.replace("support-ops@acme.example", "")
    # What makes the removal effective is the team's deletion (LiteLLM deletes a team's keys with it, shown
    # against the real proxy in test_litellm_team_standin.py), not the registration's destroy-time step: deleting
    # the agent's block drops its provisioners with it. That step only retires a rotated-out key.
    registration = next(
        body
        for body in quotas_json[cloud]["resource"]["terraform_data"].values()
        if body.get("input", {}).get("alias") == "dev-support-v1-m1"
    )
    retire = registration["provisioner"][1]["local-exec"]
    assert retire["when"] == "destroy" and retire["command"].endswith(" retire")
    assert registration["triggers_replace"]["team_id"].startswith("${litellm_team.")


def test_aws_agent_role_reads_only_its_own_secret(quotas_json):
    stack = quotas_json["aws"]
    secrets = {name: body["name"] for name, body in stack["resource"]["aws_secretsmanager_secret"].items()}
    documents = stack["data"]["aws_iam_policy_document"]
    for name, policy in stack["resource"]["aws_iam_role_policy"].items():
        document = documents[policy["policy"].split(".")[2]]
        readable = {
            resource
            for statement in document["statement"]
            if statement["sid"] == "ReadOwnKey"
            for resource in statement["resources"]
        }
        assert len(readable) == 1, name
        (secret_ref,) = readable
        secret = secrets[secret_ref.split(".")[1]]
        agent = name.split("_")[0].removeprefix("access-")
        assert secret == f"acme-dev/agents/{agent}/litellm-key"
        decrypt = next(statement for statement in document["statement"] if statement["sid"] == "DecryptOwnKeyOnly")
        context = next(c for c in decrypt["condition"] if c["variable"] == "kms:EncryptionContext:SecretARN")
        assert context["values"] == [secret_ref]
        assert "*" not in json.dumps(document["statement"]).replace('"type": "*"', "")


def test_gcp_secret_accessor_granted_per_secret_to_its_agent_only(quotas_json):
    resources = quotas_json["gcp"]["resource"]
    assert "google_project_iam_member" not in resources and "google_project_iam_binding" not in resources
    accounts = {
        f"${{google_service_account.{name}.email}}": body["account_id"]
        for name, body in resources["google_service_account"].items()
    }
    secrets = {
        f"${{google_secret_manager_secret.{name}.secret_id}}": body["secret_id"]
        for name, body in resources["google_secret_manager_secret"].items()
    }
    members = resources["google_secret_manager_secret_iam_member"].values()
    assert len(members) == len(secrets)
    for member in members:
        account = accounts[member["member"].removeprefix("serviceAccount:")]
        secret = secrets[member["secret_id"]]
        agent = account.removeprefix("acme-dev-ag-")
        assert secret == f"acme-dev-agent-{agent}-litellm-key"
        assert member["role"] == "roles/secretmanager.secretAccessor"


def test_alicloud_ram_policy_names_only_its_own_secret(quotas_json):
    resources = quotas_json["alicloud"]["resource"]
    for policy in resources["alicloud_ram_policy"].values():
        document = json.loads(policy["policy_document"])
        agent = policy["policy_name"].removeprefix("acme-dev-agent-").removesuffix("-read-key")
        (read,) = [s for s in document["Statement"] if s["Action"] == ["kms:GetSecretValue"]]
        assert read["Resource"] == [
            "acs:kms:cn-shanghai:${data.alicloud_account.account.id}:secret/" + f"acme-dev-agent-{agent}-litellm-key"
        ]
        assert "*" not in json.dumps(document)


@pytest.mark.parametrize("cloud", ["aws", "gcp"])
def test_key_material_is_ephemeral_and_written_only_through_write_only_arguments(cloud, quotas_json):
    """The key is derived from the ephemeral master-key variable (so Terraform keeps it out of plan and state) and
    reaches only the secret's write-only argument and the registration's environment."""
    stack = quotas_json[cloud]
    assert "random_password" not in stack.get("ephemeral", {})
    assert stack["variable"]["litellm_api_key"]["ephemeral"] is True
    text = json.dumps(stack["resource"])
    version_type, argument = {
        "aws": ("aws_secretsmanager_secret_version", "secret_string_wo"),
        "gcp": ("google_secret_manager_secret_version", "secret_data_wo"),
    }[cloud]
    for version in stack["resource"][version_type].values():
        assert version[argument].startswith("sk-${local.agent_key_")
    for agent in ("research", "code", "support", "schedule"):
        assert stack["locals"][f"agent_key_{agent}"] == (
            "${sha256(join(local.agent_key_separator, [var.litellm_api_key, local.agent_key_input_" + agent + "]))}"
        )
    assert "var.litellm_api_key" not in text, "the derivation is in locals"
    assert text.count("${local.agent_key_") == 2 * 4, "only the write-only argument and the registration see the key"


def test_key_version_bump_rotates_only_that_agents_key(dev_config, quotas_json):
    agents = [a.model_copy(update={"key_version": 2}) if a.name == "research" else a for a in dev_config.agents]
    after = _quotas_stack("aws", dev_config.model_copy(update={"agents": agents}))["resource"]
    before = quotas_json["aws"]["resource"]
    changed = sorted(
        (kind, name) for kind in before for name in before[kind] if before[kind][name] != after[kind].get(name)
    )
    # the secret version, the registration (new versioned alias) and the per-model limits of that alias
    assert [kind for kind, _ in changed] == ["aws_secretsmanager_secret_version", "terraform_data", "terraform_data"]
    assert all(name.startswith(("access-research", "agent-research")) for _, name in changed)


def test_master_key_is_an_input_variable_never_a_value(quotas_json):
    for cloud, stack in quotas_json.items():
        assert stack["provider"]["litellm"][0]["api_key"] == "${var.litellm_api_key}", cloud
        assert stack["variable"]["litellm_api_key"]["sensitive"] is True
        # Issue 25, defect 4: a sensitive variable is still written into saved plan files; an ephemeral one is not.
        assert stack["variable"]["litellm_api_key"]["ephemeral"] is True


# --- the registration script, against the real LiteLLM proxy (tools/litellm_live) ---------------------------


def _script(action: str, live, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        "PATH": os.environ["PATH"],
        "LITELLM_API_BASE": live.base_url,
        "LITELLM_API_KEY": live.master_key,
        **env,
    }
    return subprocess.run(
        [sys.executable, str(SCRIPT), action], env=environment, capture_output=True, text=True, timeout=120
    )


def _team(live, alias: str, **fields) -> str:
    reply = live.call("POST", "/team/new", {"team_alias": alias, "models": ["gpt-4o", "qwen-max"], **fields})
    assert reply.status == 200, reply.text
    return reply.body["team_id"]


def _keys(live, alias: str) -> list[dict]:
    """The keys LiteLLM holds under exactly this alias (`/key/list` matches aliases loosely)."""
    reply = live.call("GET", f"/key/list?key_alias={alias}&return_full_object=true")
    assert reply.status == 200, reply.text
    return [key for key in reply.body["keys"] if key["key_alias"] == alias]


def _new_key() -> str:
    return "sk-" + secrets.token_hex(24)


MODEL_LIMITS = {
    "model_rpm_limit": {"gpt-4o": 30},
    "model_tpm_limit": {},
    "model_max_budget": {},
}


def test_registration_registers_the_callers_key_under_the_team(litellm_live):
    key, team = _new_key(), _team(litellm_live, "t-register")
    result = _script(
        "register",
        litellm_live,
        AGENT_KEY=key,
        KEY_ALIAS="t-register",
        TEAM_ID=team,
        MODEL_LIMITS=json.dumps(MODEL_LIMITS),
    )
    # LiteLLM answers /key/delete for an unknown alias with HTTP 404 {'error': 'No keys found'}
    # (litellm/proxy/management_endpoints/key_management_endpoints.py:5046): a first registration must pass it.
    assert result.returncode == 0, result.stderr
    (registered,) = _keys(litellm_live, "t-register")
    # LiteLLM keeps per-model rate limits in the key's metadata (key_management_endpoints.py, prepare_metadata_fields)
    assert registered["team_id"] == team and registered["metadata"]["model_rpm_limit"] == {"gpt-4o": 30}
    assert litellm_live.chat(key, "gpt-4o").status == 200
    assert key not in result.stdout + result.stderr


def test_registering_again_replaces_the_key_under_the_alias(litellm_live):
    team = _team(litellm_live, "t-again")
    first, second = _new_key(), _new_key()
    for key in (first, second):
        result = _script("register", litellm_live, AGENT_KEY=key, KEY_ALIAS="t-again", TEAM_ID=team)
        assert result.returncode == 0, result.stderr
    assert len(_keys(litellm_live, "t-again")) == 1
    assert litellm_live.chat(second, "gpt-4o").status == 200
    assert litellm_live.chat(first, "gpt-4o").status == 401


def test_revoke_is_idempotent(litellm_live):
    result = _script("revoke", litellm_live, KEY_ALIAS="t-never-registered")
    assert result.returncode == 0, result.stderr


def test_errors_never_print_the_key(litellm_live):
    key = _new_key()
    # Refused by LiteLLM without an enterprise licence (validate_model_max_budget): an error reply to print.
    budget = {**MODEL_LIMITS, "model_max_budget": {"gpt-4o": {"budget_limit": 1.0, "time_period": "1d"}}}
    result = _script(
        "register",
        litellm_live,
        AGENT_KEY=key,
        KEY_ALIAS="t-refused",
        TEAM_ID=_team(litellm_live, "t-refused"),
        MODEL_LIMITS=json.dumps(budget),
    )
    assert result.returncode == 1, result.stdout
    assert "HTTP 500" in result.stderr and "enterprise license" in result.stderr
    assert key not in result.stderr + result.stdout
    assert _keys(litellm_live, "t-refused") == []


def test_registration_refuses_a_key_that_is_not_a_virtual_key(litellm_live):
    result = _script("register", litellm_live, AGENT_KEY="plain", KEY_ALIAS="t-plain", TEAM_ID="t")
    assert result.returncode == 1 and "must start with 'sk-'" in result.stderr
    assert _keys(litellm_live, "t-plain") == []


def test_limits_update_the_one_key_holding_the_exact_alias(litellm_live):
    team = _team(litellm_live, "t-limits")
    for alias in ("t-limits", "t-limits-old"):
        assert _script("register", litellm_live, AGENT_KEY=_new_key(), KEY_ALIAS=alias, TEAM_ID=team).returncode == 0
    result = _script("limits", litellm_live, KEY_ALIAS="t-limits", MODEL_LIMITS=json.dumps(MODEL_LIMITS))
    assert result.returncode == 0, result.stderr
    assert _keys(litellm_live, "t-limits")[0]["metadata"]["model_rpm_limit"] == {"gpt-4o": 30}
    assert "model_rpm_limit" not in _keys(litellm_live, "t-limits-old")[0]["metadata"], "only the exact alias"


def test_limits_refuse_an_alias_that_holds_no_key(litellm_live):
    result = _script("limits", litellm_live, KEY_ALIAS="t-gone", MODEL_LIMITS="{}")
    assert result.returncode == 1 and "exactly one key with alias 't-gone', found 0" in result.stderr


def test_limits_refuse_unknown_limit_fields(litellm_live):
    result = _script("limits", litellm_live, KEY_ALIAS="t-any", MODEL_LIMITS='{"model_rpm": {}}')
    assert result.returncode == 1 and "unknown fields ['model_rpm']" in result.stderr


def _agent_data(stack: dict, agent: str, resource: str) -> dict:
    """The terraform_data `resource` (registration / model-limits) of one agent's AgentKey."""
    (body,) = [
        body
        for name, body in stack["resource"]["terraform_data"].items()
        if name.rsplit("_", 1)[0] == f"agent-{agent}_{resource}"
    ]
    return body


@pytest.mark.parametrize("cloud", CLOUDS)
def test_per_model_limits_reach_the_key_at_registration_and_on_change(cloud, quotas_json):
    stack = quotas_json[cloud]
    registration = _agent_data(stack, "research", "registration")
    limits = _agent_data(stack, "research", "model-limits")
    expected = {
        "model_max_budget": {},  # per-model budgets need a LiteLLM enterprise licence (quotas config)
        "model_rpm_limit": {"claude-sonnet": 30},
        "model_tpm_limit": {"claude-sonnet": 20000},
    }
    sent = registration["provisioner"][0]["local-exec"]["environment"]["MODEL_LIMITS"]
    assert json.loads(sent) == expected
    update = limits["provisioner"][0]["local-exec"]
    assert update["command"].endswith(" limits") and json.loads(update["environment"]["MODEL_LIMITS"]) == expected
    assert json.loads(limits["triggers_replace"]["model_limits"]) == expected
    assert limits["triggers_replace"]["registration"].endswith(".id}") and "AGENT_KEY" not in update["environment"]
    # An agent without per-model limits clears them (empty maps), so removing one from the config takes effect.
    code = json.loads(_agent_data(stack, "code", "model-limits")["triggers_replace"]["model_limits"])
    assert code == {"model_max_budget": {}, "model_rpm_limit": {}, "model_tpm_limit": {}}


@pytest.mark.parametrize("cloud", CLOUDS)
def test_changing_a_per_model_limit_updates_the_key_without_reissuing_it(cloud, dev_config, quotas_json):
    agents = [
        agent.model_copy(update={"model_limits": {}}) if agent.name == "research" else agent
        for agent in dev_config.agents
    ]
    after = _quotas_stack(cloud, dev_config.model_copy(update={"agents": agents}))["resource"]
    before = quotas_json[cloud]["resource"]
    differing = {
        (resource_type, name)
        for resource_type in before
        for name in before[resource_type]
        if before[resource_type][name] != after[resource_type].get(name)
    }
    assert {(kind, name.rsplit("_", 1)[0]) for kind, name in differing} == {
        ("terraform_data", "agent-research_registration"),
        ("terraform_data", "agent-research_model-limits"),
    }
    registration = _agent_data(quotas_json[cloud], "research", "registration")
    limits = _agent_data(quotas_json[cloud], "research", "model-limits")
    # The registration's create-time environment changes (a new key gets the new limits), but only the
    # model-limits resource is replaced: the registration's triggers, and so the key, stay as they were.
    new_registration = _agent_data({"resource": after}, "research", "registration")
    assert new_registration["triggers_replace"] == registration["triggers_replace"]
    new_limits = _agent_data({"resource": after}, "research", "model-limits")
    assert new_limits["triggers_replace"] != limits["triggers_replace"]


def test_provisioners_run_the_script_content_kept_in_their_input(quotas_json):
    script = SCRIPT.read_text()
    for stack in quotas_json.values():
        for agent in ("research", "code"):
            for resource in ("registration", "model-limits"):
                body = _agent_data(stack, agent, resource)
                assert body["input"]["script"] == script
                for provisioner in body["provisioner"]:
                    block = provisioner["local-exec"]
                    assert block["command"].startswith('python3 -c "$LITELLM_AGENT_KEY_SCRIPT" ')
                    assert block["environment"]["LITELLM_AGENT_KEY_SCRIPT"] == "${self.input.script}"


# --- the synthesized provisioners, run as Terraform runs them, against the real LiteLLM ---------------------


def _registration(stack: dict, agent: str) -> dict:
    return _agent_data(stack, agent, "registration")


def _run_provisioner(live, resource: dict, index: int, cwd: Path, **references: str):
    """Run `resource`'s local-exec provisioner `index` as Terraform does: `/bin/sh -c command` in the stack's
    directory, `${self.input.<name>}` from the resource's input, other `${...}` references from `references`,
    and the master key from the environment of the run."""
    block = resource["provisioner"][index]["local-exec"]

    def resolve(text: str) -> str:
        for name, value in resource.get("input", {}).items():
            text = text.replace(f"${{self.input.{name}}}", value)
        for expression, value in references.items():
            text = text.replace(expression, value)
        assert "${" not in text, text[:200]
        return text.replace(GATEWAY_URL, live.base_url)  # the stacks' gateway URL is this loopback proxy

    environment = {"PATH": os.environ["PATH"], "LITELLM_API_KEY": live.master_key}
    environment |= {name: resolve(value) for name, value in block.get("environment", {}).items()}
    return subprocess.run(
        ["/bin/sh", "-c", resolve(block["command"])],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _stack_dir(tmp_path: Path, resource: dict) -> Path:
    """The stack's output directory as a synth leaves it: any script file its commands name is there."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    for provisioner in resource["provisioner"]:
        for word in provisioner["local-exec"]["command"].split():
            if word.startswith("assets/"):
                (tmp_path / word).parent.mkdir(parents=True, exist_ok=True)
                (tmp_path / word).write_text(SCRIPT.read_text())
    return tmp_path


def _live_team(live, stack: dict, agent: str) -> str:
    (team,) = [body for body in stack["resource"]["litellm_team"].values() if body["team_alias"] == f"dev-{agent}"]
    names = ("rpm_limit", "tpm_limit", "max_budget", "budget_duration", "models", "metadata")
    fields = {name: team[name] for name in names if name in team}
    return _team(live, f"{team['team_alias']}-{secrets.token_hex(3)}", **fields)


def _registered(live, stack: dict, agent: str, tmp_path: Path, key: str) -> tuple[str, dict]:
    registration = _registration(stack, agent)
    team = _live_team(live, stack, agent)
    team_reference = registration["triggers_replace"]["team_id"]
    result = _run_provisioner(
        live,
        registration,
        0,
        _stack_dir(tmp_path, registration),
        **{team_reference: team, registration["provisioner"][0]["local-exec"]["environment"]["AGENT_KEY"]: key},
    )
    assert result.returncode == 0, result.stderr
    return team, registration


def test_a_model_added_to_the_team_reaches_the_key(litellm_live, quotas_json, tmp_path):
    """Issue 25, defect 3: the key must follow its team's model list, not keep the one it was registered with."""
    key = _new_key()
    team, _ = _registered(litellm_live, quotas_json["aws"], "code", tmp_path, key)
    assert litellm_live.chat(key, "deepseek-chat").status == 200
    assert litellm_live.chat(key, "gpt-4o").status in (401, 403), "not one of the agent's models yet"
    reply = litellm_live.call(
        "POST", "/team/update", {"team_id": team, "models": ["claude-sonnet", "deepseek-chat", "gpt-4o"]}
    )
    assert reply.status == 200, reply.text
    assert litellm_live.chat(key, "gpt-4o").status == 200


def test_destroy_runs_after_the_script_changed(litellm_live, quotas_json, tmp_path):
    """Issue 25, defect 6: the destroy-time step must not need a file of the synth that registered the key (a
    changed script, or a fresh CI checkout and synth, has another content hash)."""
    key = _new_key()
    _, registration = _registered(litellm_live, quotas_json["gcp"], "support", tmp_path / "first-synth", key)
    fresh_checkout = tmp_path / "fresh-synth"
    fresh_checkout.mkdir()
    result = _run_provisioner(litellm_live, registration, 1, fresh_checkout)
    assert result.returncode == 0, result.stderr


def test_rotation_keeps_the_old_key_working_for_the_overlap_only(litellm_live, dev_config, quotas_json, tmp_path):
    """Issue 25, defect 7: bumping key_version replaces the registration (its destroy step, then the new one's
    create step); the old key keeps working for the overlap, then is refused; the new key works at once."""
    old_key, new_key = _new_key(), _new_key()
    team, old_registration = _registered(litellm_live, quotas_json["alicloud"], "schedule", tmp_path / "v1", old_key)
    agents = [a.model_copy(update={"key_version": 2}) if a.name == "schedule" else a for a in dev_config.agents]
    rotated = _quotas_stack("alicloud", dev_config.model_copy(update={"agents": agents}))
    new_registration = _registration(rotated, "schedule")
    # The stacks' overlap is an hour (quotas.key_rotation_overlap); the test shortens it to seconds (same code path, a
    # shorter duration). From the retire step to the old key's check below takes under a second on an idle machine:
    # 8 s leaves that room to grow more than tenfold under load before the check would come after the expiry.
    overlap_seconds = 8
    old_registration = {**old_registration, "input": {**old_registration["input"], "overlap": f"{overlap_seconds}s"}}
    retired = _run_provisioner(litellm_live, old_registration, 1, _stack_dir(tmp_path / "v1", old_registration))
    assert retired.returncode == 0, retired.stderr
    environment = new_registration["provisioner"][0]["local-exec"]["environment"]
    registered = _run_provisioner(
        litellm_live,
        new_registration,
        0,
        _stack_dir(tmp_path / "v2", new_registration),
        **{new_registration["triggers_replace"]["team_id"]: team, environment["AGENT_KEY"]: new_key},
    )
    assert registered.returncode == 0, registered.stderr
    assert litellm_live.chat(new_key, "qwen-max").status == 200
    assert litellm_live.chat(old_key, "qwen-max").status == 200, "the old key works during the overlap"
    # LiteLLM set the old key's expiry to the retire step's time + overlap: wait until it has passed.
    expires = litellm_live.call("GET", f"/key/info?key={old_key}").body["info"]["expires"]
    remaining = (datetime.fromisoformat(expires.replace("Z", "+00:00")) - datetime.now(UTC)).total_seconds()
    assert 0 < remaining <= overlap_seconds, "the old key was checked within the overlap"
    time.sleep(remaining + 1)
    refused = litellm_live.chat(old_key, "qwen-max")
    assert refused.status == 401 and refused.body["error"]["type"] == "expired_key", refused.text
    assert litellm_live.chat(new_key, "qwen-max").status == 200


def test_an_agent_bursts_under_its_daily_token_cap_and_is_refused_once_spent(litellm_live, quotas_json, tmp_path):
    """Issue 25, defect 9: `tokens_per_day` is a daily cap, not a per-minute share of it. The `schedule` agent
    (100,000 tokens a day, 10 requests a minute) spends 90,000 tokens in three requests within a minute, then is
    admitted once more while under the cap, and refused (HTTP 429) once the day's tokens are spent."""
    key = _new_key()
    team, _ = _registered(litellm_live, quotas_json["aws"], "schedule", tmp_path, key)
    burst = [litellm_live.chat(key, "qwen-max", 10_000, 20_000) for _ in range(3)]
    assert [reply.status for reply in burst] == [200, 200, 200], burst[-1].text
    assert litellm_live.chat(key, "qwen-max", 5_000, 5_000).status == 200, "90,000 of 100,000 spent: admitted"
    refused = litellm_live.chat(key, "qwen-max")
    assert refused.status == 429 and "Daily token cap" in refused.text, refused.text
    assert "resets at 00:00 UTC" in refused.text
    # The count lives in the gateway's Redis (shared by every replica), per team and UTC day.
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    assert litellm_live.redis("GET", f"llmgw:daily-tokens:{team}:{day}") == "100000"


def test_requests_per_minute_plus_one_is_refused(litellm_live, quotas_json, tmp_path):
    key = _new_key()
    _registered(litellm_live, quotas_json["gcp"], "schedule", tmp_path, key)  # 10 requests a minute
    statuses = [litellm_live.chat(key, "qwen-max").status for _ in range(11)]
    assert statuses == [200] * 10 + [429]


def _console(expression: str, work: Path, master_key: str, locals_: dict) -> subprocess.CompletedProcess[str]:
    """Evaluate a Terraform template with the real terraform (`terraform console`), the master key as the
    variable the quotas stacks declare, and the stack's locals."""
    work.mkdir(parents=True, exist_ok=True)
    config = {"variable": {"litellm_api_key": {"type": "string"}}, **({"locals": locals_} if locals_ else {})}
    (work / "main.tf.json").write_text(json.dumps(config))
    environment = {**os.environ, "TF_VAR_litellm_api_key": master_key, "CHECKPOINT_DISABLE": "1"}
    return subprocess.run(
        ["terraform", "console"],
        input=f'"{expression}"\n',  # an HCL template: quotes inside ${...} need no escaping
        cwd=work,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("cloud", ["aws", "gcp"])
def test_every_write_of_an_agents_key_computes_the_same_key(cloud, quotas_json, tmp_path):
    """Issue 25, defect 5: the registration and the secret version each compute the key when they are (re)created.
    A retry or a `-replace` of one of them without the other (a failed secret write, a version deleted out of
    band) must produce the value the other holds, so the key is a function of the run's inputs, never a fresh
    ephemeral value per run. Both write the same expression, and the real terraform evaluates it to the same key
    in two separate runs."""
    stack = quotas_json[cloud]
    registered = _registration(stack, "code")["provisioner"][0]["local-exec"]["environment"]["AGENT_KEY"]
    version_type, argument = {
        "aws": ("aws_secretsmanager_secret_version", "secret_string_wo"),
        "gcp": ("google_secret_manager_secret_version", "secret_data_wo"),
    }[cloud]
    (written,) = [body[argument] for name, body in stack["resource"][version_type].items() if "access-code" in name]
    assert written == registered
    locals_ = stack.get("locals", {})
    runs = [_console(registered, tmp_path / f"run-{run}", "sk-master-for-the-test", locals_) for run in (1, 2)]
    assert all(run.returncode == 0 for run in runs), runs[0].stderr
    first, second = (json.loads(run.stdout.strip()) for run in runs)
    assert first == second and first.startswith("sk-") and len(first) >= 40
    other_master = _console(registered, tmp_path / "other-master", "sk-another-master", locals_)
    assert json.loads(other_master.stdout.strip()) != first, "derived from the master key, not a constant"
