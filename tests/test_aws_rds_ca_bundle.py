"""The RDS CA bundle the AWS stacks ship is AWS's own, holds only Amazon RDS root CAs, and has a root for every region.

Source: AWS's global bundle (https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem, "Certificate bundles
for all AWS Regions", https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/UsingWithRDS.SSL.html) as the
AWS-authored PyPI package pinned in tools/rds_ca/requirements.txt ships it (awslabs.mysql-mcp-server 1.1.3, author
"Amazon Web Services", https://github.com/awslabs/mcp, file awslabs/mysql_mcp_server/connection/rds_global_bundle.pem).
The wheel is downloaded once by `make rds-ca-source` (pip --require-hashes) into the project's cache directory; these
tests read it offline and check its SHA-256 again.
"""

from __future__ import annotations

import base64
import datetime
import json
import re
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

import tools.rds_ca
from constructs_lib._common.errors import PropsError
from constructs_lib.aws.rds_ca import BUNDLE, CA_CERT_IDENTIFIER, rds_root_pem
from tools.rds_ca import SourceError, aws_bundle, metadata, pinned, verified_wheel

ROOT = Path(__file__).resolve().parent.parent
# The AWS CLI's own botocore (awscli==1.46.3, hash-locked in tools/offline_apply/cli/requirements.txt, `make
# awscli-venv`): its endpoints.json lists every region of every partition and where RDS has an endpoint.
ENDPOINTS = next(ROOT.glob(".venv-awscli/lib/python3*/site-packages/awscli/botocore/data/endpoints.json"), None)
# A root the stacks select must stay valid this long after any test run. The root is copied into every task
# definition at synth and stays there until the next deploy; when it expires, verify-full refuses every database
# connection. A year leaves time to pin a newer AWS package, refresh and redeploy every environment. (Project policy;
# the RSA2048 G1 roots in the pinned bundle run to 2061-2065.)
EXPIRY_MARGIN = datetime.timedelta(days=365)
_PEM = re.compile(r"-----BEGIN CERTIFICATE-----\n(?P<body>[A-Za-z0-9+/=\n]+?)-----END CERTIFICATE-----\n?")


def _certificates(pem: str) -> list[x509.Certificate]:
    blocks = list(_PEM.finditer(pem))
    # Nothing but certificates (and the blank lines between them).
    assert _PEM.sub("", pem).strip() == ""
    return [x509.load_der_x509_certificate(base64.b64decode(block["body"])) for block in blocks]


def _name(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> str:
    (attribute,) = cert.subject.get_attributes_for_oid(oid)
    return attribute.value


def _aws_rds_regions() -> list[str]:
    """The regions of the commercial partition where RDS has an endpoint (botocore endpoints.json)."""
    assert ENDPOINTS is not None, "the AWS CLI venv is missing: run `make awscli-venv`"
    (aws,) = [
        partition for partition in json.loads(ENDPOINTS.read_text())["partitions"] if partition["partition"] == "aws"
    ]
    regions = sorted(set(aws["services"]["rds"]["endpoints"]) & set(aws["regions"]))
    assert len(regions) >= 30, regions  # the parse found the partition's regions, not an empty list
    return regions


def test_the_bundle_is_byte_for_byte_what_the_pinned_aws_package_ships():
    pin = pinned()
    wheel = verified_wheel(pin)  # the SHA-256 PyPI publishes for the wheel, pinned in tools/rds_ca/requirements.txt
    published = metadata(wheel)
    assert (published["Name"], published["Version"]) == (pin.name, pin.version)
    assert published["Author"] == "Amazon Web Services"
    assert "repository, https://github.com/awslabs/mcp.git" in published.get_all("Project-URL")
    assert BUNDLE.read_bytes() == aws_bundle(wheel)


def test_every_certificate_is_a_current_self_signed_amazon_rds_root_ca():
    now = datetime.datetime.now(datetime.UTC)
    certificates = _certificates(BUNDLE.read_text())
    assert certificates
    for cert in certificates:
        common_name = _name(cert, NameOID.COMMON_NAME)
        assert _name(cert, NameOID.ORGANIZATION_NAME) == "Amazon Web Services, Inc.", common_name
        assert _name(cert, NameOID.ORGANIZATIONAL_UNIT_NAME) == "Amazon RDS", common_name
        # A region's three G1 roots (the rds-ca-rsa2048-g1, -rsa4096-g1, -ecc384-g1 CAs), and AWS's Beta/Preview ones.
        assert re.fullmatch(
            r"Amazon RDS ((Beta|Preview) )?[a-z]{2}(-[a-z]+)+-\d Root CA (RSA2048|RSA4096|ECC384) G1", common_name
        ), common_name
        # A root: it names itself as issuer and its own key verifies its signature.
        assert cert.issuer == cert.subject, common_name
        cert.verify_directly_issued_by(cert)
        assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca, common_name
        assert cert.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign, common_name
        assert cert.not_valid_before_utc <= now < cert.not_valid_after_utc, (common_name, cert.not_valid_after_utc)


def test_every_rds_region_of_the_aws_partition_gets_its_own_root_valid_past_the_margin():
    assert CA_CERT_IDENTIFIER == "rds-ca-rsa2048-g1"  # the CA the instances pin, whose root rds_root_pem selects
    deadline = datetime.datetime.now(datetime.UTC) + EXPIRY_MARGIN
    problems = {}
    for region in _aws_rds_regions():
        try:
            (root,) = _certificates(rds_root_pem(region))
        except PropsError as error:
            problems[region] = str(error)
            continue
        # That region's root of the pinned CA, self-signed (not the Beta/Preview root of the same region name).
        assert _name(root, NameOID.COMMON_NAME) == f"Amazon RDS {region} Root CA RSA2048 G1"
        assert root.issuer == root.subject
        if root.not_valid_after_utc <= deadline:
            problems[region] = f"root expires {root.not_valid_after_utc:%Y-%m-%d}, within {EXPIRY_MARGIN.days} days"
    assert problems == {}


def test_the_bundle_covers_exactly_the_rds_regions_of_the_aws_partition():
    named = {_name(cert, NameOID.COMMON_NAME).split()[2] for cert in _certificates(BUNDLE.read_text())}
    # AWS's pre-release roots ("Amazon RDS Beta us-east-1 Root CA ...", "... Preview us-east-2 ...") name no region.
    assert named - {"Beta", "Preview"} == set(_aws_rds_regions())


def test_a_wheel_whose_hash_is_not_the_pinned_one_is_refused(tmp_path, monkeypatch):
    good = verified_wheel(pinned()).read_bytes()
    monkeypatch.setattr(tools.rds_ca, "CACHE", tmp_path)
    pin = pinned()
    pin.wheel.write_bytes(good[:-1] + bytes([good[-1] ^ 1]))
    with pytest.raises(SourceError, match=r"SHA-256 [0-9a-f]{64}, but requirements\.txt pins " + pin.sha256):
        verified_wheel(pin)
    pin.wheel.unlink()
    with pytest.raises(SourceError, match=r"is missing: run `make rds-ca-source`"):
        verified_wheel(pin)
