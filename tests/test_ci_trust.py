"""GitHub Actions OIDC trust in the bootstrap stacks: exact subjects, one plan + one apply identity per stage."""

from __future__ import annotations

import json
import re

import pytest

from constructs_lib._common.ci_identity import GITHUB_OIDC_ISSUER, oidc_subject

REPOSITORY = "acme/llm-gateway"
# Only the environments have CI identities: the bootstrap stacks are applied by an administrator.
STAGES = ("dev", "staging", "prod")


def _resources(stack: dict, kind: str) -> dict[str, dict]:
    return stack.get("resource", {}).get(kind, {})


def _expected_subjects() -> set[str]:
    return {oidc_subject(REPOSITORY, stage, role) for stage in STAGES for role in ("plan", "apply")}


def test_subjects_are_exact_per_stage_and_role():
    assert oidc_subject(REPOSITORY, "prod", "plan") == "repo:acme/llm-gateway:environment:prod-plan"
    assert oidc_subject(REPOSITORY, "prod", "apply") == "repo:acme/llm-gateway:environment:prod"


def test_aws_roles_trust_one_exact_subject_each(synthesized):
    stack = synthesized["aws-bootstrap"]
    roles = _resources(stack, "aws_iam_role")
    subjects = set()
    for role in roles.values():
        (statement,) = json.loads(role["assume_role_policy"])["Statement"]
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert set(statement["Condition"]) == {"StringEquals"}, "no StringLike: wildcards are never trusted"
        condition = statement["Condition"]["StringEquals"]
        assert condition["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"
        subject = condition["token.actions.githubusercontent.com:sub"]
        assert "*" not in subject
        stage, role_kind = re.fullmatch(r"acme-(\w+)-ci-(plan|apply)", role["name"]).groups()
        assert subject == oidc_subject(REPOSITORY, stage, role_kind)
        subjects.add(subject)
    assert subjects == _expected_subjects()
    providers = _resources(stack, "aws_iam_openid_connect_provider")
    assert {provider["url"] for provider in providers.values()} == {GITHUB_OIDC_ISSUER}
    assert all(provider["client_id_list"] == ["sts.amazonaws.com"] for provider in providers.values())


def test_aws_environment_roles_live_in_their_own_accounts(synthesized, example_environments):
    stack = synthesized["aws-bootstrap"]
    aliased = {provider["alias"]: provider for provider in stack["provider"]["aws"] if "alias" in provider}
    for loaded in example_environments:
        account = loaded.config.cloud("aws").account_id
        provider = aliased[f"account_{account}"]
        assert provider["allowed_account_ids"] == [account]
        assert provider["assume_role"][0]["role_arn"] == f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole"
        for role in _resources(stack, "aws_iam_role").values():
            if role["name"].startswith(f"acme-{loaded.config.env}-ci-"):
                assert role["provider"] == f"aws.account_{account}"


def test_aws_plan_role_is_read_only_and_apply_role_manages_only_its_stage(synthesized):
    stack = synthesized["aws-bootstrap"]
    attachments = {
        attachment["policy_arn"] for attachment in _resources(stack, "aws_iam_role_policy_attachment").values()
    }
    assert attachments == {"arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::aws:policy/PowerUserAccess"}
    for policy in _resources(stack, "aws_iam_role_policy").values():
        document = json.loads(policy["policy"])
        stage, role = re.fullmatch(r"acme-(\w+)-ci-(plan|apply)", policy["name"]).groups()
        for statement in document["Statement"]:
            allowed_iam = statement["Effect"] == "Allow" and statement["Action"][0].startswith("iam:")
            if allowed_iam and statement["Sid"] != "ServiceLinkedRoles":
                assert all(
                    f":role/acme-{stage}-*" in arn or f":policy/acme-{stage}-*" in arn for arn in statement["Resource"]
                )
            if "secretsmanager:GetSecretValue" in statement["Action"]:
                key_name = "master-key" if role == "apply" else "litellm-viewer-key"
                (resource,) = statement["Resource"]
                assert resource.endswith(f":secret:acme-{stage}-{key_name}-??????"), resource


def test_the_state_names_of_a_stage_are_the_stack_names_the_backends_use():
    from constructs_lib._common.ci_identity import stage_state_names
    from constructs_lib.config import load_all
    from stacks.catalog import stack_specs
    from tests.conftest import CONFIG_DIR

    for spec in stack_specs(load_all(CONFIG_DIR)):
        if spec.context.kind != "bootstrap":
            assert spec.name in stage_state_names(spec.context.cloud, spec.context.env), spec.name


def test_gcp_pool_admits_only_this_repository_and_accounts_one_subject(synthesized):
    stack = synthesized["gcp-bootstrap"]
    (provider,) = _resources(stack, "google_iam_workload_identity_pool_provider").values()
    condition = provider["attribute_condition"]
    assert condition.startswith(f'assertion.repository == "{REPOSITORY}" && (')
    admitted = set(re.findall(r'assertion\.sub == "([^"]+)"', condition))
    assert admitted == _expected_subjects()
    assert provider["oidc"]["issuer_uri"] == GITHUB_OIDC_ISSUER
    bindings = _resources(stack, "google_service_account_iam_member").values()
    subjects = set()
    for binding in bindings:
        assert binding["role"] == "roles/iam.workloadIdentityUser"
        assert binding["member"].startswith("principal://iam.googleapis.com/"), "never a principalSet"
        subjects.add(binding["member"].split("/subject/")[1])
    assert subjects == _expected_subjects()


def test_gcp_plan_accounts_get_read_roles_and_only_the_master_key_secret(synthesized):
    stack = synthesized["gcp-bootstrap"]
    accounts = {key: account["account_id"] for key, account in _resources(stack, "google_service_account").items()}
    for member in _resources(stack, "google_project_iam_member").values():
        account_key = re.search(r"google_service_account\.([\w-]+)\.email", member["member"]).group(1)
        stage, role_kind = re.fullmatch(r"acme-(\w+)-ci-(plan|apply)", accounts[account_key]).groups()
        if member["role"] == "roles/secretmanager.secretAccessor":
            key_name = "master-key" if role_kind == "apply" else "litellm-viewer-key"
            assert member["condition"]["expression"].endswith(f'== "acme-{stage}-{key_name}"')
        elif role_kind == "plan" and member["role"].startswith("${google_project_iam_custom_role."):
            # What a refresh reads beyond the read roles (tests/test_gcp_plan_refresh.py), in the stage's project.
            custom = _resources(stack, "google_project_iam_custom_role")[member["role"].split(".")[1]]
            assert custom["permissions"] == ["redis.instances.getAuthString"]
            assert custom["project"] == member["project"] == f"acme-llmgw-{stage}"
        elif role_kind == "plan":
            assert member["role"] in {"roles/viewer", "roles/iam.securityReviewer"}
        else:
            assert member["role"] not in {"roles/owner", "roles/editor"}
    plan_lock_grants = [
        grant for grant in _resources(stack, "google_storage_bucket_iam_member").values() if "condition" in grant
    ]
    assert plan_lock_grants and all(
        grant["condition"]["expression"].endswith('&& resource.name.endsWith(".tflock")')
        for grant in plan_lock_grants
        if grant["role"] == "roles/storage.objectUser" and "plan" in grant["member"]
    )


def test_alicloud_roles_trust_issuer_audience_and_exact_subject(synthesized):
    stack = synthesized["alicloud-bootstrap"]
    (provider,) = _resources(stack, "alicloud_ims_oidc_provider").values()
    assert provider["issuer_url"] == GITHUB_OIDC_ISSUER
    assert provider["client_ids"] == ["sts.aliyuncs.com"]
    subjects = set()
    for role in _resources(stack, "alicloud_ram_role").values():
        (statement,) = json.loads(role["assume_role_policy_document"])["Statement"]
        condition = statement["Condition"]["StringEquals"]
        assert condition["oidc:iss"] == GITHUB_OIDC_ISSUER
        assert condition["oidc:aud"] == "sts.aliyuncs.com"
        stage, role_kind = re.fullmatch(r"acme-(\w+)-ci-(plan|apply)", role["role_name"]).groups()
        assert condition["oidc:sub"] == oidc_subject(REPOSITORY, stage, role_kind)
        subjects.add(condition["oidc:sub"])
    assert subjects == _expected_subjects()


def test_alicloud_plan_policies_never_read_secrets_beyond_their_stage(synthesized):
    stack = synthesized["alicloud-bootstrap"]
    for policy in _resources(stack, "alicloud_ram_policy").values():
        stage, role_kind = re.fullmatch(r"acme-(\w+)-ci-(plan|apply)", policy["policy_name"]).groups()
        for statement in json.loads(policy["policy_document"])["Statement"]:
            actions = statement["Action"]
            if any(action.startswith("kms:") for action in actions) and statement["Resource"] == ["*"]:
                assert not {"kms:*", "kms:GetSecretValue", "kms:Get*"} & set(actions), statement
            if actions == ["ram:CreateServiceLinkedRole"]:  # only for named services (test_alicloud_apply.py)
                assert role_kind == "apply" and statement["Condition"]["StringEquals"]["ram:ServiceName"]
                continue
            if any(action.startswith("ram:") and not action.startswith(("ram:Get", "ram:List")) for action in actions):
                assert role_kind == "apply"
                if statement["Effect"] == "Allow":
                    assert all(resource.split("/")[-1] == f"acme-{stage}-*" for resource in statement["Resource"])


def test_alicloud_fingerprints_are_validated(example_environments):
    from pydantic import ValidationError

    from constructs_lib.config.ci import CiConfig

    assert len(CiConfig().alicloud_oidc_fingerprints) == 2
    with pytest.raises(ValidationError, match="alicloud_oidc_fingerprints"):
        CiConfig(alicloud_oidc_fingerprints=["not-a-thumbprint"])


@pytest.mark.parametrize("stack_name", ["aws-bootstrap", "gcp-bootstrap", "alicloud-bootstrap"])
def test_every_stage_identity_is_an_output(synthesized, stack_name):
    outputs = set(synthesized[stack_name]["output"])
    for stage in STAGES:
        assert {name for name in outputs if name.startswith(f"{stage}_")} == {
            f"{stage}_plan_{_kind(stack_name)}",
            f"{stage}_apply_{_kind(stack_name)}",
        }


def _kind(stack_name: str) -> str:
    return "service_account" if stack_name.startswith("gcp") else "role_arn"
