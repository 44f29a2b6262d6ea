"""Rules that keep secret values out of Terraform outputs, shared by the leak tests and their negative tests."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# Attributes that hold secret material in providers whose bindings carry no `sensitive` flag (the prebuilt
# aws/google/random packages): a hand list, kept short and specific.
SENSITIVE_ATTRIBUTES: dict[str, frozenset[str]] = {
    "random_password": frozenset({"result", "bcrypt_hash"}),
    "random_string": frozenset({"result"}),
    "aws_secretsmanager_secret_version": frozenset({"secret_string", "secret_binary"}),
    "aws_rds_cluster": frozenset({"master_password"}),
    "aws_elasticache_replication_group": frozenset({"auth_token"}),
    "aws_iam_access_key": frozenset({"secret", "ses_smtp_password_v4"}),
    "google_secret_manager_secret_version": frozenset({"secret_data"}),
    "google_sql_user": frozenset({"password"}),
    "google_redis_instance": frozenset({"auth_string", "server_ca_certs"}),
    "google_service_account_key": frozenset({"private_key"}),
}
_REFERENCE = re.compile(r"\$\{(?:data\.)?([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z0-9_]+)")
_VARIABLE = re.compile(r"\$\{var\.([A-Za-z0-9_-]+)\}")


@cache
def _schema_sensitive() -> dict[str, frozenset[str]]:
    """Sensitive attributes straight from the generated providers' schemas (alicloud, litellm)."""
    found: dict[str, frozenset[str]] = {}
    for path in sorted((REPO / "imports" / "schemas").glob("*@*.json")):
        if path.name.endswith(".provenance.json"):
            continue
        for provider in json.loads(path.read_text())["provider_schemas"].values():
            for kind in ("resource_schemas", "data_source_schemas"):
                for name, schema in provider.get(kind, {}).items():
                    attributes = schema["block"].get("attributes", {})
                    found[name] = frozenset(a for a, spec in attributes.items() if spec.get("sensitive"))
    return found


def sensitive_attribute(resource_type: str, attribute: str) -> bool:
    return attribute in SENSITIVE_ATTRIBUTES.get(resource_type, ()) or attribute in _schema_sensitive().get(
        resource_type, ()
    )


def unmarked_sensitive_outputs(stack: dict) -> list[str]:
    """Outputs whose value references a sensitive attribute or variable but are not marked `sensitive`."""
    sensitive_variables = {name for name, spec in stack.get("variable", {}).items() if spec.get("sensitive")}
    problems = []
    for name, output in stack.get("output", {}).items():
        if output.get("sensitive"):
            continue
        text = json.dumps(output.get("value"))
        for resource_type, _, attribute in _REFERENCE.findall(text):
            if sensitive_attribute(resource_type, attribute):
                problems.append(f"output {name!r} exposes {resource_type}.{attribute}")
        for variable in _VARIABLE.findall(text):
            if variable in sensitive_variables:
                problems.append(f"output {name!r} exposes sensitive variable {variable!r}")
        if "${ephemeral." in text:
            problems.append(f"output {name!r} exposes an ephemeral value")
    return problems
