"""Per-resource behaviour of the stand-in provider when Terraform applies, reads and destroys.

The default (`Behaviour`) is generic: the new state is the planned state with every unknown filled
deterministically (tools/standin_provider/computed.py), reads return the state unchanged, deletes do nothing.
A resource whose cloud-side behaviour matters to a sequence (secrets, LiteLLM objects) gets a subclass that
mirrors the provider's source at the pinned tag, registered with `@behaviour("<type>")` in a module
`behaviours/<provider>.py`. Modules register on import; `load_all()` imports every module here.

Contract (docs/OFFLINE_PLAN.md, HARNESS_CONTRACT.md): `config` holds the write-only values from the request's
configuration; `planned` has them null; a behaviour never returns a write-only value (the server nulls them
anyway) and raises `BehaviourError(summary, detail)` for an error diagnostic.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from tools.offline_apply.secret_store import SecretStore
from tools.standin_provider import computed


class BehaviourError(Exception):
    """An error diagnostic for Terraform: the apply of this resource failed."""

    def __init__(self, summary: str, detail: str = "") -> None:
        super().__init__(summary)
        self.summary = summary
        self.detail = detail


@dataclass
class Context:
    """What a behaviour call gets: the resource type, its schema block, the provider's configuration and the
    session (its directory, and the resource's stack and address when the harness's plan names them)."""

    type_name: str
    provider_config: dict[str, Any]
    offline_dir: Path | None
    block: Any = None
    stack: str | None = None
    address: str | None = None
    conventions: dict[str, str] = field(default_factory=dict)

    def store(self, cloud: str) -> SecretStore:
        if self.offline_dir is None:
            raise BehaviourError(
                f"stand-in provider: {self.type_name} keeps values in the stand-in secret store, and no "
                "offline-apply session is set (LLMGW_OFFLINE_DIR)"
            )
        return SecretStore(self.offline_dir, cloud)

    def seed(self, planned: dict[str, Any]) -> str:
        """What computed values derive from: the stack and address if known, else the known planned values."""
        if self.address is not None:
            return f"{self.stack}/{self.address}"
        return f"{self.type_name}/{computed.known_fingerprint(planned)}"

    def fill(self, planned: dict[str, Any], **known: Any) -> dict[str, Any]:
        """The planned state with the given attributes set where they are unknown, the other unknowns filled."""
        preset = {key: value for key, value in known.items() if planned.get(key) is computed.UNKNOWN}
        merged = {**planned, **preset}
        return computed.fill_unknowns(self.block, merged, self.type_name, self.seed(planned), self.conventions)


class Behaviour:
    """Generic: state = planned with unknowns filled; read = state unchanged; delete = nothing."""

    # top-level attributes whose change replaces the object (the provider schema's ForceNew / RequiresReplace)
    requires_replace: ClassVar[tuple[str, ...]] = ()
    # top-level attributes with a schema Default (terraform-plugin-sdk v2 plans it when the configuration leaves
    # the attribute unset; such providers run with the legacy type system, which allows that)
    defaults: ClassVar[dict[str, Any]] = {}

    def plan(self, ctx: Context, prior: dict[str, Any] | None, planned: dict[str, Any]) -> dict[str, Any]:
        """The planned state (Terraform's proposal with unset computed values unknown on create, prior values kept
        on update): a behaviour sets what its provider computes at plan time (CustomizeDiff, plan modifiers)."""
        return planned

    def create(self, ctx: Context, planned: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
        return ctx.fill(planned)

    def read(self, ctx: Context, state: dict[str, Any]) -> dict[str, Any] | None:
        return state

    def update(
        self, ctx: Context, prior: dict[str, Any], planned: dict[str, Any], config: dict[str, Any]
    ) -> dict[str, Any]:
        return ctx.fill(planned)

    def delete(self, ctx: Context, state: dict[str, Any]) -> None:
        return None


BEHAVIOURS: dict[str, type[Behaviour]] = {}
# a provider's default for types without a behaviour of their own (e.g. aws: tags_all from default_tags)
PROVIDER_DEFAULTS: dict[str, type[Behaviour]] = {}


def behaviour(type_name: str) -> Callable[[type[Behaviour]], type[Behaviour]]:
    def register(cls: type[Behaviour]) -> type[Behaviour]:
        if type_name in BEHAVIOURS:
            raise ValueError(f"two behaviours for {type_name}: {BEHAVIOURS[type_name]} and {cls}")
        BEHAVIOURS[type_name] = cls
        return cls

    return register


def provider_default(provider: str) -> Callable[[type[Behaviour]], type[Behaviour]]:
    def register(cls: type[Behaviour]) -> type[Behaviour]:
        PROVIDER_DEFAULTS[provider] = cls
        return cls

    return register


# ephemeral resource type -> open(ctx, config) -> result (a fresh value per open, as the real provider)
EPHEMERALS: dict[str, Callable[[Context, dict[str, Any]], dict[str, Any]]] = {}


def ephemeral(type_name: str) -> Callable[[Callable[..., dict[str, Any]]], Callable[..., dict[str, Any]]]:
    def register(fn: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
        EPHEMERALS[type_name] = fn
        return fn

    return register


def behaviour_for(type_name: str) -> Behaviour:
    cls = BEHAVIOURS.get(type_name) or PROVIDER_DEFAULTS.get(type_name.split("_", 1)[0]) or Behaviour
    return cls()


_loaded = False


def load_all() -> None:
    """Import every behaviour module of this package (each registers its types)."""
    global _loaded
    if _loaded:
        return
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
        importlib.import_module(f"{__name__}.{module.name}")
    _loaded = True
