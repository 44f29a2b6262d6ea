"""GCP: every database client reaches Cloud SQL through Cloud Run's Cloud SQL connection, which verifies the server.

The rule: over the private IP, TLS can be encrypted but not verified (the IP is not in the certificate, and LiteLLM
turns verify-ca/verify-full into Prisma's hostname-checking `sslaccept=strict`, litellm/proxy/db/db_url_settings.py
:221-254). Cloud Run's `cloud_sql_instance` volume gives a Unix socket per instance under /cloudsql/<connection name>
behind the Cloud SQL Auth Proxy, whose mTLS verifies client and server whatever the SSL mode
(https://cloud.google.com/sql/docs/postgres/configure-ssl-instance). Field names: google provider v6.50.0,
google/services/cloudrunv2/resource_cloud_run_v2_service.go:575-605 (`volumes.cloud_sql_instance.instances`) and
resource_cloud_run_v2_job.go:384-410; `ssl_mode` / `server_ca_mode` and their allowed values:
google/services/sql/resource_sql_database_instance.go:573-586.

The URL is checked with the pinned LiteLLM's own code (DatabaseURLSettings.apply_to_env, what gateway.main,
backend.main and migrations/run.py call) and then dialled with libpq against a real PostgreSQL 15 that listens on a
socket directory only: Prisma's query engine cannot be installed here (FACTS.md: its engines download at first
use), and Prisma's socket form (`@localhost...?host=<dir>`, socket `<dir>/.s.PGSQL.<port>`) is libpq's.
"""

from __future__ import annotations

import os
import subprocess
import urllib.parse

import pytest

from constructs_lib.config.loader import ConfigError
from tests.litellm_db_url import litellm_database_urls
from tests.postgres_server import PG_BIN, as_server_user, postgres_server
from tests.test_gcp_stack_options import _load, _synth

CONNECTION = "acme-llmgw-dev:us-central1:acme-dev-pg"
REPLICA = "acme-llmgw-dev:us-central1:acme-dev-pg-replica"
DB_LOGIN_WORD = "pw-" + os.urandom(6).hex()  # made up per run


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> dict:
    edits = {"database": {"read_replica": True}, "spend_collector": {"enabled": True}}
    return _synth(_load(tmp_path_factory.mktemp("gcp"), edits))


def _resources(stack: dict, kind: str) -> dict[str, dict]:
    return stack["resource"].get(kind, {})


def _instance_refs(stack: dict) -> dict[str, str]:
    """'writer'/'replica' -> the `${...connection_name}` reference of that instance."""
    return {
        ("replica" if "master_instance_name" in body else "writer"): f"${{google_sql_database_instance.{name}"
        ".connection_name}"
        for name, body in _resources(stack, "google_sql_database_instance").items()
    }


def _service(stack: dict, component: str) -> dict:
    (body,) = [b for b in _resources(stack, "google_cloud_run_v2_service").values() if b["name"].endswith(component)]
    return body["template"]


def _env(container: dict) -> dict[str, str | None]:
    return {item["name"]: item.get("value") for item in container.get("env", [])}


def _clients(stack: dict) -> list[tuple[str, dict, dict]]:
    """(label, template, container) of every container that talks to the database."""
    gateway, backend = _service(stack, "gateway"), _service(stack, "backend")
    (job,) = _resources(stack, "google_cloud_run_v2_job").values()
    job_template = job["template"]["template"]
    by_name = {container["name"]: container for container in gateway["containers"]}
    return [
        ("gateway", gateway, by_name["litellm"]),
        ("spend-collector", gateway, by_name["spend-collector"]),
        ("backend", backend, backend["containers"][0]),
        ("migrations", job_template, job_template["containers"][0]),
    ]


def test_every_database_client_mounts_the_instance_sockets(stack):
    refs = _instance_refs(stack)
    for label, template, container in _clients(stack):
        (volume,) = [item for item in template["volumes"] if "cloud_sql_instance" in item]
        expected = [refs["writer"]] if label == "migrations" else [refs["writer"], refs["replica"]]
        assert volume["cloud_sql_instance"]["instances"] == expected, label
        assert {"name": volume["name"], "mount_path": "/cloudsql"} in container["volume_mounts"], label
        env = _env(container)
        assert env["DATABASE_HOST"] == f"/cloudsql/{refs['writer']}", label
        if label != "migrations":
            assert env["DATABASE_HOST_READ_REPLICA"] == f"/cloudsql/{refs['replica']}", label
        command = container["command"][-1]
        assert "sslmode" not in command and "private_ip_address" not in str(env), label
    # The UI never talks to the database: no socket, no database variables.
    ui = _service(stack, "ui")
    assert not ui.get("volumes") and not any(name.startswith("DATABASE") for name in _env(ui["containers"][0]))


def test_the_migrations_job_keeps_the_image_entrypoint_after_exporting_the_url(stack):
    (job,) = _resources(stack, "google_cloud_run_v2_job").values()
    (container,) = job["template"]["template"]["containers"]
    # BerriAI/litellm migrations/Dockerfile: ENTRYPOINT ["python3", "/app/run.py"]
    assert container["command"][:2] == ["sh", "-c"]
    assert container["command"][2].endswith("&& exec python3 /app/run.py")


def database_url_steps(container: dict) -> list[str]:
    """The `export DATABASE_URL...` steps of a container's start command."""
    return [step for step in container["command"][-1].split(" && ") if "DATABASE_URL" in step]


def _final_urls(container: dict, env: dict[str, str]) -> dict[str, str]:
    """Run the container's start command up to its `exec` in a real shell, then LiteLLM's URL assembly (the pinned
    release's DatabaseURLSettings.apply_to_env, as gateway.main / backend.main / migrations/run.py call it)."""
    return litellm_database_urls(env, database_url_steps(container))


def _runtime_env(container: dict, refs: dict[str, str]) -> dict[str, str]:
    names = {refs["writer"]: CONNECTION, refs.get("replica", ""): REPLICA}
    env = {}
    for name, value in _env(container).items():
        if name.startswith("DATABASE_") and value is not None:
            for ref, real in names.items():
                value = value.replace(ref, real) if ref else value
            env[name] = value
    env |= {"DATABASE_USER": "litellm", "DATABASE_NAME": "litellm", "DATABASE_PASSWORD": DB_LOGIN_WORD}
    return env


@pytest.mark.parametrize("label", ["gateway", "spend-collector", "backend", "migrations"])
def test_litellm_keeps_the_socket_and_adds_no_unverified_tls(stack, label):
    refs = _instance_refs(stack)
    (_, _, container) = next(item for item in _clients(stack) if item[0] == label)
    urls = _final_urls(container, _runtime_env(container, refs))
    writer = urllib.parse.urlsplit(urls["DATABASE_URL"])
    query = dict(urllib.parse.parse_qsl(writer.query))
    assert writer.hostname == "localhost" and writer.port == 5432 and writer.path == "/litellm"
    assert query["host"] == f"/cloudsql/{CONNECTION}"
    assert not {"sslmode", "sslaccept", "sslcert"} & set(query), query
    if label == "migrations":
        assert "DATABASE_URL_READ_REPLICA" not in urls
    else:
        reader = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(urls["DATABASE_URL_READ_REPLICA"]).query))
        assert reader["host"] == f"/cloudsql/{REPLICA}"


def test_the_url_reaches_postgres_listening_on_the_socket_directory_only(stack):
    """A real PostgreSQL 15 with no TCP listener and a password required, its socket in `<root>/<connection name>`
    as Cloud Run lays it out; libpq, given the URL LiteLLM produced (the root moved), logs in through the socket."""
    refs = _instance_refs(stack)
    (_, _, container) = _clients(stack)[0]
    urls = _final_urls(container, _runtime_env(container, refs))
    with postgres_server(f"cloudsql/{CONNECTION}", superuser="litellm", password=DB_LOGIN_WORD) as server:
        subprocess.run(
            as_server_user([PG_BIN / "createdb", "-h", server.socket_dir, "-U", "litellm", "litellm"]),
            env={**os.environ, "PGPASSWORD": DB_LOGIN_WORD},
            check=True,
            capture_output=True,
            timeout=120,
        )
        url = urllib.parse.urlsplit(urls["DATABASE_URL"])
        query = [
            (k, v.replace("/cloudsql", str(server.work / "cloudsql"))) for k, v in urllib.parse.parse_qsl(url.query)
        ]
        # Prisma's pool parameters mean nothing to libpq, which refuses unknown ones; the socket form stays.
        query = [(k, v) for k, v in query if k == "host"]
        libpq_url = urllib.parse.urlunsplit(url._replace(query=urllib.parse.urlencode(query)))
        answer = subprocess.run(
            ["psql", libpq_url, "-tA", "-F", " ", "-c", "select current_user, inet_server_addr() is null"],
            check=True,
            capture_output=True,
            timeout=120,
        )
        assert answer.stdout.decode().strip() == "litellm t"  # no server address: a Unix socket
        wrong = libpq_url.replace(DB_LOGIN_WORD, "not-the-password")
        refused = subprocess.run(["psql", wrong, "-tAc", "select 1"], capture_output=True, text=True, timeout=60)
        assert refused.returncode != 0 and "password authentication failed" in refused.stderr


def test_instances_accept_only_the_connector_when_cloud_run_runs_here(stack, tmp_path):
    for name, body in _resources(stack, "google_sql_database_instance").items():
        ip = body["settings"]["ip_configuration"]
        # Only TLS with a client certificate the instance trusts: the Auth Proxy's (configure-ssl-instance page).
        assert ip["ssl_mode"] == "TRUSTED_CLIENT_CERTIFICATE_REQUIRED", name
        # "You must select the per-instance CA option (GOOGLE_MANAGED_INTERNAL_CA) as the server CA mode for
        # instances that you want to connect to from web applications" (cloud.google.com/sql/docs/postgres/connect-run)
        assert ip["server_ca_mode"] == "GOOGLE_MANAGED_INTERNAL_CA", name
        assert ip["ipv4_enabled"] is False, name
    # Dependencies-only: the runtime elsewhere may still dial the private IP; it gets the connection name for the
    # Auth Proxy, and the instance keeps TLS required.
    bare = _synth(_load(tmp_path, {"create_runtime": False, "external_gateway_url": "https://llm.gke.acme.example"}))
    (instance,) = _resources(bare, "google_sql_database_instance").values()
    assert instance["settings"]["ip_configuration"]["ssl_mode"] == "ENCRYPTED_ONLY"
    assert bare["output"]["database_connection_name"]["value"].endswith(".connection_name}")
    assert not _resources(bare, "google_project_iam_member")


def test_no_egress_rule_stops_the_proxy_reaching_the_instance(stack):
    """Behind the socket, the Auth Proxy dials the instance's private IP on TCP 3307, the proxy protocol's port
    (GoogleCloudPlatform/cloud-sql-proxy#370, a maintainer's answer), not 5432."""
    for name, rule in _resources(stack, "google_compute_firewall").items():
        if rule.get("direction") == "EGRESS" and rule.get("deny"):
            denied = {(item["protocol"], port) for item in rule["deny"] for port in item.get("ports", ["all"])}
            assert not denied & {("all", "all"), ("tcp", "all"), ("tcp", "3307")}, name


def test_a_live_environment_moves_onto_the_socket_before_the_ip_is_closed(tmp_path):
    """Step 1 of the move (README): the new revisions use the socket while the instance still admits the old
    revisions' password logins over the private IP; the SSL mode applies to new connections only
    (cloud.google.com/sql/docs/postgres/configure-ssl-instance), so step 2 closes it once they are gone."""
    moving = _synth(_load(tmp_path, {"database": {"allow_private_ip_clients": True}}))
    (instance,) = _resources(moving, "google_sql_database_instance").values()
    ip = instance["settings"]["ip_configuration"]
    assert ip["ssl_mode"] == "ENCRYPTED_ONLY" and ip["server_ca_mode"] == "GOOGLE_MANAGED_INTERNAL_CA"
    gateway = _service(moving, "gateway")
    assert any("cloud_sql_instance" in volume for volume in gateway["volumes"])
    assert _env(gateway["containers"][0])["DATABASE_HOST"].startswith("/cloudsql/")


def test_cloud_sql_client_is_granted_to_the_database_clients_on_these_instances_only(stack):
    grants = _resources(stack, "google_project_iam_member")
    accounts = {
        body["account_id"].rsplit("-", 1)[-1]: name
        for name, body in _resources(stack, "google_service_account").items()
    }
    members = {body["member"] for body in grants.values()}
    assert members == {
        f"serviceAccount:${{google_service_account.{accounts[suffix]}.email}}"
        for suffix in ("gateway", "backend", "migrate")
    }
    instances = [
        f"resource.name == 'projects/acme-llmgw-dev/instances/${{google_sql_database_instance.{name}.name}}'"
        for name in _resources(stack, "google_sql_database_instance")
    ]
    for body in grants.values():
        # Cloud SQL has no instance-level IAM (google provider v6.50.0: no google_sql_database_instance_iam_*), so the
        # project binding carries a condition naming the instances (terraform-docs-samples
        # cloud_sql/instance_iam_condition/main.tf).
        assert body["role"] == "roles/cloudsql.client" and body["project"] == "acme-llmgw-dev"
        expression = body["condition"]["expression"]
        assert expression.startswith("resource.type == 'sqladmin.googleapis.com/Instance' && (")
        assert all(clause in expression for clause in instances)


def test_the_in_container_pgbouncer_is_refused_with_the_managed_database(tmp_path):
    with pytest.raises(ConfigError) as error:
        _load(tmp_path, {"database": {"connection_pool": {"enabled": True}}})
    assert error.value.path == "clouds.gcp.database.connection_pool.enabled"
    assert error.value.line and "TCP host and port only" in error.value.problem
