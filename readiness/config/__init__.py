"""Configuration: readiness.toml or [tool.readiness], validated into frozen dataclasses."""

from readiness.config.errors import ConfigError, ReadinessUsageError
from readiness.config.load import find_config, load_config
from readiness.config.model import Config

__all__ = ["Config", "ConfigError", "ReadinessUsageError", "find_config", "load_config"]
