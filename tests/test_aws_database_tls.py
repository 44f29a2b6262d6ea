"""Aurora TLS is verified: every database client checks the server certificate's chain and the endpoint name.

The rule: LiteLLM's componentized entrypoints assemble DATABASE_URL from the discrete DATABASE_* variables
(litellm/proxy/db/db_url_settings.py:438-450) and translate libpq's `verify-full` + `sslrootcert` into Prisma's
`sslmode=require&sslcert=<ca>&sslaccept=strict` (db_url_settings.py:221-254); `sslmode=require` alone is encrypted
but unverified. These tests run that real code (the pinned LiteLLM, in .venv-litellm) on the environment the
synthesized task definitions give the containers.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import urllib.parse
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from constructs_lib._common.errors import PropsError
from tests.litellm_db_url import litellm_database_urls, made_up_aws_credentials
from tests.test_aws_gateway import named, resources, task_definition
from tests.test_aws_stack_options import DEV, _load, _synth

# https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/UsingWithRDS.SSL-certificate-rotation.html
PINNED_CA = "rds-ca-rsa2048-g1"
ENDPOINT = "acme-dev-litellm.cluster-c0ffee.us-east-1.rds.amazonaws.com"
CLIENT_FAMILIES = ("gateway", "backend", "migrations", "bootstrap-db")


@pytest.fixture(scope="module")
def dev_stack(tmp_path_factory) -> dict:
    return _synth(_load(tmp_path_factory.mktemp("dev"), {}))


def _containers(stack: dict, family: str) -> dict[str, dict]:
    _, body = task_definition(stack, family)
    return {item["name"]: item for item in json.loads(body["container_definitions"])}


def _env(container: dict) -> dict[str, str]:
    return {item["name"]: item["value"] for item in container["environment"]}


def _written_root(stack: dict, family: str, tmp_path: Path) -> tuple[Path, str]:
    """Run the family's init container command in a real shell; return the file it writes and the PEM it was given."""
    init = _containers(stack, family)["rds-ca"]
    target = tmp_path / f"{family}-root.pem"
    (script,) = init["command"]
    mount = init["mountPoints"][0]["containerPath"]
    script = script.replace(mount, str(tmp_path / "mount"))
    (tmp_path / "mount").mkdir(exist_ok=True)
    subprocess.run([*init["entryPoint"], script], env={**_env(init), "PATH": os.environ["PATH"]}, check=True)
    written = tmp_path / "mount" / "root.pem"
    target.write_bytes(written.read_bytes())
    written.chmod(0o644)
    written.unlink()
    return target, _env(init)["RDS_CA_ROOT_PEM"]


@pytest.mark.parametrize("family", CLIENT_FAMILIES)
def test_every_database_client_gets_the_region_root_before_it_starts(dev_stack, family, tmp_path):
    containers = _containers(dev_stack, family)
    init = containers["rds-ca"]
    assert init["essential"] is False and "restartPolicy" not in init  # runs once, to completion
    written, given = _written_root(dev_stack, family, tmp_path)
    assert written.read_text() == given
    root = x509.load_pem_x509_certificate(given.encode())
    # The region's RSA2048 G1 root (the CA the instances pin), self-signed, valid now.
    assert (
        root.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Amazon RDS us-east-1 Root CA RSA2048 G1"
    )
    assert root.issuer == root.subject
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert root.not_valid_after_utc > datetime.datetime.now(datetime.UTC)
    client = containers[family if family != "bootstrap-db" else "psql"]
    assert {"containerName": "rds-ca", "condition": "SUCCESS"} in client["dependsOn"]
    mounted = {point["sourceVolume"]: point["containerPath"] for point in client["mountPoints"]}
    env = _env(client)
    ca_file = env.get("DATABASE_SSLROOTCERT") or env["PGSSLROOTCERT"]
    assert ca_file == f"{mounted['rds-ca']}/root.pem" == f"{init['mountPoints'][0]['containerPath']}/root.pem"
    assert (env.get("DATABASE_SSLMODE") or env["PGSSLMODE"]) == "verify-full"


def test_the_instances_pin_the_ca_whose_root_is_shipped(dev_stack):
    instances = resources(dev_stack, "aws_rds_cluster_instance").values()
    assert instances and {body["ca_cert_identifier"] for body in instances} == {PINNED_CA}


@pytest.mark.parametrize("family", ["gateway", "backend", "migrations"])
def test_litellm_builds_a_url_that_verifies_chain_and_endpoint_name(dev_stack, family, tmp_path):
    containers = _containers(dev_stack, family)
    written = _written_root(dev_stack, family, tmp_path)[0] if "rds-ca" in containers else None
    env = {
        name: value
        for name, value in _env(containers[family]).items()
        if name.startswith(("DATABASE_", "IAM_TOKEN", "AWS_REGION"))
    }
    _, cluster = named(dev_stack, "aws_rds_cluster", "/database/cluster/")
    assert env["DATABASE_HOST"].startswith("${aws_rds_cluster.") and env["DATABASE_HOST"].endswith(".endpoint}")
    env["DATABASE_HOST"] = ENDPOINT
    env.pop("DATABASE_HOST_READ_REPLICA", None)
    if written is not None:
        env["DATABASE_SSLROOTCERT"] = str(written)
    url = urllib.parse.urlsplit(litellm_database_urls({**made_up_aws_credentials(), **env})["DATABASE_URL"])
    query = dict(urllib.parse.parse_qsl(url.query))
    assert url.hostname == ENDPOINT
    assert query.get("sslaccept") == "strict", query  # chain and hostname
    assert query.get("sslcert") == str(written) and query.get("sslmode") == "require"
    assert cluster["engine"] == "aurora-postgresql"


def test_a_region_the_shipped_bundle_has_no_root_for_is_refused(tmp_path):
    # The global bundle holds the commercial partition's roots only (tests/test_aws_rds_ca_bundle.py); GovCloud's are
    # in bundles of their own ("Certificate bundles for specific AWS Regions", UsingWithRDS.SSL.html).
    aws = {"region": "us-gov-west-1", "availability_zones": ["us-gov-west-1a", "us-gov-west-1b"]}
    with pytest.raises(PropsError, match=r"clouds\.aws\.region.*no root for 'us-gov-west-1'"):
        _synth(_load(tmp_path, aws, base=DEV))
