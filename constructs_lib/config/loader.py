"""Load and validate the environment files before any construct is built.

Every failure becomes one `ConfigError` whose text names the file, the field path (with its line) and the
problem; `main.py` prints it and exits non-zero without touching `cdktf.out`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from constructs_lib.config.environment import CLOUDS, EnvironmentConfig


class ConfigError(Exception):
    """A configuration problem, already phrased for the person who wrote the file."""

    def __init__(self, file: Path | str, path: str, problem: str, line: int | None = None) -> None:
        self.file, self.path, self.problem, self.line = str(file), path, problem, line
        where = f"{self.file}:{line}" if line else self.file
        super().__init__(f"{where}: {path}: {problem}" if path else f"{where}: {problem}")


@dataclass(frozen=True)
class LoadedEnvironment:
    path: Path
    config: EnvironmentConfig


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys (PyYAML keeps the last one silently)."""


def _construct_unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in mapping:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        mapping[key] = loader.construct_object(value_node, deep=deep)
    return mapping


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping)


def _line_of(node: yaml.Node | None, path: tuple[Any, ...]) -> int | None:
    """1-based line of the YAML node at `path` (or of its nearest existing parent)."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in path:
        if isinstance(node, yaml.MappingNode):
            node = next((value for key, value in node.value if key.value == str(part)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            node = None
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


def _format_location(location: tuple[Any, ...]) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


# Model-level validators phrase their messages as "<field>: <problem>" so the path can name the field.
_FIELD_PREFIX = re.compile(r"^([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*)(?: \([^)]*\))?: (.+)$", re.DOTALL)


def _pydantic_problem(error: dict[str, Any]) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        return "unknown key (check the spelling; see config/schema.json for the allowed keys)"
    if error["type"] == "missing":
        return "required key is missing"
    return message


def load_environment(path: Path) -> EnvironmentConfig:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(path, "", "file not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(path, "", f"cannot read file: {error}") from None
    try:
        root_node = yaml.compose(text, Loader=_UniqueKeyLoader)
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigError(path, "", f"YAML syntax error: {problem}", mark.line + 1 if mark else None) from None
    if not isinstance(data, dict):
        raise ConfigError(path, "", "the file must hold a mapping of settings (tenant, env, clouds, ...)")
    try:
        config = EnvironmentConfig.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        location = tuple(part for part in first["loc"] if not str(part).startswith("function-"))
        problem = _pydantic_problem(first)
        if first["type"] == "value_error" and (named := _FIELD_PREFIX.match(problem)):
            location += tuple(named.group(1).split("."))
            problem = named.group(2)
        raise ConfigError(
            path, _format_location(location) or "(file)", problem, _line_of(root_node, location)
        ) from None
    if config.env != path.stem:
        raise ConfigError(
            path, "env", f"{config.env!r} does not match the file name {path.name!r}", _line_of(root_node, ("env",))
        )
    _check_model_budgets_are_licensed(path, root_node, config)
    return config


def _check_model_budgets_are_licensed(path: Path, root_node: yaml.Node, config: EnvironmentConfig) -> None:
    """A per-model daily budget becomes the key's `model_max_budget`, which LiteLLM 1.106.12 refuses without an
    enterprise licence (litellm/proxy/management_endpoints/key_management_endpoints.py:7876-7893): refuse it here,
    at synth, instead of at the first key registration."""
    if config.quotas.litellm_enterprise_license:
        return
    for index, agent in enumerate(config.agents):
        for model, limit in agent.model_limits.items():
            if limit.daily_budget is not None:
                location = ("agents", index, "model_limits", model, "daily_budget")
                raise ConfigError(
                    path,
                    _format_location(location),
                    "per-model daily budgets need a LiteLLM enterprise licence (LiteLLM refuses model_max_budget "
                    "without one): remove it, or set quotas.litellm_enterprise_license: true if the gateways run "
                    "with LITELLM_LICENSE",
                    _line_of(root_node, location),
                )


def _check_consistent(environments: list[LoadedEnvironment]) -> None:
    """Settings one repository shares: tenant, repository, and each cloud's state store."""
    first = environments[0]
    for loaded in environments[1:]:
        for field in ("tenant", "repository"):
            if getattr(loaded.config, field) != getattr(first.config, field):
                raise ConfigError(
                    loaded.path,
                    field,
                    f"{getattr(loaded.config, field)!r} differs from {getattr(first.config, field)!r} in {first.path}",
                )
    for cloud in CLOUDS:
        with_cloud = [loaded for loaded in environments if cloud in loaded.config.enabled_clouds]
        for loaded in with_cloud[1:]:
            reference = with_cloud[0]
            if loaded.config.cloud(cloud).state != reference.config.cloud(cloud).state:
                raise ConfigError(
                    loaded.path,
                    f"clouds.{cloud}.state",
                    f"differs from {reference.path}: all environments share one state store per cloud "
                    "(the bootstrap stack creates it once)",
                )


def load_all(config_dir: Path) -> list[LoadedEnvironment]:
    """Every `<env>.yaml` in `config_dir`, validated, in file-name order."""
    if not config_dir.is_dir():
        raise ConfigError(config_dir, "", "configuration directory not found")
    paths = sorted(path for path in config_dir.glob("*.yaml"))
    if not paths:
        raise ConfigError(config_dir, "", "no environment files (*.yaml) found")
    environments = [LoadedEnvironment(path, load_environment(path)) for path in paths]
    _check_consistent(environments)
    return environments
