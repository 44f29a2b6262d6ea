"""Create a gateway provider-key secret in KMS, or put a new version of it, reading the value from a file.

Terraform knows these secrets by name only (an `alicloud_kms_secret` would keep the value in state: its Read stores
what GetSecretValue returns). The value never reaches an argument list, an environment variable, a log or Terraform:
it is read from `--value-file` (a file, or /dev/stdin fed by the shell builtin `printf`).

    read -rs KEY && printf '%s' "$KEY" | .venv/bin/python -m tools.alicloud_secret put --region cn-shanghai \\
        --name acme-dev-provider-openai --version v2 --value-file /dev/stdin; unset KEY
    ... create --key-id "$(terraform output -raw kms_key_id)" --name acme-dev-provider-openai --version v1 ...

Credentials: ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET and, for STS, ALIBABA_CLOUD_SECURITY_TOKEN.
The request is the gateway runtime's own KMS call (constructs_lib/alicloud/assets/llmgw_runtime.py, `kms_call`).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
from pathlib import Path

from constructs_lib.alicloud.migrations import RUNTIME_SCRIPT


def _runtime():
    spec = importlib.util.spec_from_file_location("llmgw_runtime", RUNTIME_SCRIPT)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _value(path: str) -> str:
    text = Path(path).read_text(encoding="utf-8")
    value = text[:-2] if text.endswith("\r\n") else text.removesuffix("\n")  # one trailing newline from `echo`
    if not value:
        raise SystemExit(f"{path}: empty: no secret value to store")
    return value


def _credentials() -> dict:
    try:
        credentials = {
            "AccessKeyId": os.environ["ALIBABA_CLOUD_ACCESS_KEY_ID"],
            "AccessKeySecret": os.environ["ALIBABA_CLOUD_ACCESS_KEY_SECRET"],
        }
    except KeyError as missing:
        raise SystemExit(f"{missing.args[0]} is not set") from None
    if os.environ.get("ALIBABA_CLOUD_SECURITY_TOKEN"):
        credentials["SecurityToken"] = os.environ["ALIBABA_CLOUD_SECURITY_TOKEN"]
    return credentials


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("create", "put"))
    parser.add_argument("--region", required=True)
    parser.add_argument("--endpoint", help="default kms.<region>.aliyuncs.com; kms-vpc.<region>... from a VPC")
    parser.add_argument("--name", required=True, help="the secret name (output provider_key_secret_names)")
    parser.add_argument("--version", required=True, help="the version id: v<provider_keys[].version>")
    parser.add_argument("--value-file", required=True, help="file holding the value; /dev/stdin to pipe it")
    parser.add_argument("--key-id", help="create: the gateway key (output kms_key_id), inside the KMS instance")
    args = parser.parse_args(argv)
    if args.action == "create" and not args.key_id:
        parser.error("create needs --key-id (terraform output kms_key_id)")
    fields = {"SecretName": args.name, "VersionId": args.version, "SecretData": _value(args.value_file)}
    fields["SecretDataType"] = "text"  # pragma: allowlist secret
    if args.action == "create":
        fields |= {"EncryptionKeyId": args.key_id, "Description": "LLM gateway provider key; put in out of band"}
    endpoint = args.endpoint or f"kms.{args.region}.aliyuncs.com"
    action = {"create": "CreateSecret", "put": "PutSecretValue"}[args.action]
    answer = _runtime().kms_call(endpoint, _credentials(), action, fields)
    print(f"{action}: {answer.get('SecretName', args.name)} {answer.get('VersionId', args.version)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
