"""The shared routing list (constructs_lib/_common/routes.py, ALB path patterns) as URL-map path rules.

    rules = url_map_rules(gateway_patterns, ui_patterns)  # [(component, (path, ...)), ...]

ALB patterns allow `*` anywhere; a URL map path allows `*` only as the last character, right after a `/`, and
a path without `*` matches exactly. So `/v1/completions*` becomes `/v1/completions` (exact) plus
`/v1/completions/*` (everything below it): the same requests an API client sends, without the ALB's extra
match of unrelated siblings such as `/v1/completionsX`. A URL map picks the longest matching path regardless
of rule order, and rejects a path listed twice in one path matcher, so paths are de-duplicated and a path
claimed by two components is an error.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

# What the URL-map API accepts in `pathRules[].paths[]`.
URL_MAP_PATH = re.compile(r"^/[^*?#\s]*$|^/(?:[^*?#\s]*/)?\*$")
# The reference chunks gateway paths ten to a rule; keeping to it keeps each rule readable in the console.
MAX_PATHS_PER_RULE = 10


def url_map_paths(pattern: str) -> tuple[str, ...]:
    """URL-map paths that match what the ALB pattern `pattern` is meant to match."""
    if not pattern.startswith("/") or "?" in pattern or "*" in pattern[:-1]:
        raise ValueError(f"route pattern {pattern!r}: only a trailing `*` can be expressed in a URL map")
    if not pattern.endswith("*") or pattern.endswith("/*"):
        paths: tuple[str, ...] = (pattern,)
    else:
        base = pattern[:-1]
        paths = (base, f"{base}/*")
    for path in paths:
        if not URL_MAP_PATH.match(path):
            raise ValueError(f"route pattern {pattern!r} gives {path!r}, which a URL map rejects")
    return paths


def _chunks(paths: Sequence[str]) -> Iterable[tuple[str, ...]]:
    for start in range(0, len(paths), MAX_PATHS_PER_RULE):
        yield tuple(paths[start : start + MAX_PATHS_PER_RULE])


def url_map_rules(routes: Sequence[tuple[str, Sequence[str]]]) -> list[tuple[str, tuple[str, ...]]]:
    """`[(component, patterns), ...]` -> `[(component, paths), ...]`, each rule at most MAX_PATHS_PER_RULE long."""
    owner: dict[str, str] = {}
    per_component: dict[str, list[str]] = {}
    for component, patterns in routes:
        for pattern in patterns:
            for path in url_map_paths(pattern):
                claimed = owner.setdefault(path, component)
                if claimed != component:
                    raise ValueError(f"URL-map path {path!r} is routed to both {claimed} and {component}")
                if path not in per_component.setdefault(component, []):
                    per_component[component].append(path)
    return [(component, chunk) for component, paths in per_component.items() for chunk in _chunks(paths)]


def shared_url_map_rules() -> list[tuple[str, tuple[str, ...]]]:
    """The one routing list every cloud uses: UI asset paths to `ui`, gateway prefixes to `gateway`.

    Everything else falls to the URL map's default service (the backend's management API).
    """
    from constructs_lib._common import routes

    return url_map_rules([("ui", routes.UI_PATH_PATTERNS), ("gateway", routes.GATEWAY_PATH_PATTERNS)])
