"""Load and validate the environment files before any construct is built.

Every problem of every file is collected, then raised as one `ConfigError` whose lines each name the file, the
line of the offending value, the field path and the problem, sorted by file and line; `main.py` prints them and
exits non-zero without touching `cdktf.out`. The words come from `constructs_lib.config.messages`.
"""

from __future__ import annotations

import difflib
import re
import typing
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from constructs_lib.config.environment import CLOUDS, EnvironmentConfig, reference_problems
from constructs_lib.config.messages import ConfigProblems, problem_of, shown

# The example files are about 10 KB; a file a hundred times that size is not an environment file.
MAX_CONFIG_BYTES = 1024 * 1024
# Errors listed in one run; the rest are counted ("... and N more").
MAX_REPORTED = 20
# A message that echoes values stays readable even when a validator forgot to cap one.
MAX_PROBLEM_CHARS = 400


@dataclass(frozen=True, order=True)
class Problem:
    """One problem: where (file, line, field path) and what. Sorts by file, then line."""

    file: str
    line: int  # 0: the problem has no line (a missing file, a directory)
    path: str
    text: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path}: {self.text}" if self.path else f"{where}: {self.text}"


class ConfigError(Exception):
    """Configuration problems, already phrased for the person who wrote the files.

    `file`, `path`, `problem` and `line` describe the first problem (in file and line order); `problems` holds all.
    """

    def __init__(self, file: Path | str, path: str = "", problem: str = "", line: int | None = None) -> None:
        self._set([Problem(str(file), line or 0, path, problem)])

    @classmethod
    def of(cls, problems: list[Problem]) -> ConfigError:
        error = cls.__new__(cls)
        error._set(problems)
        return error

    def _set(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        first = self.problems[0]
        self.file, self.path, self.problem, self.line = first.file, first.path, first.text, first.line or None
        lines = [str(problem) for problem in self.problems[:MAX_REPORTED]]
        if len(self.problems) > MAX_REPORTED:
            lines.append(f"... and {len(self.problems) - MAX_REPORTED} more")
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class LoadedEnvironment:
    path: Path
    config: EnvironmentConfig


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that records duplicate mapping keys (PyYAML keeps the last one silently) and goes on."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[yaml.Node, yaml.Node]] = []


def _construct_unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    mapping: dict[Any, Any] = {}
    first_key_nodes: dict[Any, yaml.Node] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in mapping:
            loader.duplicates.append((key_node, first_key_nodes[key]))
        first_key_nodes.setdefault(key, key_node)
        mapping[key] = loader.construct_object(value_node, deep=deep)
    return mapping


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping)


def _line_of(node: yaml.Node | None, path: tuple[Any, ...]) -> int:
    """1-based line of the value at `path`: the line of its key, or of its list item (or of its nearest parent)."""
    line = node.start_mark.line + 1 if node is not None else 0
    for part in path:
        if isinstance(node, yaml.MappingNode):
            found = next(((key, value) for key, value in node.value if key.value == str(part)), None)
            if found is None:
                break
            line, node = found[0].start_mark.line + 1, found[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _format_location(location: tuple[Any, ...]) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


_LOCATION_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _parse_location(text: str) -> tuple[str | int, ...]:
    return tuple(int(index) if index else name for name, index in _LOCATION_PART.findall(text))


# Model-level validators phrase their messages as "<field>: <problem>" so the path can name the field.
_FIELD_PREFIX = re.compile(
    r"^([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*|\[\d+\])*)(?: \([^)]*\))?: (.+)$",
    re.DOTALL,
)


def _unwrap(annotation: Any) -> list[Any]:
    """The types an annotation can hold, with Annotated, Optional and unions opened up."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return [inner for arg in typing.get_args(annotation) for inner in _unwrap(arg)]
    return [annotation]


def _keys_allowed_at(location: tuple[Any, ...]) -> list[tuple[str, bool]]:
    """(key, required) pairs of the model at `location` below EnvironmentConfig, for "did you mean"."""
    types: list[Any] = [EnvironmentConfig]
    for part in location:
        following: list[Any] = []
        for candidate in (inner for outer in types for inner in _unwrap(outer)):
            origin, args = typing.get_origin(candidate), typing.get_args(candidate)
            if isinstance(candidate, type) and issubclass(candidate, BaseModel) and part in candidate.model_fields:
                following.append(candidate.model_fields[part].annotation)
            elif origin is list and isinstance(part, int) and args:
                following.append(args[0])
            elif origin is dict and isinstance(part, str) and len(args) == 2:
                following.append(args[1])
        types = following
    for candidate in (inner for outer in types for inner in _unwrap(outer)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return [(name, field.is_required()) for name, field in candidate.model_fields.items()]
    return []


def _validation_problems(error: ValidationError) -> list[tuple[tuple[Any, ...], str]]:
    """(location, words) for every pydantic error; an unknown key close to a missing one replaces both."""
    found: list[tuple[tuple[Any, ...], str]] = []
    details = error.errors()
    missing = {
        tuple(part for part in detail["loc"] if not str(part).startswith("function-"))
        for detail in details
        if detail["type"] == "missing"
    }
    explained: set[tuple[Any, ...]] = set()
    for detail in details:
        location = tuple(part for part in detail["loc"] if not str(part).startswith("function-") and part != "[key]")
        if detail["type"] == "missing":
            continue  # after the unknown keys, which may explain them
        if detail["type"] == "extra_forbidden":
            allowed = _keys_allowed_at(location[:-1])
            close = difflib.get_close_matches(str(location[-1]), [name for name, _ in allowed], n=1, cutoff=0.75)
            if close:
                required = dict(allowed)[close[0]]
                if required and (*location[:-1], close[0]) in missing:
                    explained.add((*location[:-1], close[0]))
                    found.append((location, f"unknown key; did you mean {close[0]!r} (a required key)?"))
                else:
                    found.append((location, f"unknown key; did you mean {close[0]!r}?"))
            else:
                names = ", ".join(name for name, _ in allowed)
                hint = f"allowed here: {names}" if allowed and len(names) <= 200 else "see config/schema.json"
                found.append((location, f"unknown key ({hint})"))
            continue
        context_error = (detail.get("ctx") or {}).get("error")
        if isinstance(context_error, ConfigProblems):
            found.extend(((*location, *sub), text) for sub, text in context_error.problems)
            continue
        problem = problem_of(detail)
        if detail["type"] == "value_error" and (named := _FIELD_PREFIX.match(problem)):
            location += _parse_location(named.group(1))
            problem = named.group(2)
        found.append((location, problem))
    found.extend((location, "required key is missing") for location in sorted(missing - explained, key=str))
    return found


def _read_text(path: Path) -> tuple[str | None, list[Problem]]:
    """The file's text, or why it cannot be read (too big, not UTF-8, missing)."""
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            return None, [
                Problem(
                    str(path),
                    0,
                    "",
                    f"the file is {size / 1024 / 1024:.1f} MiB; an environment file may be at most "
                    f"{MAX_CONFIG_BYTES // 1024 // 1024} MiB (the examples are about 10 KiB): is it the right file?",
                )
            ]
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, [Problem(str(path), 0, "", "file not found")]
    except OSError as error:
        return None, [Problem(str(path), 0, "", f"cannot read the file: {error.strerror or error}")]
    try:
        return raw.decode("utf-8"), []
    except UnicodeDecodeError as error:
        line_start = raw.rfind(b"\n", 0, error.start) + 1
        line = raw.count(b"\n", 0, error.start) + 1
        column = len(raw[line_start : error.start].decode("utf-8", errors="replace")) + 1
        byte = raw[error.start]
        return None, [
            Problem(
                str(path),
                line,
                "",
                f"the file is not UTF-8 text: byte 0x{byte:02x} in column {column} (save the file as UTF-8)",
            )
        ]


_UNCLOSED = {
    "while parsing a flow sequence": "the '[' opened here is never closed",
    "while parsing a flow mapping": "the '{' opened here is never closed",
    "while scanning a quoted scalar": "the quote opened here is never closed",
}
# PyYAML's parser wording, for the mistakes people make, in words.
_SYNTAX_WORDS = (
    ("expected <block end>", "this line is indented differently from the lines above it (indent with spaces)"),
    ("cannot start any token", "a tab character: YAML is indented with spaces only"),
    ("mapping values are not allowed here", "a ': ' inside a value (put quotes around a value that holds ': ')"),
)


def _syntax_problem(path: Path, error: yaml.YAMLError) -> Problem:
    """A YAML syntax error at the line a person has to fix: where an unclosed bracket or quote opened."""
    context, context_mark = getattr(error, "context", None), getattr(error, "context_mark", None)
    problem_mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    if context in _UNCLOSED and context_mark is not None:
        still_open = f" (still open on line {problem_mark.line + 1})" if problem_mark is not None else ""
        return Problem(str(path), context_mark.line + 1, "", f"YAML syntax error: {_UNCLOSED[context]}{still_open}")
    words = next((words for marker, words in _SYNTAX_WORDS if marker in problem), problem)
    return Problem(str(path), problem_mark.line + 1 if problem_mark else 0, "", f"YAML syntax error: {words}")


def _capped(text: str) -> str:
    cut = "... (message cut)"
    return text if len(text) <= MAX_PROBLEM_CHARS else f"{text[: MAX_PROBLEM_CHARS - len(cut)]}{cut}"


def _load(path: Path) -> tuple[EnvironmentConfig | None, yaml.Node | None, list[Problem]]:
    """The validated config of one file, its YAML node tree, and every problem found in it."""
    text, problems = _read_text(path)
    if text is None:
        return None, None, problems
    loader = _UniqueKeyLoader(text)
    try:
        root_node = loader.get_single_node()
        data = loader.construct_document(root_node) if root_node is not None else None
    except yaml.YAMLError as error:
        return None, None, [_syntax_problem(path, error)]
    finally:
        loader.dispose()
    for duplicate, first in loader.duplicates:
        problems.append(
            Problem(
                str(path),
                duplicate.start_mark.line + 1,
                "",
                f"duplicate key {shown(duplicate.value)} (first on line {first.start_mark.line + 1}; "
                "YAML would silently keep only the last)",
            )
        )
    if not isinstance(data, dict):
        problems.append(
            Problem(str(path), 0, "", "the file must hold a mapping of settings (tenant, env, clouds, ...)")
        )
        return None, root_node, problems
    config = None
    try:
        config = EnvironmentConfig.model_validate(data)
    except ValidationError as error:
        found = _validation_problems(error)
        # Pydantic skips the cross-reference validator when any field failed: run it on the parsed data instead.
        found += [problem for problem in reference_problems(data) if problem not in found]
        for location, problem in found:
            where = _format_location(location) or "(file)"
            problems.append(Problem(str(path), _line_of(root_node, location), where, _capped(problem)))
    env = data.get("env")
    if isinstance(env, str) and env != path.stem and not any(problem.path == "env" for problem in problems):
        problems.append(
            Problem(
                str(path),
                _line_of(root_node, ("env",)),
                "env",
                f"{shown(env)} does not match the file name {path.name!r}",
            )
        )
    return (config if not problems else None), root_node, problems


def load_environment(path: Path) -> EnvironmentConfig:
    """One environment file, validated; a `ConfigError` lists every problem in it."""
    config, _, problems = _load(path)
    if problems or config is None:
        raise ConfigError.of(problems)
    return config


def _files(paths: list[Path]) -> str:
    return ", ".join(path.name for path in paths)


def _consistency_problems(environments: list[LoadedEnvironment], roots: dict[Path, yaml.Node]) -> list[Problem]:
    """Settings one repository shares: tenant, repository, and each cloud's state store.

    The value most files agree on is taken as meant (the first file's on a tie), so the file that differs is the
    one named, at the line where it differs.
    """
    problems: list[Problem] = []

    def disagreeing(items: list[tuple[LoadedEnvironment, Any]]) -> list[tuple[LoadedEnvironment, Any, Any, str]]:
        if len(items) < 2:
            return []
        counts = Counter(key for _, key in items)
        reference = counts.most_common(1)[0][0]
        agreeing = [loaded.path for loaded, key in items if key == reference]
        return [(loaded, key, reference, _files(agreeing)) for loaded, key in items if key != reference]

    for field in ("tenant", "repository"):
        values = [(loaded, getattr(loaded.config, field)) for loaded in environments]
        for loaded, value, reference, where in disagreeing(values):
            problems.append(
                Problem(
                    str(loaded.path),
                    _line_of(roots[loaded.path], (field,)),
                    field,
                    f"{shown(value)} differs from {shown(reference)} in {where}: all environments share one {field}",
                )
            )
    for cloud in CLOUDS:
        states = [
            (loaded, loaded.config.cloud(cloud).state.model_dump_json())
            for loaded in environments
            if cloud in loaded.config.enabled_clouds
        ]
        for loaded, own, reference, where in disagreeing(states):
            own_values, reference_values = yaml.safe_load(own), yaml.safe_load(reference)
            field = next(name for name in sorted(own_values) if own_values[name] != reference_values.get(name))
            location = ("clouds", cloud, "state", field)
            problems.append(
                Problem(
                    str(loaded.path),
                    _line_of(roots[loaded.path], location),
                    _format_location(location),
                    f"{shown(own_values[field])} differs from {shown(reference_values[field])} in {where}: all "
                    "environments share one state store per cloud (the bootstrap stack creates it once)",
                )
            )
    return problems


def load_all(config_dir: Path) -> list[LoadedEnvironment]:
    """Every `<env>.yaml` in `config_dir`, validated, in file-name order; one `ConfigError` lists every problem."""
    if not config_dir.is_dir():
        raise ConfigError(config_dir, "", "configuration directory not found")
    paths = sorted(path for path in config_dir.glob("*.yaml"))
    if not paths:
        raise ConfigError(config_dir, "", "no environment files (*.yaml) found")
    environments: list[LoadedEnvironment] = []
    roots: dict[Path, yaml.Node] = {}
    problems: list[Problem] = []
    for path in paths:
        config, root_node, found = _load(path)
        problems += found
        if config is not None and root_node is not None:
            environments.append(LoadedEnvironment(path, config))
            roots[path] = root_node
    problems += _consistency_problems(environments, roots)
    if problems:
        raise ConfigError.of(problems)
    return environments
