"""The stack identity every taggable resource carries (AWS tags, GCP labels, Alibaba Cloud tags)."""

from __future__ import annotations

MANAGED_BY = "llm-gateway-cdktf"
# Keys obey GCP's label rules (lower case, no colons), so one set serves all three clouds.
IDENTITY_TAG_KEYS: tuple[str, ...] = ("tenant", "environment", "litellm-stack", "managed-by")


def stack_tags(*, tenant: str, environment: str, stack: str, extra: dict[str, str]) -> dict[str, str]:
    """Identity tags plus the config's extra tags (config validation keeps identity keys out of `extra`)."""
    identity = {"tenant": tenant, "environment": environment, "litellm-stack": stack, "managed-by": MANAGED_BY}
    return dict(sorted({**extra, **identity}.items()))
