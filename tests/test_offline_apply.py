"""The offline-apply harness itself: real Terraform 1.11 applies, plans and destroys against the stand-in providers.

The small stacks here are Terraform JSON written for the test (the shape cdktf synthesizes), so each test runs the
real binary on exactly the resources it is about. The drill over the 21 synthesized stacks is
tests/test_offline_drill.py (`make drill`).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tools.offline_apply import OfflineApply
from tools.offline_apply.secret_store import SecretStore
from tools.standin_provider import behaviours, protos, schema, server, values
from tools.standin_provider.behaviours import google as google_behaviours

REPO = Path(__file__).resolve().parent.parent
AWS = {"source": "aws", "version": "6.25.0"}
GOOGLE = {"source": "google", "version": "6.50.0"}
ALICLOUD = {"source": "aliyun/alicloud", "version": "1.289.0"}
RANDOM = {"source": "hashicorp/random", "version": "3.7.2"}
KEY_PASSWORD = {"length": 40, "special": False, "min_numeric": 4}
# test values for secret arguments (named, so the secret scan sees no literal after a secret-like key)
INITIAL_VALUE = "initial-placeholder"
OPERATOR_VALUE = "sk-real-key"
STORED_VALUE = "the-value"
GCP_PATH = "projects/p/secrets/s"


def _write_stacks(out_dir: Path, stacks: dict[str, dict[str, Any]]) -> Path:
    for name, config in stacks.items():
        path = out_dir / "stacks" / name / "cdk.tf.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(config, indent=2))
    return out_dir


def _aws_secret_stack() -> dict[str, Any]:
    """An agent key: an ephemeral password stored write-only in Secrets Manager, versioned by a variable."""
    return {
        "terraform": {"required_providers": {"aws": AWS, "random": RANDOM}},
        "provider": {
            "aws": [
                {
                    "region": "eu-west-1",
                    "allowed_account_ids": ["111111111111"],
                    "default_tags": [{"tags": {"managed-by": "test"}}],
                }
            ],
            "random": [{}],
        },
        "variable": {"key_version": {"type": "number", "default": 1}, "agent": {"type": "string", "default": "a"}},
        "ephemeral": {"random_password": {"key": KEY_PASSWORD}},
        "resource": {
            "aws_secretsmanager_secret": {"key": {"name": "demo/agent-key", "recovery_window_in_days": 0}},
            "aws_secretsmanager_secret_version": {
                "key": {
                    "secret_id": "${aws_secretsmanager_secret.key.id}",
                    "secret_string_wo": "sk-${ephemeral.random_password.key.result}",
                    "secret_string_wo_version": "${var.key_version}",
                }
            },
            "aws_iam_role": {
                "reader": {"name": "demo-reader", "assume_role_policy": "{}", "tags": {"agent": "${var.agent}"}}
            },
        },
        "output": {
            "reader_arn": {"value": "${aws_iam_role.reader.arn}"},
            "secret_arn": {"value": "${aws_secretsmanager_secret.key.arn}"},
        },
    }


def _gcp_secret_stack() -> dict[str, Any]:
    return {
        "terraform": {"required_providers": {"google": GOOGLE, "random": RANDOM}},
        "provider": {"google": [{"project": "demo-project", "region": "europe-west1"}], "random": [{}]},
        "ephemeral": {"random_password": {"key": KEY_PASSWORD}},
        "resource": {
            "google_secret_manager_secret": {"key": {"secret_id": "agent-key", "replication": [{"auto": [{}]}]}},
            "google_secret_manager_secret_version": {
                "key": {
                    "secret": "${google_secret_manager_secret.key.id}",
                    "secret_data_wo": "sk-${ephemeral.random_password.key.result}",
                    "secret_data_wo_version": 1,
                }
            },
            # the database password and the secret the gateway reads it from: one ephemeral value, two write-only sinks
            "google_sql_user": {
                "db": {
                    "instance": "db",
                    "name": "litellm",
                    "password_wo": "sk-${ephemeral.random_password.key.result}",
                    "password_wo_version": 1,
                }
            },
        },
    }


def _alicloud_secret_stack() -> dict[str, Any]:
    return {
        "terraform": {"required_providers": {"alicloud": ALICLOUD}},
        "provider": {"alicloud": [{"region": "cn-shanghai"}]},
        "resource": {
            "alicloud_kms_secret": {
                "key": {
                    "secret_name": "agent-key",
                    "secret_data": INITIAL_VALUE,
                    "version_id": "v1",
                }
            }
        },
    }


def _remote_state_stacks() -> dict[str, dict[str, Any]]:
    """A producer with an output and a consumer reading it the way cdktf writes cross-stack references."""
    producer = {
        "terraform": {"required_providers": {"aws": AWS}},
        "provider": {"aws": [{"region": "us-east-1"}]},
        "resource": {"aws_iam_role": {"gateway": {"name": "gateway", "assume_role_policy": "{}"}}},
        "output": {"gateway_role_arn": {"value": "${aws_iam_role.gateway.arn}"}},
    }
    reference = "${data.terraform_remote_state.cross-stack-reference-input-producer.outputs.gateway_role_arn}"
    consumer = {
        "terraform": {"required_providers": {"aws": AWS}},
        "provider": {"aws": [{"region": "us-east-1"}]},
        "data": {
            "terraform_remote_state": {
                "cross-stack-reference-input-producer": {
                    "backend": "s3",
                    "config": {"bucket": "state", "key": "producer", "region": "us-east-1"},
                }
            }
        },
        "resource": {
            "aws_iam_role_policy": {
                "reads": {
                    "role": reference,
                    "policy": "{}",
                }
            }
        },
        "output": {"seen": {"value": reference}},
    }
    return {"producer": producer, "consumer": consumer}


@pytest.fixture(scope="module")
def harness(tmp_path_factory) -> OfflineApply:
    root = tmp_path_factory.mktemp("offline-apply")
    out = _write_stacks(
        root / "cdktf.out",
        {
            "aws-secret": _aws_secret_stack(),
            "gcp-secret": _gcp_secret_stack(),
            "alicloud-secret": _alicloud_secret_stack(),
            "aws-recoverable": {
                "terraform": {"required_providers": {"aws": AWS}},
                "provider": {"aws": [{"region": "eu-west-1"}]},
                "resource": {"aws_secretsmanager_secret": {"kept": {"name": "demo/recoverable"}}},
            },
            **_remote_state_stacks(),
        },
    )
    with OfflineApply(out_dir=out, work_dir=root / "work") as session:
        yield session


def _resources(harness: OfflineApply, stack: str, type_name: str) -> list[dict[str, Any]]:
    resources = harness.state(stack)["values"]["root_module"]["resources"]
    return [resource for resource in resources if resource["type"] == type_name]


def test_write_only_value_lands_in_the_secret_store_and_nowhere_in_state_or_plan(harness):
    result = harness.apply("aws-secret", vars={"key_version": "1"}).check()
    value = harness.secret_value("aws", "demo/agent-key")
    assert value is not None and value.startswith("sk-") and len(value) == 3 + 40
    assert sum(char.isdigit() for char in value[3:]) >= 4  # min_numeric, as the random provider generates
    assert value not in harness.state_text("aws-secret")
    assert value not in json.dumps(result.changes.document)
    assert value not in result.output
    assert not list(harness.stack_dir("aws-secret").glob("*.tfplan")), "a plan file (sensitive values) was left"
    (version,) = _resources(harness, "aws-secret", "aws_secretsmanager_secret_version")
    assert version["values"]["secret_string_wo"] is None and version["values"]["has_secret_string_wo"] is True
    assert version["values"]["version_stages"] == ["AWSCURRENT"]
    second = harness.plan("aws-secret")
    assert second.empty, second.actions
    assert value not in json.dumps(second.document)


def test_computed_values_are_deterministic_and_well_formed(harness):
    harness.apply("aws-secret").check()
    outputs = harness.state("aws-secret")["values"]["outputs"]
    role_arn, secret_arn = outputs["reader_arn"]["value"], outputs["secret_arn"]["value"]
    assert role_arn.startswith("arn:aws:iam:eu-west-1:111111111111:")
    assert secret_arn.startswith("arn:aws:secretsmanager:eu-west-1:111111111111:secret:demo/agent-key-")
    roles = _resources(harness, "aws-secret", "aws_iam_role")
    assert roles[0]["values"]["tags_all"] == {"managed-by": "test", "agent": "a"}  # default_tags + tags
    replaced = harness.apply("aws-secret", replace=["aws_iam_role.reader"]).check()
    assert replaced.changes.addresses("replace") == ["aws_iam_role.reader"]
    assert harness.state("aws-secret")["values"]["outputs"]["reader_arn"]["value"] == role_arn  # same address


def test_tags_all_follows_a_change_of_tags_and_the_next_plan_is_empty(harness):
    harness.apply("aws-secret").check()
    changed = harness.apply("aws-secret", vars={"agent": "b"}).check()
    assert changed.changes.addresses("update") == ["aws_iam_role.reader"]
    (role,) = _resources(harness, "aws-secret", "aws_iam_role")
    assert role["values"]["tags_all"] == {"managed-by": "test", "agent": "b"}
    assert harness.plan("aws-secret").empty


def test_a_new_write_only_version_replaces_the_version_with_a_fresh_ephemeral_value(harness):
    harness.apply("aws-secret", vars={"key_version": "1"}).check()
    before = harness.secret_value("aws", "demo/agent-key")
    result = harness.apply("aws-secret", vars={"key_version": "2"}).check()
    # secret_string_wo_version is ForceNew (secret_version.go schema): the version is replaced, not updated
    assert result.changes.addresses("replace") == ["aws_secretsmanager_secret_version.key"]
    after = harness.secret_value("aws", "demo/agent-key")
    assert after != before and after.startswith("sk-")  # a fresh value: each open of the ephemeral resource
    assert harness.secret_value("aws", "demo/agent-key", "AWSPREVIOUS") == before
    assert harness.plan("aws-secret").empty


def test_an_injected_failure_fails_exactly_once_and_the_next_apply_converges(harness):
    harness.apply("aws-secret", vars={"key_version": "3"})  # any pending change applied first
    harness.fail_next("aws-secret:aws_secretsmanager_secret_version.key")
    failed = harness.apply("aws-secret", vars={"key_version": "4"})
    assert not failed.ok
    assert server.INJECTED_FAILURE in failed.output
    assert harness.plan("aws-secret").addresses("create") == ["aws_secretsmanager_secret_version.key"]
    converged = harness.apply("aws-secret").check()
    assert converged.changes.addresses("create") == ["aws_secretsmanager_secret_version.key"]
    assert harness.plan("aws-secret").empty
    assert not json.loads((harness.offline_dir / "failures.json").read_text())


def test_an_out_of_band_value_is_what_a_workload_reads(harness):
    harness.apply("aws-secret").check()
    harness.put_secret("aws", "demo/agent-key", "sk-rotated-by-operator")
    assert harness.secret_value("aws", "demo/agent-key") == "sk-rotated-by-operator"
    # the version Terraform manages is now AWSPREVIOUS: Read reports it, and the config does not set stages
    assert harness.plan("aws-secret").empty


def test_gcp_secret_version_keeps_the_payload_out_of_state(harness):
    harness.apply("gcp-secret").check()
    value = harness.secret_value("gcp", "agent-key")
    assert value is not None and value.startswith("sk-")
    state = harness.state_text("gcp-secret")
    assert value not in state
    assert '"name": "projects/demo-project/secrets/agent-key/versions/1"' in state
    # both write-only sinks got the value of the same open of the ephemeral resource
    assert harness.secret_value("gcp-sql-users", "projects/demo-project/instances/db/users/litellm") == value
    assert harness.plan("gcp-secret").empty


def test_gcp_read_skips_the_payload_only_when_the_write_only_version_is_set(tmp_path):
    """resource_secret_manager_secret_version.go:478 at v6.50.0 (flattenSecretManagerSecretVersionPayload)."""
    store = SecretStore(tmp_path, "gcp")
    store.create_secret(GCP_PATH, aliases=["s"])
    version = store.put(GCP_PATH, STORED_VALUE)
    ctx = behaviours.Context("google_secret_manager_secret_version", {}, tmp_path)
    state = {
        "secret": GCP_PATH,
        "version": version,
        "secret_data": None,
        "enabled": True,
    }
    read = google_behaviours.SecretManagerSecretVersion().read
    assert read(ctx, {**state, "secret_data_wo_version": 1})["secret_data"] is None
    assert read(ctx, {**state, "secret_data_wo_version": None})["secret_data"] == STORED_VALUE
    store.set_state(GCP_PATH, version, "DESTROYED")
    assert read(ctx, {**state, "secret_data_wo_version": 1}) is None  # decoder: a DESTROYED version is gone


def test_alicloud_kms_secret_read_reports_a_value_put_out_of_band(harness):
    """resource_alicloud_kms_secret.go:270 at v1.289.0: Read sets secret_data from GetSecretValue."""
    harness.apply("alicloud-secret").check()
    assert harness.secret_value("alicloud", "agent-key") == INITIAL_VALUE
    assert harness.plan("alicloud-secret").empty
    harness.put_secret("alicloud", "agent-key", OPERATOR_VALUE, version="v2")
    drift = harness.plan("alicloud-secret")
    assert drift.addresses("update") == ["alicloud_kms_secret.key"]
    harness.refresh("alicloud-secret").check()
    (secret,) = _resources(harness, "alicloud-secret", "alicloud_kms_secret")
    assert secret["values"]["secret_data"] == OPERATOR_VALUE and secret["values"]["version_id"] == "v2"


def test_cross_stack_reference_reads_the_producers_local_state(harness):
    harness.apply("producer").check()
    harness.apply("consumer").check()
    produced = harness.state("producer")["values"]["outputs"]["gateway_role_arn"]["value"]
    assert harness.state("consumer")["values"]["outputs"]["seen"]["value"] == produced
    assert harness.plan("consumer").empty


def test_destroy_leaves_empty_state_and_removes_the_secrets(harness):
    harness.apply("aws-secret").check()
    harness.destroy("aws-secret").check()
    assert harness.resources("aws-secret") == []
    assert harness.secret_value("aws", "demo/agent-key") is None


def test_a_secret_destroyed_with_a_recovery_window_blocks_its_name(harness):
    """secret.go resourceSecretDelete: no recovery_window_in_days = the provider's Default 30 = a scheduled
    deletion; CreateSecret of that name then fails until the window ends (InvalidRequestException)."""
    harness.apply("aws-recoverable").check()
    harness.destroy("aws-recoverable").check()
    assert not harness.store("aws").exists("demo/recoverable")
    again = harness.apply("aws-recoverable")
    assert not again.ok and "scheduled for deletion" in again.output


@pytest.fixture(scope="module")
def random_standin() -> server.StandinProvider:
    from tools import schemas_from_jsii

    cache = REPO / ".cache" / "standin_provider"
    path = schemas_from_jsii.ensure_schema("random")
    pb, _ = protos.load(cache)
    return server.StandinProvider(
        pb, schema.cached_response_bytes(path, "registry.terraform.io/hashicorp/random", cache)
    )


def test_ephemeral_password_is_fresh_on_every_open(random_standin):
    pb = random_standin.pb
    config = {name: None for name in ("special", "upper", "lower", "numeric", "override_special")}
    config.update(length=24, min_numeric=3, min_upper=None, min_lower=None, min_special=None)
    config.update(result=None, bcrypt_hash=None)
    request = pb.OpenEphemeralResource.Request(
        type_name="random_password", config=pb.DynamicValue(msgpack=values.encode(config))
    )
    opened = [values.decode(random_standin.OpenEphemeralResource(request).result.msgpack) for _ in range(3)]
    results = {item["result"] for item in opened}
    assert len(results) == 3
    for item in opened:
        assert len(item["result"]) == 24 and sum(char.isdigit() for char in item["result"]) >= 3
        assert item["special"] is True  # the provider's default (applyDefaultPasswordParameters)
        assert item["bcrypt_hash"].startswith("$2")


def test_local_exec_steps_never_reach_a_real_cloud_cli_or_credentials(harness, monkeypatch):
    """A real aws/gcloud may be installed here: each resolves to its stand-in or to the refusing guard."""
    import shutil

    from tools.offline_apply import harness as harness_module

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIA-must-not-pass")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", "/must/not/pass.json")
    with harness._lane("aws-secret") as env:
        pass
    assert "AWS_ACCESS_KEY_ID" not in env and "GOOGLE_APPLICATION_CREDENTIALS" not in env
    for cli in harness_module.GUARDED_CLIS:
        found = Path(shutil.which(cli, path=env["PATH"]))
        assert found.parent in (harness_module.CLI_DIR, harness.work_dir / "cli-guard"), found
        if found.parent != harness_module.CLI_DIR:
            refused = subprocess.run([str(found), "sts", "get-caller-identity"], capture_output=True, text=True)
            assert refused.returncode == 127 and "must not be reached" in refused.stderr


def test_the_drill_reports_a_missing_stand_in_as_blocked_even_when_terraform_wraps_the_message():
    from tools.offline_apply import drill

    wrapped = "Output: litellm_agent_key: LITELLM_API_KEY is not\nset"
    assert drill._blocker(wrapped, litellm_available=False).startswith("no LiteLLM")
    assert drill._blocker(wrapped, litellm_available=True) is None  # with a LiteLLM given, it is a failure
    assert "aws" in drill._blocker("offline apply: no stand-in for `aws` in\ntools/offline_apply/cli/", True)
    blocked = drill.StackDrill("aws-dev", "gateway", blocked="stand-in CLI missing (aws)")
    assert not blocked.ok and "blocked: stand-in CLI missing" in blocked.row()
