"""Typed, validated configuration: one YAML file per environment, all clouds in it."""

from constructs_lib.config.environment import CLOUDS, EnvironmentConfig
from constructs_lib.config.loader import ConfigError, LoadedEnvironment, load_all, load_environment

__all__ = ["CLOUDS", "ConfigError", "EnvironmentConfig", "LoadedEnvironment", "load_all", "load_environment"]
