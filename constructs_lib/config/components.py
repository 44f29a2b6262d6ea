"""The gateway's component model and image references, shared by every cloud's config section."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, ClassVar

from pydantic import Field

# The deployables of the gateway; `migrations` is the one-off Prisma job, not a service.
SERVICE_COMPONENTS: tuple[str, ...] = ("gateway", "backend", "ui")
IMAGE_COMPONENTS: tuple[str, ...] = (*SERVICE_COMPONENTS, "migrations")

# `host/path[:tag][@sha256:digest]`, the host always written out (no implicit Docker Hub, no implicit `latest`).
IMAGE_PATTERN = re.compile(
    r"^(?P<host>[a-z0-9.-]+)/(?P<path>[a-z0-9._/-]+)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(?P<digest>sha256:[a-f0-9]{64}))?$"
)


def image_pin_problem(image: str) -> str | None:
    """Why `image` is not a pin (no tag or digest, or bare `latest`), or None."""
    parsed = IMAGE_PATTERN.match(image)
    if parsed is None or not (parsed["tag"] or parsed["digest"]):
        return f"{image!r} names neither a tag nor a digest"
    if parsed["tag"] == "latest" and not parsed["digest"]:
        return f"{image!r}: `latest` is not a pin; use a release tag or a digest"
    return None


def pinned_by_digest(image: str) -> bool:
    parsed = IMAGE_PATTERN.match(image)
    return parsed is not None and bool(parsed["digest"])


def own_image(section: object, component: str) -> str | None:
    """The image a cloud section (`clouds.<cloud>`) sets for `component` itself, if any."""
    if component == "migrations":
        return section.migrations.image  # type: ignore[attr-defined]
    return getattr(section.components, component).image  # type: ignore[attr-defined]


def image_field(component: str) -> str:
    """Where `component`'s image is set, as an error message names it."""
    return "migrations.image" if component == "migrations" else f"components.{component}.image"


ImageReference = Annotated[str, Field(pattern=IMAGE_PATTERN.pattern, max_length=512)]
ImageTag = Annotated[str, Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")]


class ComponentImages:
    """Which image each component runs: its own reference, or `<image_registry>/litellm-<component>:<image_tag>`
    (a mixin of a cloud section's model, which declares `image_registry` with its default and rules, and
    `image_tag: ImageTag | None`). `DEFAULT_IMAGE_NEEDS` says what the default reference needs set; `image_checks`
    are the refusals every image goes through."""

    SECTION: ClassVar[str]
    DEFAULT_IMAGE_NEEDS: ClassVar[str]
    if TYPE_CHECKING:  # declared by the cloud's model (a mixin's annotations would become its first fields)
        image_tag: str | None

    def unified(self) -> str | None:
        """One image for every component, where the cloud has such an option."""
        return None

    def has_default_image(self) -> bool:
        return self.image_tag is not None

    def image_checks(self) -> tuple[Callable[[str], str | None], ...]:
        return (image_pin_problem,)

    def image(self, component: str) -> str:
        """The image a component runs: its own reference, or `<image_registry>/litellm-<component>:<image_tag>`."""
        if (unified := self.unified()) is not None:
            return unified
        registry = self.image_registry  # type: ignore[attr-defined]
        return own_image(self, component) or f"{registry}/litellm-{component}:{self.image_tag}"

    def image_config_path(self, component: str) -> str:
        """Where the image of `component` comes from in the file (for error messages)."""
        if self.unified() is not None:
            return f"{self.SECTION}.unified_image"
        return f"{self.SECTION}.{image_field(component)}" if own_image(self, component) else f"{self.SECTION}.image_tag"

    def check_component_images(self) -> None:
        """Every component has an image, and each passes `image_checks`."""
        for component in IMAGE_COMPONENTS:
            field = image_field(component)
            if own_image(self, component) is None and not self.has_default_image():
                raise ValueError(f"{field}: no image; set it, or set {self.DEFAULT_IMAGE_NEEDS}")
            image = self.image(component)
            for check in self.image_checks():
                if problem := check(image):
                    raise ValueError(f"{field}: {problem}")
