"""tools/ci/plan_guard.py: a saved plan that stores a secret variable, or deletes stateful prod resources, stops."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tools.ci import plan_guard

# A root module with one sensitive, one ephemeral + sensitive and one plain variable: planned by the real
# Terraform (no provider needed), so the JSON is what `terraform show -json tfplan` really prints.
VARIABLES_MODULE = {
    "variable": {
        "litellm_api_key": {"type": "string", "sensitive": True},
        "ephemeral_key": {"type": "string", "sensitive": True, "ephemeral": True},
        "region": {"type": "string"},
    },
    "output": {"region": {"value": "${var.region}"}},
}


def _real_plan_json(tmp_path: Path, module: dict) -> dict:
    (tmp_path / "main.tf.json").write_text(json.dumps(module))
    env = {
        **os.environ,
        "TF_IN_AUTOMATION": "1",
        "CHECKPOINT_DISABLE": "1",
        "TF_VAR_litellm_api_key": "stored-in-plan",  # pragma: allowlist secret (a test value)
        "TF_VAR_ephemeral_key": "never-stored",  # pragma: allowlist secret (a test value)
        "TF_VAR_region": "eu-west-1",
    }
    for command in (["init", "-input=false"], ["plan", "-input=false", "-out=tfplan"]):
        subprocess.run(["terraform", *command], cwd=tmp_path, env=env, check=True, capture_output=True)
    shown = subprocess.run(
        ["terraform", "show", "-json", "tfplan"], cwd=tmp_path, env=env, check=True, capture_output=True, text=True
    )
    return json.loads(shown.stdout)


def test_a_plan_storing_a_sensitive_variable_fails_and_an_ephemeral_one_does_not(tmp_path):
    plan = _real_plan_json(tmp_path, VARIABLES_MODULE)
    assert plan["variables"]["litellm_api_key"]["value"] == "stored-in-plan"  # what the guard exists for
    assert "ephemeral_key" not in plan["variables"]
    assert plan_guard.sensitive_variables_in_plan(plan) == ["litellm_api_key"]
    errors, _ = plan_guard.findings(plan, env="dev", allow_destroy=False)
    assert errors == ["the plan file stores the value of sensitive variable 'litellm_api_key': make it ephemeral"]


def test_a_plan_with_only_ephemeral_secrets_passes(tmp_path):
    module = json.loads(json.dumps(VARIABLES_MODULE))
    del module["variable"]["litellm_api_key"]
    plan = _real_plan_json(tmp_path, module)
    assert plan_guard.findings(plan, env="prod", allow_destroy=False) == ([], [])


def _change(address: str, kind: str, actions: list[str]) -> dict:
    # `resource_changes[]` as documented at https://developer.hashicorp.com/terraform/internals/json-format
    return {"address": address, "mode": "managed", "type": kind, "change": {"actions": actions}}


@pytest.mark.parametrize("actions", [["delete"], ["delete", "create"], ["create", "delete"]])
def test_deleting_or_replacing_a_prod_database_fails_unless_allowed(actions):
    plan = {"resource_changes": [_change("aws_rds_cluster.db", "aws_rds_cluster", actions)]}
    errors, warnings = plan_guard.findings(plan, env="prod", allow_destroy=False)
    assert len(errors) == 1 and "aws_rds_cluster.db" in errors[0] and not warnings
    errors, warnings = plan_guard.findings(plan, env="prod", allow_destroy=True)
    assert not errors and len(warnings) == 1


def test_deletions_outside_prod_or_of_stateless_resources_only_warn_or_pass():
    plan = {
        "resource_changes": [
            _change("google_sql_database_instance.db", "google_sql_database_instance", ["delete"]),
            _change("aws_security_group.lb", "aws_security_group", ["delete"]),
            _change("aws_s3_bucket.logs", "aws_s3_bucket", ["update"]),
        ]
    }
    assert plan_guard.findings(plan, env="staging", allow_destroy=False) == (
        [],
        ["the plan deletes the stateful resource google_sql_database_instance.db"],
    )
    assert plan_guard.findings({"resource_changes": plan["resource_changes"][1:]}, env="prod", allow_destroy=False) == (
        [],
        [],
    )


def test_cli_exit_status_and_annotations(tmp_path, capsys):
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(
        json.dumps({"resource_changes": [_change("alicloud_db_instance.db", "alicloud_db_instance", ["delete"])]})
    )
    assert plan_guard.main(["--plan-json", str(plan_file), "--stack", "alicloud-prod", "--env", "prod"]) == 1
    assert (
        "::error::alicloud-prod: the plan deletes the stateful resource alicloud_db_instance.db"
        in capsys.readouterr().out
    )
    args = ["--plan-json", str(plan_file), "--stack", "alicloud-prod", "--env", "prod", "--allow-destroy"]
    assert plan_guard.main(args) == 0
    assert plan_guard.main(["--plan-json", str(tmp_path / "missing.json"), "--stack", "x", "--env", "dev"]) == 1
