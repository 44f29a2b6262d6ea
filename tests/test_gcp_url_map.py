"""The shared routing list as URL-map paths: every path valid for the URL-map API, same requests routed."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from constructs_lib.gcp.url_map_paths import (
    MAX_PATHS_PER_RULE,
    URL_MAP_PATH,
    shared_url_map_rules,
    url_map_paths,
    url_map_rules,
)

# Segments an API path can hold: no `*`, `?`, `#`, `/` or whitespace.
SEGMENT = st.text(alphabet=st.sampled_from("abcxyz019_-.~"), min_size=1, max_size=12)
PREFIXES = st.lists(SEGMENT, min_size=1, max_size=4).map(lambda parts: "/" + "/".join(parts))


def _alb_matches(pattern: str, path: str) -> bool:
    """ALB path-pattern semantics for the trailing-`*` patterns the shared list uses (case-sensitive)."""
    return path.startswith(pattern[:-1]) if pattern.endswith("*") else path == pattern


def _url_map_matches(paths: tuple[str, ...], path: str) -> bool:
    """URL-map semantics: `/x/*` matches everything below `/x/`; a path without `*` matches exactly."""
    return any(path.startswith(rule[:-1]) if rule.endswith("*") else path == rule for rule in paths)


def test_the_url_map_path_regex_itself_bites():
    valid = ["/", "/*", "/v1/completions", "/v1/completions/*", "/_next/*", "/favicon.ico"]
    invalid = ["/v1/completions*", "v1/x", "/a/*/b", "/a*b", "/a?", "/**", "/a b"]
    assert all(URL_MAP_PATH.match(path) for path in valid)
    assert not any(URL_MAP_PATH.match(path) for path in invalid)


def test_every_emitted_path_from_the_shared_list_is_valid_and_unique():
    rules = shared_url_map_rules()
    paths = [path for _, chunk in rules for path in chunk]
    assert paths, "the shared list produced no rules"
    assert all(URL_MAP_PATH.match(path) for path in paths), [p for p in paths if not URL_MAP_PATH.match(p)]
    assert len(paths) == len(set(paths)), "a path is listed twice in one path matcher (the API rejects it)"
    assert all(1 <= len(chunk) <= MAX_PATHS_PER_RULE for _, chunk in rules)


def test_prefix_with_star_becomes_exact_path_plus_subtree():
    assert url_map_paths("/v1/completions*") == ("/v1/completions", "/v1/completions/*")
    assert url_map_paths("/v1/chat/*") == ("/v1/chat/*",)
    assert url_map_paths("/metrics") == ("/metrics",)
    assert url_map_paths("/") == ("/",)


@given(prefix=PREFIXES, star=st.booleans(), slash_star=st.booleans())
def test_converted_paths_are_always_valid(prefix, star, slash_star):
    pattern = prefix + ("/*" if slash_star else "*" if star else "")
    assert all(URL_MAP_PATH.match(path) for path in url_map_paths(pattern))


@given(prefix=PREFIXES, suffix=st.lists(SEGMENT, max_size=3), trailing_slash=st.booleans())
def test_requests_below_a_prefix_route_the_same_way(prefix, suffix, trailing_slash):
    """The exact prefix and everything below `<prefix>/` match in both worlds."""
    pattern = prefix + "*"
    request = prefix + "".join(f"/{part}" for part in suffix) + ("/" if trailing_slash and suffix else "")
    assert _alb_matches(pattern, request)
    assert _url_map_matches(url_map_paths(pattern), request)


@pytest.mark.parametrize("pattern", ["/a*/b", "/a?", "relative/*", "/v1/*/chat"])
def test_fails_on_patterns_a_url_map_cannot_express(pattern):
    with pytest.raises(ValueError, match="URL map"):
        url_map_paths(pattern)


def test_fails_when_two_components_claim_one_path():
    with pytest.raises(ValueError, match=re.escape("'/health' is routed to both gateway and ui")):
        url_map_rules([("gateway", ["/health*"]), ("ui", ["/health"])])


def test_rules_are_chunked_and_keep_their_order():
    patterns = [f"/p{index}*" for index in range(8)]
    rules = url_map_rules([("gateway", patterns)])
    assert [len(chunk) for _, chunk in rules] == [10, 6]
    assert [path for _, chunk in rules for path in chunk][:3] == ["/p0", "/p0/*", "/p1"]
