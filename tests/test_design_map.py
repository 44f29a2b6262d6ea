"""docs/DESIGN.md's map names real files and code: a rename that leaves the map behind fails here."""

from __future__ import annotations

import re
from functools import cache

from tests.conftest import REPO

DESIGN = REPO / "docs" / "DESIGN.md"
FILE_SUFFIXES = (".py", ".md", ".json", ".yaml", ".txt")
GENERATED = ("cdktf.out/",)  # written by `make synth`, not in the repository
DOTTED_NAME = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")


def _map_code_spans() -> list[str]:
    text = DESIGN.read_text()
    match = re.search(r"^## Map \(start here\)\n(.*?)^## ", text, flags=re.MULTILINE | re.DOTALL)
    assert match, "docs/DESIGN.md opens with '## Map (start here)'"
    prose = re.sub(r"^```.*?^```", "", match[1], flags=re.MULTILINE | re.DOTALL)
    return [" ".join(span.split()) for span in re.findall(r"`([^`]+)`", prose)]


@cache
def _code_words() -> frozenset[str]:
    sources = [REPO / "main.py"]
    for folder in ("constructs_lib", "stacks", "synth_speed", "tools", "tests"):
        sources += (REPO / folder).rglob("*.py")
    sources += (REPO / "tests" / "__snapshots__").rglob("*.json")
    return frozenset(word for path in sources for word in re.findall(r"\w+", path.read_text()))


def test_every_path_the_map_names_exists():
    paths = [span for span in _map_code_spans() if "/" in span and " " not in span and not span.startswith(GENERATED)]
    assert len(paths) > 20
    assert [path for path in paths if not _exists(path)] == []


def _exists(path: str) -> bool:
    if "<" in path:  # a placeholder such as <cloud>: some file must match it
        return any(REPO.glob(re.sub(r"<[^>]+>", "*", path).rstrip("/")))
    return (REPO / path).exists()


def test_every_name_the_map_gives_is_in_the_code():
    names = [
        span
        for span in _map_code_spans()
        if DOTTED_NAME.fullmatch(span)
        and not span.endswith(FILE_SUFFIXES)
        and ("_" in span or "." in span or span != span.lower())
    ]
    assert {"load_environment", "StoreSourceConfig._external_only", "check_environment"} <= set(names)
    unknown = [name for name in names if not set(name.split(".")) <= _code_words()]
    assert unknown == []
