"""Which runner a CI job of a stack may land on: the labels `make stacks` hands to the workflows.

Gateway stacks run on GitHub-hosted runners (a fresh VM per job). Quotas stacks call the gateway's private
management API, so they run on self-hosted runners inside that cloud's network for that environment; one runner
group per cloud, environment and role (docs/CI.md, "Runners"):

- `llmgw-<cloud>-<env>` picks the network (an AWS runner never takes a GCP job, a dev runner never a prod job);
- `llmgw-plan` / `llmgw-apply` picks the runner group: pull-request and deploy plans never share a machine with
  applies, and the apply group is limited to the deploy workflow on the default branch;
- `ephemeral` is only given to runners registered with `--ephemeral` (or just-in-time): each takes one job and is
  removed, so nothing a job leaves behind reaches the next one.
"""

from __future__ import annotations

GITHUB_HOSTED = ("ubuntu-24.04",)
SELF_HOSTED = "self-hosted"
EPHEMERAL_LABEL = "ephemeral"
ROLE_LABELS = {"plan": "llmgw-plan", "apply": "llmgw-apply"}


def network_label(cloud: str, env: str) -> str:
    """The label of the runners inside `cloud`'s network for `env`."""
    return f"llmgw-{cloud}-{env}"


def self_hosted_labels(base: list[str], role: str) -> list[str]:
    """`base` (the network labels) plus the role's runner-group label and the ephemeral label."""
    return [*base, ROLE_LABELS[role], EPHEMERAL_LABEL]
