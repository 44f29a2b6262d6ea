"""The gateway's component model and image references, shared by every cloud's config section."""

from __future__ import annotations

import re

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
