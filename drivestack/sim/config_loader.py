"""Strict mapping -> frozen dataclass conversion for YAML configs.

Unknown keys, missing required keys and wrong types raise :class:`ConfigError` naming the
file and the dotted key path (``agents.2.speed_mps``). Supported field types: ``bool``,
``int``, ``float`` (ints accepted), ``str``, ``X | None``, ``list[X]`` / ``tuple[X, ...]``,
``dict[str, X]``, ``Any`` and nested dataclasses.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, TypeVar, Union

from drivestack.core.errors import ConfigError

T = TypeVar("T")


def from_mapping(cls: type[T], data: object, path: str, key: str = "") -> T:
    """Build ``cls`` from a parsed YAML mapping, strictly."""
    return typing.cast(T, _convert(cls, data, path, key))


def _where(key: str) -> str:
    return key or "<top level>"


def _convert(tp: Any, value: object, path: str, key: str) -> object:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        if len(inner) == 1:
            return _convert(inner[0], value, path, key)
        for option in inner:
            try:
                return _convert(option, value, path, key)
            except ConfigError:
                continue
        raise ConfigError(
            f"expected one of {inner}, got {type(value).__name__}", path=path, field=_where(key)
        )
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(
                f"expected a mapping, got {type(value).__name__}", path=path, field=_where(key)
            )
        hints = typing.get_type_hints(tp)
        fields = {f.name: f for f in dataclasses.fields(tp) if f.init}
        unknown = sorted(set(value) - set(fields))
        if unknown:
            raise ConfigError(
                f"unknown key {unknown[0]!r} (allowed: {sorted(fields)})",
                path=path,
                field=_join(key, str(unknown[0])),
            )
        kwargs = {}
        for name, f in fields.items():
            sub = _join(key, name)
            if name in value:
                kwargs[name] = _convert(hints[name], value[name], path, sub)
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ConfigError("missing required key", path=path, field=sub)
        try:
            return typing.cast(Any, tp)(**kwargs)
        except (ValueError, TypeError) as exc:
            if isinstance(exc, ConfigError):
                raise
            raise ConfigError(str(exc), path=path, field=_where(key)) from exc
    if origin in (list, tuple):
        if not isinstance(value, list):
            raise ConfigError(
                f"expected a list, got {type(value).__name__}", path=path, field=_where(key)
            )
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            if len(value) != len(args):
                raise ConfigError(
                    f"expected a list of {len(args)} items, got {len(value)}",
                    path=path,
                    field=_where(key),
                )
            return tuple(
                _convert(a, v, path, _join(key, str(i)))
                for i, (a, v) in enumerate(zip(args, value, strict=True))
            )
        item = args[0] if args else Any
        items = [_convert(item, v, path, _join(key, str(i))) for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(
                f"expected a mapping, got {type(value).__name__}", path=path, field=_where(key)
            )
        return {
            str(k): _convert(args[1] if args else Any, v, path, _join(key, str(k)))
            for k, v in value.items()
        }
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(
                f"expected a number, got {type(value).__name__} {value!r}",
                path=path,
                field=_where(key),
            )
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(
                f"expected an integer, got {type(value).__name__} {value!r}",
                path=path,
                field=_where(key),
            )
        return value
    if tp in (str, bool):
        if not isinstance(value, tp):
            raise ConfigError(
                f"expected {tp.__name__}, got {type(value).__name__} {value!r}",
                path=path,
                field=_where(key),
            )
        return value
    raise TypeError(f"config field type {tp!r} is not supported")


def _join(key: str, name: str) -> str:
    return f"{key}.{name}" if key else name
