"""AWS: why the stack does not size Prisma's pool (issue #27 item 4), pinned against the real LiteLLM 1.106.12.

The tasks authenticate to Aurora with IAM tokens, so LiteLLM's componentized entrypoints rebuild DATABASE_URL from
the discrete DATABASE_* variables on every start (litellm/proxy/db/db_url_settings.py:452-479): IAMEndpoint.build_url
writes `?schema=` only, percent-encoding it whole (litellm/proxy/db/token_auth.py:74-82, 101-115), and the params
added afterwards are sslmode/sslrootcert, pgbouncer and max_idle_connection_lifetime (db_url_settings.py:438-450,
639-652). A `connection_limit` has no way in, so every worker's engine takes Prisma's default pool, sized from the
host's CPUs (db_url_settings.py:654-656), which no synth-time check can know. This test fails the day a LiteLLM
release keeps a pool size under IAM auth: then the GCP budget (constructs_lib/config/db_connections.py) applies here.
"""

from __future__ import annotations

import urllib.parse

from tests.litellm_db_url import litellm_database_urls, made_up_aws_credentials
from tests.test_aws_database_tls import ENDPOINT, _containers, _env, dev_stack  # noqa: F401 (fixture)


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
