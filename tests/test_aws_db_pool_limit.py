"""AWS: the gateway's connections to the managed Aurora are capped per task by LiteLLM's in-container PgBouncer and
checked at synth against the `max_connections` the instances run with (issue #27 item 4), against the real LiteLLM
1.106.12.

Why PgBouncer: the tasks authenticate to Aurora with IAM tokens, so LiteLLM's componentized entrypoints rebuild
DATABASE_URL from the discrete DATABASE_* variables on every start (litellm/proxy/db/db_url_settings.py:452-479):
IAMEndpoint.build_url writes `?schema=` only, percent-encoding it whole (litellm/proxy/db/token_auth.py:74-82,
101-115), and the params added afterwards are sslmode/sslrootcert, pgbouncer and max_idle_connection_lifetime
(db_url_settings.py:438-450, 639-652). A `connection_limit` has no way in, so each worker's engine takes Prisma's
default pool, sized from the host's CPUs (db_url_settings.py:654-656); the first test pins that.

What bounds it: with LITELLM_PGBOUNCER_ENABLED the gateway's supervisor starts one PgBouncer per task, points the
workers' DATABASE_URL at it and caps the upstream connections at `default_pool_size` = `max_db_connections` =
LITELLM_PGBOUNCER_MAX_DB_CONNECTIONS (litellm/proxy/db/pgbouncer.py:1-30, 108, 190-280, proxy_cli.py:1507-1521);
under IAM auth PgBouncer mints and renews the token in its auth file (pgbouncer.py:21-30, 642-672), and a worker keeps
the pooled URL (db_url_settings.py:452-455). These tests run those functions on the synthesized task's environment.
"""

from __future__ import annotations

import configparser
import json
import urllib.parse

import pytest

from constructs_lib.config.loader import ConfigError
from tests.litellm_db_url import litellm_database_urls, litellm_pgbouncer_plan, made_up_aws_credentials
from tests.test_aws_database_tls import ENDPOINT, _containers, _env, dev_stack  # noqa: F401 (fixture)
from tests.test_aws_gateway import resources
from tests.test_aws_parity import EXTERNAL_DB
from tests.test_aws_stack_options import PROD, _load, _synth

READER = ENDPOINT.replace(".cluster-", ".cluster-ro-")


@pytest.fixture(scope="module")
def prod_config(tmp_path_factory):
    return _load(tmp_path_factory.mktemp("prod"), {}, PROD)


@pytest.fixture(scope="module")
def prod_stack(prod_config) -> dict:
    return _synth(prod_config)


def test_litellm_drops_a_pool_size_from_the_iam_url_the_aws_tasks_use(dev_stack):  # noqa: F811
    env = {
        name: value
        for name, value in _env(_containers(dev_stack, "gateway")["gateway"]).items()
        if name.startswith(("DATABASE_", "IAM_TOKEN", "AWS_REGION"))
    }
    assert env["IAM_TOKEN_DB_AUTH"] == "true"
    env |= {"DATABASE_HOST": ENDPOINT, "DATABASE_SCHEMA": "public&connection_limit=5"}
    env.pop("DATABASE_HOST_READ_REPLICA", None)
    env.pop("DATABASE_SSLROOTCERT", None)
    env["DATABASE_SSLMODE"] = "require"
    # Every way in: a pinned URL carrying the pool, and the pool smuggled into the schema.
    env["DATABASE_URL"] = f"postgresql://litellm_app@{ENDPOINT}:5432/litellm?connection_limit=5&pool_timeout=60"
    url = urllib.parse.urlsplit(litellm_database_urls({**made_up_aws_credentials(), **env})["DATABASE_URL"])
    query = dict(urllib.parse.parse_qsl(url.query))
    assert url.hostname == ENDPOINT and "X-Amz-Signature" in urllib.parse.unquote(url.password or "")
    assert "connection_limit" not in query and "pool_timeout" not in query, query
    assert query["schema"] == "public&connection_limit=5"  # one value, not a parameter


def _gateway_env(stack: dict, tmp_path) -> dict[str, str]:
    """The gateway container's environment as the task gets it, with the endpoints resolved and the RDS root the
    init container writes at the path the task names."""
    containers = _containers(stack, "gateway")
    env = _env(containers["gateway"])
    root = tmp_path / "rds-root.pem"
    root.write_text(_env(containers["rds-ca"])["RDS_CA_ROOT_PEM"])
    env |= {"DATABASE_HOST": ENDPOINT, "DATABASE_SSLROOTCERT": str(root)}
    return {**made_up_aws_credentials(), **env}


def _max_connections(stack: dict) -> dict[str, str]:
    """Each Aurora instance's `max_connections`, from the DB parameter group it names."""
    groups = {
        f"${{aws_db_parameter_group.{name}.name}}": {item["name"]: item["value"] for item in body["parameter"]}
        for name, body in resources(stack, "aws_db_parameter_group").items()
    }
    return {
        body["identifier"]: groups[body["db_parameter_group_name"]]["max_connections"]
        for body in resources(stack, "aws_rds_cluster_instance").values()
    }


def test_production_gateway_tasks_fit_under_the_instances_max_connections(prod_config, prod_stack, tmp_path):
    aws = prod_config.clouds.aws
    gateway = aws.components.gateway
    assert gateway.autoscaling and gateway.max_count == 20 and gateway.workers == 2 and aws.database.readers == 1
    limits = _max_connections(prod_stack)
    assert len(limits) == 2 and set(limits.values()) == {"400"}, limits
    env = _gateway_env(prod_stack, tmp_path)
    assert env["LITELLM_PGBOUNCER_ENABLED"] == "true" and env["IAM_TOKEN_DB_AUTH"] == "true"
    runtime = tmp_path / "pgbouncer"
    runtime.mkdir()
    plan = litellm_pgbouncer_plan(env, str(runtime))
    ini = configparser.ConfigParser(interpolation=None)
    ini.read_string(plan["ini"])
    cap = int(ini["pgbouncer"]["default_pool_size"])
    assert cap == int(ini["pgbouncer"]["max_db_connections"]) == int(env["LITELLM_PGBOUNCER_MAX_DB_CONNECTIONS"])
    # A rolling deployment at max_count runs up to the service's deployment_maximum_percent of it (old and new tasks,
    # https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentConfiguration.html), each at its cap.
    (service,) = (
        body for body in resources(prod_stack, "aws_ecs_service").values() if body["name"].endswith("gateway")
    )
    peak_tasks = gateway.max_count * service["deployment_maximum_percent"] // 100
    # Next to them, the backend's workers at the same share each, under their role's CONNECTION LIMIT
    # (tests/test_aws_db_client_roles.py): max_count 6 x 200% x 1 worker.
    backend_pools = aws.components.backend.max_count * service["deployment_maximum_percent"] // 100
    pools = peak_tasks + backend_pools
    assert pools * cap + aws.database.reserved_connections <= 400
    assert pools * (cap + 1) + aws.database.reserved_connections > 400, "the largest cap that fits"
    # Upstream: the writer endpoint, as the IAM user, verifying the server against the RDS root.
    assert f"host='{ENDPOINT}'" in ini["databases"]["litellm"] and plan["upstream_user"] == "litellm_app"
    assert ini["pgbouncer"]["server_tls_sslmode"] == "verify-full"
    assert (runtime / "server-ca.pem").read_text() == (tmp_path / "rds-root.pem").read_text()
    assert "X-Amz-Signature" in urllib.parse.unquote(urllib.parse.urlsplit(plan["upstream_url"]).password or "")
    # What Prisma gets in each worker: the loopback PgBouncer, transaction mode, no token of its own to refresh.
    pooled = plan["worker_env"]["DATABASE_URL"]
    assert pooled == plan["pooled_url"]
    parts = urllib.parse.urlsplit(pooled)
    assert (parts.hostname, parts.port, parts.username) == ("127.0.0.1", 6432, "litellm_pgbouncer")
    assert dict(urllib.parse.parse_qsl(parts.query))["pgbouncer"] == "true"
    assert ini["pgbouncer"]["pool_mode"] == "transaction"


def test_the_pooled_gateway_reads_the_writer_because_a_reader_engine_would_bypass_pgbouncer(prod_stack, tmp_path):
    """LiteLLM leaves DATABASE_URL_READ_REPLICA outside PgBouncer (pgbouncer.py:18-19): a worker's reader engine would
    reach the reader instance directly with an IAM token and no pool size (the pooled URL carries none), Prisma's
    CPU-sized default. So the pooled gateway gets no reader endpoint; the backend keeps it."""
    env = _gateway_env(prod_stack, tmp_path)
    assert not any(name.endswith("_READ_REPLICA") for name in env)
    backend = _env(_containers(prod_stack, "backend")["backend"])
    assert backend["DATABASE_HOST_READ_REPLICA"].endswith(".reader_endpoint}")
    # What a reader endpoint would have given each worker, from the pinned LiteLLM.
    plan = litellm_pgbouncer_plan({**env, "DATABASE_HOST_READ_REPLICA": READER}, str(tmp_path))
    assert plan["enabled"] and urllib.parse.urlsplit(plan["worker_env"]["DATABASE_URL"]).hostname == "127.0.0.1"
    reader = urllib.parse.urlsplit(plan["worker_env"]["DATABASE_URL_READ_REPLICA"])
    assert reader.hostname == READER and "X-Amz-Signature" in urllib.parse.unquote(reader.password or "")
    assert "connection_limit" not in dict(urllib.parse.parse_qsl(reader.query))


def test_dev_default_cap_and_explicit_values(tmp_path):
    dev = _synth(_load(tmp_path, {}))
    assert set(_max_connections(dev).values()) == {"100"}  # outside production
    # dev: gateway and backend max_count 2 -> 4 + 4 pools at a deployment's peak; (100 - 15) // 8 = 10.
    assert _env(_containers(dev, "gateway")["gateway"])["LITELLM_PGBOUNCER_MAX_DB_CONNECTIONS"] == "10"
    (tmp_path / "explicit").mkdir()
    explicit = _synth(
        _load(
            tmp_path / "explicit",
            {"database": {"max_connections": 250, "connection_pool": {"max_db_connections": 7}}},
        )
    )
    assert set(_max_connections(explicit).values()) == {"250"}
    assert _env(_containers(explicit, "gateway")["gateway"])["LITELLM_PGBOUNCER_MAX_DB_CONNECTIONS"] == "7"


def test_pgbouncer_stays_off_by_default_with_an_external_database(tmp_path):
    stack = _synth(_load(tmp_path, {"database": EXTERNAL_DB}))
    env = _env(_containers(stack, "gateway")["gateway"])
    assert not any(name.startswith("LITELLM_PGBOUNCER_") for name in env)
    assert not resources(stack, "aws_db_parameter_group")
    assert json.dumps(stack).count("gateway.launch") == 0


@pytest.mark.parametrize(
    ("edits", "base", "words"),
    [
        # Production's default 400: (20 gateway + 6 backend tasks) x 200% = 52 pools x 8 + 15 = 431.
        (
            {"database": {"connection_pool": {"max_db_connections": 8}}},
            PROD,
            "= 52 pools (gateway PgBouncers, backend and collector engines) on each of writer and replica x "
            "connection_pool.max_db_connections 8 + reserved_connections 15 = 431",
        ),
        # No cap fits: dev max_count 50 -> 100 PgBouncers + 4 backend engines + 15 reserved > 100.
        (
            {"components": {"gateway": {"max_count": 50}}},
            None,
            "no pool fits: (components.gateway (peak tasks) 100 x 1 + components.backend (peak tasks x workers) 4 x 1)"
            " = 104 pools",
        ),
    ],
)
def test_a_budget_that_cannot_fit_fails_the_load_naming_file_line_and_field(tmp_path, edits, base, words):
    with pytest.raises(ConfigError) as error:
        _load(tmp_path, edits, *((base,) if base else ()))
    assert error.value.path == "clouds.aws.database.connection_pool.max_db_connections"
    assert error.value.line, "the line of the value (or of the database section) is named"
    assert words in error.value.problem and "max_connections" in error.value.problem
