"""The GitHub Actions workflows: linters clean, the pipeline's promises hold, and the rule checks bite.

GitHub is unreachable here, so the workflows are tested as files: actionlint, zizmor and the
workflow JSON schema run through the same functions as `make lint`; the parsed YAML is checked for
SHA pins, least privilege, OIDC-only cloud logins, no TF_LOG and per-stack coverage of the real stack
list (`make stacks`); the CI helpers the workflows call are tested directly; and deliberately bad
fixtures prove each rule fails when broken.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tools.ci import litellm_key, plan_comment
from tools.ci.affected_stacks import LANE_KEYS, affected, deployable, outputs, parse_stacks
from tools.lint import run
from tools.lint.workflow_rules import check_files, check_workflow, default_files, triggers

REPO = Path(__file__).resolve().parent.parent
WORKFLOWS = REPO / ".github" / "workflows"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "workflows"
OIDC_ACTIONS = {
    "aws": "aws-actions/configure-aws-credentials@",
    "gcp": "google-github-actions/auth@",
    "alicloud": "aliyun/configure-aliyun-credentials-action@",
}
SHA_PIN = re.compile(r"^[^@\s]+@[0-9a-f]{40}$")
TERRAFORM_JOBS = (
    ("plan.yml", "plan"),
    ("drift.yml", "plan"),
    ("deploy-stack.yml", "plan"),
    ("deploy-stack.yml", "apply"),
)


def _load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def workflows() -> dict[str, dict[str, Any]]:
    return {path.name: _load(path) for path in sorted(WORKFLOWS.glob("*.yml"))}


@pytest.fixture(scope="module")
def real_stacks() -> list[dict[str, Any]]:
    """The stack list exactly as CI computes it."""
    completed = subprocess.run(
        ["make", "-s", "--no-print-directory", "stacks"], cwd=REPO, capture_output=True, text=True, check=True
    )
    return json.loads(completed.stdout)


def _jobs(workflows: dict[str, dict[str, Any]]):
    for name, workflow in workflows.items():
        for job_id, job in workflow["jobs"].items():
            yield name, job_id, job


def _steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return job.get("steps", [])


def _all_steps(workflows):
    for name, job_id, job in _jobs(workflows):
        for step in _steps(job):
            yield name, job_id, step


# --- the three linters, through the same runner functions as `make lint` -------------------------


def test_the_expected_workflows_exist(workflows):
    assert set(workflows) == {"ci.yml", "plan.yml", "apply.yml", "deploy-stack.yml", "drift.yml", "bootstrap.yml"}


def test_actionlint_is_clean():
    result = run.actionlint()
    assert result.ok, result.output


def test_zizmor_is_clean():
    result = run.zizmor()
    assert result.ok, result.output


def test_workflows_and_actions_match_the_github_json_schemas():
    result = run.workflow_schema()
    assert result.ok, result.output


def test_workflow_rules_are_clean():
    violations = check_files(default_files())
    assert violations == [], "\n".join(map(str, violations))


# --- the pipeline's promises, read from the parsed YAML ------------------------------------------


def test_every_external_action_is_pinned_by_commit_sha_with_a_release_comment(workflows):
    sources = [*WORKFLOWS.glob("*.yml"), *(REPO / ".github" / "actions").glob("*/action.yml")]
    external = []
    for source in sources:
        for line in source.read_text().splitlines():
            match = re.match(r"^\s*(?:-\s+)?uses:\s*(\S+)(.*)$", line)
            if match and not match.group(1).startswith("./"):
                external.append(match.group(1))
                assert SHA_PIN.match(match.group(1)), f"{source.name}: {line.strip()}"
                assert re.search(r"#\s*v\d+\.\d+\.\d+$", match.group(2)), f"{source.name}: {line.strip()}"
    assert len(external) > 20


def test_top_level_permissions_are_empty(workflows):
    for name, workflow in workflows.items():
        assert workflow["permissions"] == {}, name


def test_every_job_states_minimal_permissions(workflows):
    allowed_reads = {"contents", "actions"}
    for name, job_id, job in _jobs(workflows):
        permissions = job["permissions"]
        assert isinstance(permissions, dict), (name, job_id)
        for scope, level in permissions.items():
            assert level in ("read", "write"), (name, job_id, scope)
            if level == "read":
                assert scope in allowed_reads, (name, job_id, scope)


def _logs_in_by_oidc(job: dict[str, Any]) -> bool:
    return any(str(step.get("uses", "")).startswith(tuple(OIDC_ACTIONS.values())) for step in _steps(job))


def test_id_token_write_only_where_a_cloud_login_by_oidc_happens(workflows):
    oidc_jobs = set()
    for name, job_id, job in _jobs(workflows):
        if job["permissions"].get("id-token") != "write":
            assert not _logs_in_by_oidc(job), (name, job_id)
            continue
        oidc_jobs.add((name, job_id))
        calls_deploy = job.get("uses") == "./.github/workflows/deploy-stack.yml"
        assert _logs_in_by_oidc(job) or calls_deploy, (name, job_id)
    assert oidc_jobs == {
        ("plan.yml", "plan"),
        ("drift.yml", "plan"),
        ("deploy-stack.yml", "plan"),
        ("deploy-stack.yml", "apply"),
        *{("apply.yml", lane.replace("_", "-")) for lane in LANE_KEYS},
    }


def test_pull_requests_and_issues_write_only_in_jobs_which_run_no_repository_code(workflows):
    for scope, expected in (("pull-requests", ("plan.yml", "comment")), ("issues", ("drift.yml", "report"))):
        writers = [(name, job_id) for name, job_id, job in _jobs(workflows) if job["permissions"].get(scope)]
        assert writers == [expected], scope
        job = workflows[expected[0]]["jobs"][expected[1]]
        assert job["permissions"] == {scope: "write"}
        assert all("run" not in step for step in job["steps"])
        assert not any(str(step["uses"]).startswith("actions/checkout@") for step in job["steps"])


def test_no_pull_request_target_or_workflow_run_trigger(workflows):
    for name, workflow in workflows.items():
        assert not triggers(workflow) & {"pull_request_target", "workflow_run"}, name


def _env_and_with(workflows):
    for name, workflow in workflows.items():
        yield name, workflow.get("env", {})
        for _, job_id, job in _jobs({name: workflow}):
            yield f"{name}:{job_id}", job.get("env", {})
            yield f"{name}:{job_id}", job.get("with", {})
            for step in _steps(job):
                yield f"{name}:{job_id}", step.get("env", {})
                yield f"{name}:{job_id}", step.get("with", {})


STATIC_KEYS = re.compile(
    r"AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|GOOGLE_CREDENTIALS|credentials_json|ALIBABA_CLOUD_ACCESS_KEY_"
    r"|aws-access-key-id|aws-secret-access-key|access-key-id|access-key-secret",
    re.IGNORECASE,
)


def test_no_long_lived_cloud_keys_in_env_or_with(workflows):
    for where, mapping in _env_and_with(workflows):
        for key, value in mapping.items():
            assert not STATIC_KEYS.search(f"{key} {value}"), (where, key)


def test_no_repository_secret_is_read_at_all(workflows):
    for path in WORKFLOWS.glob("*.yml"):
        assert "secrets." not in path.read_text(), path.name
        assert "secrets: inherit" not in path.read_text(), path.name


def test_tf_log_is_never_set_and_tf_in_automation_always_is(workflows):
    for where, mapping in _env_and_with(workflows):
        assert not any(str(key).startswith("TF_LOG") for key in mapping), where
    for name, job_id, step in _all_steps(workflows):
        assert not re.search(r"TF_LOG\w*\s*=", step.get("run", "")), (name, job_id)
    for name, workflow in workflows.items():
        assert workflow["env"]["TF_IN_AUTOMATION"] == "1", name


def test_every_job_that_runs_steps_has_a_timeout(workflows):
    for name, job_id, job in _jobs(workflows):
        if "uses" not in job:
            assert 0 < job["timeout-minutes"] <= 60, (name, job_id)


def test_no_expression_is_expanded_inside_a_script(workflows):
    for name, job_id, step in _all_steps(workflows):
        assert "${{" not in step.get("run", ""), (name, job_id, step.get("name"))
        assert "${{" not in step.get("with", {}).get("script", ""), (name, job_id, step.get("name"))


def test_no_script_prints_secrets(workflows):
    for name, job_id, step in _all_steps(workflows):
        script = step.get("run", "")
        assert "secrets." not in script, (name, job_id)
        assert not re.search(r"\bset\s+-\w*x|\bprintenv\b|^\s*env\s*$", script, re.MULTILINE), (name, job_id)
        assert not re.search(r"\$\{?LITELLM_API_KEY\b(?!_)", script), (name, job_id)


def test_every_checkout_drops_the_token(workflows):
    checkouts = [step for _, _, step in _all_steps(workflows) if step.get("uses", "").startswith("actions/checkout@")]
    assert checkouts
    assert all(step["with"]["persist-credentials"] is False for step in checkouts)


def test_terraform_output_is_never_captured_into_step_outputs():
    sources = [*WORKFLOWS.glob("*.yml"), *(REPO / ".github" / "actions").glob("*/action.yml")]
    setups = 0
    for source in sources:
        text = source.read_text()
        setups += text.count("hashicorp/setup-terraform@")
        assert text.count("terraform_wrapper: false") == text.count("hashicorp/setup-terraform@"), source.name
    assert setups >= 3


# --- every stack is covered, with the right identity, runner and environment --------------------


def test_the_real_stack_list_parses_and_every_deployed_stack_has_its_own_apply_job(real_stacks, workflows):
    stacks = parse_stacks(json.dumps(real_stacks))
    lanes = outputs(deployable(stacks))
    names = sorted(entry["name"] for lane in LANE_KEYS for entry in lanes[lane])
    assert names == sorted(s["name"] for s in real_stacks if s["kind"] != "bootstrap")
    apply_jobs = workflows["apply.yml"]["jobs"]
    for lane in LANE_KEYS:
        assert apply_jobs[lane.replace("_", "-")]["with"]["stack"] == f"${{{{ needs.select.outputs.{lane} }}}}"


def test_a_change_to_main_or_the_plan_workflow_plans_every_deployed_real_stack(real_stacks):
    stacks = parse_stacks(json.dumps(real_stacks))
    for path in ("main.py", ".github/workflows/plan.yml", "constructs_lib/_common/naming.py"):
        assert [s.name for s in affected(stacks, [path])] == [
            s["name"] for s in real_stacks if s["kind"] != "bootstrap"
        ]


def test_each_deployed_real_stack_is_reached_by_a_change_to_its_cloud_code(real_stacks):
    stacks = parse_stacks(json.dumps(real_stacks))
    for stack in deployable(stacks):
        assert stack in affected(stacks, [f"stacks/{stack.cloud}/base.py"])


def _select_script(workflow: dict[str, Any]) -> str:
    return "\n".join(step.get("run", "") for step in workflow["jobs"]["select"]["steps"])


def test_plan_and_apply_matrices_come_from_make_stacks_through_the_selection_script(workflows):
    for name in ("plan.yml", "apply.yml"):
        script = _select_script(workflows[name])
        assert "make -s --no-print-directory stacks" in script, name
        assert ".venv/bin/python -m tools.ci.affected_stacks" in script, name
        assert "--github-output" in script, name
    plan = workflows["plan.yml"]["jobs"]["plan"]
    assert plan["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.select.outputs.stacks) }}"
    assert "--changed-files" in _select_script(workflows["plan.yml"])
    for lane in LANE_KEYS:
        job = workflows["apply.yml"]["jobs"][lane.replace("_", "-")]
        assert job["uses"] == "./.github/workflows/deploy-stack.yml"
    for job_id in ("plan", "apply"):
        matrix = workflows["deploy-stack.yml"]["jobs"][job_id]["strategy"]["matrix"]
        assert matrix["stack"] == "${{ fromJSON(inputs.stack) }}"


def test_dispatch_input_is_validated_against_the_stack_list(workflows):
    apply = workflows["apply.yml"]
    assert apply[True]["workflow_dispatch"]["inputs"]["stack"]["type"] == "string"
    script = _select_script(apply)
    assert 'selection=(--only "$STACK_INPUT")' in script
    env = apply["jobs"]["select"]["steps"][-1]["env"]
    assert env["STACK_INPUT"] == "${{ inputs.stack }}"


def test_every_cloud_of_the_stack_list_has_an_oidc_login_in_each_terraform_job(workflows, real_stacks):
    clouds = {stack["cloud"] for stack in real_stacks}
    for name, job_id in TERRAFORM_JOBS:
        steps = workflows[name]["jobs"][job_id]["steps"]
        for cloud in clouds:
            logins = [s for s in steps if s.get("if") == f"matrix.stack.cloud == '{cloud}'"]
            assert len(logins) == 1, (name, job_id, cloud)
            assert logins[0]["uses"].startswith(OIDC_ACTIONS[cloud]), (name, job_id, cloud)
            for value in logins[0]["with"].values():
                assert "secrets." not in str(value)


def test_plan_jobs_use_plan_identities_and_apply_jobs_use_apply_identities(workflows):
    def aws_role(job):
        return next(s for s in job["steps"] if s.get("if") == "matrix.stack.cloud == 'aws'")["with"]["role-to-assume"]

    deploy = workflows["deploy-stack.yml"]["jobs"]
    assert aws_role(workflows["plan.yml"]["jobs"]["plan"]) == "${{ vars.AWS_PLAN_ROLE_ARN }}"
    assert aws_role(deploy["plan"]) == "${{ vars.AWS_PLAN_ROLE_ARN }}"
    assert aws_role(deploy["apply"]) == "${{ vars.AWS_APPLY_ROLE_ARN }}"
    assert workflows["plan.yml"]["jobs"]["plan"]["environment"] == "${{ matrix.stack.plan_environment }}"
    assert deploy["plan"]["environment"] == "${{ matrix.stack.plan_environment }}"
    assert deploy["apply"]["environment"] == "${{ matrix.stack.github_environment }}"


def test_terraform_jobs_run_on_the_runner_labels_of_their_role(workflows):
    for name, job_id in TERRAFORM_JOBS:
        role = "apply" if job_id == "apply" else "plan"
        assert workflows[name]["jobs"][job_id]["runs-on"] == f"${{{{ matrix.stack.{role}_runs_on }}}}", (name, job_id)


def test_every_self_hosted_runner_of_the_stack_list_is_ephemeral_and_scoped(real_stacks):
    for stack in real_stacks:
        for role in ("plan", "apply"):
            labels = stack[f"{role}_runs_on"]
            if "self-hosted" in labels:
                assert {"ephemeral", f"llmgw-{role}", f"llmgw-{stack['cloud']}-{stack['env']}"} <= set(labels), stack
            else:
                assert labels == ["ubuntu-24.04"], stack


def test_pull_request_plans_never_run_for_forks(workflows):
    select = workflows["plan.yml"]["jobs"]["select"]
    assert select["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    assert workflows["plan.yml"]["jobs"]["plan"]["needs"] == "select"


def test_plan_runs_lock_free_and_apply_applies_the_saved_plan_serialized_per_stack(workflows):
    plan_script = next(s["run"] for s in workflows["plan.yml"]["jobs"]["plan"]["steps"] if s.get("id") == "plan")
    assert "plan -input=false -lock=false -no-color -out=tfplan" in plan_script
    apply_job = workflows["deploy-stack.yml"]["jobs"]["apply"]
    apply_script = next(s["run"] for s in apply_job["steps"] if "apply" in s.get("run", ""))
    assert "apply -input=false -no-color tfplan" in apply_script
    for job_id in ("plan", "apply"):
        concurrency = workflows["deploy-stack.yml"]["jobs"][job_id]["concurrency"]
        assert concurrency == {"group": "deploy-${{ matrix.stack.name }}", "cancel-in-progress": False}


def test_promotion_per_cloud_runs_gateway_then_quotas_dev_then_staging_then_prod(workflows):
    jobs = workflows["apply.yml"]["jobs"]
    for cloud in ("aws", "gcp", "alicloud"):
        chain = [f"{cloud}-{env}-{kind}" for env in ("dev", "staging", "prod") for kind in ("gateway", "quotas")]
        for index, job_id in enumerate(chain):
            # Every earlier job of the chain is a direct need, so a failure anywhere before is seen, not masked
            # by a skipped job in between.
            assert jobs[job_id]["needs"] == ["select", *chain[:index]], job_id
            assert "!contains(needs.*.result, 'failure')" in jobs[job_id]["if"]
            assert "!contains(needs.*.result, 'cancelled')" in jobs[job_id]["if"]
            assert "!cancelled()" in jobs[job_id]["if"]
    assert jobs["select"]["needs"] == "checks"
    assert jobs["checks"]["uses"] == "./.github/workflows/ci.yml"


def test_quotas_stacks_get_the_litellm_key_from_the_cloud_secret_store(workflows):
    scripts = [
        s["run"]
        for name, job_id in TERRAFORM_JOBS
        for s in workflows[name]["jobs"][job_id]["steps"]
        if "tools.ci.litellm_key" in s.get("run", "")
    ]
    assert len(scripts) == 4
    assert all('if [ "$KIND" = quotas ]' in script for script in scripts)


def test_the_comment_job_reads_the_sections_plan_comment_writes_into_one_comment(workflows):
    script = workflows["plan.yml"]["jobs"]["comment"]["steps"][-1]["with"]["script"]
    pattern = re.search(r"const markerPattern = /(.+)/;", script).group(1)
    assert re.fullmatch(pattern, plan_comment.marker("aws-dev-quotas"))
    assert script.count("createComment") == 1
    assert "github-actions[bot]" in script
    assert "updateComment" in script
    assert "createComment" in script


# --- the rule checks fail on deliberately bad workflows ------------------------------------------


def test_the_control_fixture_passes_every_rule():
    assert check_workflow(FIXTURES / "good.yml") == []


@pytest.mark.parametrize(
    "rule",
    [
        "pinned-uses",
        "triggers",
        "static-credentials",
        "tf-log",
        "tf-in-automation",
        "script-injection",
        "permissions",
        "timeout",
        "checkout",
        "leaky-script",
        "concurrency",
    ],
)
def test_fails_when_a_workflow_breaks_a_rule(rule):
    violations = check_workflow(FIXTURES / f"{rule}.yml")
    assert violations
    assert {violation.rule for violation in violations} == {rule}


def test_fixtures_are_valid_workflows_so_only_the_rules_reject_them():
    result = run.workflow_schema(sorted(FIXTURES.glob("*.yml")))
    assert result.ok, result.output


def test_the_linters_also_reject_the_worst_fixtures():
    assert not run.zizmor([FIXTURES / "triggers.yml"]).ok
    assert not run.actionlint([FIXTURES / "script-injection.yml"]).ok
    assert run.actionlint([FIXTURES / "good.yml"]).ok


# --- the helpers the workflows call ------------------------------------------------------------


def test_plan_comment_keeps_the_summary_and_truncates_at_a_line_boundary():
    plan_text = "".join(f"  # resource.r{i} will be created\n" for i in range(5000))
    plan_text += "\nPlan: 5000 to add, 0 to change, 0 to destroy.\n"
    body = plan_comment.render(
        stack="aws-dev", plan_text=plan_text, outcome="success", sha="a" * 40, run_url="https://example.test/run/1"
    )
    assert body.startswith("<!-- llmgw-plan:aws-dev -->\n")
    assert "**Plan: 5000 to add, 0 to change, 0 to destroy.**" in body
    assert len(body) < 65_000
    assert re.search(r"_\d+ more lines not shown; the full plan is in the plan job's log", body)
    shown = body.split("```text\n", 1)[1].split("\n```", 1)[0]
    assert all(line.startswith("  # resource.r") for line in shown.splitlines())


def test_plan_comment_fence_cannot_be_closed_by_plan_content():
    body = plan_comment.render(
        stack="gcp-dev",
        plan_text='value = "```\n# injected heading\n````"\nNo changes. Your infrastructure matches.\n',
        outcome="success",
        sha="b" * 40,
        run_url="https://example.test/run/2",
    )
    assert "`````text\n" in body
    assert body.count("`````") == 2


def test_plan_comment_for_a_failed_plan_posts_no_plan_text():
    body = plan_comment.render(
        stack="aws-dev", plan_text="secret-looking output", outcome="failure", sha="c" * 40, run_url="https://x.test/r"
    )
    assert "Plan failure" in body
    assert "secret-looking output" not in body


def test_plan_comment_drops_colour_codes_and_control_characters():
    assert plan_comment.clean("\x1b[1m+ create\x1b[0m\r\n\x07ok\tdone\n") == "+ create\nok\tdone\n"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"stack": "../x"}, "stack name"),
        ({"outcome": "maybe"}, "outcome"),
        ({"sha": "main"}, "hex commit"),
        ({"run_url": "javascript:alert(1)"}, "https URL"),
    ],
)
def test_plan_comment_fails_on_invalid_input(kwargs, message):
    arguments = {
        "stack": "aws-dev",
        "plan_text": "",
        "outcome": "success",
        "sha": "d" * 40,
        "run_url": "https://x.test",
    }
    with pytest.raises(ValueError, match=message):
        plan_comment.render(**{**arguments, **kwargs})


def _secret_id(value: str) -> dict[str, str]:
    """The environment a job gets from the GitHub environment variable naming the key's secret."""
    return {litellm_key.SECRET_ENV: value}


@pytest.mark.parametrize(
    ("cloud", "secret_id", "expected"),
    [
        ("aws", "llmgw/dev/litellm", ["aws", "secretsmanager", "get-secret-value", "--secret-id", "llmgw/dev/litellm"]),
        ("gcp", "projects/p/secrets/litellm", ["gcloud", "secrets", "versions", "access"]),
        ("alicloud", "llmgw-dev-litellm", ["aliyun", "kms", "GetSecretValue", "--SecretName", "llmgw-dev-litellm"]),
    ],
)
def test_litellm_key_reads_from_the_stacks_own_cloud(cloud, secret_id, expected):
    command = litellm_key.read_command(cloud, secret_id, {"ALIBABA_CLOUD_REGION": "cn-shanghai"})
    assert command[: len(expected)] == expected


def test_litellm_key_masks_every_line_before_returning_it():
    value = "first-part\nsecond-part\n"
    calls = []

    def fake_cli(command):
        calls.append(command)
        return subprocess.CompletedProcess(command, 0, stdout=value)

    fetched = litellm_key.fetch("aws", _secret_id("llmgw/dev/litellm"), fake_cli)
    assert fetched == "first-part\nsecond-part"
    assert litellm_key.mask_commands(fetched) == ["::add-mask::first-part", "::add-mask::second-part"]
    assert len(calls) == 1


def test_litellm_key_reads_alibabas_json_answer():
    value = "value-1"
    assert litellm_key.extract("alicloud", json.dumps({"SecretData": value, "VersionId": "v1"})) == value


@pytest.mark.parametrize(
    ("cloud", "environ", "message"),
    [
        ("aws", {}, "LITELLM_API_KEY_SECRET is not set"),
        ("gcp", _secret_id("litellm"), "projects/<project>/secrets/<name>"),
        ("alicloud", _secret_id("litellm"), "ALIBABA_CLOUD_REGION must be set"),
    ],
)
def test_litellm_key_fails_without_a_usable_secret_id(cloud, environ, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        litellm_key.fetch(cloud, environ, lambda command: subprocess.CompletedProcess(command, 0, stdout="x"))


def test_litellm_key_fails_on_an_empty_or_failed_read():
    environ = _secret_id("llmgw/dev/litellm")
    with pytest.raises(ValueError, match="empty value"):
        litellm_key.fetch("aws", environ, lambda command: subprocess.CompletedProcess(command, 0, stdout="\n"))
    with pytest.raises(ValueError, match="exit code 254"):
        litellm_key.fetch("aws", environ, lambda command: subprocess.CompletedProcess(command, 254, stdout=""))


# --- dependency updates and code owners ------------------------------------------------------------


def test_dependabot_updates_actions_pip_and_npm_everywhere_they_are_pinned():
    config = _load(REPO / ".github" / "dependabot.yml")
    directories = {}
    for update in config["updates"]:
        directories.setdefault(update["package-ecosystem"], set()).update(
            update.get("directories") or [update["directory"]]
        )
    assert set(directories) == {"github-actions", "pip", "npm"}
    action_dirs = {
        "/" + str(path.parent.relative_to(REPO)) for path in (REPO / ".github" / "actions").glob("*/action.yml")
    }
    assert action_dirs <= directories["github-actions"] and "/" in directories["github-actions"]
    pip_dirs = {
        "/" + path.parent.relative_to(REPO).as_posix().removeprefix(".")
        for path in REPO.glob("**/requirements*.txt")
        if not {".venv", ".venv-litellm", "node_modules", "cdktf.out"} & set(path.parts)
    }
    assert {d.rstrip("/") or "/" for d in pip_dirs} <= directories["pip"]
    assert directories["npm"] == {"/"}


def test_codeowners_cover_the_workflows_the_ci_identities_and_the_config():
    owned = [
        line.split()[0]
        for line in (REPO / ".github" / "CODEOWNERS").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for path in ("/.github/", "/config/", "/tools/ci/", "/constructs_lib/_common/ci_identity.py"):
        assert path in owned
    for trust in sorted(REPO.glob("constructs_lib/*/ci_trust.py")):
        assert "/" + str(trust.relative_to(REPO)) in owned
