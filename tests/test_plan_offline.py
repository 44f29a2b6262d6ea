"""The offline plan: real `terraform plan` (which validates first) against the stand-in providers.

Small stacks are synthesized here with cdktf: one that must plan, and three that Terraform itself
must reject (an unknown argument written by an escape hatch, a reference to an attribute that does
not exist, a dependency cycle). `assert_stacks_plan` is the check for a whole cdktf.out.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from synth_speed import binding_bytecode
from tools import schemas_from_jsii
from tools.plan_offline import (
    SERVERS,
    PlanOfflineError,
    StackResult,
    discover_stacks,
    main,
    named_types,
    plan_stack,
    plan_stacks,
    stack_providers,
    terraform_env,
    write_cli_config,
)
from tools.standin_provider import protos, schema, server, values

REPO = Path(__file__).resolve().parent.parent


def assert_stacks_plan(out_dir: Path) -> list[StackResult]:
    """Every stack synthesized in out_dir validates and plans; failures show Terraform's own errors."""
    results = plan_stacks(out_dir)
    failed = [f"--- {result.name} ---\n{result.output}" for result in results if not result.ok]
    assert not failed, "\n".join(failed)
    return results


def _aws_base(app, name: str):
    from cdktf import TerraformStack
    from cdktf_cdktf_provider_aws.provider import AwsProvider

    stack = TerraformStack(app, name)
    AwsProvider(stack, "aws", region="us-east-1")
    return stack


def _valid_aws_stack(app) -> None:
    """Data sources feeding resources, set/list/single blocks, and an ephemeral password stored write-only."""
    from cdktf import Fn, TerraformOutput
    from cdktf_cdktf_provider_aws.data_aws_availability_zones import DataAwsAvailabilityZones
    from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
    from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
        DataAwsIamPolicyDocument,
        DataAwsIamPolicyDocumentStatement,
        DataAwsIamPolicyDocumentStatementPrincipals,
    )
    from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
    from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
    from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
    from cdktf_cdktf_provider_aws.secretsmanager_secret_version import SecretsmanagerSecretVersion
    from cdktf_cdktf_provider_random.provider import RandomProvider

    stack = _aws_base(app, "valid-aws")
    RandomProvider(stack, "random")
    me = DataAwsCallerIdentity(stack, "me")
    zones = DataAwsAvailabilityZones(stack, "zones", state="available")
    bucket = S3Bucket(stack, "bucket", bucket=f"logs-{me.account_id}", tags={"zone": Fn.element(zones.names, 0)})
    document = DataAwsIamPolicyDocument(
        stack,
        "document",
        statement=[
            DataAwsIamPolicyDocumentStatement(
                actions=["s3:GetObject"],
                resources=[f"arn:aws:s3:::logs-{me.account_id}/*"],
                principals=[DataAwsIamPolicyDocumentStatementPrincipals(type="AWS", identifiers=[me.arn])],
            )
        ],
    )
    S3BucketPolicy(stack, "policy", bucket=bucket.id, policy=document.json)
    secret = SecretsmanagerSecret(stack, "secret", name="gateway-key")
    # ephemeral resources are not in cdktf 0.21: the project writes them with an escape hatch
    stack.add_override("ephemeral", {"random_password": {"key": {"length": 32, "special": False}}})
    SecretsmanagerSecretVersion(
        stack,
        "secret-value",
        secret_id=secret.id,
        secret_string_wo="${ephemeral.random_password.key.result}",
        secret_string_wo_version=1,
    )
    TerraformOutput(stack, "bucket_arn", value=bucket.arn)


def _valid_google_stack(app) -> None:
    from cdktf import TerraformStack
    from cdktf_cdktf_provider_google.data_google_project import DataGoogleProject
    from cdktf_cdktf_provider_google.provider import GoogleProvider
    from cdktf_cdktf_provider_google.storage_bucket import StorageBucket

    stack = TerraformStack(app, "valid-google")
    GoogleProvider(stack, "google", project="example-project", region="europe-west1")
    project = DataGoogleProject(stack, "project")
    StorageBucket(
        stack,
        "bucket",
        name=f"logs-{project.number}",
        location="EU",
        uniform_bucket_level_access=True,
        labels={"project": project.project_id},
    )


def _unknown_argument_stack(app) -> None:
    from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket

    stack = _aws_base(app, "unknown-argument")
    S3Bucket(stack, "bucket", bucket="logs").add_override("not_an_argument", "value")


def _missing_attribute_stack(app) -> None:
    from cdktf import TerraformOutput
    from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket

    stack = _aws_base(app, "missing-attribute")
    bucket = S3Bucket(stack, "bucket", bucket="logs")
    TerraformOutput(stack, "missing", value=bucket.get_string_attribute("no_such_attribute"))


def _cycle_stack(app) -> None:
    from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket

    stack = _aws_base(app, "cycle")
    first = S3Bucket(stack, "first", bucket="first")
    second = S3Bucket(stack, "second", bucket="second", tags={"peer": first.bucket})
    first.add_override("tags", {"peer": second.bucket})


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory) -> Path:
    from cdktf import App

    out = tmp_path_factory.mktemp("plan-offline") / "cdktf.out"
    app = App(outdir=str(out))
    for build in (
        _valid_aws_stack,
        _valid_google_stack,
        _unknown_argument_stack,
        _missing_attribute_stack,
        _cycle_stack,
    ):
        build(app)
    app.synth()
    return out


def _plan(out_dir: Path, name: str) -> StackResult:
    (result,) = plan_stacks(out_dir, [name])
    return result


def test_valid_stacks_validate_and_plan(out_dir):
    results = {result.name: result for result in plan_stacks(out_dir, ["valid-aws", "valid-google"])}
    aws, google = results["valid-aws"], results["valid-google"]
    assert aws.ok, aws.output
    assert google.ok, google.output
    assert "Plan: 4 to add" in aws.output
    # computed attributes are unknown; data source placeholders flow into dependent arguments
    assert "+ arn" in aws.output and "(known after apply)" in aws.output
    assert '+ bucket                      = "logs-standin-account_id"' in aws.output
    assert "+ secret_string_wo         = (write-only attribute)" in aws.output
    assert '+ name                        = "logs-standin-number"' in google.output
    assert '+ "project" = "standin-project_id"' in google.output


def test_escape_hatch_writing_an_unknown_argument_fails(out_dir):
    result = _plan(out_dir, "unknown-argument")
    assert not result.ok
    # Terraform's wording for JSON configuration (native syntax says "Unsupported argument")
    assert "Extraneous JSON object property" in result.output
    assert 'No argument or block type is named "not_an_argument".' in result.output


def test_reference_to_a_missing_attribute_fails(out_dir):
    result = _plan(out_dir, "missing-attribute")
    assert not result.ok
    assert "Unsupported attribute" in result.output
    assert "no_such_attribute" in result.output


def test_dependency_cycle_fails(out_dir):
    result = _plan(out_dir, "cycle")
    assert not result.ok
    assert "Cycle:" in result.output


def test_cli_prints_one_line_per_stack_and_exits_non_zero_on_failure(out_dir, capsys):
    assert main(["--out", str(out_dir), "--stacks", "valid-google,cycle"]) == 1
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0].split()[:2] == ["cycle", "FAIL"]
    assert lines[1].split()[:2] == ["valid-google", "OK"]
    assert "=== cycle: terraform failed ===" in captured.err and "Cycle:" in captured.err


def test_no_synthesized_stacks_tells_to_synth_first(tmp_path, capsys):
    with pytest.raises(PlanOfflineError, match="run `make synth` first"):
        discover_stacks(tmp_path)
    assert main(["--out", str(tmp_path)]) == 2
    assert "make synth" in capsys.readouterr().err


def _plan_with(providers, name: str, stack_file: Path, scratch: Path) -> StackResult:
    scratch.mkdir()
    return plan_stack(name, stack_file, terraform_env(write_cli_config(scratch), SERVERS.reattach(providers)), scratch)


def _progress_and_plan(output: str) -> tuple[list[str], str]:
    """Terraform prints the progress of its parallel walk in any order, with the seconds each step took; the plan
    after it is ordered."""
    progress, _, plan = output.partition("Terraform used the selected providers")
    return sorted(re.sub(r"after \d+s", "after Ns", progress).splitlines()), plan


def test_serving_only_the_named_types_plans_exactly_as_the_whole_schema(out_dir, tmp_path):
    """The stand-ins serve the types the directory's stacks name (Terraform decodes a whole schema per run): the
    plan is the one the whole schema gives, and a type left out fails the run instead of passing."""
    stacks = discover_stacks(out_dir)
    trimmed = stack_providers([stacks["valid-aws"]], served_for=list(stacks.values()))
    assert {provider.served for provider in trimmed} == {
        named_types([json.loads(p.read_text()) for p in stacks.values()])
    }
    whole = [replace(provider, served=None) for provider in trimmed]
    results = [
        _plan_with(providers, "valid-aws", stacks["valid-aws"], tmp_path / label)
        for label, providers in (("trimmed", trimmed), ("whole", whole))
    ]
    assert all(result.ok for result in results), [result.output for result in results]
    assert _progress_and_plan(results[0].output) == _progress_and_plan(results[1].output)
    assert "Plan: 4 to add" in results[0].output
    # served for the Google stack only: the AWS stack's types are not served, and Terraform refuses them
    google_only = stack_providers([stacks["valid-aws"]], served_for=[stacks["valid-google"]])
    refused = _plan_with(google_only, "valid-aws", stacks["valid-aws"], tmp_path / "google-only")
    assert not refused.ok
    assert 'The provider hashicorp/aws does not support resource type "aws_s3_bucket".' in refused.output


def test_named_types_reads_every_block_that_names_a_schema_type():
    """Resources, data sources (a check block's scoped ones too) and ephemeral resources; Terraform's JSON syntax
    allows a block as one object or an array of objects."""
    config = {
        "resource": [{"aws_s3_bucket": {"a": {}}}, {"aws_s3_bucket_policy": {"b": {}}}],
        "data": {"aws_caller_identity": {"me": {}}},
        "check": {"health": {"data": {"http": {"probe": {}}}, "assert": []}},
        "ephemeral": {"random_password": {"key": {}}},
        "output": {"aws_not_a_type": {"value": 1}},
    }
    assert dict(named_types([config, {"resource": {"google_storage_bucket": {"c": {}}}}])) == {
        "resource_schemas": ("aws_s3_bucket", "aws_s3_bucket_policy", "google_storage_bucket"),
        "data_source_schemas": ("aws_caller_identity", "http"),
        "ephemeral_resource_schemas": ("random_password",),
    }


def test_served_entry_keeps_the_provider_block_and_only_the_named_types():
    entry = {
        "provider": {"block": {"attributes": {"region": {"type": "string", "optional": True}}}},
        "resource_schemas": {"aws_s3_bucket": {"block": {}}, "aws_instance": {"block": {}}},
        "data_source_schemas": {"aws_caller_identity": {"block": {}}},
    }
    served = schema.served_entry(entry, {"resource_schemas": ["aws_s3_bucket"], "data_source_schemas": []})
    assert served == {
        "provider": entry["provider"],
        "resource_schemas": {"aws_s3_bucket": {"block": {}}},
        "data_source_schemas": {},
    }
    assert schema.served_entry(entry, None) is entry


def test_recovered_aws_schema_keeps_nesting_flags_and_write_only():
    path = schemas_from_jsii.ensure_schema("aws")
    assert path.name == "aws@6.25.0.json"
    entry = json.loads(path.read_text())["provider_schemas"]["registry.terraform.io/hashicorp/aws"]
    instance = entry["resource_schemas"]["aws_instance"]["block"]
    assert instance["attributes"]["ami"] == {"type": "string", "optional": True, "computed": True}
    assert instance["attributes"]["arn"] == {"type": "string", "computed": True}
    assert instance["block_types"]["ebs_block_device"]["nesting_mode"] == "set"
    assert instance["block_types"]["cpu_options"]["max_items"] == 1
    assert instance["block_types"]["ebs_block_device"]["block"]["attributes"]["device_name"]["required"]
    version = entry["resource_schemas"]["aws_secretsmanager_secret_version"]["block"]["attributes"]
    assert version["secret_string_wo"] == {"type": "string", "optional": True, "write_only": True}
    zones = entry["data_source_schemas"]["aws_availability_zones"]["block"]
    assert zones["attributes"]["names"] == {"type": ["list", "string"], "computed": True}


def test_random_schema_has_the_hand_written_ephemeral_password():
    path = schemas_from_jsii.ensure_schema("random")
    assert path.name == "random@3.7.2.json"
    entry = json.loads(path.read_text())["provider_schemas"]["registry.terraform.io/hashicorp/random"]
    ephemeral = entry["ephemeral_resource_schemas"]["random_password"]["block"]["attributes"]
    assert ephemeral["length"]["required"] and ephemeral["result"]["sensitive"]
    assert "keepers" in entry["resource_schemas"]["random_password"]["block"]["attributes"]


def test_recovered_schemas_are_reused_and_keyed_by_generator_and_package(tmp_path, monkeypatch):
    """The cache lives outside the checkout (a clean clone reuses it); a changed generator gets a new file."""
    assert not schemas_from_jsii.DEFAULT_OUT.is_relative_to(REPO)
    assert binding_bytecode.default_cache_dir().parent / "schemas" == schemas_from_jsii.DEFAULT_OUT
    first = schemas_from_jsii.ensure_schema("random", tmp_path)
    written = first.stat().st_mtime_ns
    assert schemas_from_jsii.ensure_schema("random", tmp_path) == first
    assert first.stat().st_mtime_ns == written, "an up-to-date schema was written again"
    monkeypatch.setattr(schemas_from_jsii, "GENERATOR_VERSION", schemas_from_jsii.GENERATOR_VERSION + "-changed")
    second = schemas_from_jsii.ensure_schema("random", tmp_path)
    assert second.name == first.name and second.parent != first.parent
    assert second.read_bytes() == first.read_bytes()
    assert sorted(path.name for path in second.parent.iterdir()) == [second.name], "temporary files left behind"


@pytest.fixture(scope="module")
def aws_standin() -> server.StandinProvider:
    cache = REPO / ".cache" / "standin_provider"
    path = schemas_from_jsii.ensure_schema("aws")
    pb, _ = protos.load(cache)
    return server.StandinProvider(pb, schema.cached_response_bytes(path, "registry.terraform.io/hashicorp/aws", cache))


def _apply(standin: server.StandinProvider, type_name: str, planned: dict) -> dict:
    pb = standin.pb
    request = pb.ApplyResourceChange.Request(
        type_name=type_name,
        prior_state=pb.DynamicValue(msgpack=values.encode(None)),
        planned_state=pb.DynamicValue(msgpack=values.encode(planned)),
        config=pb.DynamicValue(msgpack=values.encode(planned)),
    )
    response = standin.ApplyResourceChange(request)
    assert not response.diagnostics, response.diagnostics
    return values.decode(response.new_state.msgpack)


def test_standin_applies_with_deterministic_computed_values_and_imports(aws_standin):
    """The offline-apply harness's generic behaviour (tools/standin_provider/behaviours): unknowns filled from
    the resource's known values, so the same resource gets the same ARN and another one a different ARN."""
    planned = {"bucket": "logs", "arn": values.UNKNOWN, "id": values.UNKNOWN, "tags": {"a": "b"}}
    first, again = _apply(aws_standin, "aws_s3_bucket", planned), _apply(aws_standin, "aws_s3_bucket", planned)
    other = _apply(aws_standin, "aws_s3_bucket", {**planned, "bucket": "other"})
    assert first == again and first["arn"] != other["arn"]
    assert first["bucket"] == "logs" and first["arn"].startswith("arn:aws:s3:")
    pb = aws_standin.pb
    imported = aws_standin.ImportResourceState(pb.ImportResourceState.Request(type_name="aws_s3_bucket", id="x"))
    (resource,) = imported.imported_resources
    state = values.decode(resource.state.msgpack)
    assert state["id"] == "x" and state["bucket"] is None and "versioning" in state


def test_data_source_placeholders_are_well_typed(aws_standin):
    pb = aws_standin.pb
    config = {"state": "available", "filter": None, "names": None, "zone_ids": None, "group_names": None}
    request = pb.ReadDataSource.Request(
        type_name="aws_availability_zones", config=pb.DynamicValue(msgpack=values.encode(config))
    )
    state = values.decode(aws_standin.ReadDataSource(request).state.msgpack)
    assert state["state"] == "available"
    assert state["names"] == ["standin-names-0", "standin-names-1", "standin-names-2"]
    assert state["filter"] is None  # an unset block stays unset


def test_plan_marks_unset_computed_values_unknown_and_keeps_config(aws_standin):
    pb = aws_standin.pb
    proposed = {"bucket": "logs", "arn": None, "force_destroy": None, "tags": {"a": "b"}}
    request = pb.PlanResourceChange.Request(
        type_name="aws_s3_bucket",
        proposed_new_state=pb.DynamicValue(msgpack=values.encode(proposed)),
        prior_state=pb.DynamicValue(msgpack=values.encode(None)),
    )
    planned = values.decode(aws_standin.PlanResourceChange(request).planned_state.msgpack)
    assert planned["bucket"] == "logs" and planned["tags"] == {"a": "b"}
    assert planned["arn"] is values.UNKNOWN
    assert planned["force_destroy"] is None  # optional, not computed: stays null


def test_every_synthesized_stack_plans(synth_dir):
    """Every gateway, quotas and bootstrap stack of every environment plans with the real Terraform."""
    results = assert_stacks_plan(synth_dir)
    assert len(results) == len(discover_stacks(synth_dir))
    # Each plan was computed with its own provider settings: a stand-in answers with the configuration of the run
    # that configured it last, so stacks planned at once on shared servers got each other's default tags.
    for result in results:
        tagged = set(re.findall(r'"litellm-stack"\s*=\s*"([^"]+)"', result.output))
        assert tagged <= {result.name}, f"{result.name} planned with the default tags of {sorted(tagged)}"


def test_required_variables_get_typed_placeholders_and_defaults_are_kept():
    from tools.plan_offline import PLACEHOLDER_VARIABLE_VALUE, placeholder_variables

    config = {
        "variable": {
            "litellm_api_key": {"type": "string", "sensitive": True},
            "with_default": {"type": "string", "default": "x"},
        }
    }
    assert placeholder_variables(config) == {"litellm_api_key": PLACEHOLDER_VARIABLE_VALUE}
    with pytest.raises(PlanOfflineError, match="no placeholder for required type 'number'"):
        placeholder_variables({"variable": {"count": {"type": "number"}}})


def test_replace_triggered_by_renders_bare_addresses_terraform_accepts(tmp_path):
    """cdktf writes a construct in replace_triggered_by as "${...}", which Terraform rejects; lifecycle.replaced_with
    writes the bare address. A stack using it validates and plans."""
    from cdktf import App, DataResource, TerraformResourceLifecycle, TerraformStack

    from constructs_lib._common.lifecycle import replaced_with

    out_dir = tmp_path / "cdktf.out"
    app = App(outdir=str(out_dir))
    stack = TerraformStack(app, "replace-triggered")
    trigger = DataResource(stack, "trigger", input={"value": "a"})
    DataResource(stack, "follower", input={"value": "b"}, lifecycle=replaced_with(trigger))
    # What cdktf renders by itself for the same construct: Terraform's JSON syntax rejects it.
    raw = TerraformStack(app, "replace-triggered-raw")
    raw_trigger = DataResource(raw, "trigger", input={"value": "a"})
    DataResource(
        raw, "follower", input={"value": "b"}, lifecycle=TerraformResourceLifecycle(replace_triggered_by=[raw_trigger])
    )
    app.synth()
    (rejected,) = plan_stacks(out_dir, only=["replace-triggered-raw"])
    assert not rejected.ok and "Invalid character" in rejected.output
    follower = next(
        body
        for name, body in json.loads((out_dir / "stacks/replace-triggered/cdk.tf.json").read_text())["resource"][
            "terraform_data"
        ].items()
        if name.startswith("follower")
    )
    assert follower["lifecycle"]["replace_triggered_by"] == ["terraform_data.trigger"]
    (result,) = plan_stacks(out_dir, only=["replace-triggered"])
    assert result.ok, result.output


def test_cross_stack_references_plan_against_local_placeholder_state(tmp_path):
    """A cdktf cross-stack reference becomes a terraform_remote_state on the producer's S3 backend; offline, the
    scratch copy reads a local state with placeholders, and Terraform still checks every output reference."""
    from cdktf import App, DataResource, S3Backend, TerraformOutput, TerraformStack

    out_dir = tmp_path / "cdktf.out"
    app = App(outdir=str(out_dir))
    producer = TerraformStack(app, "producer")
    S3Backend(producer, bucket="state", key="producer.tfstate", region="us-east-1")
    url = DataResource(producer, "url", input={"url": "https://gateway.example"})
    consumer = TerraformStack(app, "consumer")
    S3Backend(consumer, bucket="state", key="consumer.tfstate", region="us-east-1")
    DataResource(consumer, "reader", input={"url": url.output})
    TerraformOutput(consumer, "seen", value=url.output)
    app.synth()
    synthesized = json.loads((out_dir / "stacks/consumer/cdk.tf.json").read_text())
    (remote,) = synthesized["data"]["terraform_remote_state"].values()
    assert remote["backend"] == "s3"
    results = {result.name: result for result in plan_stacks(out_dir)}
    assert results["consumer"].ok, results["consumer"].output
    assert results["producer"].ok, results["producer"].output


def test_standin_still_runs_as_a_plugin_terraform_starts_through_dev_overrides(tmp_path):
    """The stand-in's plugin mode (go-plugin handshake, TLS) for a CLI-config dev_overrides entry, which
    `make plan-offline` no longer uses (it reattaches long-lived servers): Terraform starts it and validates."""
    import shlex
    import subprocess
    import sys

    from tools.plan_offline import CACHE_DIR, terraform_env

    address = "registry.terraform.io/hashicorp/random"
    schema_file = schemas_from_jsii.ensure_schema("random")
    shim = tmp_path / "plugins" / "terraform-provider-random"
    shim.parent.mkdir()
    command = [sys.executable, "-m", "tools.standin_provider", "--schema", str(schema_file), "--address", address]
    shim.write_text(
        f"#!/bin/sh\ncd {shlex.quote(str(REPO))} && exec {shlex.join([*command, '--cache', str(CACHE_DIR)])}\n"
    )
    shim.chmod(0o755)
    cli_config = tmp_path / "terraform.rc"
    cli_config.write_text(
        f'provider_installation {{\n  dev_overrides {{ "{address}" = "{shim.parent}" }}\n  direct {{}}\n}}\n'
    )
    workdir = tmp_path / "stack"
    workdir.mkdir()
    config = {"resource": {"random_password": {"pw": {"length": 16, "not_an_argument": 1}}}}
    (workdir / "main.tf.json").write_text(json.dumps(config))
    env = {key: value for key, value in terraform_env(cli_config, "").items() if key != "TF_REATTACH_PROVIDERS"}
    result = subprocess.run(
        ["terraform", "validate", "-no-color"], cwd=workdir, env=env, capture_output=True, text=True, timeout=120
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Provider development overrides are in effect" in output
    assert 'No argument or block type is named "not_an_argument".' in output
