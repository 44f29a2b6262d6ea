"""What the GCP gateway is built from, and the refusals that need more than one config section.

props = GcpGatewayProps(config=environment_config, naming=Naming("acme", "dev"), project="p", region="r")
props.validate()  # PropsError naming the config field, before any resource exists
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs_lib._common.errors import PropsError
from constructs_lib._common.naming import Naming
from constructs_lib._common.quotas import require_what_the_quotas_stack_needs
from constructs_lib.config.components import IMAGE_COMPONENTS, IMAGE_PATTERN
from constructs_lib.config.environment import EnvironmentConfig
from constructs_lib.config.gcp import GcpConfig


@dataclass(frozen=True, kw_only=True)
class GcpGatewayProps:
    # The validated environment: `clouds.gcp`, the provider keys, the agents and quotas, the LiteLLM settings.
    config: EnvironmentConfig
    # Names every resource `<tenant>-<env>-...`.
    naming: Naming
    # The project and region of the stack's provider.
    project: str
    region: str

    @property
    def gcp(self) -> GcpConfig:
        gcp = self.config.cloud("gcp")
        assert isinstance(gcp, GcpConfig)
        return gcp

    @property
    def production(self) -> bool:
        return self.config.production

    def validate(self) -> None:
        """Refuse, naming the field, what the `clouds.gcp` model alone cannot see."""
        if self.production:
            require_digests_in_production(self.gcp)
        check_environment(self.config, self.gcp)


def require_digests_in_production(gcp: GcpConfig) -> None:
    """Production runs exactly the bytes that were reviewed: every image pinned by digest."""
    for component in IMAGE_COMPONENTS:
        image = gcp.image(component)
        parsed = IMAGE_PATTERN.match(image)
        if parsed is None or not parsed["digest"]:
            raise PropsError(
                gcp.image_config_path(component),
                f"{image!r}: production environments need images pinned by digest (`...@sha256:<64 hex>`)",
            )
    if gcp.metrics.enabled and "@sha256:" not in gcp.metrics.collector_image:
        raise PropsError(
            "clouds.gcp.metrics.collector_image",
            f"{gcp.metrics.collector_image!r}: production environments need images pinned by digest",
        )


def check_environment(config: EnvironmentConfig, gcp: GcpConfig) -> None:
    """Refusals that need more than the `clouds.gcp` section (production, the quotas stack)."""
    if config.production and gcp.cache.source == "managed" and not gcp.cache.transit_encryption:
        raise PropsError(
            "clouds.gcp.cache.transit_encryption",
            "production environments keep Redis TLS; allow_plaintext is for trials",
        )
    require_what_the_quotas_stack_needs(config, "gcp")
