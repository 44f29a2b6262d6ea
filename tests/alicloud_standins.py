"""Loopback stand-ins of what an Alibaba Cloud gateway instance talks to, for the runtime tests and the boot drill.

Each answers only what the runtime (constructs_lib/alicloud/assets/llmgw_runtime.py) asks, as the documented API
answers it, and checks the request the way the service does:

* metadata service, hardened mode: `PUT /latest/api/token` (header X-aliyun-ecs-metadata-token-ttl-seconds) hands a
  token, `GET /latest/meta-data/ram/security-credentials/<role>` answers the role's STS credentials only with it
  (https://www.alibabacloud.com/help/en/ecs/user-guide/view-instance-metadata);
* KMS `GetSecretValue`, `CreateSecret`, `PutSecretValue` (RPC API 2016-01-20, signature v1: HMAC-SHA1 over the
  sorted, percent-encoded form with `&` appended to the secret; https://www.alibabacloud.com/help/en/kms/
  developer-reference/api-getsecretvalue): answers `SecretData` of exactly the requested `VersionId`, or
  `Forbidden.ResourceNotFound`; a create or put never overwrites a version;
* OSS `GetObject`, virtual-hosted, V4-signed only (tests/oss_v4.py); a V1 `Authorization: OSS ...` is refused;
* the public `logtail-release-<region>` bucket on the internal OSS endpoint: `GET /linux64/logtail.sh` answers the
  installer script (LOGTAIL_INSTALLER, or whatever a test puts in `Cloud.logtail_installer`; None: 404 NoSuchKey).
Real TLS on every HTTPS stand-in (a CA made per test), real `redis-server` with TLS.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import hashlib
import hmac
import json
import shutil
import socket
import ssl
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests import oss_v4

STS = {
    "AccessKeyId": "STS.drill-key-id",
    "AccessKeySecret": "drill-sts-secret",  # pragma: allowlist secret
    "SecurityToken": "drill-sts-token",
}


# --- Certificates ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pki:
    ca: Path
    cert: Path
    key: Path


def _ca(common_name: str):
    """A self-signed CA: (private key, certificate)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        )  # digital_signature, key_cert_sign, crl_sign
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def ca_pem(common_name: str = "test CA") -> str:
    """A real CA certificate in PEM (OpenSSL parses it, as LiteLLM's Redis client does)."""
    from cryptography.hazmat.primitives import serialization

    return _ca(common_name)[1].public_bytes(serialization.Encoding.PEM).decode()


def make_pki(
    directory: Path,
    names: list[str],
    ips: tuple[str, ...] = ("127.0.0.1",),
    *,
    common_name: str = "drill server",
    issuer=None,
) -> Pki:
    """A CA (`issuer`, an `_ca()` pair, or a new one) and one server certificate it signs for `names` and `ips` (PEM
    files in `directory`). No names and no IPs: a certificate without subjectAltName, named only by `common_name`."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key, ca = issuer or _ca("drill CA")
    ca_name = ca.subject
    key = ec.generate_private_key(ec.SECP256R1())
    alt_names = [x509.DNSName(name) for name in names] + [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
    )
    if alt_names:
        builder = builder.add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
    cert = (
        builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    paths = Pki(ca=directory / "ca.pem", cert=directory / "server.pem", key=directory / "server.key")
    paths.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


# --- HTTP stand-ins --------------------------------------------------------------------------------------------


@dataclass
class Cloud:
    """State shared by the stand-ins, and what they saw."""

    role: str
    bucket: str
    oss_endpoint: str
    region: str
    objects: dict[str, bytes] = field(default_factory=dict)
    # secret name -> version id -> value
    secrets: dict[str, dict[str, str]] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)
    oss_requests: list[tuple[str, str]] = field(default_factory=list)  # (key, authorization scheme)
    oss_refused: list[str] = field(default_factory=list)
    kms_reads: list[tuple[str, str]] = field(default_factory=list)
    kms_writes: list[tuple[str, str, str]] = field(default_factory=list)
    logtail_installer: bytes | None = None
    logtail_downloads: list[str] = field(default_factory=list)  # the paths asked of the logtail-release bucket


def _quote(value: str) -> str:
    return urllib.parse.quote(value, safe="-_.~")


class _Handler(BaseHTTPRequestHandler):
    cloud: Cloud
    kind: str

    def log_message(self, *args) -> None:  # quiet
        return

    def _answer(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    # metadata ---------------------------------------------------------------------------------------------------
    def do_PUT(self) -> None:
        if self.kind == "metadata" and self.path == "/latest/api/token":
            if not self.headers.get("X-aliyun-ecs-metadata-token-ttl-seconds"):
                return self._answer(400, b"")
            token = base64.b16encode(hashlib.sha256(str(time.time_ns()).encode()).digest()).decode()
            self.cloud.tokens.add(token)
            return self._answer(200, token.encode(), "text/plain")
        return self._answer(404, b"")

    def do_GET(self) -> None:
        if self.kind == "metadata":
            if self.headers.get("X-aliyun-ecs-metadata-token") not in self.cloud.tokens:
                return self._answer(401, b"")
            if self.path != f"/latest/meta-data/ram/security-credentials/{self.cloud.role}":
                return self._answer(404, b"")
            expiration = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            )
            document = {**STS, "Expiration": expiration, "Code": "Success"}
            return self._answer(200, json.dumps(document).encode())
        if self.kind == "oss":
            path, _, query = self.path.partition("?")
            headers = {name: value for name, value in self.headers.items()}
            try:
                verified = oss_v4.verify(
                    "GET",
                    self.headers.get("Host", ""),
                    path,
                    headers,
                    lambda key_id: STS["AccessKeySecret"] if key_id == STS["AccessKeyId"] else None,
                    self.cloud.oss_endpoint,
                    query,
                )
            except oss_v4.SignatureError as error:
                self.cloud.oss_refused.append(str(error))
                return self._answer(403, f"<Error><Code>{error}</Code></Error>".encode(), "application/xml")
            if {name.lower(): value for name, value in headers.items()}.get("x-oss-security-token") != STS[
                "SecurityToken"
            ]:
                return self._answer(403, b"<Error><Code>InvalidSecurityToken</Code></Error>", "application/xml")
            self.cloud.oss_requests.append((verified.key, "OSS4-HMAC-SHA256"))
            if verified.bucket != self.cloud.bucket or verified.key not in self.cloud.objects:
                return self._answer(404, b"<Error><Code>NoSuchKey</Code></Error>", "application/xml")
            return self._answer(200, self.cloud.objects[verified.key], "application/octet-stream")
        if self.kind == "logtail":
            # A public-read object: no signature asked (the documented command is a plain wget).
            self.cloud.logtail_downloads.append(self.path)
            if self.path != "/linux64/logtail.sh" or self.cloud.logtail_installer is None:
                return self._answer(404, b"<Error><Code>NoSuchKey</Code></Error>", "application/xml")
            return self._answer(200, self.cloud.logtail_installer, "application/octet-stream")
        return self._answer(404, b"")

    # KMS --------------------------------------------------------------------------------------------------------
    def _store(self, action: str, name: str, version: str, value: str) -> None:
        """CreateSecret makes the secret with its first version; PutSecretValue adds one (never overwrites)."""
        versions = self.cloud.secrets.get(name)
        if action == "CreateSecret" and versions is not None:
            return self._answer(400, json.dumps({"Code": "Rejected.ResourceExist"}).encode())
        if action == "PutSecretValue" and (versions is None or version in versions):
            code = "Forbidden.ResourceNotFound" if versions is None else "Rejected.ResourceExist"
            return self._answer(404 if versions is None else 400, json.dumps({"Code": code}).encode())
        self.cloud.secrets.setdefault(name, {})[version] = value
        self.cloud.kms_writes.append((action, name, version))
        return self._answer(200, json.dumps({"SecretName": name, "VersionId": version}).encode())

    def do_POST(self) -> None:
        if self.kind != "kms":
            return self._answer(404, b"")
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        fields = dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
        signature = fields.pop("Signature", "")
        canonical = "&".join(f"{_quote(key)}={_quote(value)}" for key, value in sorted(fields.items()))
        expected = base64.b64encode(
            hmac.new(
                (STS["AccessKeySecret"] + "&").encode(), f"POST&%2F&{_quote(canonical)}".encode(), hashlib.sha1
            ).digest()
        ).decode()
        if not hmac.compare_digest(signature, expected) or fields.get("SecurityToken") != STS["SecurityToken"]:
            return self._answer(400, json.dumps({"Code": "IncompleteSignature"}).encode())
        name, version = fields.get("SecretName", ""), fields.get("VersionId", "")
        if fields.get("Action") in ("CreateSecret", "PutSecretValue"):
            return self._store(fields["Action"], name, version, fields.get("SecretData", ""))
        if fields.get("Action") != "GetSecretValue":
            return self._answer(400, json.dumps({"Code": "InvalidAction"}).encode())
        value = self.cloud.secrets.get(name, {}).get(version)
        self.cloud.kms_reads.append((name, version))
        if value is None:
            return self._answer(404, json.dumps({"Code": "Forbidden.ResourceNotFound"}).encode())
        document = {
            "SecretName": name,
            "VersionId": version,
            "SecretData": value,  # pragma: allowlist secret
            "SecretDataType": "text",  # pragma: allowlist secret
        }
        return self._answer(200, json.dumps(document).encode())


# A stand-in of Alibaba's linux64/logtail.sh (which cannot run here: it downloads the agent from Alibaba's internal
# network), doing what the documentation says the real one leaves behind after `logtail.sh install <region>`:
# * the agent under /usr/local/ilogtail, installed over any previous one ("overwrite mode: a present Logtail is
#   uninstalled and /usr/local/ilogtail deleted first; after the install Logtail is started and registered to start
#   at boot": Alibaba's "Install Logtail (Linux)" page);
# * ilogtail_config.json whose config_server_address and data_server_list name the region of the install argument,
#   on the internal network (`http://logtail.cn-hangzhou-intranet.log.aliyuncs.com`, endpoint
#   `cn-hangzhou-intranet.log.aliyuncs.com`: https://www.alibabacloud.com/help/en/sls/user-guide/
#   logtail-configuration-files-and-record-files), and app_info.json with `logtail_version`;
# * /etc/init.d/ilogtaild with start/stop/status, status printing "ilogtail is running" (the installation page).
# Paths are under $LLMGW_ROOT, the drill's scratch root (the runtime's ROOT); no such variable on an instance.
LOGTAIL_INSTALLER = b"""#!/bin/bash
set -eu
[ "${1:-}" = install ] && [ -n "${2:-}" ] || { echo "usage: logtail.sh install <region>" >&2; exit 1; }
region="$2"
home="${LLMGW_ROOT:-}/usr/local/ilogtail"
init="${LLMGW_ROOT:-}/etc/init.d/ilogtaild"
rm -rf "$home"
mkdir -p "$home" "$(dirname "$init")"
intranet="$region-intranet.log.aliyuncs.com"
printf '{"config_server_address": "http://logtail.%s", "data_server_list": [{"cluster": "%s", "endpoint": "%s"}]}' \\
  "$intranet" "$region" "$intranet" > "$home/ilogtail_config.json"
printf '{"logtail_version": "drill-standin"}\n' > "$home/app_info.json"
cat > "$init" <<INIT
#!/bin/bash
case "\\$1" in
  start) touch "$home/running" ;;
  stop) rm -f "$home/running" ;;
  status) if [ -f "$home/running" ]; then echo "ilogtail is running"; else echo "ilogtail is not running"; fi ;;
esac
INIT
chmod 755 "$init"
touch "$home/running"
echo "install logtail success"
"""


@contextlib.contextmanager
def serve(kind: str, cloud: Cloud, pki: Pki | None) -> Iterator[int]:
    """One stand-in on 127.0.0.1 (HTTPS when `pki` is given); yields its port; stopped on exit."""
    handler = type(f"{kind}Handler", (_Handler,), {"cloud": cloud, "kind": kind})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if pki is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(pki.cert, pki.key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


# --- Redis with TLS ----------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def redis_tls(directory: Path, pki: Pki, password: str) -> Iterator[int]:
    """The real `redis-server` (Debian 7.0) on 127.0.0.1, TLS only, password auth; yields the TLS port."""
    binary = shutil.which("redis-server")
    assert binary, "redis-server is not installed (apt-get install redis-server)"
    port = free_port()
    directory.mkdir(parents=True, exist_ok=True)
    command = [
        binary,
        "--port", "0", "--bind", "127.0.0.1", "--tls-port", str(port),
        "--tls-cert-file", str(pki.cert), "--tls-key-file", str(pki.key), "--tls-ca-cert-file", str(pki.ca),
        "--tls-auth-clients", "no", "--requirepass", password,
        "--save", "", "--appendonly", "no", "--dir", str(directory),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            assert process.poll() is None, "redis-server exited"
            time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
