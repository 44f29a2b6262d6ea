"""Each environment's CI identities reach only that environment's state and secrets, and cannot grant themselves more.

AWS: the synthesized aws-bootstrap policies (the roles' inline policies, the state bucket's policy, the stage's
permissions boundary) are evaluated by the IAM policy simulator @cloud-copilot/iam-simulate (tests/iam_simulate.cjs)
for concrete requests. AWS-managed policies are not in the synthesized JSON; the simulation includes them as:
- PowerUserAccess: its first statement, `Allow NotAction [iam:*, organizations:*, account:*] on *` (the policy
  document shown at https://docs.aws.amazon.com/aws-managed-policy/latest/reference/PowerUserAccess.html); its
  other statement only adds a few IAM/Organizations reads and service-linked roles, none of the requests here;
- ReadOnlyAccess: `s3:Get*` and `s3:List*` on `*`, the part of it that reaches the state (a subset of
  https://docs.aws.amazon.com/aws-managed-policy/latest/reference/ReadOnlyAccess.html).
GCP and Alibaba Cloud: structural checks of the synthesized roles, bindings and policies, with a small evaluator of
the condition forms they use (tests/cloud_conditions.py).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cloud_conditions import UnknownForm, cel, ram_allows
from tests.gcp_iam import GcpIam, Target, project_of, reference_of

REPO = Path(__file__).resolve().parent.parent
STAGES = ("dev", "staging", "prod")
BUCKET = "acme-llmgw-tfstate-aws"
STATE_ACCOUNT = "999999999999"  # the administrator's account holding the state store (a fourth account)
KEY_ARN = f"arn:aws:kms:eu-west-1:{STATE_ACCOUNT}:key/0f1e2d3c-state"
POWER_USER = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"}],
}
READ_ONLY_S3 = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": "*"}],
}
ADMINISTRATOR = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


# --- AWS -------------------------------------------------------------------------------------------


class AwsBootstrap:
    """The policies of the synthesized aws-bootstrap stack, with Terraform references resolved."""

    def __init__(self, stack: dict) -> None:
        resources = stack["resource"]
        self.roles = {}  # (stage, role) -> (arn, account)
        self._arn_by_id = {}
        for resource_id, role in resources["aws_iam_role"].items():
            stage, kind = re.fullmatch(r"acme-(\w+)-ci-(plan|apply)", role["name"]).groups()
            account = role["provider"].removeprefix("aws.account_")
            arn = f"arn:aws:iam::{account}:role/{role['name']}"
            self.roles[(stage, kind)] = (arn, account)
            self._arn_by_id[resource_id] = arn
        self.inline = {
            tuple(re.fullmatch(r"acme-(\w+)-ci-(plan|apply)", p["name"]).groups()): json.loads(
                self._resolve(p["policy"])
            )
            for p in resources["aws_iam_role_policy"].values()
        }
        self.boundaries = {
            re.fullmatch(r"acme-(\w+)-ci-boundary", p["name"]).group(1): json.loads(p["policy"])
            for p in resources["aws_iam_policy"].values()
        }
        documents = stack["data"]["aws_iam_policy_document"]
        (bucket_document,) = [d for d in documents.values() if any("principals" in s for s in d["statement"])]
        self.bucket_policy = {
            "Version": "2012-10-17",
            "Statement": [self._statement(s) for s in bucket_document["statement"]],
        }

    def _resolve(self, text: str) -> str:
        text = re.sub(r"\$\{aws_kms_key\.[^}]+\.arn\}", KEY_ARN, text)
        text = re.sub(r"\$\{aws_iam_role\.([^.}]+)\.arn\}", lambda m: self._arn_by_id[m.group(1)], text)
        text = re.sub(r"\$\{aws_s3_bucket\.[^}]+\.arn\}", f"arn:aws:s3:::{BUCKET}", text)
        if "${" in text:
            raise AssertionError(f"unresolved reference in {text[:200]}")
        return text

    def _statement(self, raw: dict) -> dict:
        statement = {"Effect": raw.get("effect", "Allow"), "Action": raw["actions"]}
        if "sid" in raw:
            statement["Sid"] = raw["sid"]
        if "resources" in raw:
            statement["Resource"] = [self._resolve(r) for r in raw["resources"]]
        if "not_resources" in raw:
            statement["NotResource"] = [self._resolve(r) for r in raw["not_resources"]]
        principals = raw["principals"][0]
        identifiers = [self._resolve(i) for i in principals["identifiers"]]
        statement["Principal"] = "*" if principals["type"] == "*" else {principals["type"]: identifiers}
        if "condition" in raw:
            condition: dict = {}
            for c in raw["condition"]:
                condition.setdefault(c["test"], {})[c["variable"]] = c["values"]
            statement["Condition"] = condition
        return statement


@pytest.fixture(scope="module")
def aws(synthesized) -> AwsBootstrap:
    return AwsBootstrap(synthesized["aws-bootstrap"])


def _simulate(simulations: list[dict]) -> list[str]:
    node = shutil.which("node")
    assert node, "node is required (the IAM simulator is an npm package)"
    completed = subprocess.run(
        [node, str(REPO / "tests" / "iam_simulate.cjs")],
        input=json.dumps(simulations),
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    results = json.loads(completed.stdout)
    errors = [r for r in results if r["result"] == "error"]
    assert not errors, errors
    return [r["result"] for r in results]


def _wrongly_decided(cases: list[tuple[dict, bool, str]]) -> list[tuple[str, str]]:
    """(why, simulator's answer) of every case whose answer is not the expected allow (True) or deny (False)."""
    results = _simulate([case for case, _, _ in cases])
    return [(why, got) for (_, allowed, why), got in zip(cases, results, strict=True) if (got == "Allowed") != allowed]


def _request(aws: AwsBootstrap, stage: str, role: str, action: str, resource: str, resource_account: str, **context):
    principal, _ = aws.roles[(stage, role)]
    managed = POWER_USER if role == "apply" else READ_ONLY_S3
    return {
        "request": {
            "principal": principal,
            "action": action,
            "resource": {"resource": resource, "accountId": resource_account},
            "contextVariables": {"aws:SecureTransport": "true", **context},
        },
        "identityPolicies": [
            {"name": "managed", "policy": managed},
            {"name": "inline", "policy": aws.inline[(stage, role)]},
        ],
        "serviceControlPolicies": [],
        "resourceControlPolicies": [],
        "resourcePolicy": aws.bucket_policy if resource.startswith("arn:aws:s3:::") else None,
    }


def _state(stage: str, name: str = "terraform.tfstate", quotas: bool = False) -> str:
    return f"arn:aws:s3:::{BUCKET}/aws-{stage}{'-quotas' if quotas else ''}/{name}"


@pytest.mark.parametrize("state_account", ["separate", "same-as-stage"])
def test_aws_each_stage_reads_and_writes_only_its_own_state(aws, state_account):
    cases = []
    for stage in STAGES:
        account = aws.roles[(stage, "apply")][1]
        bucket_account = STATE_ACCOUNT if state_account == "separate" else account
        for other in STAGES:
            own = other == stage
            for quotas in (False, True):
                for role in ("plan", "apply"):
                    read = _request(aws, stage, role, "s3:GetObject", _state(other, quotas=quotas), bucket_account)
                    cases.append((read, "Allowed" if own else "Denied", f"{stage} {role} reads {other} state"))
                    write = _request(aws, stage, role, "s3:PutObject", _state(other, quotas=quotas), bucket_account)
                    allowed = own and role == "apply"
                    cases.append((write, "Allowed" if allowed else "Denied", f"{stage} {role} writes {other} state"))
                lock = _request(
                    aws,
                    stage,
                    "plan",
                    "s3:PutObject",
                    _state(other, "terraform.tfstate.tflock", quotas),
                    bucket_account,
                )
                cases.append((lock, "Allowed" if own else "Denied", f"{stage} plan locks {other} state"))
    assert _wrongly_decided([(case, expected == "Allowed", why) for case, expected, why in cases]) == []


def test_aws_plan_roles_read_the_viewer_key_and_only_apply_roles_the_master_key(aws):
    cases = []
    for stage in STAGES:
        for owner in STAGES:
            owner_account = aws.roles[(owner, "apply")][1]
            for key_name in ("master-key", "litellm-viewer-key"):
                arn = f"arn:aws:secretsmanager:eu-west-1:{owner_account}:secret:acme-{owner}-{key_name}-Ab12Cd"
                for role in ("plan", "apply"):
                    expected = owner == stage and (key_name == "master-key") == (role == "apply")
                    if role == "apply" and owner == stage:
                        expected = True  # PowerUserAccess reads every secret of its own account
                    request = _request(aws, stage, role, "secretsmanager:GetSecretValue", arn, owner_account)
                    cases.append((request, expected, f"{stage} {role} reads {owner} {key_name}"))
    assert _wrongly_decided(cases) == []


def test_aws_apply_roles_cannot_escalate(aws):
    cases = []
    for stage in STAGES:
        account = aws.roles[(stage, "apply")][1]
        boundary = f"arn:aws:iam::{account}:policy/acme-{stage}-ci-boundary"
        admin = "arn:aws:iam::aws:policy/AdministratorAccess"
        own_ci = f"arn:aws:iam::{account}:role/acme-{stage}-ci-apply"
        workload = f"arn:aws:iam::{account}:role/acme-{stage}-gateway-task"

        def ask(action, resource, expected, why, stage=stage, account=account, **context):
            cases.append((_request(aws, stage, "apply", action, resource, account, **context), expected, why))

        ask("iam:AttachRolePolicy", own_ci, False, "attach admin to itself", **{"iam:PolicyARN": admin})
        ask("iam:PutRolePolicy", own_ci, False, "inline policy on itself", **{"iam:PermissionsBoundary": boundary})
        ask("iam:UpdateAssumeRolePolicy", own_ci, False, "change its own trust")
        ask("iam:CreatePolicyVersion", boundary, False, "rewrite its boundary")
        ask("iam:CreateRole", workload, False, "create a role without the boundary")
        ask(
            "iam:CreateRole", workload, True, "create a role with the boundary", **{"iam:PermissionsBoundary": boundary}
        )
        ask(
            "iam:AttachRolePolicy",
            workload,
            True,
            "attach a policy to a bounded role",
            **{"iam:PermissionsBoundary": boundary, "iam:PolicyARN": admin},
        )
        ask("iam:AttachRolePolicy", workload, False, "attach a policy to an unbounded role", **{"iam:PolicyARN": admin})
        ask("iam:DeleteRolePermissionsBoundary", workload, False, "remove a boundary")
        for other in STAGES:
            if other != stage:
                other_role = f"arn:aws:iam::{account}:role/acme-{other}-x"
                ask(
                    "iam:CreateRole",
                    other_role,
                    False,
                    f"create a {other} role",
                    **{"iam:PermissionsBoundary": boundary},
                )
    assert _wrongly_decided(cases) == []


def test_aws_a_role_created_within_the_boundary_never_reaches_the_state_or_iam(aws):
    simulations = []
    for stage in STAGES:
        account = aws.roles[(stage, "apply")][1]
        for action, resource, resource_account in (
            ("s3:GetObject", _state(stage), STATE_ACCOUNT),
            ("s3:GetObject", _state(stage), account),
            ("iam:CreateRole", f"arn:aws:iam::{account}:role/acme-{stage}-y", account),
            ("iam:AttachRolePolicy", f"arn:aws:iam::{account}:role/acme-{stage}-ci-apply", account),
        ):
            simulations.append(
                {
                    "request": {
                        "principal": f"arn:aws:iam::{account}:role/acme-{stage}-created",
                        "action": action,
                        "resource": {"resource": resource, "accountId": resource_account},
                        "contextVariables": {"aws:SecureTransport": "true"},
                    },
                    "identityPolicies": [{"name": "admin", "policy": ADMINISTRATOR}],
                    "permissionBoundaryPolicies": [{"name": "boundary", "policy": aws.boundaries[stage]}],
                    "serviceControlPolicies": [],
                    "resourceControlPolicies": [],
                    "resourcePolicy": aws.bucket_policy if action.startswith("s3:") else None,
                }
            )
    assert set(_simulate(simulations)) <= {"ImplicitlyDenied", "ExplicitlyDenied"}


def test_aws_simulator_control_a_stage_role_reads_its_state_and_an_admin_writes_anything(aws):
    """The simulator answers Allowed where it must: the checks above cannot pass by denying everything."""
    account = aws.roles[("dev", "apply")][1]
    control = _request(aws, "dev", "apply", "s3:PutObject", _state("dev"), account)
    admin = {**control, "identityPolicies": [{"name": "admin", "policy": ADMINISTRATOR}], "resourcePolicy": None}
    admin["request"] = {**control["request"], "principal": f"arn:aws:iam::{account}:role/admin"}
    assert _simulate([control, admin]) == ["Allowed", "Allowed"]


def test_aws_every_role_of_the_stage_stacks_carries_the_stage_boundary(synthesized):
    for name, stack in synthesized.items():
        if not name.startswith("aws-") or name == "aws-bootstrap":
            continue
        env = name.split("-")[1]
        for role in stack["resource"].get("aws_iam_role", {}).values():
            assert role["permissions_boundary"].endswith(f":policy/acme-{env}-ci-boundary"), (name, role["name"])
            assert role["name"].startswith(f"acme-{env}-"), (name, role["name"])


# --- the condition evaluators answer both ways -------------------------------------------------------


def test_the_condition_evaluators_allow_and_deny_and_refuse_unknown_forms():
    assert cel('resource.name.startsWith("a/") || resource.name.endsWith(".x")', "b/c.x")
    assert not cel('resource.name.startsWith("a/") && resource.name.endsWith(".x")', "b/c.x")
    assert cel('resource.name.extract("/secrets/{s}/") == "k"', "projects/p/secrets/k/versions/1")
    assert not cel('resource.name.extract("/secrets/{s}/") == "k"', "projects/p/secrets/k2/versions/1")
    with pytest.raises(UnknownForm):
        cel('resource.type == "storage.googleapis.com/Object"', "x")
    policy = {
        "Version": "1",
        "Statement": [
            {"Effect": "Allow", "Action": ["ecs:*"], "Resource": ["*"]},
            {"Effect": "Deny", "Action": ["ecs:Delete*"], "Resource": ["acs:ecs:*:*:instance/i-1"]},
        ],
    }
    assert ram_allows(policy, "ecs:DescribeInstances", "*")
    assert not ram_allows(policy, "ecs:DeleteInstance", "acs:ecs:*:*:instance/i-1")
    assert not ram_allows(policy, "vpc:DeleteVpc", "*")
    with pytest.raises(UnknownForm):
        ram_allows({"Version": "1", "Statement": [{**policy["Statement"][0], "NotResource": ["x"]}]}, "ecs:A", "*")


# --- Google Cloud ------------------------------------------------------------------------------------

GCS_STATE_BUCKET = "acme-llmgw-tfstate-gcp"
# Roles that change IAM policies: none may be held by a stage's CI account.
IAM_POLICY_ROLES = {
    "roles/owner",
    "roles/editor",
    "roles/resourcemanager.projectIamAdmin",
    "roles/iam.securityAdmin",
    "roles/iam.roleAdmin",
    "roles/resourcemanager.folderAdmin",
    "roles/resourcemanager.organizationAdmin",
}
# Object permissions of the storage roles granted (https://cloud.google.com/storage/docs/access-control/iam-roles).
STORAGE_ROLE_ACCESS = {"roles/storage.objectViewer": {"read"}, "roles/storage.objectUser": {"read", "write"}}


def _gcp_accounts(stack: dict) -> dict[str, tuple[str, str]]:
    """Terraform id of each CI service account -> (stage, role)."""
    return {
        key: re.fullmatch(r"acme-(\w+)-ci-(plan|apply)", account["account_id"]).groups()
        for key, account in stack["resource"]["google_service_account"].items()
    }


def _gcp_member_of(binding: dict, accounts: dict) -> tuple[str, str]:
    return accounts[re.search(r"google_service_account\.([\w-]+)\.email", binding["member"]).group(1)]


def _gcs_access(stack: dict, stage: str, role: str, object_name: str) -> set[str]:
    accounts = _gcp_accounts(stack)
    access: set[str] = set()
    resource = f"projects/_/buckets/{GCS_STATE_BUCKET}/objects/{object_name}"
    for binding in stack["resource"]["google_storage_bucket_iam_member"].values():
        if binding["bucket"] != GCS_STATE_BUCKET and "google_storage_bucket" not in binding["bucket"]:
            continue
        if _gcp_member_of(binding, accounts) != (stage, role):
            continue
        condition = binding.get("condition", {}).get("expression")
        if condition is not None:
            # Terraform interpolates the bucket's name into the expression.
            condition = re.sub(r"\$\{google_storage_bucket\.[^}]+\.name\}", GCS_STATE_BUCKET, condition)
        if condition is None or cel(condition, resource):
            access |= STORAGE_ROLE_ACCESS[binding["role"]]
    return access


def test_gcp_each_stage_reads_and_writes_only_its_own_state(synthesized):
    stack = synthesized["gcp-bootstrap"]
    for stage in STAGES:
        for role in ("plan", "apply"):
            for other in STAGES:
                for name in (f"gcp-{other}", f"gcp-{other}-quotas"):
                    own = other == stage
                    state = _gcs_access(stack, stage, role, f"{name}/default.tfstate")
                    lock = _gcs_access(stack, stage, role, f"{name}/default.tflock")
                    assert state == ({"read", "write"} if own and role == "apply" else {"read"} if own else set()), (
                        stage,
                        role,
                        name,
                        state,
                    )
                    assert lock == ({"read", "write"} if own else set()), (stage, role, name, lock)


def test_gcp_litellm_keys_plan_gets_the_viewer_key_apply_the_master_key_of_its_stage_only(synthesized):
    stack = synthesized["gcp-bootstrap"]
    accounts = _gcp_accounts(stack)
    projects = {loaded: f"acme-llmgw-{loaded}" for loaded in STAGES}
    for binding in stack["resource"]["google_project_iam_member"].values():
        stage, role = _gcp_member_of(binding, accounts)
        assert binding["project"] == projects[stage], "a stage's CI roles are granted in its own project only"
        if binding["role"] != "roles/secretmanager.secretAccessor":
            continue
        expression = binding["condition"]["expression"]
        for owner in STAGES:
            for key_name in ("master-key", "litellm-viewer-key"):
                name = f"projects/{projects[stage]}/secrets/acme-{owner}-{key_name}/versions/1"
                expected = owner == stage and (key_name == "master-key") == (role == "apply")
                assert cel(expression, name) == expected, (stage, role, owner, key_name)


def test_gcp_ci_accounts_can_grant_only_the_project_roles_the_stacks_bind(synthesized):
    """No unconditional IAM-policy role; projectIamAdmin only under a `modifiedGrantsByRole` condition
    (https://cloud.google.com/iam/docs/setting-limits-on-granting-roles) admitting exactly the project roles the
    gateway stacks bind, and the plan identity none of it."""
    stack = synthesized["gcp-bootstrap"]
    accounts = _gcp_accounts(stack)
    stack_roles = ("roles/cloudsql.client", "roles/monitoring.metricWriter")
    limited = "api.getAttribute('iam.googleapis.com/modifiedGrantsByRole', []).hasOnly([{}])".format(
        ", ".join(f"'{role}'" for role in stack_roles)
    )
    policy_admins = []
    for binding in stack["resource"]["google_project_iam_member"].values():
        if binding["role"] not in IAM_POLICY_ROLES:
            continue
        assert binding["role"] == "roles/resourcemanager.projectIamAdmin", binding["role"]
        assert binding["condition"]["expression"] == limited
        policy_admins.append(_gcp_member_of(binding, accounts))
    assert sorted(policy_admins) == sorted((stage, "apply") for stage in STAGES)
    # What the stacks bind at project level stays inside that list (so a CI apply can create it).
    for name, stage_stack in synthesized.items():
        if name.startswith("gcp-") and name != "gcp-bootstrap":
            kinds = {kind for kind in stage_stack.get("resource", {}) if kind.startswith("google_project_iam")}
            assert kinds <= {"google_project_iam_member"}, name
            roles = {body["role"] for body in stage_stack["resource"].get("google_project_iam_member", {}).values()}
            assert roles <= set(stack_roles), (name, roles)


def test_gcp_each_account_is_impersonable_by_its_own_subject_only(synthesized):
    stack = synthesized["gcp-bootstrap"]
    accounts = _gcp_accounts(stack)
    for binding in stack["resource"]["google_service_account_iam_member"].values():
        key = re.search(r"google_service_account\.([\w-]+)\.name", binding["service_account_id"]).group(1)
        stage, role = accounts[key]
        suffix = f"{stage}-plan" if role == "plan" else stage
        assert binding["member"].endswith(f"/subject/repo:acme/llm-gateway:environment:{suffix}")


ACT_AS = "iam.serviceAccounts.actAs"


def _gcp_stage_stacks(synthesized: dict) -> dict[str, dict]:
    return {name: stack for name, stack in synthesized.items() if name.startswith("gcp-") and name != "gcp-bootstrap"}


def _gcp_attached_accounts(stack: dict) -> dict[str, list[str]]:
    """`google_service_account.<address>` a Cloud Run service or job runs as -> addresses of those services/jobs."""
    attached: dict[str, list[str]] = {}
    runs_as = [
        (f"google_cloud_run_v2_service.{address}", body["template"].get("service_account"))
        for address, body in stack.get("resource", {}).get("google_cloud_run_v2_service", {}).items()
    ] + [
        (f"google_cloud_run_v2_job.{address}", body["template"]["template"].get("service_account"))
        for address, body in stack.get("resource", {}).get("google_cloud_run_v2_job", {}).items()
    ]
    for runner, account in runs_as:
        assert account, f"{runner} runs as the default compute account"
        attached.setdefault(reference_of(account), []).append(runner)
    return attached


def test_gcp_no_identity_acts_as_service_accounts_project_wide(synthesized):
    """Project-level actAs (roles/iam.serviceAccountUser, or any role holding iam.serviceAccounts.actAs) would let a
    CI identity act as every account of the project, the CI accounts of other stages included."""
    iam = GcpIam(synthesized["gcp-bootstrap"], _gcp_stage_stacks(synthesized))
    assert iam.project_bindings
    for email, project, role, _ in iam.project_bindings:
        assert ACT_AS not in iam.permissions(role), (email, project, role)


def test_gcp_apply_identity_acts_as_exactly_the_accounts_its_stage_attaches(synthesized):
    """Each stage's apply identity may act as the accounts its stage's Cloud Run services and job run as (Cloud Run
    refuses to deploy one otherwise: https://cloud.google.com/run/docs/configuring/jobs/service-identity, "Required
    roles"), and as no other account of any stage; plan identities as none. The deploying resource waits for the
    grant, so a first apply never races it."""
    stacks = _gcp_stage_stacks(synthesized)
    iam = GcpIam(synthesized["gcp-bootstrap"], stacks)
    checked = 0
    for name, stack in stacks.items():
        stage = name.split("-")[1]
        attached = _gcp_attached_accounts(stack)
        grants = {
            reference_of(body["service_account_id"]): f"google_service_account_iam_member.{address}"
            for address, body in stack["resource"].get("google_service_account_iam_member", {}).items()
        }
        for address, body in stack["resource"].get("google_service_account", {}).items():
            reference = f"google_service_account.{address}"
            email = f"{body['account_id']}@{project_of(stack)}.iam.gserviceaccount.com"
            target = Target(name, reference, project_of(stack), f"projects/{project_of(stack)}/serviceAccounts/{email}")
            for (account_stage, role), ci_email in iam.ci_accounts.items():
                expected = role == "apply" and account_stage == stage and reference in attached
                assert iam.holds(ci_email, ACT_AS, target) == expected, (name, body["account_id"], account_stage, role)
                checked += 1
            for runner in attached.get(reference, []):
                runner_type, runner_address = runner.split(".")
                depends_on = stack["resource"][runner_type][runner_address].get("depends_on", [])
                assert reference in grants, f"no actAs grant on {reference}, which {runner} runs as"
                assert grants[reference] in depends_on, f"{runner} does not wait for the actAs grant"
    assert checked and all(_gcp_attached_accounts(synthesized[f"gcp-{stage}"]) for stage in STAGES), (
        "the example gateways run Cloud Run services"
    )


def test_gcp_dependencies_only_gateway_lets_no_identity_act_as_its_accounts(tmp_path):
    """Without Cloud Run (the runtime runs elsewhere) nothing here attaches an account: no actAs grant at all."""
    from tests.test_gcp_stack_options import _load, _synth

    stack = _synth(_load(tmp_path, {"create_runtime": False, "external_gateway_url": "https://llm.gke.acme.example"}))
    assert stack["resource"]["google_service_account"]
    assert not _gcp_attached_accounts(stack)
    assert not stack["resource"].get("google_service_account_iam_member")


# --- Alibaba Cloud -----------------------------------------------------------------------------------

ALI_ACCOUNT = "1234567890123456"
ALI_REGION = "cn-shanghai"
ALI_BUCKET = "acme-llmgw-tfstate-ali"


def _ali_policies(stack: dict) -> dict[tuple[str, str], dict]:
    policies = {}
    for policy in stack["resource"]["alicloud_ram_policy"].values():
        stage, role = re.fullmatch(r"acme-(\w+)-ci-(plan|apply)", policy["policy_name"]).groups()
        text = policy["policy_document"].replace("${data.alicloud_account.account.id}", ALI_ACCOUNT)
        text = re.sub(r"\$\{alicloud_kms_key\.[^}]+\.arn\}", f"acs:kms:{ALI_REGION}:{ALI_ACCOUNT}:key/state", text)
        assert "${" not in text, text
        policies[(stage, role)] = json.loads(text)
    return policies


@pytest.fixture(scope="module")
def ali(synthesized) -> dict[tuple[str, str], dict]:
    return _ali_policies(synthesized["alicloud-bootstrap"])


def test_alicloud_each_stage_reaches_only_its_own_state_and_lock_rows(ali, example_environments):
    instance = example_environments[0].config.cloud("alicloud").state.tablestore_instance
    for (stage, role), policy in ali.items():
        for other in STAGES:
            own = other == stage
            for name in (f"alicloud-{other}", f"alicloud-{other}-quotas"):
                state = f"acs:oss:*:{ALI_ACCOUNT}:{ALI_BUCKET}/{name}/terraform.tfstate"
                assert ram_allows(policy, "oss:GetObject", state) == own, (stage, role, name)
                assert ram_allows(policy, "oss:PutObject", state) == (own and role == "apply"), (stage, role, name)
                # A request may carry any tag: the state is never reachable through a tag condition.
                tagged = {"acs:RequestTag/environment": stage, "acs:ResourceTag/environment": stage}
                assert ram_allows(policy, "oss:PutObject", state, tagged) == (own and role == "apply")
            table = f"acs:ots:{ALI_REGION}:{ALI_ACCOUNT}:instance/{instance}/table/terraform_lock_{other}"
            assert ram_allows(policy, "ots:PutRow", table) == own, (stage, role, other)


def test_alicloud_secrets_of_other_stages_are_out_of_reach(ali):
    for (stage, role), policy in ali.items():
        for other in STAGES:
            secret = f"acs:kms:{ALI_REGION}:{ALI_ACCOUNT}:secret/acme-{other}-master-key"
            assert ram_allows(policy, "kms:GetSecretValue", secret) == (other == stage), (stage, role, other)


def test_alicloud_apply_roles_change_only_resources_tagged_with_their_stage(ali):
    for stage in STAGES:
        policy = ali[(stage, "apply")]
        instance = f"acs:ecs:{ALI_REGION}:{ALI_ACCOUNT}:instance/i-0001"
        for other in STAGES:
            tagged = {"acs:ResourceTag/environment": other}
            assert ram_allows(policy, "ecs:DeleteInstance", instance, tagged) == (other == stage)
            assert ram_allows(policy, "rds:DeleteDBInstance", "*", tagged) == (other == stage)
            created = {"acs:RequestTag/environment": other}
            assert ram_allows(policy, "ecs:RunInstances", "*", created) == (other == stage)
        assert not ram_allows(policy, "ecs:DeleteInstance", instance), "an untagged resource is out of reach"
        assert not ram_allows(
            ali[(stage, "plan")], "ecs:DeleteInstance", instance, {"acs:ResourceTag/environment": stage}
        )


def test_alicloud_apply_roles_cannot_escalate(ali):
    for stage in STAGES:
        policy = ali[(stage, "apply")]
        own_ci = f"acs:ram::{ALI_ACCOUNT}:role/acme-{stage}-ci-apply"
        assert not ram_allows(policy, "ram:AttachPolicyToRole", own_ci)
        assert not ram_allows(policy, "ram:UpdateRole", own_ci)
        assert not ram_allows(policy, "ram:CreatePolicyVersion", f"acs:ram::{ALI_ACCOUNT}:policy/acme-{stage}-ci-apply")
        assert not ram_allows(policy, "ram:AttachPolicyToRole", f"acs:ram::{ALI_ACCOUNT}:role/acme-x-app")
        assert ram_allows(policy, "ram:CreateRole", f"acs:ram::{ALI_ACCOUNT}:role/acme-{stage}-app")
        for other in STAGES:
            if other != stage:
                assert not ram_allows(policy, "ram:CreateRole", f"acs:ram::{ALI_ACCOUNT}:role/acme-{other}-app")
