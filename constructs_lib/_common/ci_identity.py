"""Who may deploy: the GitHub Actions OIDC subjects that the bootstrap stacks trust, and what each stage owns.

Each stage `<env>` has two GitHub environments (docs/CI.md): `<env>-plan` (read-only identities; prod-plan only
from the default branch) and `<env>` (main only, reviewers on staging/prod, deploy identities). An OIDC token's
`sub` is `repo:<owner>/<name>:environment:<environment>`, so trusting exact subjects pins both the repository
and the stage; there are no wildcards. Bootstrap stacks have no CI identities: an administrator applies them.
"""

from __future__ import annotations

GITHUB_OIDC_ISSUER = "https://token.actions.githubusercontent.com"
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
BOOTSTRAP_STAGE = "bootstrap"
ROLES = ("plan", "apply")
# The key of a LiteLLM user with the `proxy_admin_viewer` role ("view all keys, view all spend":
# litellm/proxy/_types.py:188 and :216 at litellm 1.106.12), read by the plan jobs of the quotas stacks so that a
# plan never holds the master key; `<tenant>-<env>-litellm-viewer-key`, created by an administrator (docs/CI.md).
VIEWER_KEY_SECRET = "litellm-viewer-key"  # noqa: S105  # pragma: allowlist secret (a name suffix, not a value)
# Every gateway stack names its LiteLLM master-key secret `naming.name(MASTER_KEY_SECRET)`, i.e.
# `<tenant>-<env>-master-key`: the quotas stacks' CI jobs read it (tools/ci/litellm_key.py), so each stage's CI
# identities may read exactly that secret.
MASTER_KEY_SECRET = "master-key"  # noqa: S105  # pragma: allowlist secret (a name suffix, not a value)


def ci_account_id(name_prefix: str, role: str) -> str:
    """`<tenant>-<env>-ci-<plan|apply>`: the CI identity's name on every cloud (GCP: the service account's id)."""
    return f"{name_prefix}-ci-{role}"


def gcp_ci_member(name_prefix: str, role: str, state_project: str) -> str:
    """The IAM member of a stage's GCP CI service account. The bootstrap stack creates it in the state project
    (constructs_lib/gcp/ci_trust.py); the gateway stack grants it access to the resources it creates (a plan's
    refresh reads, an apply's actAs) by this name, since the account is not in its state."""
    return f"serviceAccount:{ci_account_id(name_prefix, role)}@{state_project}.iam.gserviceaccount.com"


def github_environment(stage: str, role: str) -> str:
    return f"{stage}-plan" if role == "plan" else stage


def oidc_subject(repository: str, stage: str, role: str) -> str:
    return f"repo:{repository}:environment:{github_environment(stage, role)}"


def master_key_secret_name(name_prefix: str) -> str:
    return f"{name_prefix}-{MASTER_KEY_SECRET}"


def viewer_key_secret_name(name_prefix: str) -> str:
    return f"{name_prefix}-{VIEWER_KEY_SECRET}"


def stage_state_names(cloud: str, stage: str) -> tuple[str, ...]:
    """The state keys/prefixes of a stage's stacks: `<cloud>-<env>` (gateway) and `<cloud>-<env>-quotas`, as
    stacks/catalog.py names them and stacks/backends.py uses them (tests/test_ci_trust.py checks both)."""
    return (f"{cloud}-{stage}", f"{cloud}-{stage}-quotas")


def stage_lock_table(table: str, stage: str) -> str:
    """Alibaba Cloud: each stage locks in a Tablestore table of its own (stacks/backends.py), since RAM cannot tell
    the rows of one table apart; `<configured table>_<stage>`."""
    return f"{table}_{stage}"
