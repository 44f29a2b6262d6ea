"""Where a data store of the gateway comes from, as every cloud's `database` and `cache` sections say it.

    class AwsCacheConfig(_AwsStoreSourceConfig): ...   # _AwsStoreSourceConfig(StoreSourceConfig) adds AWS fields

The cloud's subclass adds `url_secret` (its secret store's id rules) and what else a brought store needs there,
and names in `EXTERNAL_ONLY` the fields only an `external` store may set.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from constructs_lib.config.base import StrictModel

StoreSource = Literal["managed", "external", "none"]


class StoreSourceConfig(StrictModel):
    """Where a data store comes from: this stack (`managed`), your own (`external`), or nowhere (`none`)."""

    # The fields only an `external` store may set, in the order checked, and how the refusal calls them ("only a
    # store with source `external` has <it>").
    EXTERNAL_ONLY: ClassVar[tuple[str, ...]] = ()
    EXTERNAL_ONLY_CALLED: ClassVar[str] = "it"

    source: StoreSource = Field(
        default="managed",
        description="`managed`: this stack creates it; `external`: bring your own, reached through a URL kept in "
        "the cloud's secret store (`url_secret`); `none`: the gateway runs without it.",
    )
    # The cloud's subclass redefines it with its secret store's id rules (it keeps this place among the fields).
    url_secret: str | None = None
    url_secret_version: int = Field(
        default=1,
        ge=1,
        description="With source `external`: the version of `url_secret` the containers read (pinned; on AWS its "
        "staging label `v<n>`).",
    )

    @model_validator(mode="after")
    def _external_only(self) -> StoreSourceConfig:
        if self.source == "external":
            return self
        for field in self.EXTERNAL_ONLY:
            if getattr(self, field):
                called = self.EXTERNAL_ONLY_CALLED
                raise ValueError(f"{field}: only a store with source `external` has {called}, not {self.source!r}")
        return self
