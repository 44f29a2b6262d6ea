"""OSS V4 (`OSS4-HMAC-SHA256`) signature check of a request as an OSS server receives it.

Written from the OSS V4 documentation (https://www.alibabacloud.com/help/en/oss/developer-reference/
recommend-to-use-signature-version-4) and the official SDK's signer (aliyun/alibabacloud-oss-python-sdk-v2,
alibabacloud_oss_v2/signer/v4.py), independently of the runtime's signer; tests/test_alicloud_runtime.py checks it
against that SDK's published vector (tests/unit/signer/test_v4.py, test_auth_header_with_token).

    Canonical request = Verb \\n URI-encoded "/<bucket>/<key>" \\n sorted query \\n
                        "name:value\\n" for content-type, content-md5, x-oss-* and the additional headers \\n
                        additional header names joined by ";" \\n x-oss-content-sha256
    String to sign    = "OSS4-HMAC-SHA256" \\n x-oss-date \\n <date>/<region>/oss/aliyun_v4_request \\n
                        hex(sha256(canonical))
    Signing key       = HMAC chain from "aliyun_v4" + secret over date, region, "oss", "aliyun_v4_request"
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import quote, unquote

AUTHORIZATION = re.compile(
    r"^OSS4-HMAC-SHA256 Credential=(?P<key_id>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/oss/aliyun_v4_request"
    r"(?:,\s*AdditionalHeaders=(?P<additional>[^,]+))?,\s*Signature=(?P<signature>[0-9a-f]{64})$"
)


class SignatureError(Exception):
    pass


@dataclass(frozen=True)
class Verified:
    key_id: str
    region: str
    bucket: str
    key: str


def _canonical(method: str, bucket: str, key: str, query: str, headers: Mapping[str, str], additional: list[str]):
    uri = quote(f"/{bucket}/{key}" if bucket else "/", safe="/")
    pairs = sorted(pair.partition("=")[::2] for pair in query.split("&") if pair) if query else []
    canonical_query = "&".join(f"{name}={value}" if value else name for name, value in pairs)
    lowered = {name.lower(): value for name, value in headers.items()}
    signed = sorted(
        (name, value)
        for name, value in lowered.items()
        if name.startswith("x-oss-") or name in ("content-type", "content-md5") or name in additional
    )
    canonical_headers = "".join(f"{name}:{value}\n" for name, value in signed)
    payload = lowered.get("x-oss-content-sha256", "UNSIGNED-PAYLOAD")
    return f"{method}\n{uri}\n{canonical_query}\n{canonical_headers}\n{';'.join(additional)}\n{payload}"


def expected_signature(secret: str, date: str, region: str, timestamp: str, canonical_request: str) -> str:
    scope = f"{date}/{region}/oss/aliyun_v4_request"
    to_sign = f"OSS4-HMAC-SHA256\n{timestamp}\n{scope}\n{hashlib.sha256(canonical_request.encode()).hexdigest()}"
    key = ("aliyun_v4" + secret).encode()
    for part in (date, region, "oss", "aliyun_v4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def verify(
    method: str,
    host: str,
    path: str,
    headers: Mapping[str, str],
    secret_for: Callable[[str], str | None],
    endpoint: str,
    query: str = "",
) -> Verified:
    """Check a virtual-hosted request (`<bucket>.<endpoint>`); raise SignatureError with OSS's error code."""
    lowered = {name.lower(): value for name, value in headers.items()}
    match = AUTHORIZATION.match(lowered.get("authorization", ""))
    if match is None:
        raise SignatureError("AccessDenied: not an OSS4-HMAC-SHA256 Authorization header")
    timestamp = lowered.get("x-oss-date", "")
    if not timestamp.startswith(match["date"]):
        raise SignatureError("AccessDenied: x-oss-date does not match the credential scope date")
    if "x-oss-content-sha256" not in lowered:
        raise SignatureError("AccessDenied: x-oss-content-sha256 missing")
    bucket = host.split(":")[0].removesuffix(f".{endpoint}") if host.split(":")[0].endswith(f".{endpoint}") else ""
    key = unquote(path.lstrip("/"))
    secret = secret_for(match["key_id"])
    if secret is None:
        raise SignatureError("InvalidAccessKeyId")
    additional = match["additional"].split(";") if match["additional"] else []
    canonical = _canonical(method, bucket, key, query, lowered, additional)
    wanted = expected_signature(secret, match["date"], match["region"], timestamp, canonical)
    if not hmac.compare_digest(wanted, match["signature"]):
        raise SignatureError("SignatureDoesNotMatch")
    return Verified(key_id=match["key_id"], region=match["region"], bucket=bucket, key=key)
