"""The Prisma pools every Cloud Run instance may open stay under the Cloud SQL instances' `max_connections`.

The rules (constructs_lib/config/db_connections.py has the sources): Prisma's `connection_limit` is per query engine
and each worker process owns one per database it uses, writer and reader (LiteLLM's own budget statement,
litellm/proxy/db/db_url_settings.py:257-288, which these tests call); the componentized entrypoints take the pool
size from the URL only (general_settings.database_connection_pool_limit is read by the `litellm` CLI alone,
litellm/proxy/proxy_cli.py:1287-1294), so the start commands put `connection_limit` and `pool_timeout` on the URLs;
`max_connections` is set explicitly as a Cloud SQL flag, so the budget is checked against the value the instances
run with, not a guess of a per-tier default.
"""

from __future__ import annotations

import os
import re
import urllib.parse

import pytest

from constructs_lib.config.loader import ConfigError, load_environment
from tests.conftest import CONFIG_DIR
from tests.litellm_db_url import DB_URL_SETTINGS, litellm_database_urls
from tests.litellm_probe import run_litellm
from tests.test_gcp_database_connection import database_url_steps
from tests.test_gcp_stack_options import _load, _synth


def _stack(tmp_path, edits: dict, **root: object) -> dict:
    return _synth(_load(tmp_path, edits, **root))


def _flags(stack: dict) -> dict[str, dict[str, str]]:
    return {
        name: {flag["name"]: flag["value"] for flag in body["settings"]["database_flags"]}
        for name, body in stack["resource"]["google_sql_database_instance"].items()
    }


def _containers(stack: dict) -> dict[str, dict]:
    found = {}
    for body in stack["resource"]["google_cloud_run_v2_service"].values():
        component = body["name"].rsplit("-", 1)[-1]
        for container in body["template"]["containers"]:
            found[f"{component}/{container['name']}"] = container
    return found


def _urls(container: dict) -> dict[str, dict[str, str]]:
    """The query parameters of each URL the start command exports."""
    script = container["command"][-1]
    return {
        name: dict(urllib.parse.parse_qsl(url.split("?", 1)[1]))
        for name, url in re.findall(r'export (DATABASE_URL(?:_READ_REPLICA)?)="([^"]+)"', script)
    }


def _budget_line(writer: str, reader: str | None, workers: int) -> int:
    """LiteLLM's own per-instance figure (db_url_settings.postgres_connection_budget_message), from the pinned code."""
    script = (
        "import sys; from litellm.proxy.db.db_url_settings import postgres_connection_budget_message as m; "
        "print(m(sys.argv[1], None if sys.argv[2] == '-' else sys.argv[2], sys.argv[3]))"
    )
    result = run_litellm(script, [writer, reader or "-", str(workers)], imports=DB_URL_SETTINGS)
    result.check_returncode()
    return int(re.search(r"up to (\d+) connections", result.stdout).group(1))


def test_production_pools_fit_the_flag_on_writer_and_replica(tmp_path):
    """The shipped production shape: 20 gateway instances x 2 workers, 5 backend instances, a read replica."""
    config = load_environment(CONFIG_DIR / "prod.yaml")
    gcp = config.clouds.gcp
    assert config.production and gcp.database.read_replica and gcp.components.gateway.max_instances == 20
    stack = _synth(config)
    flags = _flags(stack)
    assert len(flags) == 2 and {values["max_connections"] for values in flags.values()} == {"400"}
    containers = _containers(stack)
    per_instance = {}
    for component in ("gateway", "backend"):
        urls = _urls(containers[f"{component}/litellm"])
        writer, reader = urls["DATABASE_URL"], urls["DATABASE_URL_READ_REPLICA"]
        assert writer["connection_limit"] == reader["connection_limit"]
        assert writer["pool_timeout"] == reader["pool_timeout"] == "60"  # LiteLLM's default (proxy_cli.py:63)
        service = getattr(gcp.components, component)
        # Each server holds the writer or the reader share: LiteLLM's figure counts both engines per worker.
        both = _budget_line(writer["connection_limit"], reader["connection_limit"], service.processes)
        per_instance[component] = (both // 2, service.max_instances)
    total = sum(share * instances for share, instances in per_instance.values())
    assert total + gcp.database.reserved_connections <= 400
    assert total > 400 // 2, "the pools use the budget, not a token share of it"


def test_litellm_keeps_the_pool_parameters_on_both_urls(tmp_path):
    stack = _stack(tmp_path, {"database": {"read_replica": True}})
    container = _containers(stack)["gateway/litellm"]
    made_up = "made-up-" + os.urandom(4).hex()
    env = {
        "DATABASE_HOST": "/cloudsql/p:r:writer",
        "DATABASE_HOST_READ_REPLICA": "/cloudsql/p:r:reader",
        "DATABASE_PORT": "5432",
        "DATABASE_USER": "litellm",
        "DATABASE_NAME": "litellm",
        "DATABASE_PASSWORD": made_up,
    }
    urls = litellm_database_urls(env, database_url_steps(container))
    synthesized = _urls(container)["DATABASE_URL"]
    assert set(urls) == {"DATABASE_URL", "DATABASE_URL_READ_REPLICA"}
    for url in urls.values():
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
        assert query["connection_limit"] == synthesized["connection_limit"]
        assert query["pool_timeout"] == synthesized["pool_timeout"]


def test_dev_default_sizes_the_pool_to_fit(tmp_path):
    stack = _stack(tmp_path, {})
    (flags,) = _flags(stack).values()
    assert flags["max_connections"] == "100"  # PostgreSQL's default, outside production
    # gateway 10 instances x 2 workers + backend 5 x 1 = 25 engines; (100 - 15 reserved) // 25 = 3.
    for name in ("gateway/litellm", "backend/litellm"):
        assert _urls(_containers(stack)[name])["DATABASE_URL"]["connection_limit"] == "3"


def test_the_spend_collector_counts(tmp_path):
    # 25 engines + 10 collectors = 35; 85 // 35 = 2.
    stack = _stack(tmp_path, {"spend_collector": {"enabled": True}})
    assert _urls(_containers(stack)["gateway/spend-collector"])["DATABASE_URL"]["connection_limit"] == "2"


def test_an_explicit_value_is_used_as_is_and_the_flag_follows_the_config(tmp_path):
    stack = _stack(tmp_path, {"database": {"max_connections": 250, "connection_limit": 9}})
    assert {values["max_connections"] for values in _flags(stack).values()} == {"250"}
    assert _urls(_containers(stack)["gateway/litellm"])["DATABASE_URL"]["connection_limit"] == "9"


@pytest.mark.parametrize(
    ("edits", "root", "words"),
    [
        # Production's default 400: (20 x 2 + 5 x 1) = 45 engines x 10 + 15 = 465.
        (
            {"components": {"gateway": {"max_instances": 20, "cpu": "2"}}, "database": {"connection_limit": 10}},
            {"production": True},
            "= 45 Prisma engines on the instance x connection_limit 10 + reserved_connections 15 = 465 connections",
        ),
        # No pool fits: 25 engines + 15 reserved = 40 > 20.
        ({"database": {"max_connections": 20}}, {}, "no pool fits: (components.gateway 10 x 2"),
        # 100 x 1 + 5 = 105 engines + 15 = 120 > 100, and a replica doubles nothing: each server holds its share.
        (
            {"components": {"gateway": {"max_instances": 100}}, "database": {"read_replica": True}},
            {},
            "= 105 Prisma engines on each of writer and replica, at one connection each",
        ),
    ],
)
def test_a_budget_that_cannot_fit_fails_the_synth_naming_file_line_and_field(tmp_path, edits, root, words):
    with pytest.raises(ConfigError) as error:
        _load(tmp_path, edits, **root)
    assert error.value.path == "clouds.gcp.database.connection_limit"
    assert error.value.line, "the line of the value (or of the database section) is named"
    assert words in error.value.problem and "max_connections" in error.value.problem
