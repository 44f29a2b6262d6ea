"""The `aliyun` stand-in: the Alibaba Cloud CLI's RPC form, `aliyun <product> <Api> --Param value ...`, for KMS.

No stack runs the Alibaba Cloud CLI during apply; the README's rotation runbook does (`aliyun kms PutSecretValue
--SecretName <name> --VersionId v<n> --SecretData "$KEY"`). The command model is the CLI's own metadata,
aliyun/aliyun-openapi-meta (commit 3aa5bbbbfe62ee0175d4a9f2d3d89cfb474f6daf): kms/PutSecretValue.json and
kms/GetSecretValue.json (parameter names and `required`), and the names of the kms APIs (kms/*.json). It agrees with
the SDK model on PyPI, alibabacloud-kms20160120==3.3.1 (models/_put_secret_value_request.py: SecretData,
SecretName, VersionId required; models/_put_secret_value_response_body.py: RequestId, SecretName, VersionId,
VersionStages.VersionStage; a new version is labelled ACSCurrent unless VersionStages says otherwise).

Errors and exit codes are the CLI's (aliyun/aliyun-cli): every error prints `ERROR: <message>`; an error with
suggestions (an unknown API or parameter) exits 2, any other error 1 (cli/command.go processError, commit
7e4a5cd2cc6b972b2bc52d6b02599245ab710832); the messages are openapi/errors.go's InvalidApiError /
InvalidParameterError and meta's CheckRequiredParameters ("required parameters not assigned: "). The global flags
are config/flags.go's and openapi/flags.go's (commit 0e263853861456be74913da8ae605cd738394711).

The stand-in does not keep the values it is given (the harness's secret store is the stand-in provider's; wiring
PutSecretValue into it is left to the harness) and it never records `--SecretData`'s value.

GetSecretValue (the CI jobs' read of the LiteLLM key, tools/ci/litellm_key.py) answers from the session's stand-in
KMS secrets (`secrets/alicloud.json`, what an apply or an operator put there): the version labelled ACSCurrent, or
the one `--VersionId` / `--VersionStage` names, printed as the CLI prints an API's JSON answer, with the SDK
model's members (models/_get_secret_value_response_body.py: RequestId, SecretName, VersionId, SecretData,
SecretDataType, VersionStages.VersionStage). A secret or version the store does not hold is an error (exit 1; its
text is the stand-in's, not the API's).
"""

from __future__ import annotations

import hashlib
import json
import sys

from . import ledger

ERROR = 1
SUGGESTIBLE_ERROR = 2

# config/flags.go and openapi/flags.go: flags that take a value, and switches (AssignedNone).
_VALUE_FLAGS = frozenset(
    {
        "profile", "mode", "language", "region", "RegionId", "config-path", "access-key-id", "access-key-secret",
        "sts-token", "sts-region", "ram-role-name", "ram-role-arn", "role-session-name", "private-key",
        "key-pair-name", "read-timeout", "retry-timeout", "connect-timeout", "retry-count", "expired-seconds",
        "process-command", "endpoint", "version", "header", "body", "body-file", "accept", "roa", "output", "method",
    }
)  # fmt: skip
_SWITCHES = frozenset({"vpc", "skip-secure-verify", "secure", "force", "dryrun", "quiet"})
_SHORTHANDS = {"-p": "profile", "-q": "quiet"}

# kms/*.json in aliyun-openapi-meta: the APIs the CLI knows for kms.
KMS_APIS = frozenset(
    {
        "AsymmetricDecrypt", "AsymmetricEncrypt", "AsymmetricSign", "AsymmetricVerify", "CancelKeyDeletion",
        "CertificatePrivateKeySign", "CertificatePublicKeyVerify", "CreateAlias", "CreateCertificate",
        "CreateCertificateAuthority", "CreateKey", "CreateKeyVersion", "CreateSecret", "Decrypt", "DeleteAlias",
        "DeleteCertificate", "DeleteCertificateAuthority", "DeleteKeyMaterial", "DeleteSecret", "DescribeCertificate",
        "DescribeCertificateAuthority", "DescribeKey", "DescribeKeyVersion", "DescribeRegions", "DescribeSecret",
        "DescribeService", "DisableKey", "EnableKey", "Encrypt", "GenerateAndExportDataKey", "GenerateDataKey",
        "GenerateDataKeyWithoutPlaintext", "GetCertificateAuthorityCertificate", "GetCertificateAuthorityCsr",
        "GetIssuedCertificate", "GetParametersForImport", "GetPublicKey", "GetRandomPassword", "GetSecretValue",
        "ImportCertificate", "ImportCertificateAuthorityCertificate", "ImportKeyMaterial", "IssueCertificate",
        "ListAliases", "ListAliasesByKeyId", "ListCertificateAuthorities", "ListKeyVersions", "ListKeys",
        "ListResourceTags", "ListSecretVersionIds", "ListSecrets", "PutSecretValue", "ReEncrypt",
        "RestoreSecret", "RevokeIssuedCertificate", "ScheduleKeyDeletion", "SetDeletionProtection", "TagResource",
        "UntagResource", "UpdateAlias", "UpdateCertificateAuthority", "UpdateCertificateStatus",
        "UpdateKeyDescription", "UpdateRotationPolicy", "UpdateSecret", "UpdateSecretRotationPolicy",
        "UpdateSecretVersionStage",
    }
)  # fmt: skip
# kms/<Api>.json: parameter -> required.
PARAMETERS = {
    "PutSecretValue": {
        "VersionId": True,
        "SecretName": True,
        "SecretData": True,
        "SecretDataType": False,
        "VersionStages": False,
    },
    "GetSecretValue": {"SecretName": True, "VersionStage": False, "VersionId": False},
}
# The secret value (SDK model: "The secret value ... is encrypted and stored"): never written to the call log.
SENSITIVE_FLAGS = {"--SecretData"}


class CliError(Exception):
    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def _parse(argv: list[str]) -> tuple[list[str], dict[str, str]]:
    """Positionals (product, API) and the `--Name value` / `--Name=value` pairs, global flags dropped."""
    words, values = [], {}
    index = 0
    while index < len(argv):
        word = argv[index]
        index += 1
        if not word.startswith("-"):
            words.append(word)
            continue
        name, equals, value = word.lstrip("-").partition("=")
        name = _SHORTHANDS.get(word, name)
        if name in _SWITCHES:
            continue
        if not equals:
            if index >= len(argv):
                raise CliError(f"'--{name}' must be assigned with value", ERROR)
            value = argv[index]
            index += 1
        if name not in _VALUE_FLAGS:
            values[name] = value
    return words, values


def _request_id(*parts: str) -> str:
    digest = hashlib.sha256("|".join(parts).encode()).hexdigest().upper()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def _put_secret_value(values: dict[str, str], failure: ledger.Failure | None) -> dict:
    if failure is not None:
        raise CliError(failure.message, ERROR)
    stages = json.loads(values["VersionStages"]) if "VersionStages" in values else ["ACSCurrent"]
    return {
        "RequestId": _request_id(values["SecretName"], values["VersionId"]),
        "SecretName": values["SecretName"],
        "VersionId": values["VersionId"],
        "VersionStages": {"VersionStage": stages},
    }


def _get_secret_value(values: dict[str, str], failure: ledger.Failure | None) -> dict:
    if failure is not None:
        raise CliError(failure.message, ERROR)
    name = values["SecretName"]
    found = ledger.secret_store("alicloud").read(name, values.get("VersionId") or values.get("VersionStage"))
    if found is None:
        raise CliError(f"the stand-in KMS holds no such version of the secret {name!r}", ERROR)
    return {
        "RequestId": _request_id(name, found["id"]),
        "SecretName": found["name"],
        "VersionId": found["id"],
        "SecretData": found["value"],
        "SecretDataType": "text",  # pragma: allowlist secret (the data type name, the SDK model's value)
        "VersionStages": {"VersionStage": found["stages"]},
    }


ANSWERS = {"PutSecretValue": _put_secret_value, "GetSecretValue": _get_secret_value}


def _run(argv: list[str]) -> int:
    words, values = _parse(argv)
    if len(words) < 2:
        raise CliError("the stand-in models `aliyun <product> <Api> --Parameter value ...` only", ERROR)
    product, api = words[0].lower(), words[1]
    if product != "kms":
        raise CliError(f"`aliyun {product}` is not modeled by the offline stand-in", ERROR)
    if api not in KMS_APIS:
        raise CliError(f"'{api}' is not a valid api. See `aliyun help kms`.", SUGGESTIBLE_ERROR)
    if api not in ANSWERS:
        raise CliError(f"`aliyun kms {api}` is not modeled by the offline stand-in", ERROR)
    parameters = PARAMETERS[api]
    for name in values:
        if name not in parameters:
            message = f"'--{name}' is not a valid parameter or flag. See `aliyun help kms {api}`."
            raise CliError(message, SUGGESTIBLE_ERROR)
    missing = "".join(f"\n  --{name}" for name, required in parameters.items() if required and name not in values)
    if missing:
        raise CliError(f"required parameters not assigned: {missing}", ERROR)
    answer = ANSWERS[api](values, ledger.take_failure(f"aliyun kms {api}"))
    print(json.dumps(answer, indent=1))
    return 0


def _run_reporting(argv: list[str]) -> tuple[int, set[str]]:
    try:
        exit_code = _run(argv)
    except CliError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        exit_code = error.exit_code
    return exit_code, SENSITIVE_FLAGS


def main(argv: list[str] | None = None) -> int:
    return ledger.run_recorded("aliyun", list(sys.argv[1:] if argv is None else argv), _run_reporting)


if __name__ == "__main__":
    sys.exit(main())
