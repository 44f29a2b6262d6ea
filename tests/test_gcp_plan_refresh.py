"""A CI plan refreshes every resource of its stage's stacks: the plan identity must hold each permission those
refreshes call (tests/fixtures/gcp_refresh_permissions.tsv: resource type -> API call -> permission, each line citing
the google provider's Read at v6.50.0), on the resource it applies to.

Grants are evaluated from the synthesized stacks (tests/gcp_iam.py): the plan account's project roles and custom
role from gcp-bootstrap, the IAM members the stage stacks put on their own resources, predefined roles' permissions
from Google's roles API (tests/fixtures/gcp_predefined_roles.json). gcp-bootstrap itself is applied by an
administrator and never planned by CI (docs/CI.md), so it is not among the stacks checked.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pytest

from constructs_lib.gcp.ci_trust import PLAN_REFRESH_PERMISSIONS
from tests.gcp_iam import ROLES_FIXTURE, GcpIam, Target, project_of, reference_of
from tests.test_gcp_stack_options import _load, _synth

TABLE = Path(__file__).parent / "fixtures" / "gcp_refresh_permissions.tsv"
STAGES = ("dev", "staging", "prod")


@dataclass(frozen=True)
class Call:
    kind: str
    method: str
    permission: str
    when: str
    target: str
    source: str


def _table() -> list[Call]:
    lines = [line for line in TABLE.read_text().splitlines() if line and not line.startswith("#")]
    calls = [Call(*row) for row in csv.reader(lines, delimiter="\t")]
    for call in calls:
        assert call.source.strip(), f"{call.kind} {call.permission}: no source"
        assert call.when in {"always", "auth_enabled", "reads_payload", "-"}, call
    return calls


CALLS = _table()


def _stage_stacks(synthesized: dict, stage: str) -> dict[str, dict]:
    return {name: synthesized[name] for name in (f"gcp-{stage}", f"gcp-{stage}-quotas")}


def _instances(stack: dict):
    """(table kind, address, body) of every resource, data source and ephemeral resource of a stack."""
    for block, prefix in (("resource", ""), ("data", "data."), ("ephemeral", "ephemeral.")):
        for kind, instances in stack.get(block, {}).items():
            for address, body in instances.items():
                yield f"{prefix}{kind}", address, body


def _applies(call: Call, body: dict) -> bool:
    if call.when == "always":
        return True
    if call.when == "auth_enabled":
        return body.get("auth_enabled") is True
    if call.when == "reads_payload":
        return "secret_data" in body and "secret_data_wo_version" not in body
    return False


def _target(stack_name: str, stack: dict, kind: str, address: str, body: dict, call: Call) -> Target:
    value = body.get(call.target, "")
    if call.target == "project":
        return Target(stack=stack_name, reference=f"projects/{value}", project=value, name=f"projects/{value}")
    if call.target != "self" and value.startswith("projects/"):
        # A resource named by its path, not created here (a CMEK key): checked in the project the path names.
        return Target(stack=stack_name, reference=value, project=value.split("/")[1], name=value)
    reference = f"{kind}.{address}" if call.target == "self" else reference_of(value)
    project = project_of(stack)
    resource_type, resource_address = reference.split(".", 1)
    name = f"//{reference}"
    if resource_type == "google_secret_manager_secret":
        secret_id = stack["resource"][resource_type][resource_address]["secret_id"]
        # A version's IAM resource name: what the conditional project bindings (ci_trust.py) are written against.
        name = f"projects/{project}/secrets/{secret_id}" + ("/versions/1" if "versions." in call.permission else "")
    return Target(stack=stack_name, reference=reference, project=project, name=name)


def test_every_resource_type_of_the_stage_stacks_is_in_the_table(synthesized):
    listed = {call.kind for call in CALLS}
    for stage in STAGES:
        for name, stack in _stage_stacks(synthesized, stage).items():
            missing = {kind for kind, _, _ in _instances(stack)} - listed
            assert not missing, f"{name}: add the refresh permissions of {sorted(missing)} to {TABLE.name}"


def test_the_plan_identity_holds_every_permission_a_refresh_calls(synthesized):
    missing = []
    for stage in STAGES:
        stacks = _stage_stacks(synthesized, stage)
        iam = GcpIam(synthesized["gcp-bootstrap"], stacks)
        plan = iam.ci_accounts[(stage, "plan")]
        for name, stack in stacks.items():
            for kind, address, body in _instances(stack):
                for call in (call for call in CALLS if call.kind == kind and call.permission != "-"):
                    if not _applies(call, body):
                        continue
                    target = _target(name, stack, kind, address, body, call)
                    if not iam.holds(plan, call.permission, target):
                        missing.append(f"{name}: {kind}.{address} needs {call.permission} on {target.reference}")
    assert not missing, "\n".join(missing)


CMEK = "projects/acme-llmgw-dev/locations/us-central1/keyRings/llm/cryptoKeys/sql"
OPTION_VARIANTS = {
    "connector-nat-cmek-metrics-collector": {
        "network": {"egress": "connector", "route_all_egress": True},
        "database": {"cmek_key": CMEK},
        "metrics": {"enabled": True},
    },
    "spend-collector": {"spend_collector": {"enabled": True}, "components": {"gateway": {"cpu": "4"}}},
    "dependencies-only": {"create_runtime": False, "external_gateway_url": "https://llm.gke.acme.example"},
}


@pytest.mark.parametrize("variant", sorted(OPTION_VARIANTS))
def test_the_options_resource_types_are_in_the_table_and_refresh_with_the_plan_identity(synthesized, tmp_path, variant):
    """The same check for a gcp-dev gateway synthesized with the options off in the examples (connector, NAT, a CMEK
    key in the stage's project, metrics, spend collector, dependencies-only mode)."""
    stack = _synth(_load(tmp_path, OPTION_VARIANTS[variant]))
    listed = {call.kind for call in CALLS}
    unlisted = {kind for kind, _, _ in _instances(stack)} - listed
    assert not unlisted, f"add the refresh permissions of {sorted(unlisted)} to {TABLE.name}"
    iam = GcpIam(synthesized["gcp-bootstrap"], {"gcp-dev": stack})
    plan = iam.ci_accounts[("dev", "plan")]
    missing = [
        f"{kind}.{address}: {call.permission}"
        for kind, address, body in _instances(stack)
        for call in CALLS
        if call.kind == kind and call.permission != "-" and _applies(call, body)
        if not iam.holds(plan, call.permission, _target("gcp-dev", stack, kind, address, body, call))
    ]
    assert not missing, missing


def test_the_conditional_calls_are_exercised_by_the_example_stacks(synthesized):
    """The table's conditions are not dead: dev has an auth_enabled Redis and payload-reading secret versions."""
    dev = synthesized["gcp-dev"]
    conditional = {call.when for call in CALLS if call.when not in ("always", "-")}
    seen = {
        call.when
        for kind, _, body in _instances(dev)
        for call in CALLS
        if call.kind == kind and call.when in conditional and _applies(call, body)
    }
    assert seen == conditional


def test_the_plan_identity_reads_no_payload_that_state_does_not_hold(synthesized):
    """Payload reads are granted only on secrets whose refresh reads them (values already in state); write-only
    values (master key, database password, agent keys) and out-of-band ones (provider keys) stay out of reach."""
    for stage in STAGES:
        stacks = _stage_stacks(synthesized, stage)
        iam = GcpIam(synthesized["gcp-bootstrap"], stacks)
        plan = iam.ci_accounts[(stage, "plan")]
        for name, stack in stacks.items():
            versions = stack["resource"].get("google_secret_manager_secret_version", {}).values()
            payload_read = {
                reference_of(body["secret"])
                for body in versions
                if "secret_data" in body and "secret_data_wo_version" not in body
            }
            for address, body in stack["resource"].get("google_secret_manager_secret", {}).items():
                reference = f"google_secret_manager_secret.{address}"
                target = Target(
                    name,
                    reference,
                    project_of(stack),
                    f"projects/{project_of(stack)}/secrets/{body['secret_id']}/versions/1",
                )
                readable = iam.holds(plan, "secretmanager.versions.access", target)
                assert readable == (reference in payload_read), (name, body["secret_id"], readable)


def test_the_custom_role_holds_only_what_no_resource_can_be_granted(synthesized):
    """The project-wide custom role is getAuthString only: a Memorystore instance has no IAM policy of its own."""
    assert PLAN_REFRESH_PERMISSIONS == ("redis.instances.getAuthString",)
    roles = synthesized["gcp-bootstrap"]["resource"]["google_project_iam_custom_role"]
    assert {tuple(body["permissions"]) for body in roles.values()} == {PLAN_REFRESH_PERMISSIONS}
    assert {body["project"] for body in roles.values()} == {f"acme-llmgw-{stage}" for stage in STAGES}


def test_the_recorded_roles_cover_every_permission_of_the_table():
    for call in CALLS:
        if call.permission != "-":
            assert call.permission.split(".")[0] in ROLES_FIXTURE["services"], call


@pytest.mark.parametrize(
    "permission", ["redis.instances.getAuthString", "secretmanager.versions.access", "storage.buckets.get"]
)
def test_the_plan_identity_project_roles_lack_what_the_refresh_grants_add(permission):
    """Why the extra grants exist: neither roles/viewer nor roles/iam.securityReviewer holds these."""
    for role in ("roles/viewer", "roles/iam.securityReviewer"):
        assert permission not in ROLES_FIXTURE["roles"][role]["permissions"], (role, permission)
