"""Scenario configs are read with the shared strict loader (:mod:`drivestack.config.strict`);
this keeps the positional call shape the simulation code uses."""

from __future__ import annotations

from typing import TypeVar

from drivestack.config.strict import from_mapping as _strict_from_mapping

T = TypeVar("T")


def from_mapping(cls: type[T], data: object, path: str, key: str = "") -> T:
    """Build ``cls`` from a parsed YAML mapping, strictly (errors name ``path`` and the key)."""
    return _strict_from_mapping(cls, data, path=path, prefix=key)
