"""Run one command with `LITELLM_API_KEY` read from the stack's cloud secret store, masked first.

Quotas stacks talk to the gateway's management API at plan and apply time, so Terraform's LiteLLM
provider needs the key (the stacks' sensitive variable `litellm_api_key`, fed by `TF_VAR_litellm_api_key`) and
the key-registration script needs it in `LITELLM_API_KEY`; both are set from one read.
The key is never a GitHub secret: after the job has
authenticated to its cloud by OIDC, this module reads it with that cloud's CLI, registers every line
of it with the runner's log masker (`::add-mask::`) before anything else can print it, and then
replaces itself with the command, so the key lives only in that process's environment (not in
`$GITHUB_ENV`, not in later steps).

    LITELLM_API_KEY_SECRET=<secret id> python -m tools.ci.litellm_key --cloud aws -- terraform plan ...

The secret id comes from the GitHub environment variable `LITELLM_API_KEY_SECRET` (a name, not a
value): an ARN or name on AWS Secrets Manager, `projects/<project>/secrets/<name>` on Google Secret
Manager, a secret name on Alibaba Cloud KMS Secrets Manager (region from `ALIBABA_CLOUD_REGION`).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence

SECRET_ENV = "LITELLM_API_KEY_SECRET"  # noqa: S105  # pragma: allowlist secret (a variable name, not a value)
TARGET_ENV = "LITELLM_API_KEY"
# The quotas stacks' sensitive input variable (the provider block), fed from the same value.
TERRAFORM_VARIABLE_ENV = "TF_VAR_litellm_api_key"


def read_command(cloud: str, secret_id: str, environ: dict[str, str]) -> list[str]:
    """The CLI invocation that prints the current secret version for `cloud`."""
    if cloud == "aws":
        return [
            "aws",
            "secretsmanager",
            "get-secret-value",
            "--secret-id",
            secret_id,
            "--query",
            "SecretString",
            "--output",
            "text",
        ]
    if cloud == "gcp":
        if not secret_id.startswith("projects/") or "/secrets/" not in secret_id:
            raise ValueError(f"{SECRET_ENV} must be projects/<project>/secrets/<name> on gcp")
        return ["gcloud", "secrets", "versions", "access", f"{secret_id}/versions/latest", "--quiet"]
    if cloud == "alicloud":
        region = environ.get("ALIBABA_CLOUD_REGION", "")
        if not region:
            raise ValueError("ALIBABA_CLOUD_REGION must be set to read the key from Alibaba Cloud KMS")
        return ["aliyun", "kms", "GetSecretValue", "--SecretName", secret_id, "--region", region]
    raise ValueError(f"unknown cloud {cloud!r}")


def extract(cloud: str, stdout: str) -> str:
    """The secret value from the CLI's output (Alibaba's CLI answers with a JSON document)."""
    if cloud == "alicloud":
        value = json.loads(stdout).get("SecretData", "")
    else:
        value = stdout[:-1] if stdout.endswith("\n") else stdout
    if not isinstance(value, str) or not value.strip():
        raise ValueError("the secret store returned an empty value")
    return value


def mask_commands(value: str) -> list[str]:
    """Workflow commands that hide every line of `value` from the job log."""
    return [f"::add-mask::{line}" for line in value.splitlines() if line.strip()]


def fetch(
    cloud: str,
    environ: dict[str, str],
    run: Callable[[list[str]], subprocess.CompletedProcess[str]],
) -> str:
    """Read the key; the CLI's stderr is passed through, its stdout (the value) never is."""
    secret_id = environ.get(SECRET_ENV, "")
    if not secret_id:
        raise ValueError(f"{SECRET_ENV} is not set (GitHub environment variable with the secret's id)")
    completed = run(read_command(cloud, secret_id, environ))
    if completed.returncode != 0:
        raise ValueError(f"reading the key failed with exit code {completed.returncode}")
    return extract(cloud, completed.stdout)


def _run_cli(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, check=False, stdout=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cloud", required=True, choices=("aws", "gcp", "alicloud"))
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- command to run with the key")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("a command to run is required after --")

    try:
        value = fetch(args.cloud, dict(os.environ), _run_cli)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for line in mask_commands(value):
        print(line)
    sys.stdout.flush()
    os.execvpe(command[0], command, {**os.environ, TARGET_ENV: value, TERRAFORM_VARIABLE_ENV: value})  # noqa: S606 (argv list, no shell)


if __name__ == "__main__":
    raise SystemExit(main())
