"""Typed configuration: strict YAML -> frozen dataclasses (see :mod:`drivestack.config.strict`)."""

from drivestack.config.strict import config_or_file, from_mapping, load_yaml, load_yaml_config

__all__ = ["config_or_file", "from_mapping", "load_yaml", "load_yaml_config"]
