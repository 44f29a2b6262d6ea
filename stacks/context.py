"""What every stack knows about itself: its name, cloud, environment, config, names and tags."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from constructs_lib._common.naming import Naming
from constructs_lib._common.tags import stack_tags
from constructs_lib.config import EnvironmentConfig


@dataclass(frozen=True)
class StackContext:
    name: str
    cloud: str
    kind: str  # gateway | quotas | bootstrap
    config_path: Path
    config: EnvironmentConfig
    environment: str = field(default="")
    # Bootstrap stacks only: every environment of the repository (the CI trust covers them all).
    environments: tuple[EnvironmentConfig, ...] = ()

    @property
    def env(self) -> str:
        return self.environment or self.config.env

    @property
    def naming(self) -> Naming:
        return Naming(self.config.tenant, self.env)

    @property
    def tags(self) -> dict[str, str]:
        return stack_tags(tenant=self.config.tenant, environment=self.env, stack=self.name, extra=self.config.tags)
