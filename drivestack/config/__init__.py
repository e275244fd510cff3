"""Typed configuration: strict YAML -> frozen dataclasses (see :mod:`drivestack.config.strict`)."""

from drivestack.config.strict import from_mapping, load_yaml, load_yaml_config

__all__ = ["from_mapping", "load_yaml", "load_yaml_config"]
