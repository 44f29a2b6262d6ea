"""Checks of a saved plan before anyone may apply it, from `terraform show -json tfplan`.

    terraform show -json tfplan > plan.json
    python -m tools.ci.plan_guard --plan-json plan.json --stack aws-prod --env prod [--allow-destroy]

- **Destroy guard.** In prod, a plan that deletes (or replaces) a stateful resource (a database, a cache, a
  bucket, a secret, a key: the list below) fails unless `--allow-destroy` is given (apply.yml's dispatch input
  `allow_destroy`, set by a person on purpose). Elsewhere the same plan only prints a warning.
- **No secret in the plan file.** A root variable that the configuration marks `sensitive` but not `ephemeral`
  has its value stored in the plan file (Terraform's JSON plan format lists every non-ephemeral root variable's
  value under `variables`: https://developer.hashicorp.com/terraform/internals/json-format#plan-representation).
  Such a plan must never become an artifact, so the guard fails it.

Exit status 1 with one `::error::` line per finding; 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

# Resource types whose deletion loses data or breaks every client (keys encrypting data, secrets agents use).
STATEFUL_TYPES = frozenset(
    {
        "aws_db_instance",
        "aws_rds_cluster",
        "aws_rds_cluster_instance",
        "aws_elasticache_replication_group",
        "aws_s3_bucket",
        "aws_secretsmanager_secret",
        "aws_kms_key",
        "google_sql_database_instance",
        "google_sql_database",
        "google_redis_instance",
        "google_storage_bucket",
        "google_secret_manager_secret",
        "google_kms_crypto_key",
        "alicloud_db_instance",
        "alicloud_db_database",
        "alicloud_kvstore_instance",
        "alicloud_oss_bucket",
        "alicloud_kms_key",
        "alicloud_kms_secret",
        "alicloud_ots_instance",
        "alicloud_ots_table",
    }
)
GUARDED_ENVS = frozenset({"prod"})


def destroyed_stateful(plan: dict) -> list[str]:
    """Addresses of stateful resources the plan deletes (a replacement deletes too)."""
    found = []
    for change in plan.get("resource_changes", []):
        actions = change.get("change", {}).get("actions", [])
        if change.get("mode") == "managed" and change.get("type") in STATEFUL_TYPES and "delete" in actions:
            found.append(change["address"])
    return found


def sensitive_variables_in_plan(plan: dict) -> list[str]:
    """Root variables marked sensitive whose values the plan file stores (an ephemeral variable is never stored)."""
    declared = plan.get("configuration", {}).get("root_module", {}).get("variables", {})
    stored = plan.get("variables", {})
    return sorted(name for name, declaration in declared.items() if declaration.get("sensitive") and name in stored)


def findings(plan: dict, *, env: str, allow_destroy: bool) -> tuple[list[str], list[str]]:
    """(errors, warnings) for one plan."""
    errors, warnings = [], []
    for name in sensitive_variables_in_plan(plan):
        errors.append(f"the plan file stores the value of sensitive variable {name!r}: make it ephemeral")
    for address in destroyed_stateful(plan):
        message = f"the plan deletes the stateful resource {address}"
        if env in GUARDED_ENVS and not allow_destroy:
            errors.append(f"{message}; re-run apply.yml by hand with allow_destroy if that is intended")
        else:
            warnings.append(message)
    return errors, warnings


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plan-json", required=True, type=Path, help="output of `terraform show -json tfplan`")
    parser.add_argument("--stack", required=True)
    parser.add_argument("--env", required=True)
    parser.add_argument("--allow-destroy", action="store_true")
    args = parser.parse_args(argv)
    try:
        plan = json.loads(args.plan_json.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        print(f"::error::{args.stack}: cannot read the plan JSON {args.plan_json}: {error}")
        return 1
    errors, warnings = findings(plan, env=args.env, allow_destroy=args.allow_destroy)
    for warning in warnings:
        print(f"::warning::{args.stack}: {warning}")
    for error in errors:
        print(f"::error::{args.stack}: {error}")
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
