"""Who may deploy: the GitHub Actions OIDC subjects that the bootstrap stacks trust, in one place.

Each stage `<env>` has two GitHub environments (docs/CI.md): `<env>-plan` (any branch, no reviewers, read-only
identities) and `<env>` (main only, reviewers on staging/prod/bootstrap, deploy identities). An OIDC token's
`sub` is `repo:<owner>/<name>:environment:<environment>`, so trusting exact subjects pins both the repository
and the stage; there are no wildcards.
"""

from __future__ import annotations

GITHUB_OIDC_ISSUER = "https://token.actions.githubusercontent.com"
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
BOOTSTRAP_STAGE = "bootstrap"
ROLES = ("plan", "apply")
# Every gateway stack names its LiteLLM master-key secret `naming.name(MASTER_KEY_SECRET)`, i.e.
# `<tenant>-<env>-master-key`: the quotas stacks' CI jobs read it (tools/ci/litellm_key.py), so each stage's CI
# identities may read exactly that secret.
MASTER_KEY_SECRET = "master-key"  # noqa: S105  # pragma: allowlist secret (a name suffix, not a value)


def github_environment(stage: str, role: str) -> str:
    return f"{stage}-plan" if role == "plan" else stage


def oidc_subject(repository: str, stage: str, role: str) -> str:
    return f"repo:{repository}:environment:{github_environment(stage, role)}"


def master_key_secret_name(name_prefix: str) -> str:
    return f"{name_prefix}-{MASTER_KEY_SECRET}"
