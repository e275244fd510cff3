"""Strict mapping -> frozen dataclass conversion for YAML configs, shared by every stage.

``load_yaml_config(cls, path)`` reads a file with a ``yaml.SafeLoader`` (never the unsafe
loaders) and builds ``cls``; duplicate keys in one mapping (YAML would keep the last one
silently), an empty file, unknown keys, missing required keys and wrong types raise
:class:`~drivestack.core.errors.ConfigError` naming the file and the dotted key
(``tracking.classes.Car.max_age``; list items by index: ``agents.2.speed_mps``). A value the dataclass's own ``__post_init__`` rejects
(``ValueError``, or ``OverflowError`` and the like from a huge number) is re-raised as a
``ConfigError`` at that key too: the key of a :class:`ConfigValueError`, else the field a
message starting ``<Class>.<field>`` names (``PDMParams.horizon_s must be ...`` at
``planner.horizon_s``; ``speed_fractions[1]`` at ``speed_fractions.1``), else the dataclass's
own key. A dataclass may also name keys it would accept but never read in the mapping
given (a CTRV-only noise under ``model: cv``): a ``config_keys_ignored(mapping)`` static
method returning ``{dotted key below the dataclass: why}``; each is refused at its key, as an
unknown key is, rather than recorded as a setting that took effect.

Supported field types: ``bool``, ``int``, ``float`` (integers accepted), ``str``,
``pathlib.Path``, ``Enum`` subclasses (by name or value), ``Literal[...]``, ``X | None``,
unions, ``list[X]``, ``tuple[X, ...]``, fixed ``tuple[X, Y]``, ``dict[K, V]``, ``Any`` and
nested dataclasses.
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import math
import re
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml

from drivestack.core.errors import ConfigError, brief_repr

T = TypeVar("T")


def _join(prefix: str, key: object) -> str:
    return f"{prefix}.{key}" if prefix else str(key)


def _name(tp: Any) -> str:
    """``tp`` as a message names it: a class by its name, a ``Literal`` by its words."""
    if typing.get_origin(tp) is Literal:
        return f"one of {list(typing.get_args(tp))}"
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


class ConfigValueError(ValueError):
    """A value a config dataclass's ``__post_init__`` rejects, at ``key`` below the dataclass
    (``classes.cyclst``); :func:`from_mapping` reports it at that dotted key of the file."""

    def __init__(self, message: str, key: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key, self.reason = key, message


def check_config_numbers(owner: object, *names: str, hint: str = "", **bounds: Any) -> None:
    """:func:`~drivestack.structures._checks.check_number` (finite, within ``bounds``;
    ``integer=True`` for counts) on each field ``names`` of the config dataclass ``owner``,
    every element of a tuple field; a failure is a :class:`ConfigValueError` at the field's
    key (``hint`` appended), so the loader names the file and the dotted key."""
    from drivestack.structures._checks import check_number

    for name in names:
        value = getattr(owner, name)
        items = enumerate(value) if isinstance(value, tuple) else [(None, value)]
        for i, v in items:
            try:
                check_number(name if i is None else f"{name}[{i}]", v, **bounds)
            except (TypeError, ValueError) as exc:
                raise ConfigValueError(f"{exc}{hint}", key=name) from None


def _fail(message: str, path: str, key: str) -> ConfigError:
    return ConfigError(message, path=path, field=key or "<top level>")


def _convert(value: Any, tp: Any, path: str, key: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        nested = [a for a in options if isinstance(a, type) and dataclasses.is_dataclass(a)]
        if len(options) == 1 or (isinstance(value, dict) and len(nested) == 1):
            # one candidate: let its own error (the bad nested key) through
            return _convert(value, nested[0] if len(options) > 1 else options[0], path, key)
        for option in options:
            try:
                return _convert(value, option, path, key)
            except ConfigError:
                continue
        raise _fail(
            f"expected {' or '.join(_name(a) for a in options)}, got {brief_repr(value)}", path, key
        )
    if origin is Literal:
        if value not in args:
            raise _fail(f"expected one of {list(args)}, got {brief_repr(value)}", path, key)
        return value
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return from_mapping(tp, value, path=path, prefix=key)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        for member in tp:
            if value == member.value or (isinstance(value, str) and value.upper() == member.name):
                return member
        raise _fail(
            f"expected one of {[m.name.lower() for m in tp]}, got {brief_repr(value)}", path, key
        )
    if origin in (tuple, list):
        if not isinstance(value, list | tuple):
            raise _fail(f"expected a list, got {type(value).__name__}", path, key)
        if origin is list or (len(args) == 2 and args[1] is Ellipsis):
            item = args[0] if args else Any
            items = [_convert(v, item, path, _join(key, i)) for i, v in enumerate(value)]
            return items if origin is list else tuple(items)
        if len(value) != len(args):
            raise _fail(f"expected {len(args)} items, got {len(value)}", path, key)
        return tuple(
            _convert(v, a, path, _join(key, i))
            for i, (v, a) in enumerate(zip(value, args, strict=True))
        )
    if origin is dict:
        if not isinstance(value, dict):
            raise _fail(f"expected a mapping, got {type(value).__name__}", path, key)
        key_type, value_type = args or (Any, Any)
        return {
            _convert(k, key_type, path, _join(key, k)): _convert(v, value_type, path, _join(key, k))
            for k, v in value.items()
        }
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _fail(
                f"expected a number, got {brief_repr(value)}{_text_number_hint(value)}", path, key
            )
        try:
            return float(value)
        except OverflowError:  # an integer literal past float's range (1e308)
            raise _fail(
                f"number too large for a float ({len(str(abs(value)))} digits)", path, key
            ) from None
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(f"expected an integer, got {brief_repr(value)}", path, key)
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise _fail(f"expected true or false, got {brief_repr(value)}", path, key)
        return value
    if tp is str:
        if not isinstance(value, str):
            raise _fail(f"expected a string, got {brief_repr(value)}", path, key)
        return value
    if tp is Path:
        if not isinstance(value, str):
            raise _fail(f"expected a path string, got {brief_repr(value)}", path, key)
        return Path(value)
    raise _fail(f"unsupported config field type {tp!r}", path, key)


def _text_number_hint(value: object) -> str:
    """For a string that reads as a float: why YAML left it text and how to write it.

    PyYAML reads YAML 1.1, whose floats need a dot and a signed exponent: ``5e-2`` and
    ``1.5e3`` are text there (``5.0e-2``, ``1.5e+3`` numbers); a quoted number is text too."""
    if not isinstance(value, str):
        return ""
    try:
        number = float(value)
    except ValueError:
        return ""
    text = value.strip()
    if not math.isfinite(number):
        return ""
    quoted = " (quoted, it is text: write the number without quotes)"
    if "e" not in text.lower():
        return quoted
    mantissa, exponent = text.lower().split("e", 1)
    if "." not in mantissa:
        mantissa += ".0"
    if exponent[:1] not in "+-":
        exponent = "+" + exponent
    if f"{mantissa}e{exponent}" == text.lower():
        return quoted  # YAML 1.1 reads this form as a number: it was quoted
    return f" (YAML reads {text} as text: write {mantissa}e{exponent} or {number!r})"


def from_mapping(cls: type[T], mapping: Any, *, path: str = "<config>", prefix: str = "") -> T:
    """Build the dataclass ``cls`` from a parsed mapping, strictly (see the module docstring)."""
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise TypeError(f"{cls!r} is not a dataclass type")
    if not isinstance(mapping, dict):
        raise _fail(
            f"expected a mapping for {cls.__name__}, got {type(mapping).__name__}", path, prefix
        )
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    for key in mapping:
        if key not in fields:
            close = difflib.get_close_matches(str(key), list(fields), n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise _fail(
                f"unknown key ({hint}known: {', '.join(sorted(fields))})",
                path,
                _join(prefix, key),
            )
    ignored: Callable[[dict[Any, Any]], dict[str, str]] | None = getattr(
        cls, "config_keys_ignored", None
    )
    for key, why in (ignored(mapping) if ignored is not None else {}).items():
        raise _fail(why, path, _join(prefix, key))
    kwargs = {}
    for name, f in fields.items():
        full = _join(prefix, name)
        if name in mapping:
            kwargs[name] = _convert(mapping[name], hints[name], path, full)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise _fail("missing required key", path, full)
    try:
        return cls(**kwargs)
    except (ValueError, TypeError, ArithmeticError) as exc:  # (1e308 s / 0.1 s -> inf -> int)
        if isinstance(exc, ConfigError):
            raise
        if isinstance(exc, ConfigValueError):
            raise _fail(exc.reason, path, _join(prefix, exc.key)) from None
        named = _named_field(cls, str(exc))
        raise _fail(str(exc), path, _join(prefix, named) if named else prefix) from None


def _named_field(cls: type, message: str) -> str:
    """The key a ``__post_init__`` error ``message`` of the dataclass ``cls`` names: the
    ``<Class>.<field>`` it starts with (``PDMParams.horizon_s must be ...``; the class
    ``cls`` or one of its bases, the field one of ``cls``'s), with an element index
    (``speed_fractions[1]``) as a dotted key (``speed_fractions.1``); ``""`` (the dataclass
    itself) when the message names no field of ``cls``."""
    classes = "|".join(re.escape(c.__name__) for c in cls.__mro__ if c is not object)
    match = re.match(rf"\s*(?:{classes})\.([A-Za-z_]\w*)((?:\[\d+\])*)", message)
    names = {f.name for f in dataclasses.fields(cls)}
    if match is None or match.group(1) not in names:
        return ""
    return ".".join([match.group(1), *re.findall(r"\[(\d+)\]", match.group(2))])


class _DuplicateKeyError(yaml.YAMLError):
    def __init__(self, key: str, line: int, first_line: int) -> None:
        super().__init__(key)
        self.key, self.line, self.first_line = key, line, first_line


#: The most values (scalars, lists and mappings, aliases counted each time they are used) a
#: config file may expand to: a few lines of nested aliases ("billion laughs") otherwise
#: expand to 10**9 values and fill memory before any check.
MAX_YAML_VALUES = 1_000_000


class _AliasBombError(yaml.YAMLError):
    def __init__(self, values: int) -> None:
        super().__init__(values)
        self.values = values


def _expanded_size(node: yaml.Node, sizes: dict[int, int], open_nodes: set[int]) -> int:
    """How many values ``node`` stands for with every alias expanded (a recursive anchor
    counts once), memoised per node; iterative, so deep nesting needs no recursion."""
    stack: list[tuple[yaml.Node, bool]] = [(node, False)]
    while stack:
        current, children_done = stack.pop()
        key = id(current)
        if key in sizes:
            continue
        if isinstance(current, yaml.ScalarNode):
            sizes[key] = 1
            continue
        if isinstance(current, yaml.SequenceNode):
            children = list(current.value)
        else:
            children = [n for pair in current.value for n in pair]
        if children_done:
            open_nodes.discard(key)
            sizes[key] = 1 + sum(sizes.get(id(c), 1) for c in children)
            continue
        open_nodes.add(key)
        stack.append((current, True))
        stack.extend((c, False) for c in children if id(c) not in sizes and id(c) not in open_nodes)
    return sizes[id(node)]


class _StrictSafeLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that rejects a key repeated within one mapping (PyYAML keeps the
    last value silently, so an appended ``max_age: 9`` would override an earlier one)."""

    def get_single_data(self) -> Any:
        node = self.get_single_node()
        if node is None:
            return None
        self._check_duplicates(node, "", set())
        expanded = _expanded_size(node, {}, set())
        if expanded > MAX_YAML_VALUES:
            raise _AliasBombError(expanded)
        return self.construct_document(node)

    def _check_duplicates(self, node: yaml.Node, prefix: str, seen: set[int]) -> None:
        if id(node) in seen:  # an alias seen before (also stops recursive anchors)
            return
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self._check_duplicates(item, _join(prefix, i), seen)
        elif isinstance(node, yaml.MappingNode):
            first_line: dict[Any, int] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue  # ``<<: *base`` merges; the explicit keys override it
                key = (
                    self.construct_object(key_node)
                    if isinstance(key_node, yaml.ScalarNode)
                    else (key_node.start_mark.line, key_node.start_mark.column)
                )
                full = _join(prefix, key)
                line = key_node.start_mark.line + 1
                if key in first_line:
                    raise _DuplicateKeyError(full, line, first_line[key])
                first_line[key] = line
                self._check_duplicates(value_node, full, seen)


def load_yaml(path: str | Path) -> Any:
    """Parse a YAML file with a strict ``yaml.SafeLoader``; errors name the file (and line
    when known).

    Raises:
        ConfigError: the file cannot be read, is not UTF-8, is malformed YAML, or repeats a
            key within one mapping (naming the line and the dotted key).
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file: {exc.strerror or exc}", path=str(p)) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file is not UTF-8 text: {exc}", path=str(p)) from exc
    try:
        return yaml.load(text, Loader=_StrictSafeLoader)  # a SafeLoader subclass
    except _DuplicateKeyError as exc:
        raise ConfigError(
            f"duplicate key (first set on line {exc.first_line}; YAML would keep only the last "
            "value): remove one",
            path=str(p),
            record=f"line {exc.line}",
            field=exc.key,
        ) from None
    except _AliasBombError as exc:
        raise ConfigError(
            f"its aliases expand to {exc.values:,} values, more than a config may hold "
            f"({MAX_YAML_VALUES:,}): write the values out, or use fewer nested aliases",
            path=str(p),
        ) from None
    except RecursionError:
        raise ConfigError(
            "malformed YAML: nested too deeply to read (thousands of levels)", path=str(p)
        ) from None
    except ValueError as exc:  # PyYAML's int() of a literal past Python's 4300-digit limit
        reason = str(exc).split(": value has")[0]  # (not Python's advice on raising its limit)
        raise ConfigError(f"malformed YAML: {reason}", path=str(p)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else None
        raise ConfigError(
            f"malformed YAML: {getattr(exc, 'problem', None) or exc}", path=str(p), record=where
        ) from exc


def load_yaml_config(cls: type[T], path: str | Path) -> T:
    """``load_yaml`` then :func:`from_mapping` onto ``cls``.

    Raises:
        ConfigError: as :func:`load_yaml` and :func:`from_mapping`; also for an empty file (or
            one with only comments), which would otherwise silently give every default (e.g. a
            tracker with no classes that never outputs a track).
    """
    data = load_yaml(path)
    if data is None:
        raise ConfigError(
            f"empty config: the file holds no YAML mapping for {cls.__name__}; write the keys "
            "to set (an empty mapping '{}' takes every default)",
            path=str(path),
        )
    return from_mapping(cls, data, path=str(path))


def config_or_file(cfg: object, cls: type[T], load: Callable[[str | Path], T], caller: str) -> T:
    """``cfg`` when it is a ``cls``, else the config read from the YAML path ``cfg`` by
    ``load`` (a ``str`` or ``Path``): what the ``build_*`` functions of the stages accept.

    Raises:
        TypeError: ``cfg`` is neither a ``cls`` nor a path (naming ``caller``).
        ConfigError: the file is missing or invalid (from ``load``).
    """
    if isinstance(cfg, cls):
        return cfg
    if isinstance(cfg, str | Path):
        return load(cfg)
    raise TypeError(
        f"{caller} expects a {cls.__name__} or a YAML file path (str or Path), "
        f"got {type(cfg).__name__}"
    )
