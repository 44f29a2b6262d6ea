"""Stand-in AWS Secrets Manager: GetSecretValue, the read of `tools/ci/litellm_key.py` (CI jobs) and the runbooks'
`aws secretsmanager get-secret-value`, answered from the session's stand-in store (`secrets/aws.json`), which the
stand-in provider fills on apply and a test or operator fills out of band.

Request and answer members are the service model's (`secretsmanager/2017-10-17/service-2.json` in awscli 1.46.3's
botocore: GetSecretValueRequest SecretId (required), VersionId, VersionStage; GetSecretValueResponse ARN, Name,
VersionId, SecretString, VersionStages, CreatedDate; services.py checks every answer against it). A read without
VersionId or VersionStage returns AWSCURRENT (the model's GetSecretValueRequest.VersionStage: "If you don't
specify either a VersionStage or VersionId, then Secrets Manager defaults to AWSCURRENT"); a secret or version the
store does not hold is the model's ResourceNotFoundException ("Secrets Manager can't find the resource that you
asked for."), which the CLI reports with exit code 254.
"""

from __future__ import annotations

from typing import Any

from . import ledger

NOT_FOUND = "Secrets Manager can't find the resource that you asked for."
# AWS's documentation example account, used for the ARN of a secret the store knows by name only.
DEFAULT_ACCOUNT = "123456789012"


def get_secret_value(params: dict[str, Any], region: str, failure: ledger.Failure | None) -> tuple[int, dict[str, Any]]:
    if failure is not None:
        return 500, {"__type": "InternalServiceError", "message": failure.message}
    found = ledger.secret_store("aws").read(params["SecretId"], params.get("VersionId") or params.get("VersionStage"))
    if found is None:
        return 400, {"__type": "ResourceNotFoundException", "Message": NOT_FOUND}
    arns = [alias for alias in found["aliases"] if alias.startswith("arn:")]
    arn = arns[0] if arns else f"arn:aws:secretsmanager:{region}:{DEFAULT_ACCOUNT}:secret:{found['name']}"
    return 200, {
        "ARN": arn,
        "Name": found["name"],
        "VersionId": found["id"],
        "SecretString": found["value"],
        "VersionStages": found["stages"],
    }


SECRETSMANAGER_OPERATIONS = {"GetSecretValue": get_secret_value}
