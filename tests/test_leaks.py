"""Leak-proofing: no secret value reaches synthesized output, logs, outputs or git."""

from __future__ import annotations

import json
import re
import subprocess

import cdktf
import pytest
from cdktf_cdktf_provider_random.password import Password
from cdktf_cdktf_provider_random.provider import RandomProvider

from tests.conftest import CANARY, REPO
from tests.leakcheck import is_env_only_proxy_config, unmarked_sensitive_outputs


def test_canary_values_never_reach_the_synth_output_or_logs(separate_process_synth):
    """A full synth with canaries in every key-ish variable and file: none may appear in cdktf.out or the logs."""
    result = separate_process_synth.result
    assert result.returncode == 0, result.stderr
    assert CANARY not in result.stdout + result.stderr
    files = [path for path in separate_process_synth.outdir.rglob("*") if path.is_file()]
    assert len(files) > 10
    leaked = [str(path) for path in files if CANARY.encode() in path.read_bytes()]
    assert not leaked, f"canary found in {leaked}"


def test_no_output_exposes_a_secret_unmarked(synthesized):
    problems = {stack: unmarked_sensitive_outputs(body) for stack, body in synthesized.items()}
    assert {stack: found for stack, found in problems.items() if found} == {}


def test_the_output_check_bites_on_a_deliberate_leak():
    app = cdktf.Testing.app()
    stack = cdktf.TerraformStack(app, "leaky")
    RandomProvider(stack, "random")
    password = Password(stack, "pw", length=20)
    cdktf.TerraformOutput(stack, "oops", value=password.result)
    cdktf.TerraformOutput(stack, "fine", value=password.result, sensitive=True)
    problems = unmarked_sensitive_outputs(json.loads(cdktf.Testing.synth(stack)))
    assert problems == ["output 'oops' exposes random_password.result"]


# Literal text allowed around references in a secret value: the LiteLLM virtual-key prefix.
ALLOWED_LITERALS = {"", "sk-"}


def _is_reference(value: object) -> bool:
    """True when the value is built only from references (plus an allowed prefix), never a literal secret."""
    return isinstance(value, str) and re.sub(r"\$\{[^${}]+\}", "", value) in ALLOWED_LITERALS and "${" in value


def test_no_secret_value_is_written_into_any_stack(synthesized):
    """Provider keys are names only (no input variable carries one), and a secret version's value is never a
    literal: it is a write-only ephemeral value or a reference to a value another resource generated. The one
    literal allowed on GCP is LiteLLM's proxy config, and only while every credential in it is an env reference."""
    for stack, body in synthesized.items():
        variables = set(body.get("variable", {}))
        assert variables <= {"litellm_api_key"}, f"{stack}: unexpected input variables {variables}"
        resources = body.get("resource", {})
        for resource_type, argument in (
            ("aws_secretsmanager_secret_version", "secret_string"),
            ("google_secret_manager_secret_version", "secret_data"),
            ("alicloud_kms_secret", "secret_data"),
        ):
            for name, version in resources.get(resource_type, {}).items():
                if resource_type == "google_secret_manager_secret_version" and is_env_only_proxy_config(
                    version.get(argument)
                ):
                    continue
                if argument in version:
                    assert _is_reference(version[argument]), f"{stack}: {resource_type}.{name} holds a literal"


FORBIDDEN_TRACKED = (".tfstate", ".tfplan", ".tfvars", ".auto.tfvars.json", "crash.log")


def test_no_state_plan_or_variable_file_is_tracked():
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    offenders = [
        name
        for name in tracked
        if name.endswith(FORBIDDEN_TRACKED)
        or name.startswith(("secrets/", ".terraform/"))
        or "/.terraform/" in name
        or name.endswith((".env",))
        or ".tfstate." in name
    ]
    assert offenders == []


@pytest.mark.parametrize(
    "path",
    [
        "terraform.aws-bootstrap.tfstate",
        "terraform.tfstate.backup",
        "prod.auto.tfvars",
        "x.auto.tfvars.json",
        "secrets/openai.txt",
        ".terraform/providers/x",
        "cdktf.out/stacks/aws-dev/tfplan",
        "plan.tfplan",
        "dev.tfvars",
        ".env",
    ],
)
def test_gitignore_covers_secret_bearing_files(path):
    result = subprocess.run(["git", "check-ignore", "--no-index", "-q", path], cwd=REPO)
    assert result.returncode == 0, f"{path} is not ignored by .gitignore"


def test_tf_log_is_never_enabled_by_the_makefile_or_workflows():
    texts = {"Makefile": (REPO / "Makefile").read_text()}
    texts.update({str(p): p.read_text() for p in (REPO / ".github" / "workflows").glob("*.y*ml")})
    for name, text in texts.items():
        assert "TF_LOG" not in text.replace("TF_LOG is never set", ""), f"{name} mentions TF_LOG"
