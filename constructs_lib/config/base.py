"""Shared building blocks of the configuration models: strict base class and constrained types."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from constructs_lib.config.messages import raise_problems, shown


class StrictModel(BaseModel):
    """Unknown keys are errors, values are immutable once loaded, and no type coercion happens."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def _cidr(value: str) -> str:
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError as error:
        reason = str(error).replace(repr(value), "it").replace(value, "it")
        raise ValueError(f"{shown(value)} is not a valid CIDR block ({reason})") from None
    if network.version != 4:
        raise ValueError(f"{shown(value)}: only IPv4 CIDR blocks are supported")
    return value


def _any_cidr(value: str) -> str:
    """Ingress allow-lists accept host addresses written as /32 too, but never bare IPs."""
    if "/" not in value:
        raise ValueError(f"{shown(value)} is not a CIDR block (write {shown(value + '/32')} for one host)")
    return _cidr(value)


Cidr = Annotated[str, AfterValidator(_cidr)]
SourceCidr = Annotated[str, AfterValidator(_any_cidr)]

# Lower-case DNS-label-like identifiers: valid in every cloud's resource names.
Slug = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*[a-z0-9]$", min_length=2, max_length=40)]
# A DNS name (lower case, at least one dot, labels of 1-63 characters).
Hostname = Annotated[str, Field(pattern=r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", max_length=253)]

_LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")


def _labels(value: dict[str, str]) -> dict[str, str]:
    """Tags become GCP labels too, so they obey the strictest of the three clouds' rules."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for key, item in value.items():
        if not _LABEL_KEY.match(key):
            problems.append(
                (
                    (key,),
                    f"tag key {shown(key)} must be 1-63 lowercase letters, digits, '_' or '-', starting with a letter "
                    "(GCP label rules: lower case, no colons)",
                )
            )
        elif not _LABEL_VALUE.match(item):
            problems.append(
                (
                    (key,),
                    "the value must be 0-63 lowercase letters, digits, '_' or '-' (GCP label rules), "
                    f"got {shown(item)}",
                )
            )
    raise_problems(problems)
    return value


Labels = Annotated[dict[str, str], AfterValidator(_labels)]


def cidrs_overlap(first: str, second: str) -> bool:
    return ipaddress.ip_network(first).overlaps(ipaddress.ip_network(second))


def cidr_within(inner: str, outer: str) -> bool:
    return ipaddress.ip_network(inner).subnet_of(ipaddress.ip_network(outer))  # type: ignore[arg-type]


def check_sidecar_ports_and_database(metrics: Any, collector: Any, database_source: str) -> None:
    """The rules every cloud's sidecars share: the spend collector needs a database and a port of its own."""
    if collector.enabled and database_source == "none":
        raise ValueError(
            "spend_collector.enabled: the collector writes spend to a database, and database.source is none"
        )
    if collector.enabled and metrics.enabled and collector.port == metrics.port:
        raise ValueError(f"spend_collector.port: {collector.port} is metrics.port too; give each sidecar its own")
