"""Typed configuration: strict YAML -> frozen dataclasses (see :mod:`drivestack.config.strict`)."""

from drivestack.config.strict import (
    ConfigValueError,
    config_or_file,
    from_mapping,
    load_yaml,
    load_yaml_config,
)
from drivestack.core.errors import ConfigError

__all__ = [
    "ConfigError",
    "ConfigValueError",
    "config_or_file",
    "from_mapping",
    "load_yaml",
    "load_yaml_config",
]
