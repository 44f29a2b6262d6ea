"""The database logging the AWS and GCP stacks configure never writes a statement's bind values.

Run against the real PostgreSQL 15 server here: the settings are read out of the synthesized stacks (the Aurora
cluster parameter group, the Cloud SQL database flags), a server starts with them, and a slow extended-protocol
query binds a canary value. PostgreSQL logs a statement slower than `log_min_duration_statement` with its bind
parameters (`log_parameter_max_length` defaults to -1, "in full":
https://www.postgresql.org/docs/15/runtime-config-logging.html#GUC-LOG-PARAMETER-MAX-LENGTH), which is how LiteLLM's
spend rows, emails and key hashes would reach CloudWatch / Cloud Logging.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.postgres_server import PG_BIN, as_server_user, postgres_server
from tests.test_aws_gateway import named, resources

CANARY = "canary-bind-7f3a9c"
# Slower than the 1000 ms threshold the stacks used to log at, so the old settings do log it.
SLOW_QUERY = "SELECT pg_sleep(1.2), length(:canary::text);\n"
# Cloud-specific settings a stock PostgreSQL does not know (RDS / Cloud SQL extensions, pgAudit's library).
_CLOUD_ONLY = ("rds.", "cloudsql.", "pgaudit.")


def _aws_settings(tmp_path: Path) -> dict[str, str]:
    from tests.test_aws_stack_options import PROD, _load, _synth

    stack = _synth(_load(tmp_path, {}, base=PROD))
    _, group = named(stack, "aws_rds_cluster_parameter_group", "/database/parameters/")
    return {item["name"]: item["value"] for item in group["parameter"]}


def _gcp_settings(tmp_path: Path) -> dict[str, str]:
    from tests.test_gcp_stack_options import _load as load_gcp
    from tests.test_gcp_stack_options import _synth

    stack = _synth(load_gcp(tmp_path, {}))
    (instance,) = [
        body for name, body in resources(stack, "google_sql_database_instance").items() if "replica" not in name
    ]
    return {flag["name"]: flag["value"] for flag in instance["settings"]["database_flags"]}


def _server_log_of_a_slow_bound_query(settings: dict[str, str]) -> str:
    """Start PostgreSQL with `settings`, run SLOW_QUERY over the extended protocol with CANARY bound, return the log."""
    options = {name: value for name, value in settings.items() if not name.startswith(_CLOUD_ONLY)}
    with postgres_server(settings=options) as server:
        script = server.work / "slow.sql"
        script.write_text(SLOW_QUERY)
        script.chmod(0o644)
        # pgbench -M extended sends `:canary` as a bind parameter ($1), as Prisma sends LiteLLM's values.
        pgbench = [PG_BIN / "pgbench", "-h", server.socket_dir, "-U", server.superuser, "-n", "-M", "extended"]
        subprocess.run(
            as_server_user([*pgbench, "-t", "1", "-D", f"canary={CANARY}", "-f", script, "postgres"]),
            check=True,
            capture_output=True,
            timeout=120,
        )
        return server.log.read_text()


@pytest.mark.parametrize("cloud", ["aws", "gcp"])
def test_slow_statements_are_never_logged_with_their_bind_values(tmp_path, cloud):
    settings = _aws_settings(tmp_path) if cloud == "aws" else _gcp_settings(tmp_path)
    log = _server_log_of_a_slow_bound_query(settings)
    # The server did log the session (log_connections is on in both), so an empty log cannot pass.
    assert "connection authorized" in log, log
    assert CANARY not in log, f"{cloud}: bind value in the server log:\n{log}"


def test_aws_owns_the_postgresql_log_group_with_the_gateway_key_and_a_retention(tmp_path):
    from tests.test_aws_stack_options import PROD, _load, _synth

    config = _load(tmp_path, {}, base=PROD)
    stack = _synth(config)
    _, cluster = named(stack, "aws_rds_cluster", "/database/cluster/")
    assert cluster["enabled_cloudwatch_logs_exports"] == ["postgresql"]
    # https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraPostgreSQL.CloudWatch.html
    name = f"/aws/rds/cluster/{cluster['cluster_identifier']}/postgresql"
    (group_id, group), *others = [
        (key, body) for key, body in resources(stack, "aws_cloudwatch_log_group").items() if body["name"] == name
    ]
    assert not others
    assert group["retention_in_days"] == config.cloud("aws").log_retention_days
    assert group["kms_key_id"] == cluster["kms_key_id"]
    # Created before the cluster starts exporting (RDS would otherwise create it, unencrypted, never expiring).
    assert f"aws_cloudwatch_log_group.{group_id}" in cluster["depends_on"]
    # CloudWatch Logs may use the key for exactly that log group (besides the stack's own prefix).
    _, key = named(stack, "aws_kms_key", "/kms/key/")
    (logs_statement,) = [
        s for s in json.loads(key["policy"])["Statement"] if s["Sid"] == "CloudWatchLogsOfThisStackOnly"
    ]
    allowed = logs_statement["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert f"log-group:{name}" in " ".join(allowed if isinstance(allowed, list) else [allowed])
