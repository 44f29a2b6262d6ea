"""AWS: the backend and the spend collector reach the managed Aurora as login roles of their own, whose CONNECTION
LIMIT holds them to their share of `max_connections` (issue #27 item 4, the part PgBouncer could not cover).

Why roles: the tasks authenticate with IAM tokens, so LiteLLM 1.106.12 rebuilds DATABASE_URL without a pool size
(litellm/proxy/db/db_url_settings.py:452-479) and each engine takes Prisma's CPU-sized default pool. The gateway's
workers share the task's PgBouncer (test_aws_db_pool_limit.py), but the backend image has no PgBouncer launcher
(BerriAI/litellm backend/main.py: `uvicorn backend.main:app`) and the collector bypasses the task's PgBouncer under
token auth (litellm/proxy/collector.py:181-194). PostgreSQL itself caps a login role's concurrent connections on each
server ("CONNECTION LIMIT connlimit: If role can log in, this specifies how many concurrent connections the role can
make", https://www.postgresql.org/docs/16/sql-createrole.html); a member role inherits its group's privileges
(https://www.postgresql.org/docs/16/role-membership.html).

Run against a real PostgreSQL 15 with what Aurora adds stood in for: the `rds_iam` role, and a master user as Aurora
creates it, `LOGIN NOSUPERUSER INHERIT CREATEDB CREATEROLE` and a member of `rds_superuser`
(https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Appendix.PostgreSQL.CommonDBATasks.Roles.rds_superuser.html).
"""

from __future__ import annotations

import os
import subprocess
import urllib.parse

import psycopg
import pytest

from tests.litellm_db_url import litellm_database_urls, made_up_aws_credentials
from tests.postgres_server import postgres_server
from tests.test_aws_database_tls import ENDPOINT, _containers, _env
from tests.test_aws_gateway import policy_statements, resources, task_definition
from tests.test_aws_stack_options import DEV, PROD, _load, _synth

COLLECTOR_ON = {"spend_collector": {"enabled": True}}
MASTER = "litellm_admin"
# Aurora's own roles and master user, as the page in the module docstring gives them.
AURORA_STAND_IN = f"""
CREATE ROLE rds_iam;
CREATE ROLE rds_superuser;
CREATE ROLE {MASTER} WITH LOGIN NOSUPERUSER INHERIT CREATEDB CREATEROLE;
GRANT rds_superuser TO {MASTER};
GRANT rds_iam TO rds_superuser WITH ADMIN OPTION;
CREATE DATABASE litellm OWNER {MASTER};
"""
# What `prisma migrate deploy` leaves as the application user: its tables, and a view LiteLLM creates at startup
# (litellm/proxy/db/create_views.py:56-76, 1.106.12).
MIGRATED = """
CREATE TABLE "LiteLLM_VerificationToken" (token text PRIMARY KEY, spend double precision NOT NULL DEFAULT 0);
CREATE SEQUENCE spend_seq;
CREATE VIEW "LiteLLM_VerificationTokenView" AS SELECT token, spend FROM "LiteLLM_VerificationToken";
"""


@pytest.fixture(scope="module")
def prod_with_collector(tmp_path_factory):
    config = _load(tmp_path_factory.mktemp("prod-collector"), COLLECTOR_ON, PROD)
    return config, _synth(config)


def _bootstrap(stack: dict) -> dict[str, str]:
    return _env(_containers(stack, "bootstrap-db")["psql"])


def _pgbouncer_cap(stack: dict) -> int:
    return int(_env(_containers(stack, "gateway")["gateway"])["LITELLM_PGBOUNCER_MAX_DB_CONNECTIONS"])


def _connect(server, user: str, database: str = "litellm") -> psycopg.Connection:
    return psycopg.connect(host=str(server.socket_dir), user=user, dbname=database, autocommit=True)


def _run_bootstrap(server, bootstrap_env: dict[str, str], command: str) -> None:
    """The bootstrap container's own command and SQL, as the master user, over the socket."""
    env = {
        "PATH": os.environ["PATH"],
        "PGHOST": str(server.socket_dir),
        "PGUSER": MASTER,
        "PGDATABASE": "litellm",
        "BOOTSTRAP_SQL": bootstrap_env["BOOTSTRAP_SQL"],
    }
    subprocess.run(["sh", "-c", command], env=env, check=True, capture_output=True, timeout=60)


def test_the_clients_roles_inherit_the_app_users_tables_and_are_capped_on_a_real_postgres(prod_with_collector):
    config, stack = prod_with_collector
    aws = config.clouds.aws
    container = _containers(stack, "bootstrap-db")["psql"]
    cap = _pgbouncer_cap(stack)
    peak_gateway, peak_backend = 20 * 2, 6 * 2  # max_count x deployment_maximum_percent 200
    assert aws.components.backend.workers == 1
    expected = {
        "litellm_app": -1,
        "litellm_app_backend": peak_backend * cap,
        "litellm_app_collector": peak_gateway * cap,
    }
    # Every pool at its share fits the instances' max_connections, and one more each would not.
    pools = peak_gateway + peak_backend + peak_gateway
    assert (
        pools * cap + aws.database.reserved_connections <= 400 < pools * (cap + 1) + aws.database.reserved_connections
    )
    with postgres_server(settings={"max_connections": "300"}) as server:
        with _connect(server, "postgres", "postgres") as admin:
            for statement in filter(str.strip, AURORA_STAND_IN.split(";")):
                admin.execute(statement)
        for _ in range(2):  # a re-run (a changed limit, a new revision) is harmless
            _run_bootstrap(server, _bootstrap(stack), container["command"][0])
        with _connect(server, "litellm_app") as app:
            app.execute(MIGRATED)
        with _connect(server, MASTER) as master:
            limits = dict(
                master.execute("SELECT rolname, rolconnlimit FROM pg_roles WHERE rolname LIKE 'litellm_app%'")
            )
        assert limits == expected
        for role in ("litellm_app_backend", "litellm_app_collector"):
            with _connect(server, role) as client:
                client.execute("""INSERT INTO "LiteLLM_VerificationToken" VALUES (%s, 1)""", (role,))
                client.execute("""UPDATE "LiteLLM_VerificationToken" SET spend = spend + 1 WHERE token = %s""", (role,))
                ((spend,),) = client.execute(
                    """SELECT spend FROM "LiteLLM_VerificationTokenView" WHERE token = %s""", (role,)
                ).fetchall()
                assert spend == 2 and client.execute("SELECT nextval('spend_seq')").fetchone()
        # The backend at its limit: the next connection is refused by the server, and the gateway's user still gets in.
        held = [_connect(server, "litellm_app_backend") for _ in range(expected["litellm_app_backend"])]
        try:
            with pytest.raises(psycopg.OperationalError, match='too many connections for role "litellm_app_backend"'):
                _connect(server, "litellm_app_backend")
            with _connect(server, "litellm_app") as app:
                assert app.execute("SELECT current_user").fetchone() == ("litellm_app",)
        finally:
            for connection in held:
                connection.close()


def test_each_task_role_may_connect_as_exactly_its_clients_roles(prod_with_collector, tmp_path):
    _, stack = prod_with_collector
    expected = {
        "gateway": {"litellm_app", "litellm_app_collector"},  # the collector is a sidecar of the gateway task
        "backend": {"litellm_app_backend"},
        "migrations": {"litellm_app"},
    }
    for family, users in expected.items():
        _, task = task_definition(stack, family)
        resources_ = [
            r
            for s in policy_statements(stack, task["task_role_arn"])
            if "rds-db:connect" in s["actions"]
            for r in s["resources"]
        ]
        assert {resource.rsplit("/", 1)[1] for resource in resources_} == users, family
        assert all(r.startswith("arn:aws:rds-db:us-east-1:333333333333:dbuser:${aws_rds_cluster.") for r in resources_)
    containers = _containers(stack, "gateway")
    assert _env(containers["gateway"])["DATABASE_USER"] == "litellm_app"
    assert _env(containers["collector"])["DATABASE_USER"] == "litellm_app_collector"
    # Without the collector, no collector role, and the gateway's task role connects as the application user only.
    plain = _synth(_load(tmp_path, {}, PROD))
    _, task = task_definition(plain, "gateway")
    connect = [s for s in policy_statements(plain, task["task_role_arn"]) if "rds-db:connect" in s["actions"]]
    assert [resource.rsplit("/", 1)[1] for s in connect for resource in s["resources"]] == ["litellm_app"]
    assert "litellm_app_collector" not in _bootstrap(plain)["BOOTSTRAP_SQL"]


@pytest.mark.parametrize("client", ["backend", "collector"])
def test_the_pinned_litellm_mints_the_token_for_the_clients_own_role(prod_with_collector, client):
    _, stack = prod_with_collector
    family, container = ("backend", "backend") if client == "backend" else ("gateway", "collector")
    env = _env(_containers(stack, family)[container])
    env = {name: value for name, value in env.items() if name.startswith(("DATABASE_", "IAM_TOKEN", "AWS_REGION"))}
    env |= {"DATABASE_HOST": ENDPOINT, "DATABASE_SSLMODE": "require"}
    env = {name: value for name, value in env.items() if not name.endswith(("_READ_REPLICA", "SSLROOTCERT"))}
    url = urllib.parse.urlsplit(litellm_database_urls({**made_up_aws_credentials(), **env})["DATABASE_URL"])
    assert url.username == f"litellm_app_{client}"
    # The IAM token is a presigned `connect` for that database user (the name rds-db:connect is granted on).
    token = urllib.parse.parse_qs(urllib.parse.urlsplit("//" + urllib.parse.unquote(url.password or "")).query)
    assert token["Action"] == ["connect"] and token["DBUser"] == [f"litellm_app_{client}"]


def test_dependencies_only_mode_keeps_one_user_since_no_bootstrap_job_runs_there(tmp_path):
    """Without the runtime no bootstrap job runs, so the tasks elsewhere log in as the application user alone."""
    stack = _synth(_load(tmp_path, {"create_runtime": False, "external_gateway_url": "https://llm.eks.acme.example"}))
    assert stack["output"]["runtime_environment"]["value"]["DATABASE_USER"] == "litellm_app"
    roles = {body["name"]: f"${{aws_iam_role.{name}.arn}}" for name, body in resources(stack, "aws_iam_role").items()}
    for family in ("gateway", "backend"):
        statements = policy_statements(stack, roles[f"acme-dev-{family}-task"])
        connect = [r for s in statements if "rds-db:connect" in s["actions"] for r in s["resources"]]
        assert [resource.rsplit("/", 1)[1] for resource in connect] == ["litellm_app"], family


def test_the_budget_names_every_pool_and_role_names_fit_postgres(tmp_path):
    from constructs_lib.config.loader import ConfigError

    with pytest.raises(ConfigError) as error:
        _load(tmp_path, {**COLLECTOR_ON, "database": {"connection_pool": {"max_db_connections": 5}}}, PROD)
    assert error.value.path == "clouds.aws.database.connection_pool.max_db_connections"
    assert (
        "(components.gateway (peak tasks) 40 x 1 + components.backend (peak tasks x workers) 12 x 1 + spend_collector "
        "(one per gateway task) 40 x 1) = 92 pools" in error.value.problem
    )
    (tmp_path / "long").mkdir()
    with pytest.raises(ConfigError) as error:
        _load(tmp_path / "long", {"database": {"app_user": "a" * 54}}, DEV)
    assert error.value.path == "clouds.aws.database.app_user"


def test_without_the_gateways_pgbouncer_nothing_is_budgeted_and_the_roles_get_no_limit(tmp_path):
    """`connection_pool.enabled: false` (an image without PgBouncer): the gateway's engines are unbounded, so no share
    exists to size the roles with; they keep PostgreSQL's "no limit" (-1) rather than a made-up one."""
    stack = _synth(_load(tmp_path, {"database": {"connection_pool": {"enabled": False}}}, PROD))
    sql = _bootstrap(stack)["BOOTSTRAP_SQL"]
    assert "ALTER ROLE litellm_app_backend CONNECTION LIMIT -1;" in sql
    assert not any(name.startswith("LITELLM_PGBOUNCER_") for name in _env(_containers(stack, "gateway")["gateway"]))
