"""Whether a cloud's section runs the gateway itself, as every cloud's `create_runtime` says, and the rules that
follow from it (what dependencies-only mode refuses, one gateway process without Redis).

    class AwsConfig(StrictModel, RuntimeMode):
        RUNTIME_WORDS = ("ECS gateway task", "ECS service")
        create_runtime: CreateRuntime = True
        external_gateway_url: ExternalGatewayUrl = None
        @model_validator(mode="after")
        def _runtime_options(self): self.check_runtime_mode(); return self

The fields are declared by each cloud's model from the types here, and the checks are methods rather than
validators, so each cloud keeps its order of fields (unknown-key errors list them) and of validators (the first
failing one is the error reported).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from pydantic import Field

CreateRuntime = Annotated[
    bool,
    Field(
        description="False: dependencies-only mode. Data stores, secrets, the bucket and the runtime identities "
        "(gateway, backend, migrations) only; no services, load balancer or migration job, for LiteLLM running "
        "elsewhere (EKS, GKE). Runtime outputs are null.",
    ),
]
ExternalGatewayUrl = Annotated[
    str | None,
    Field(
        pattern=r"^https://[a-z0-9.-]+(?::[0-9]{1,5})?$",
        description="Dependencies-only mode: the URL of the gateway you run yourself, which the quotas stack talks "
        "to (it has no load balancer of this stack to read it from).",
    ),
]


class RuntimeMode:
    """The rules of a cloud section's `create_runtime` and `external_gateway_url` (a mixin of its model)."""

    # How the refusal of a sidecar in dependencies-only mode calls (the gateway's unit, the cloud's service).
    RUNTIME_WORDS: ClassVar[tuple[str, str]]
    if TYPE_CHECKING:  # declared by the cloud's model (a mixin's annotations would become its first fields)
        create_runtime: bool
        external_gateway_url: str | None

    def check_runtime_mode(self) -> None:
        """The URL only without a runtime; no sidecars of a gateway that does not run here."""
        if self.create_runtime:
            if self.external_gateway_url is not None:
                raise ValueError(
                    "external_gateway_url: only in dependencies-only mode (create_runtime: false); otherwise the "
                    "gateway URL is this stack's load balancer"
                )
            return
        gateway, service = self.RUNTIME_WORDS
        sidecars: dict[str, Any] = {"metrics": self.metrics, "spend_collector": self.spend_collector}  # type: ignore[attr-defined]
        for field, sidecar in sidecars.items():
            if sidecar.enabled:
                raise ValueError(
                    f"{field}.enabled: a sidecar of the {gateway}, and dependencies-only mode "
                    f"(create_runtime: false) runs no {service}"
                )

    def single_process_problems(self) -> list[str]:
        """`<field>: <problem>` for each setting that runs more than one gateway process (per cloud)."""
        raise NotImplementedError

    def check_single_process_without_redis(self) -> None:
        """Without Redis, LiteLLM keeps rate limits and budgets per process: more than one would multiply them."""
        if self.cache.source != "none" or not self.create_runtime:  # type: ignore[attr-defined]
            return
        if problems := self.single_process_problems():
            raise ValueError(problems[0])
