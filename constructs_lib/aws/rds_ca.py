"""Verified TLS to Aurora: the RDS root CA every database client of the gateway trusts, and how it reaches them.

    roots = rds_root_pem(region)                      # the region's RSA2048 G1 root, from the shipped bundle
    init = ca_init_container(image, log_group, region, roots)
    ContainerSpec(..., env={**VERIFY_FULL_ENV}, mount_points=[CA_MOUNT], depends_on_success=[init.name])

RDS server certificates chain to a per-region AWS root that no public trust store carries, so the CA travels
with the stack: `assets/rds-global-bundle.pem` is AWS's RDS global bundle
(https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem, "Certificate bundles for all AWS Regions" in
https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/UsingWithRDS.SSL.html), byte for byte as the
AWS-authored PyPI package pinned (version and SHA-256) in tools/rds_ca/requirements.txt ships it; `python -m
tools.rds_ca refresh` regenerates it, tests/test_aws_rds_ca_bundle.py holds it to that source. It covers the
commercial (`aws`) partition; a region without a root in it (a new region, GovCloud, China) is refused at synth.

The instances pin their server certificate authority to `rds-ca-rsa2048-g1`, so exactly that region's
"Amazon RDS <region> Root CA RSA2048 G1" is shipped: one certificate, which Prisma's `sslcert` loads as is
(LiteLLM's pin_bundle_root, litellm/proxy/db/db_url_settings.py:177, only probes the server for multi-root files).

Every database client connects by the cluster endpoint name with `verify-full`: LiteLLM turns
DATABASE_SSLMODE=verify-full + DATABASE_SSLROOTCERT into Prisma's `sslmode=require&sslcert=<root>&sslaccept=strict`
(chain and hostname; db_url_settings.py:221-254), psql checks both itself. The certificate is written into a
task-scoped volume by a non-essential init container the client containers wait on (ECS `dependsOn` SUCCESS), so no
image and no start command has to change.
"""

from __future__ import annotations

import base64
import re
from dataclasses import replace
from pathlib import Path

from constructs_lib._common.errors import PropsError
from constructs_lib.aws.ecs_service import ContainerSpec

# The RDS CA the instances' server certificates are issued by (aws_rds_cluster_instance.ca_cert_identifier):
# https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/UsingWithRDS.SSL-certificate-rotation.html
CA_CERT_IDENTIFIER = "rds-ca-rsa2048-g1"
BUNDLE = Path(__file__).parent / "assets" / "rds-global-bundle.pem"
CA_VOLUME = "rds-ca"
CA_DIR = "/etc/rds-ca"
CA_FILE = f"{CA_DIR}/root.pem"
CA_MOUNT = (CA_VOLUME, CA_DIR)
INIT_CONTAINER = "rds-ca"
CA_PEM_ENV = "RDS_CA_ROOT_PEM"
# LiteLLM's discrete database settings (db_url_settings.py:375-376) and libpq's, for psql.
VERIFY_FULL_ENV = {"DATABASE_SSLMODE": "verify-full", "DATABASE_SSLROOTCERT": CA_FILE}
PSQL_VERIFY_FULL_ENV = {"PGSSLMODE": "verify-full", "PGSSLROOTCERT": CA_FILE}

_PEM_BLOCK = re.compile(r"-----BEGIN CERTIFICATE-----\n(?P<body>[A-Za-z0-9+/=\n]+?)-----END CERTIFICATE-----")


def rds_root_pem(region: str) -> str:
    """The shipped "Amazon RDS <region> Root CA RSA2048 G1" certificate, PEM; refused when the bundle has none."""
    subject = f"Amazon RDS {region} Root CA RSA2048 G1".encode()
    found = [
        match.group(0)
        for match in _PEM_BLOCK.finditer(BUNDLE.read_text())
        if subject in base64.b64decode(match.group("body"))
    ]
    if not found:
        raise PropsError(
            "clouds.aws.region",
            f"the shipped RDS CA bundle ({BUNDLE.name}, AWS's global bundle for the commercial regions) has no root "
            f"for {region!r}: for a region AWS added since, pin a newer AWS package in tools/rds_ca/requirements.txt "
            "and run `python -m tools.rds_ca refresh`; GovCloud and China regions have CA bundles of their own",
        )
    # A root is self-signed, so its subject is also its issuer; an intermediate names the root only as issuer.
    roots = [pem for pem in found if base64.b64decode(_PEM_BLOCK.match(pem)["body"]).count(subject) >= 2]
    return roots[0] + "\n"


def ca_init_container(image: str, log_group: str, region: str, root_pem: str) -> ContainerSpec:
    """Writes the root into the task's CA volume, then exits 0; the database clients start after it."""
    # `$NAME` without braces: `${...}` would be read as a Terraform interpolation.
    script = f"printf '%s' \"${CA_PEM_ENV}\" > {CA_FILE} && chmod 0444 {CA_FILE}"
    return ContainerSpec(
        name=INIT_CONTAINER,
        image=image,
        log_group=log_group,
        region=region,
        env={CA_PEM_ENV: root_pem},
        entry_point=["sh", "-c"],
        command=[script],
        essential=False,
        init=True,
        # The volume is root-owned; the file it writes is world-readable for the client's own user.
        user="0",
        mount_points=[CA_MOUNT],
    )


def with_rds_ca(
    container: ContainerSpec, sidecars: list[ContainerSpec], volumes: list[str], root_pem: str
) -> tuple[ContainerSpec, list[ContainerSpec], list[str]]:
    """The task's containers that read CA_FILE get the volume and wait on the init container, which is added."""

    def reads_ca(spec: ContainerSpec) -> bool:
        return CA_FILE in (spec.env.get("DATABASE_SSLROOTCERT"), spec.env.get("PGSSLROOTCERT"))

    def wired(spec: ContainerSpec) -> ContainerSpec:
        if not reads_ca(spec):
            return spec
        return replace(
            spec,
            mount_points=[*spec.mount_points, CA_MOUNT],
            depends_on_success=[*spec.depends_on_success, INIT_CONTAINER],
        )

    if not any(reads_ca(spec) for spec in (container, *sidecars)):
        return container, sidecars, volumes
    init = ca_init_container(container.image, container.log_group, container.region, root_pem)
    return wired(container), [*(wired(spec) for spec in sidecars), init], [*volumes, CA_VOLUME]
