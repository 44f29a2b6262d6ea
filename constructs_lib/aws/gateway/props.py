"""What the AWS gateway is built from, and the refusals that need more than one config section.

props = AwsGatewayProps(config=environment_config, naming=Naming("acme", "dev"))
props.validate()  # PropsError naming the config field, before any resource exists
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs_lib._common.errors import PropsError
from constructs_lib._common.naming import Naming
from constructs_lib._common.quotas import require_what_the_quotas_stack_needs
from constructs_lib.config.aws import AwsConfig
from constructs_lib.config.components import IMAGE_COMPONENTS, pinned_by_digest
from constructs_lib.config.environment import EnvironmentConfig


@dataclass(frozen=True, kw_only=True)
class AwsGatewayProps:
    # The validated environment: `clouds.aws`, the provider keys, the agents and quotas, the LiteLLM settings.
    config: EnvironmentConfig
    # Names every resource `<tenant>-<env>-...`.
    naming: Naming

    @property
    def aws(self) -> AwsConfig:
        aws = self.config.cloud("aws")
        assert isinstance(aws, AwsConfig)
        return aws

    @property
    def production(self) -> bool:
        return self.config.production

    def validate(self) -> None:
        """Refuse, naming the field, what the `clouds.aws` model alone cannot see."""
        if self.production:
            require_digests_in_production(self.aws)
        check_environment(self.config, self.aws)


def require_digests_in_production(aws: AwsConfig) -> None:
    """Production runs exactly the bytes that were reviewed: every image pinned by digest."""
    for component in IMAGE_COMPONENTS:
        if not pinned_by_digest(aws.image(component)):
            raise PropsError(
                aws.image_config_path(component),
                f"{aws.image(component)!r}: production environments need images pinned by digest "
                "(`...@sha256:<64 hex>`)",
            )
    if not pinned_by_digest(aws.migrations.bootstrap_image):
        raise PropsError("clouds.aws.migrations.bootstrap_image", "production environments need a digest pin")


def check_environment(config: EnvironmentConfig, aws: AwsConfig) -> None:
    """Refusals that need more than the `clouds.aws` section (production, the quotas stack)."""
    if config.production and aws.network.tasks_in_public_subnets:
        raise PropsError(
            "clouds.aws.network.tasks_in_public_subnets",
            "a cost option for dev; production tasks stay in private subnets",
        )
    require_what_the_quotas_stack_needs(config, "aws")
